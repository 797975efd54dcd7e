package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
// #include "go_gnutls_records.h"
import "C"

import "unsafe"

// trackRecords makes the pull functions of a TLS 1.3 session follow the
// lengths of the records they hand GnuTLS (go_gnutls_records), so that
// Conn can tell a record that carries nothing from part of a handshake
// message. It is called once the handshake is done, between records.
// Transports GnuTLS reads itself (kernel TLS) are not followed.
func (s *Session) trackRecords() {
	s.call(func(p C.gnutls_session_t) error {
		if s.recs != nil || C.gnutls_protocol_get_version(p) != C.GNUTLS_TLS1_3 || (s.ra == nil && s.tr == nil) {
			return nil
		}
		r := (*C.go_gnutls_records)(C.calloc(1, C.sizeof_go_gnutls_records))
		if r == nil {
			return nil // records are then counted as carrying nothing
		}
		C.go_gnutls_records_start(r, p)
		s.recs = unsafe.Pointer(r)
		if s.tr != nil {
			s.tr.recs = r
		}
		s.readaheadFollows(r)
		return nil
	})
}

// recordsSeen returns how many records the pull functions handed over
// that carry nothing, and the bytes of the others; ok is false when they
// are not followed.
func (s *Session) recordsSeen() (empty, bytes uint64, ok bool) {
	s.call(func(C.gnutls_session_t) error {
		if r := (*C.go_gnutls_records)(s.recs); r != nil {
			empty, bytes, ok = uint64(r.empty), uint64(r.bytes), true
		}
		return nil
	})
	return empty, bytes, ok
}

// feed follows n bytes the transport handed GnuTLS at p.
func (t *transport) feed(p []byte) {
	if t.recs != nil && len(p) > 0 {
		C.go_gnutls_records_feed(t.recs, (*C.uchar)(unsafe.Pointer(&p[0])), C.size_t(len(p)))
	}
}

// followRecords runs go_gnutls_records_feed over chunks, handed over one
// after another, with least as the length of a record that carries
// nothing (FuzzFollowRecords feeds it peer bytes).
func followRecords(least int, chunks [][]byte) (empty, bytes uint64) {
	r := (*C.go_gnutls_records)(C.calloc(1, C.sizeof_go_gnutls_records))
	defer C.free(unsafe.Pointer(r))
	r.least = C.size_t(least)
	for _, b := range chunks {
		if len(b) > 0 {
			cb := C.CBytes(b)
			C.go_gnutls_records_feed(r, (*C.uchar)(cb), C.size_t(len(b)))
			C.free(cb)
		}
	}
	return uint64(r.empty), uint64(r.bytes)
}
