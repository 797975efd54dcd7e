package main

import "github.com/go-gnutls/go-gnutls/gnutls"

// checkEarlyData refuses --earlydata: this build's gnutls package has no
// client early data.
func checkEarlyData(data []byte) error {
	return failf("--earlydata: TLS 1.3 early data is not supported by this build")
}

func setEarlyData(cfg *gnutls.Config, data []byte) {}

func earlyDataReport(st gnutls.ConnectionState) string {
	if st.EarlyDataAccepted {
		return "accepted"
	}
	return "not accepted"
}
