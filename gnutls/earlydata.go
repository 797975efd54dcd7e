package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// TLS 1.3 early data (0-RTT, RFC 8446 section 2.3).
//
// A client connection made with DialEarly or ClientEarly sends the bytes of
// a Write made before the handshake started, up to what the resumed
// session's ticket allows, as early data in the first flight; the rest of
// them, and all of them when the server rejects the early data (unless
// Config.EarlyDataNoResend), as ordinary application data right after the
// handshake. Either way the server's application reads them once, in order.
//
// A server with Config.MaxEarlyData accepts up to that many bytes of early
// data on a resumed session, subject to GnuTLS's anti-replay check. Read
// returns them first; ReadEarlyData returns them as soon as they arrive,
// before the client's Finished.

// earlyState is what a Conn knows of early data.
type earlyState struct {
	// Client: enabled for DialEarly and ClientEarly; limit is what the
	// resumed ticket allows (0: nothing); sent counts the bytes queued as
	// early data; rejected and resent say what became of them when the
	// server did not accept them (whether it did is the session's).
	enabled          bool
	limit            uint32
	sent             int
	rejected, resent bool
	// Server: buffered while accepted early data may still wait in
	// GnuTLS's buffer for Read.
	buffered bool
}

// errEarlyDataReady stops the handshake loop of ReadEarlyData: early data
// arrived before the handshake completed.
var errEarlyDataReady = errors.New("gnutls: early data ready")

// ErrNotServer is returned by ReadEarlyData on a client connection.
var ErrNotServer = errors.New("gnutls: ReadEarlyData is for server connections")

// errNotResent is what the Write that carried early data returns, with
// Config.EarlyDataNoResend, when the server rejected it: none of its bytes
// were delivered or sent again. errors.Is matches ErrEarlyDataRejected.
// Unlike GnuTLS's code it is not fatal: the handshake is complete and the
// connection usable, and sending the bytes again is the caller's decision.
var errNotResent = fmt.Errorf("gnutls: early data not sent again (Config.EarlyDataNoResend): %w", ErrEarlyDataRejected)

// SendEarlyData queues b as TLS 1.3 early data
// (gnutls_record_send_early_data), to leave with the ClientHello of the
// next Handshake. It is for client sessions resuming a session whose ticket
// allows early data, no more than it allows; GnuTLS checks only the limit
// it stored with the session data (see MaxEarlyDataSize), refusing more
// with GNUTLS_E_RECORD_LIMIT_REACHED.
func (s *Session) SendEarlyData(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return s.call(func(p C.gnutls_session_t) error {
		r, errno := C.go_gnutls_send_early(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
		if r < 0 {
			return s.codeError("send early data", C.int(r), errno)
		}
		return nil
	})
}

// RecvEarlyData copies early data the server received into b
// (gnutls_record_recv_early_data). ok is false when none is waiting.
func (s *Session) RecvEarlyData(b []byte) (n int, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	s.call(func(p C.gnutls_session_t) error {
		r := C.go_gnutls_recv_early(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
		n, ok = int(r), r > 0
		return nil
	})
	return n, ok
}

// MaxEarlyDataSize returns gnutls_record_get_max_early_data_size: for a
// server, how much early data it accepts. For a client resuming a session
// it is the limit GnuTLS stored with the session data, which is not
// reliable: for a ticket without an early_data extension GnuTLS keeps the
// value it had (UINT32_MAX in 3.7.9, or the limit of an earlier ticket).
// Conn reads each ticket itself instead (resumption.go); the limit it
// used is ConnectionState().EarlyData.Limit.
func (s *Session) MaxEarlyDataSize() uint32 {
	return get(s, func(p C.gnutls_session_t) uint32 { return uint32(C.gnutls_record_get_max_early_data_size(p)) })
}

// SetMaxEarlyDataSize sets how much early data a server session accepts
// (gnutls_record_set_max_early_data_size). The session must have been made
// with InitEnableEarlyData and needs EnableAntiReplay, or GnuTLS rejects
// all early data.
func (s *Session) SetMaxEarlyDataSize(n uint32) error {
	if n == 0 {
		return errors.New("gnutls: SetMaxEarlyDataSize needs a size above zero")
	}
	return s.call(func(p C.gnutls_session_t) error {
		return check("set max early data size", C.gnutls_record_set_max_early_data_size(p, C.size_t(n)))
	})
}

// configureEarlyData sets a server session up to accept early data when
// the Config asks for it.
func (c *Config) configureEarlyData(s *Session) error {
	if c.MaxEarlyData == 0 {
		return nil
	}
	ar, err := c.antiReplay()
	if err != nil {
		return err
	}
	if err := s.SetMaxEarlyDataSize(c.MaxEarlyData); err != nil {
		return err
	}
	return s.EnableAntiReplay(ar)
}

// offerEarly queues the start of b, up to what the resumed ticket allows,
// as early data for the handshake about to run. It runs with the handshake
// locks held.
func (c *Conn) offerEarly(b []byte) {
	if !c.isClient || !c.early.enabled || len(b) == 0 || c.early.limit == 0 {
		return
	}
	n := len(b)
	if uint64(n) > uint64(c.early.limit) {
		n = int(c.early.limit)
	}
	if c.sess.SendEarlyData(b[:n]) == nil {
		c.early.sent = n
	}
}

// readEarly returns accepted early data still buffered, for Read; ok is
// false once there is none. The caller holds c.in.
func (c *Conn) readEarly(b []byte) (n int, ok bool) {
	if !c.early.buffered {
		return 0, false
	}
	if n, ok = c.sess.RecvEarlyData(b); !ok {
		c.early.buffered = false
	}
	return n, ok
}

// ReadEarlyData reads TLS 1.3 early data on a server connection. Before
// the handshake completes it runs the handshake until early data arrives
// and returns it at once, without waiting for the client's Finished: the
// application can start on a request half a round trip earlier. Once the
// handshake is complete it returns what is still buffered. It returns
// io.EOF when no more early data will come: none was sent, it was
// rejected, or all of it has been read. Early data not read here is
// returned by Read, ahead of later data.
//
// Early data can be replayed by an attacker (see Config.MaxEarlyData):
// act on it only when doing so twice is harmless.
func (c *Conn) ReadEarlyData(b []byte) (int, error) {
	if c.isClient {
		return 0, ErrNotServer
	}
	if len(b) == 0 {
		return 0, nil
	}
	if !c.handshakeDone.Load() {
		n, err := c.handshake(nil, b, nil)
		if err != nil || n > 0 {
			return n, err
		}
	}
	c.in.Lock()
	defer c.in.Unlock()
	if n, ok := c.readEarly(b); ok {
		return n, nil
	}
	return 0, io.EOF
}

// EarlyDataState tells what became of TLS 1.3 early data on a connection.
type EarlyDataState struct {
	// Limit, for a client, is how much early data the ticket of the
	// session it resumed allows: 0 when it resumed none, or one that
	// allows none.
	Limit uint32
	// Offered: the client's first flight carried Bytes bytes of early
	// data: the start of its first Write, made before the handshake.
	Offered bool
	Bytes   int
	// Accepted: the server accepted the early data (client), or received
	// some (server).
	Accepted bool
	// Rejected: the server did not accept the early data the client
	// offered. Resent: the client then sent the same bytes again right
	// after the handshake; without Resent (Config.EarlyDataNoResend) the
	// Write returned ErrEarlyDataRejected.
	Rejected bool
	Resent   bool
}

// state reports the early data of a completed handshake.
func (e *earlyState) state(accepted bool) EarlyDataState {
	return EarlyDataState{Limit: e.limit, Offered: e.sent > 0, Bytes: e.sent, Accepted: accepted, Rejected: e.rejected, Resent: e.resent}
}

func (e EarlyDataState) String() string {
	switch {
	case e.Accepted && e.Bytes > 0:
		return fmt.Sprintf("accepted (%d bytes)", e.Bytes)
	case e.Accepted:
		return "accepted"
	case e.Resent:
		return fmt.Sprintf("rejected by the server, %d bytes sent again after the handshake", e.Bytes)
	case e.Rejected:
		return fmt.Sprintf("rejected by the server, %d bytes not sent again", e.Bytes)
	case e.Offered:
		return "offered"
	}
	return "not offered"
}
