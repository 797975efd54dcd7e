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
	return s.call(func(p C.gnutls_session_t) error {
		if s.kind != noTransport {
			return s.transportSet()
		}
		ra := (*C.go_gnutls_readahead)(C.calloc(1, C.sizeof_go_gnutls_readahead))
		if ra == nil {
			return &Error{Op: "set transport", Code: ErrorCode(C.GNUTLS_E_MEMORY_ERROR), Err: syscall.ENOMEM}
		}
		ra.fd = C.int(fd)
		C.go_gnutls_set_readahead(p, ra)
		s.kind, s.fd, s.ra = intTransport, fd, unsafe.Pointer(ra)
		return nil
	})
}

// freeReadahead releases ra after its session was freed. It lives here
// because the buffer pool exists in this file's C alone.
func freeReadahead(ra unsafe.Pointer) {
	C.go_gnutls_readahead_free((*C.go_gnutls_readahead)(ra))
}

// readaheadLayer is the read-ahead as the netpoller loop sees it
// (socketLayer). Only the reading side calls it, which Conn holds (c.in)
// and which Close waits for before it frees the session.
type readaheadLayer struct{ st *sessionState }

func (r readaheadLayer) ra() *C.go_gnutls_readahead { return (*C.go_gnutls_readahead)(r.st.ra) }

// buffered reports whether received bytes wait in the buffer.
func (r readaheadLayer) buffered() bool { return r.st.ra != nil && r.ra().len > 0 }

func (r readaheadLayer) holdsWrite() bool { return false }

// startRead forgets that a read found the socket empty, so that
// sendBlockedInRead tells about the next read.
func (r readaheadLayer) startRead() {
	if r.st.ra != nil {
		r.ra().again = 0
	}
}

// sendBlockedInRead: the read-ahead's recv did not find the socket empty.
func (r readaheadLayer) sendBlockedInRead() bool { return r.st.ra != nil && r.ra().again == 0 }

// readaheadHeld reports whether the session uses the read-ahead and
// whether it holds a buffer now, for tests.
func (s *Session) readaheadHeld() (used, held bool) {
	return s.ra != nil, s.ra != nil && (*C.go_gnutls_readahead)(s.ra).buf != nil
}
