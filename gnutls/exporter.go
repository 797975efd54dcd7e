package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"reflect"
	"unsafe"
)

// ErrNoKeyingMaterial is what ExportKeyingMaterial's error matches
// (errors.Is) when the connection cannot export keying material; the
// error says why.
var ErrNoKeyingMaterial = errors.New("gnutls: keying material export unavailable")

// ekmFunc is the type of tls.ConnectionState's ExportKeyingMaterial.
type ekmFunc = func(label string, context []byte, length int) ([]byte, error)

// ExportKeyingMaterial returns length bytes of keying material derived from
// the connection's secrets for label and context (RFC 5705, RFC 8446
// section 7.5; gnutls_prf_rfc5705), equal to what the peer exports, as
// crypto/tls's ConnectionState.ExportKeyingMaterial. A nil context and an
// empty one differ in TLS 1.2, as the RFC says. As in crypto/tls, TLS 1.2
// exports only with the extended master secret (RFC 7627) and refuses the
// labels the protocol itself uses. The secrets stay with the GnuTLS
// session, so that after Close the error wraps net.ErrClosed.
func (s ConnectionState) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if s.ekm == nil {
		return nil, fmt.Errorf("%w: the handshake has not completed", ErrNoKeyingMaterial)
	}
	return s.ekm.export(label, context, length)
}

// exporter exports keying material from a session whose handshake
// completed. A pointer to it keeps ConnectionState comparable with
// reflect.DeepEqual.
type exporter struct {
	sess    *Session
	version uint16
	ems     bool // extended master secret (RFC 7627) negotiated
}

func (s *Session) exporter(version uint16) *exporter {
	return &exporter{sess: s, version: version,
		ems: get(s, func(p C.gnutls_session_t) bool { return C.gnutls_session_ext_master_secret_status(p) != 0 })}
}

func (e *exporter) export(label string, context []byte, length int) ([]byte, error) {
	if e.version < tls.VersionTLS13 {
		if !e.ems {
			return nil, fmt.Errorf("%w: TLS 1.2 without the extended master secret", ErrNoKeyingMaterial)
		}
		switch label {
		case "client finished", "server finished", "master secret", "key expansion":
			return nil, fmt.Errorf("%w: label %q is reserved", ErrNoKeyingMaterial, label)
		}
	}
	if length < 0 || len(context) > 0xffff {
		return nil, fmt.Errorf("%w: length %d or context of %d bytes out of range", ErrNoKeyingMaterial, length, len(context))
	}
	out := make([]byte, length)
	err := e.sess.call(func(p C.gnutls_session_t) error {
		cl := C.CString(label)
		defer C.free(unsafe.Pointer(cl))
		var cc *C.char
		if context != nil {
			// Non-NULL even when empty: GnuTLS tells no context from an
			// empty one by the pointer.
			cc = (*C.char)(C.malloc(C.size_t(len(context) + 1)))
			defer C.free(unsafe.Pointer(cc))
			copy(unsafe.Slice((*byte)(unsafe.Pointer(cc)), len(context)), context)
		}
		var co *C.char
		if length > 0 {
			co = (*C.char)(unsafe.Pointer(&out[0]))
		}
		r := C.gnutls_prf_rfc5705(p, C.size_t(len(label)), cl, C.size_t(len(context)), cc, C.size_t(length), co)
		return check("export keying material", r)
	})
	if errors.Is(err, net.ErrClosed) {
		return nil, fmt.Errorf("%w: %w", ErrNoKeyingMaterial, err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// setEKM makes st's ExportKeyingMaterial call f. crypto/tls keeps that
// function in an unexported field that only its own handshakes fill, and
// calls a nil one; it is set here by reflection (the field has been "ekm"
// since Go 1.11; TestExportKeyingMaterial fails should that change).
func setEKM(st *tls.ConnectionState, f ekmFunc) {
	v := reflect.ValueOf(st).Elem().FieldByName("ekm")
	if !v.IsValid() || v.Type() != reflect.TypeOf(f) {
		return
	}
	reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem().Set(reflect.ValueOf(f))
}
