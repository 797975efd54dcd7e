package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"errors"
	"io"
	"math"
	"unsafe"
)

// TLS 1.3 early data (0-RTT, RFC 8446 section 2.3).
//
// A client with Config.EarlyData sends those bytes first on every
// connection: as early data, in the first flight, when it resumes a TLS 1.3
// session whose ticket allows that much; otherwise, or when the server
// rejects them, as ordinary application data right after the handshake.
// Either way the server's application reads them first, once.
//
// A server with Config.MaxEarlyData accepts up to that many bytes of early
// data on a resumed session, subject to GnuTLS's anti-replay check. Read
// returns them first; ReadEarlyData returns them as soon as they arrive,
// before the client's Finished.

// earlyState is what a Conn knows of early data.
type earlyState struct {
	// Client: offered is set when EarlyData was queued as 0-RTT data;
	// pending while EarlyData still has to be written after the handshake;
	// resent once it was.
	offered, pending, resent bool
	// Server: buffered while accepted early data may still wait in
	// GnuTLS's buffer for Read.
	buffered bool
}

// errEarlyDataReady stops the handshake loop of ReadEarlyData: early data
// arrived before the handshake completed.
var errEarlyDataReady = errors.New("gnutls: early data ready")

// ErrNotServer is returned by ReadEarlyData on a client connection.
var ErrNotServer = errors.New("gnutls: ReadEarlyData is for server connections")

// noEarlyDataLimit is what a client session reports as its early data
// limit when no ticket set one: GnuTLS's default, UINT32_MAX.
const noEarlyDataLimit = math.MaxUint32

// SendEarlyData queues b as TLS 1.3 early data
// (gnutls_record_send_early_data), to leave with the ClientHello of the
// next Handshake. It is for client sessions resuming a session whose ticket
// allows early data (see MaxEarlyDataSize); GnuTLS refuses more than the
// ticket allows with GNUTLS_E_RECORD_LIMIT_REACHED.
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
// server, how much early data it accepts; for a client resuming a session,
// how much its ticket allows (math.MaxUint32 when it set no limit, which
// means the ticket did not allow early data).
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

// offerEarlyData queues Config.EarlyData as 0-RTT data when the session
// resumes a ticket that allows it; in every case the data is written after
// the handshake unless the server accepts it as early data.
func (c *Conn) offerEarlyData() {
	d := c.config.EarlyData
	if !c.isClient || len(d) == 0 {
		return
	}
	c.early.pending = true
	max := c.sess.MaxEarlyDataSize()
	if max == noEarlyDataLimit || uint64(len(d)) > uint64(max) {
		return
	}
	c.early.offered = c.sess.SendEarlyData(d) == nil
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
		n, err := c.handshake(nil, b)
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
	// Offered: the client sent Config.EarlyData as early data (it resumed a
	// ticket that allowed it).
	Offered bool
	// Accepted: the server accepted the early data (client), or received
	// some (server).
	Accepted bool
	// Resent: the server did not accept the early data, so the client sent
	// Config.EarlyData again as ordinary data after the handshake.
	Resent bool
}

func (e EarlyDataState) String() string {
	switch {
	case e.Accepted:
		return "accepted"
	case e.Resent:
		return "rejected by the server, sent again after the handshake"
	case e.Offered:
		return "offered"
	}
	return "not offered"
}
