package main

import (
	"fmt"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// checkEarlyData refuses what cannot be sent as early data.
func checkEarlyData(data []byte) error {
	if len(data) == 0 {
		return failf("--earlydata: the file is empty")
	}
	return nil
}

// setEarlyData makes the resumed connection send data first: as TLS 1.3
// early data when the server's ticket allows it, else right after the
// handshake, so it arrives once either way.
func setEarlyData(cfg *gnutls.Config, data []byte) { cfg.EarlyData = data }

func earlyDataReport(st gnutls.ConnectionState) string {
	e := st.EarlyData
	if !e.Offered {
		return fmt.Sprintf("%s (the session does not allow it), sent after the handshake instead", e)
	}
	return e.String()
}
