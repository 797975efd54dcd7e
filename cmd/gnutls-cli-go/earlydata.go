package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// checkEarlyData refuses what cannot be sent as early data.
func checkEarlyData(data []byte) error {
	if len(data) == 0 {
		return failf("--earlydata: the file is empty")
	}
	return nil
}

// handshake runs the handshake of conn, made with DialEarly or
// ClientEarly. With --earlydata on the resumed connection it writes that
// data first, which runs the handshake: the data goes as TLS 1.3 early
// data when the server's ticket allows it, else right after the
// handshake, so it arrives once either way. ctx bounds the handshake.
func (c *client) handshake(ctx context.Context, conn *gnutls.Conn) error {
	if c.early == nil {
		return conn.HandshakeContext(ctx)
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	_, err := conn.Write(c.early)
	conn.SetDeadline(time.Time{})
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return context.DeadlineExceeded
		}
		return err
	}
	return nil
}

// earlyLost reports, and says, whether err ended a handshake that carried
// --earlydata because the server closed the connection: it may have
// answered the early data in 0.5-RTT data and closed before the client's
// Finished arrived, which then failed to be sent, and what it sent is
// lost with the handshake.
func (c *client) earlyLost(err error) bool {
	var gerr *gnutls.Error
	if c.early == nil || !errors.As(err, &gerr) || gerr.Op != "handshake" ||
		!(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, gnutls.ErrPremature)) {
		return false
	}
	fmt.Fprintf(c.report, "*** The server closed the connection during the handshake that carried the early data (%s)\n", describe(err))
	fmt.Fprintln(c.report, "- Connecting again, without resuming: the early data goes after the handshake")
	return true
}

func earlyDataReport(st gnutls.ConnectionState) string {
	e := st.EarlyData
	if !e.Offered {
		return fmt.Sprintf("%s (the session does not allow it), sent after the handshake instead", e)
	}
	return e.String()
}
