//go:build cgo

package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"crypto/tls"
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
//
// A TLS 1.2 renegotiation request, a HelloRequest to a client or a
// ClientHello to a server, is refused with a no_renegotiation warning
// alert (RFC 5246 section 7.2.2), as crypto/tls does: the peer learns at
// once instead of waiting for an answer. A client reads on. A server's Read
// then fails with ErrRenegotiation and an unexpected_message alert, which
// also ends the wait of a peer that goes on waiting for the handshake:
// GnuTLS keeps the ClientHello for a handshake, and reads nothing else.

// MaxEmptyRecords is how many records in a row Conn.Read takes in without
// any data for the caller (warning alerts, empty records) before it ends
// the connection with ErrEmptyRecords and an unexpected_message alert:
// crypto/tls's bound. GnuTLS sets none across calls, so a peer could
// otherwise keep a reader busy forever. A TLS 1.3 post-handshake message
// counts by its size, a full record's worth as one record, however many
// records it is split over (RFC 8446 section 5.1 allows any split); under
// kernel TLS, whose records Conn does not see, each record counts one.
const MaxEmptyRecords = 16

// ErrEmptyRecords is the Err of the *Error (code ErrUnexpectedPacket)
// Read returns when more than MaxEmptyRecords records in a row carried no
// data.
var ErrEmptyRecords = errors.New("gnutls: more than MaxEmptyRecords records in a row carried no data")

// recordWorth is what a record without data counts towards
// MaxEmptyRecords, in bytes: the largest TLS 1.3 record, header included.
// A post-handshake message counts its bytes.
const recordWorth = 5 + 1<<14 + 256

// ErrRenegotiation is the Err of the *Error (code ErrUnexpectedPacket) a
// server's Read returns after it refused a client's TLS 1.2 renegotiation.
var ErrRenegotiation = errors.New("gnutls: the client asked to renegotiate, which is refused")

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
	empty uint64 // what the records in a row without data count, in bytes (recordWorth)
	// seenEmpty and seenBytes are the session's recordsSeen after the
	// last read, where followed (TLS 1.3).
	seenEmpty, seenBytes uint64
}

// countRecords starts counting once the handshake is done. A fast-open
// connection, made now, reads through the read-ahead from here on, as
// other sockets do.
func (c *Conn) countRecords() {
	if c.sess.kind == fastOpenTransport && c.syn == nil && !systemKTLS() {
		if err := c.sess.readaheadAfterFastOpen(); err == nil {
			c.layer = readaheadLayer{c.sess.sessionState}
		}
	}
	c.sess.trackRecords()
	c.records = &recordCounter{seq: c.sess.readSeq()}
	c.records.seenEmpty, c.records.seenBytes, _ = c.sess.recordsSeen()
	if c.sess.tr != nil {
		c.sess.tr.records = c.records
	}
}

// recv reads once for readRecord (netpoll.go). A warning alert or a
// renegotiation request becomes GNUTLS_E_AGAIN, so that the read goes on;
// each record taken in without data counts towards MaxEmptyRecords, found
// from the read sequence number, which counts the records of an epoch.
// Where the record lengths are followed (TLS 1.3), a record that carries
// nothing counts whole and any other, part of a post-handshake message, by
// its size (records.go): GnuTLS answers GNUTLS_E_AGAIN after either.
// sendBlocked is the read's (recordRead).
func (c *Conn) recv(b []byte) (n int, res recordIO, sendBlocked bool) {
	rr := c.sess.recvRecord(b)
	rc := c.records
	taken := rr.seq - rc.seq
	if rr.seq < rc.seq {
		taken = rr.seq + 1 // a TLS 1.3 KeyUpdate began a new epoch
	}
	rc.seq = rr.seq
	cost := taken * recordWorth
	if rr.followed {
		cost = (rr.empty-rc.seenEmpty)*recordWorth + (rr.bytes - rc.seenBytes)
		rc.seenEmpty, rc.seenBytes = rr.empty, rr.bytes
	}
	if rr.n > 0 {
		rc.empty = 0
		return rr.n, rr.recordIO, false
	}
	res = rr.recordIO
	if res.again == 0 {
		e, ok := res.err.(*Error)
		if !ok || (e.Code != ErrWarningAlertReceived && e.Code != errRehandshake) {
			return 0, res, false
		}
		// A warning is dropped (crypto/tls does too).
		if e.Code == errRehandshake {
			if err := c.refuseRenegotiation(); err != nil {
				return 0, recordIO{err: err}, false
			}
			if !c.isClient {
				return 0, recordIO{err: &Error{Op: "read", Code: ErrUnexpectedPacket, Err: ErrRenegotiation}}, false
			}
		}
		res = recordIO{again: ErrAgain}
		cost = max(cost, recordWorth)
	}
	rc.empty += cost
	if rc.empty > MaxEmptyRecords*recordWorth {
		return 0, recordIO{err: &Error{Op: "read", Code: ErrUnexpectedPacket, Err: ErrEmptyRecords}}, false
	}
	return 0, res, rr.sendBlocked
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

// refuseRenegotiation answers a renegotiation request that Read met
// (GNUTLS_E_REHANDSHAKE) with the no_renegotiation warning; in TLS 1.3,
// where no warning may be sent, GnuTLS reports none. The caller holds c.in;
// c.out keeps the alert from a concurrent Write's records. Nothing is sent
// after a fatal alert.
func (c *Conn) refuseRenegotiation() error {
	if c.sess.Version() >= tls.VersionTLS13 {
		return nil
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.writeErr != nil {
		return nil
	}
	return c.run(true, c.sess.refuseRenegotiation)
}

// refuseRenegotiation sends the no_renegotiation warning alert.
func (s *Session) refuseRenegotiation() error {
	return s.callIO(func(p C.gnutls_session_t) error {
		if r, errno := C.go_gnutls_refuse_renegotiation(p); r < 0 {
			return s.codeError("refuse renegotiation", r, errno)
		}
		return nil
	})
}
