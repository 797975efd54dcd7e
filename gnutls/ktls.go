package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"crypto/tls"
	"errors"
	"fmt"
)

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

// ErrKTLSWithoutKeys is the handshake error of a connection on which
// kernel TLS is on for a protocol or cipher the kernel is given no keys
// for. GnuTLS before 3.8.0 leaves kernel TLS on then (lib/handshake.c
// ignores _gnutls_ktls_set_keys's failure), and records would leave
// unencrypted; with "ktls = true" allow only AES-GCM in the priorities.
var ErrKTLSWithoutKeys = errors.New("gnutls: kernel TLS is on for a cipher it has no keys for; records would leave unencrypted")

// ktlsKeyed reports whether GnuTLS gives the kernel the keys of a session
// of this protocol and cipher (lib/system/ktls.c, _gnutls_ktls_set_keys).
// The cipher is named as gnutls_cipher_get_name names it.
func ktlsKeyed(version uint16, cipher string) bool {
	return (version == tls.VersionTLS12 || version == tls.VersionTLS13) &&
		(cipher == "AES-128-GCM" || cipher == "AES-256-GCM")
}

// checkKTLS fails a completed handshake after which kernel TLS is on
// without keys (ErrKTLSWithoutKeys), before any application data. Only
// GnuTLS's system configuration turns kTLS on, so without it no session
// is asked.
func (c *Conn) checkKTLS() error {
	if !systemKTLS() {
		return nil
	}
	recv, send := c.sess.KTLS()
	if !recv && !send {
		return nil
	}
	version, cipher := c.sess.Version(), c.sess.Info().Cipher
	if ktlsKeyed(version, cipher) {
		return nil
	}
	return fmt.Errorf("%w (%s, %s)", ErrKTLSWithoutKeys, tls.VersionName(version), cipher)
}
