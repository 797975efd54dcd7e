//go:build cgo

package gnutls

import (
	"errors"
	"time"
)

// After the handshake, as during it, a fatal error ends the connection
// with the alert TLS requires (RFC 8446 sections 5 and 6, RFC 5246
// section 7.2.2): the one GnuTLS names for the error
// (gnutls_alert_send_appropriate), as gnutls-serv sends it. Nothing is
// sent after it: Close sends no close_notify.
//
// Records that give the reader nothing (TLS 1.2 warning alerts, empty
// application data records, TLS 1.3 post-handshake messages, refused
// renegotiation requests) are read past, as in crypto/tls, up to
// MaxEmptyRecords in a row.

// MaxEmptyRecords is how many records in a row Conn.Read takes in without
// any data for the caller (warning alerts, empty records, post-handshake
// messages) before it ends the connection with ErrEmptyRecords and an
// unexpected_message alert: crypto/tls's bound. GnuTLS sets none across
// calls, so a peer could otherwise keep a reader busy forever.
const MaxEmptyRecords = 16

// ErrEmptyRecords is the Err of the *Error (code ErrUnexpectedPacket)
// Read returns when more than MaxEmptyRecords records in a row carried no
// data.
var ErrEmptyRecords = errors.New("gnutls: more than MaxEmptyRecords records in a row carried no data")

// alertTimeout bounds sending the alert after a fatal error: the
// connection is unusable then, so a peer that does not read cannot hold us.
const alertTimeout = time.Second

// alerts reports whether GnuTLS has an alert to send for e
// (gnutls_alert_send_appropriate sends one for every fatal code but a
// received alert); a failed transport gets none, as it could not carry it.
func (e *Error) alerts() bool {
	return e.Code.Fatal() && e.Alert == nil && e.Code != ErrFatalAlertReceived &&
		e.Code != ErrPush && e.Code != ErrPull
}

// recordCounter counts the records a Conn's reads took in without data
// for the caller (c.in); a Go transport shares it (transport.records).
type recordCounter struct {
	seq   uint64 // the read sequence number after the last read
	empty uint64 // records in a row without data
}

// countRecords starts counting once the handshake is done.
func (c *Conn) countRecords() {
	c.records = &recordCounter{seq: c.sess.readSeq()}
	if c.sess.tr != nil {
		c.sess.tr.records = c.records
	}
}

// recv reads once for readRecord (netpoll.go). A warning alert or a
// renegotiation request becomes ErrAgain, so that the read goes on; each
// record taken in without data counts towards MaxEmptyRecords, found from
// the read sequence number, which counts the records of an epoch.
func (c *Conn) recv(b []byte) (int, error) {
	c.layer.startRead()
	n, seq, err := c.sess.read(b)
	rc := c.records
	taken := seq - rc.seq
	if seq < rc.seq {
		taken = seq + 1 // a TLS 1.3 KeyUpdate began a new epoch
	}
	rc.seq = seq
	if n > 0 {
		rc.empty = 0
		return n, err
	}
	e, ok := err.(*Error)
	if !ok {
		return n, err
	}
	switch e.Code {
	case ErrAgain:
	case ErrWarningAlertReceived, errRehandshake:
		// A warning is dropped (crypto/tls does too); renegotiation is
		// refused by ignoring the request (RFC 5246 section 7.4.1.1).
		err = &Error{Op: "read", Code: ErrAgain}
		taken = max(taken, 1)
	default:
		return n, err
	}
	rc.empty += taken
	if rc.empty > MaxEmptyRecords {
		return 0, &Error{Op: "read", Code: ErrUnexpectedPacket, Err: ErrEmptyRecords}
	}
	return 0, err
}

// readFailed ends the connection after a fatal error of Read: later Reads
// return err again, and the alert for it goes out. The caller holds c.in.
// A Write blocked meanwhile is ended by the short write deadline.
func (c *Conn) readFailed(err error) {
	e, ok := err.(*Error)
	if !ok || !e.Fatal() {
		return
	}
	c.readErr = err
	c.conn.SetWriteDeadline(time.Now().Add(alertTimeout))
	c.out.Lock()
	defer c.out.Unlock()
	c.endWrites(err)
}

// endWrites makes err, a failure of the handshake, Read or Write, the
// error every later write returns (writeErr), after sending the peer the
// alert GnuTLS has for it, if any; nothing is sent after that alert. The
// first failure stays. The caller holds c.out.
func (c *Conn) endWrites(err error) {
	if c.writeErr != nil {
		return
	}
	var e *Error // also inside a PSKError
	if errors.As(err, &e) && e.alerts() {
		c.conn.SetWriteDeadline(time.Now().Add(alertTimeout))
		c.run(true, func() error { return c.sess.SendAlertFor(e) })
	}
	c.writeErr = err
}
