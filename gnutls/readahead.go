package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_readahead.h"
import "C"

import (
	"bufio"
	"os"
	"strings"
	"sync"
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

// The read-ahead helpers below are for the reading side alone, which Conn
// holds (c.in) and which Close waits for before it frees the session.

// readaheadBuffered reports whether received bytes wait in the read-ahead
// buffer, where poll(2) on the socket cannot see them.
func (s *Session) readaheadBuffered() bool {
	return s.ra != nil && (*C.go_gnutls_readahead)(s.ra).len > 0
}

// clearPullAgain forgets that a read found the socket empty;
// sendBlockedInRead then tells about the next read.
func (s *Session) clearPullAgain() {
	if s.ra != nil {
		(*C.go_gnutls_readahead)(s.ra).again = 0
	}
}

// sendBlockedInRead reports whether a read that returned GNUTLS_E_AGAIN
// with errno EAGAIN got it from a send of its own (a TLS 1.3 KeyUpdate
// answer) rather than from the socket being empty: the read-ahead's recv
// did not find it empty. Without the read-ahead it cannot tell, and says no.
func (s *Session) sendBlockedInRead() bool {
	return s.ra != nil && (*C.go_gnutls_readahead)(s.ra).again == 0
}

// readaheadHeld reports whether the session uses the read-ahead and
// whether it holds a buffer now, for tests.
func (s *Session) readaheadHeld() (used, held bool) {
	return s.ra != nil, s.ra != nil && (*C.go_gnutls_readahead)(s.ra).buf != nil
}

// systemKTLS reports whether GnuTLS's system-wide configuration turns
// kernel TLS on ("ktls = true" in the [global] section of
// $GNUTLS_SYSTEM_PRIORITY_FILE, else /etc/gnutls/config). GnuTLS enables
// kernel TLS only for sessions that use its own socket functions, so then
// Conn leaves the read-ahead out.
var systemKTLS = sync.OnceValue(func() bool {
	name := os.Getenv("GNUTLS_SYSTEM_PRIORITY_FILE")
	if name == "" {
		name = "/etc/gnutls/config"
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	return configEnablesKTLS(bufio.NewScanner(f))
})

// configEnablesKTLS reads GnuTLS's configuration file format (INI: [section],
// name = value, # and ; comments) for ktls = true in [global].
func configEnablesKTLS(sc *bufio.Scanner) bool {
	section := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section, _, _ = strings.Cut(line[1:], "]")
			section = strings.TrimSpace(section)
		default:
			name, value, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(section, "global") && strings.EqualFold(strings.TrimSpace(name), "ktls") &&
				strings.EqualFold(strings.TrimSpace(value), "true") {
				return true
			}
		}
	}
	return false
}
