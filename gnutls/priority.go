package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// CipherSuite is one TLS cipher suite as GnuTLS names it.
type CipherSuite struct {
	Name        string // "TLS_AES_128_GCM_SHA256"
	ID          uint16 // IANA id, 0x1301
	KeyExchange string // "ECDHE-RSA"; "" for TLS 1.3 suites
	Cipher      string
	MAC         string
	MinVersion  string // the first protocol version that has the suite: "TLS1.3"
}

// Priorities is what a priority string enables, each list in preference
// order, named as GnuTLS's priority strings name them (without prefixes
// such as "VERS-").
type Priorities struct {
	Suites           []CipherSuite
	Protocols        []string
	Ciphers          []string
	MACs             []string
	KeyExchanges     []string
	Groups           []string
	Signatures       []string
	CertificateTypes []string
}

// ParsePriority returns what the priority string enables (an empty string
// means the default priorities, as NewSession uses). A bad string is an
// error naming where it fails.
func ParsePriority(priority string) (*Priorities, error) {
	pc, err := newPriorityCache("parse priority", priority)
	if err != nil {
		return nil, err
	}
	defer runtime.KeepAlive(pc)
	p := pc.ptr

	out := &Priorities{}
	for i := C.uint(0); ; i++ {
		var ret C.int
		var id [2]C.uchar
		var kx, cipher, mac, version *C.char
		name := C.go_gnutls_priority_suite(p, i, &ret, &id[0], &kx, &cipher, &mac, &version)
		if ret == C.GNUTLS_E_UNKNOWN_CIPHER_SUITE {
			continue
		}
		if ret < 0 || name == nil {
			break
		}
		out.Suites = append(out.Suites, CipherSuite{
			Name: C.GoString(name), ID: uint16(id[0])<<8 | uint16(id[1]),
			KeyExchange: cString(kx), Cipher: cString(cipher), MAC: cString(mac), MinVersion: cString(version),
		})
	}
	for kind, dst := range []*[]string{&out.Protocols, &out.Ciphers, &out.MACs, &out.KeyExchanges, &out.Groups, &out.Signatures, &out.CertificateTypes} {
		var list *C.uint
		n := C.go_gnutls_priority_list(p, C.int(kind), &list)
		if n <= 0 {
			continue
		}
		for _, v := range unsafe.Slice(list, int(n)) {
			if cn := C.go_gnutls_algorithm_name(C.int(kind), v); cn != nil {
				*dst = append(*dst, C.GoString(cn))
			}
		}
	}
	return out, nil
}

// Supported is everything the linked GnuTLS implements, whatever a
// priority string enables, in GnuTLS's order (what gnutls-cli --list
// prints without --priority).
type Supported struct {
	Suites           []CipherSuite
	CertificateTypes []string
	Protocols        []string
	Ciphers          []string
	MACs             []string
	Digests          []string
	KeyExchanges     []string
	Compression      []string
	Groups           []string
	PublicKeys       []string
	Signatures       []string
}

// SupportedAlgorithms returns what the linked GnuTLS implements
// (gnutls_cipher_suite_info and the gnutls_*_list functions).
func SupportedAlgorithms() *Supported {
	out := &Supported{}
	for i := C.size_t(0); ; i++ {
		var id [2]C.uchar
		var kx, cipher, mac, version *C.char
		name := C.go_gnutls_suite(i, &id[0], &kx, &cipher, &mac, &version)
		if name == nil {
			break
		}
		out.Suites = append(out.Suites, CipherSuite{
			Name: C.GoString(name), ID: uint16(id[0])<<8 | uint16(id[1]),
			KeyExchange: cString(kx), Cipher: cString(cipher), MAC: cString(mac), MinVersion: cString(version),
		})
	}
	// Kinds as go_gnutls_supported numbers them.
	for kind, dst := range []*[]string{&out.Protocols, &out.Ciphers, &out.MACs, &out.KeyExchanges, &out.Groups,
		&out.Signatures, &out.CertificateTypes, &out.Digests, &out.PublicKeys, &out.Compression} {
		for p := C.go_gnutls_supported(C.int(kind)); p != nil && *p != 0; p = (*C.int)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
			*dst = append(*dst, cString(C.go_gnutls_algorithm_name(C.int(kind), C.uint(*p))))
		}
	}
	return out
}

// priorityCache is a parsed priority string (gnutls_priority_t) that
// sessions share: gnutls_priority_set takes a reference, so a Config parses
// its string once instead of once per connection.
type priorityCache struct {
	ptr C.gnutls_priority_t
	str string
}

// newPriorityCache parses priority; empty means the default priorities. op
// names the operation in an error.
func newPriorityCache(op, priority string) (*priorityCache, error) {
	if err := checkNUL(op, "priority", priority); err != nil {
		return nil, err
	}
	var cs *C.char
	if priority != "" {
		cs = C.CString(priority)
		defer C.free(unsafe.Pointer(cs))
	}
	pc := &priorityCache{str: priority}
	var pos C.int
	if r := C.go_gnutls_priority_init(&pc.ptr, cs, &pos); r < 0 {
		return nil, priorityError(op, priority, r, pos)
	}
	runtime.AddCleanup(pc, func(p C.gnutls_priority_t) { C.gnutls_priority_deinit(p) }, pc.ptr)
	return pc, nil
}

// PriorityError is a priority string GnuTLS refused.
type PriorityError struct {
	Err      *Error // GnuTLS's code and the operation
	Priority string
	// Pos is the offset in Priority where GnuTLS stopped parsing, or -1.
	Pos int
}

func (e *PriorityError) Error() string { return e.Err.Error() + ": " + e.where() }

// Reason is the error without the operation: GnuTLS's message and code,
// and where the string is invalid.
func (e *PriorityError) Reason() string { return e.Err.Code.Error() + ": " + e.where() }

func (e *PriorityError) Unwrap() error { return e.Err }

func (e *PriorityError) where() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("priority %q is invalid at %q", e.Priority, e.Priority[e.Pos:])
	}
	return fmt.Sprintf("priority %q", e.Priority)
}

// priorityError reports a priority string GnuTLS refused; pos is the
// offset where it stopped parsing, or -1.
func priorityError(op, priority string, r, pos C.int) error {
	e := &PriorityError{Err: &Error{Op: op, Code: ErrorCode(r)}, Priority: priority, Pos: -1}
	if pos >= 0 && int(pos) <= len(priority) && r != C.GNUTLS_E_NO_PRIORITIES_WERE_SET {
		e.Pos = int(pos)
	}
	return e
}
