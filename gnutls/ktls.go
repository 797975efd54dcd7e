package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

// KTLS reports whether kernel TLS is on for receiving and for sending
// (gnutls_transport_is_ktls_enabled).
func (s *Session) KTLS() (recv, send bool) {
	s.call(func(p C.gnutls_session_t) error {
		k := C.gnutls_transport_is_ktls_enabled(p)
		recv = k&C.GNUTLS_KTLS_RECV != 0
		send = k&C.GNUTLS_KTLS_SEND != 0
		return nil
	})
	return recv, send
}
