package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_readahead.h"
import "C"

import (
	"syscall"
	"unsafe"
)

// setReadahead is SetTransportInt with reads through a read-ahead buffer
// (go_gnutls_readahead_pull): one recv(2) serves a record's header and
// body, and often the records after it. Conn uses it for sockets.
func (s *Session) setReadahead(fd int) error {
	return s.setTransport(intTransport, fd, func(p C.gnutls_session_t) error {
		ra, err := newReadahead(fd)
		if err != nil {
			return err
		}
		C.go_gnutls_set_readahead(p, ra)
		s.ra, s.raAgain = unsafe.Pointer(ra), &ra.again
		return nil
	})
}

// readaheadAfterFastOpen makes a fast-open session, whose connection is
// made, read through a read-ahead buffer too; writes stay fast open's.
func (s *Session) readaheadAfterFastOpen() error {
	return s.call(func(p C.gnutls_session_t) error {
		if s.kind != fastOpenTransport || s.ra != nil {
			return nil
		}
		ra, err := newReadahead(s.fd)
		if err != nil {
			return err
		}
		C.go_gnutls_set_readahead_recv(p, ra)
		s.ra, s.raAgain = unsafe.Pointer(ra), &ra.again
		return nil
	})
}

func newReadahead(fd int) (*C.go_gnutls_readahead, error) {
	ra := (*C.go_gnutls_readahead)(C.calloc(1, C.sizeof_go_gnutls_readahead))
	if ra == nil {
		return nil, &Error{Op: "set transport", Code: ErrorCode(C.GNUTLS_E_MEMORY_ERROR), Err: syscall.ENOMEM}
	}
	ra.fd = C.int(fd)
	return ra, nil
}

// readaheadFollows makes the read-ahead feed r what it serves; the caller
// holds the session (call).
func (st *sessionState) readaheadFollows(r *C.go_gnutls_records) {
	if st.ra != nil {
		(*C.go_gnutls_readahead)(st.ra).recs = r
	}
}

// freeReadahead releases ra after its session was freed. It lives here
// because the buffer pool exists in this file's C alone.
func freeReadahead(ra unsafe.Pointer) {
	C.go_gnutls_readahead_free((*C.go_gnutls_readahead)(ra))
}

// readaheadLayer is the read-ahead as the netpoller loop sees it
// (socketLayer). Only the reading side calls it, which Conn holds (c.in);
// Session.Close may free the read-ahead at any time, so each look at it
// holds the session's lock (with).
type readaheadLayer struct{ st *sessionState }

// with runs f on the read-ahead under the session's read lock, unless the
// session was freed; it returns f's answer, or false.
func (r readaheadLayer) with(f func(ra *C.go_gnutls_readahead) bool) bool {
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	if r.st.ra == nil {
		return false
	}
	return f((*C.go_gnutls_readahead)(r.st.ra))
}

// buffered reports whether received bytes wait in the buffer.
func (r readaheadLayer) buffered() bool {
	return r.with(func(ra *C.go_gnutls_readahead) bool { return ra.len > 0 })
}

func (r readaheadLayer) holdsWrite() bool { return false }

// readaheadHeld reports whether the session uses the read-ahead and
// whether it holds a buffer now, for tests.
func (s *Session) readaheadHeld() (used, held bool) {
	used = readaheadLayer{s.sessionState}.with(func(ra *C.go_gnutls_readahead) bool {
		held = ra.buf != nil
		return true
	})
	return used, held
}
