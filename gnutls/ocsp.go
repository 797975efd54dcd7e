package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_pki.h"
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"

	pointer "github.com/mattn/go-pointer"
)

// Codes of OCSP staple errors.
const (
	// ErrOCSPMismatch: the response is not about the certificate.
	ErrOCSPMismatch = ErrorCode(-422) // GNUTLS_E_OCSP_MISMATCH_WITH_CERTS
	// ErrExpired: the response's nextUpdate has passed.
	ErrExpired = ErrorCode(-29) // GNUTLS_E_EXPIRED
)

// CertRevocationDataSuperseded is the verification status bit of a
// stapled OCSP response (or CRL) past its nextUpdate.
const CertRevocationDataSuperseded = CertStatus(1 << 12) // GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED

// OCSPResponseStatus is an OCSP response's status (RFC 6960, section 4.2.1).
type OCSPResponseStatus int

// Response statuses; only OCSPSuccessful carries certificate statuses.
const (
	OCSPSuccessful       = OCSPResponseStatus(0) // GNUTLS_OCSP_RESP_SUCCESSFUL
	OCSPMalformedRequest = OCSPResponseStatus(1) // GNUTLS_OCSP_RESP_MALFORMEDREQUEST
	OCSPInternalError    = OCSPResponseStatus(2) // GNUTLS_OCSP_RESP_INTERNALERROR
	OCSPTryLater         = OCSPResponseStatus(3) // GNUTLS_OCSP_RESP_TRYLATER
	OCSPSigRequired      = OCSPResponseStatus(5) // GNUTLS_OCSP_RESP_SIGREQUIRED
	OCSPUnauthorized     = OCSPResponseStatus(6) // GNUTLS_OCSP_RESP_UNAUTHORIZED
)

var ocspResponseStatusNames = map[OCSPResponseStatus]string{
	OCSPSuccessful: "successful", OCSPMalformedRequest: "malformed request", OCSPInternalError: "internal error",
	OCSPTryLater: "try later", OCSPSigRequired: "signature required", OCSPUnauthorized: "unauthorized",
}

func (s OCSPResponseStatus) String() string {
	if n, ok := ocspResponseStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("OCSP response status %d", int(s))
}

// OCSPCertStatus is what a response says of a certificate.
type OCSPCertStatus int

// Certificate statuses.
const (
	OCSPGood    = OCSPCertStatus(0) // GNUTLS_OCSP_CERT_GOOD
	OCSPRevoked = OCSPCertStatus(1) // GNUTLS_OCSP_CERT_REVOKED
	OCSPUnknown = OCSPCertStatus(2) // GNUTLS_OCSP_CERT_UNKNOWN
)

var ocspCertStatusNames = map[OCSPCertStatus]string{OCSPGood: "good", OCSPRevoked: "revoked", OCSPUnknown: "unknown"}

func (s OCSPCertStatus) String() string {
	if n, ok := ocspCertStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("OCSP certificate status %d", int(s))
}

// OCSPResponse is a parsed OCSP response: its status and, when successful,
// what it says of the first certificate it covers. Parsing verifies
// nothing; a client's handshake does that (ConnectionState.OCSPVerified).
type OCSPResponse struct {
	Raw        []byte
	Status     OCSPResponseStatus
	CertStatus OCSPCertStatus
	// ThisUpdate is when the status was known to be right; NextUpdate,
	// when newer information will be available (zero: not given).
	ThisUpdate, NextUpdate time.Time
	// RevokedAt and RevocationReason (RFC 5280 CRLReason) for OCSPRevoked.
	RevokedAt        time.Time
	RevocationReason int
	// Text is GnuTLS's compact description (gnutls_ocsp_resp_print).
	Text string
}

// ParseOCSPResponse parses a DER OCSP response with GnuTLS.
func ParseOCSPResponse(der []byte) (*OCSPResponse, error) {
	return parseOCSP(der, false)
}

// DescribeOCSPResponse prints a DER OCSP response as GnuTLS does
// (gnutls_ocsp_resp_print): compact, or in full as gnutls-cli -V does.
func DescribeOCSPResponse(der []byte, full bool) (string, error) {
	r, err := parseOCSP(der, full)
	if err != nil {
		return "", err
	}
	return r.Text, nil
}

// parseOCSP is ParseOCSPResponse with Text in full or compact.
func parseOCSP(der []byte, full bool) (*OCSPResponse, error) {
	if len(der) == 0 {
		return nil, fmt.Errorf("gnutls: ParseOCSPResponse: empty response")
	}
	var info C.struct_go_gnutls_ocsp_info
	var text *C.char
	fl := C.int(0)
	if full {
		fl = 1
	}
	r := withBytes(der, func(p unsafe.Pointer, n C.uint) C.int { return C.go_gnutls_ocsp_parse(p, n, &info, &text, fl) })
	if text != nil {
		defer C.go_gnutls_free(unsafe.Pointer(text))
	}
	if r < 0 {
		return nil, &Error{Op: "parse OCSP response", Code: ErrorCode(r)}
	}
	unix := func(t C.longlong) time.Time {
		if t < 0 {
			return time.Time{}
		}
		return time.Unix(int64(t), 0)
	}
	return &OCSPResponse{
		Raw:              append([]byte(nil), der...),
		Status:           OCSPResponseStatus(info.resp_status),
		CertStatus:       OCSPCertStatus(info.cert_status),
		ThisUpdate:       unix(info.this_update),
		NextUpdate:       unix(info.next_update),
		RevokedAt:        unix(info.revocation_time),
		RevocationReason: int(info.revocation_reason),
		Text:             cString(text),
	}, nil
}

// stapler holds what a server staples for its certificate; GnuTLS asks
// for it in every handshake where the client requests a status
// (goGnutlsOCSPStaple), so replacing it takes effect at once. c tells the
// C callback whether there is one, so that without a staple no handshake
// calls Go.
type stapler struct {
	cur atomic.Pointer[OCSPResponse]
	c   *C.struct_go_gnutls_stapler
}

// set replaces the staple; nil stops stapling.
func (s *stapler) set(r *OCSPResponse) {
	if r == nil {
		C.go_gnutls_stapler_hold(s.c, 0)
		s.cur.Store(nil)
		return
	}
	s.cur.Store(r)
	C.go_gnutls_stapler_hold(s.c, 1)
}

func restoreStapler(p unsafe.Pointer) *stapler { return pointer.Restore(p).(*stapler) }

// fill copies the current staple into out for GnuTLS; a response whose
// nextUpdate has passed is not sent, as GnuTLS does with its own.
func (s *stapler) fill(out *C.gnutls_datum_t) C.int {
	r := s.cur.Load()
	if r == nil || (!r.NextUpdate.IsZero() && !time.Now().Before(r.NextUpdate)) {
		return C.GNUTLS_E_NO_CERTIFICATE_STATUS
	}
	return C.go_gnutls_datum_copy(out, unsafe.Pointer(&r.Raw[0]), C.uint(len(r.Raw)))
}

// SetOCSPStaple sets the DER OCSP response a server staples for its
// certificate when a client asks (status_request); nil stops stapling. It
// may be called while sessions use the credentials: each handshake sends
// the response current at the time. The response must be successful, be
// about the credentials' certificate (ErrOCSPMismatch) and not have
// passed its nextUpdate (ErrExpired); once it has, it is no longer sent.
// Which responder signed it and what it says are for the client to judge.
func (c *Credentials) SetOCSPStaple(der []byte) error {
	var r *OCSPResponse
	if len(der) > 0 {
		var err error
		if r, err = ParseOCSPResponse(der); err != nil {
			return withOp("OCSP staple", err)
		}
		if r.Status != OCSPSuccessful {
			return fmt.Errorf("gnutls: OCSP staple: the response is not successful but %q", r.Status)
		}
		if !r.NextUpdate.IsZero() && !time.Now().Before(r.NextUpdate) {
			return &Error{Op: "OCSP staple: the response expired at " + r.NextUpdate.UTC().Format(time.RFC3339), Code: ErrExpired}
		}
	}
	_, err := c.load("set OCSP staple", func(p C.gnutls_certificate_credentials_t) C.int {
		if r != nil {
			if ret := withBytes(r.Raw, func(b unsafe.Pointer, n C.uint) C.int { return C.go_gnutls_ocsp_check_cred(p, b, n) }); ret < 0 {
				return ret
			}
		}
		if c.staple == nil {
			st := &stapler{}
			h := saveHandle(st)
			if ret := C.go_gnutls_ocsp_staple_set(p, h, &st.c); ret < 0 {
				dropHandle(h)
				return ret
			}
			c.staple = st
			c.afterFree = append(c.afterFree, func() {
				dropHandle(h)
				C.free(unsafe.Pointer(st.c))
			})
		}
		c.staple.set(r)
		return 0
	})
	return err
}

// SetOCSPStaple replaces the OCSP response a server Config staples (see
// Credentials.SetOCSPStaple), starting with the next handshake; it may be
// called while the Config serves. Before the first call the Config
// staples Certificates[0].OCSPStaple, if any. The Config's Clones, made
// before or after, staple it too, as crypto/tls's Clone shares the
// certificates the staple is about; a Clone given another certificate
// keeps its own.
func (c *Config) SetOCSPStaple(der []byte) error {
	if !c.hasCertificate() {
		return fmt.Errorf("%w (SetOCSPStaple has nothing to staple for)", errNoCertificate)
	}
	cr, err := c.credentials(false)
	if err != nil {
		return err
	}
	g := c.stapleGroup()
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := cr.SetOCSPStaple(der); err != nil {
		return err
	}
	g.der, g.set = slices.Clone(der), true
	kept := g.creds[:0]
	for _, w := range g.creds {
		other := w.Value()
		if other == nil {
			continue
		}
		kept = append(kept, w)
		if other != cr {
			other.SetOCSPStaple(g.der) // refused by a Clone with another certificate
		}
	}
	g.creds = kept
	return nil
}

// stapleGroup is the staple a Config and its Clones share, and the server
// credentials each built, which SetOCSPStaple updates. It holds them
// weakly: each Config keeps its own alive, and a Config no longer used
// frees them.
type stapleGroup struct {
	mu    sync.Mutex
	der   []byte
	set   bool // SetOCSPStaple was called: der replaces Certificates[0].OCSPStaple
	creds []weak.Pointer[Credentials]
}

// stapleGroup returns c's, made on first use; Clone shares it.
func (c *Config) stapleGroup() *stapleGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stapleGroupLocked()
}

func (c *Config) stapleGroupLocked() *stapleGroup {
	if c.staples == nil {
		c.staples = &stapleGroup{}
	}
	return c.staples
}

// setupStapling makes a server's credentials ask the Go side for staples,
// starting with the group's staple or Certificates[0].OCSPStaple. It
// installs the callback before any session uses the credentials, since
// GnuTLS's setter is not safe during handshakes; without a staple the
// callback answers in C. A server with pre-shared keys alone has no
// certificate to staple for. The caller holds c.mu.
func (c *Config) setupStapling(cr *Credentials) error {
	if !c.hasCertificate() {
		return nil
	}
	var der []byte
	if len(c.Certificates) > 0 {
		der = c.Certificates[0].OCSPStaple
	}
	g := c.stapleGroupLocked()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.set || cr.SetOCSPStaple(g.der) != nil {
		if err := cr.SetOCSPStaple(der); err != nil {
			return err
		}
	}
	g.creds = append(g.creds, weak.Make(cr))
	return nil
}

// ocspClockSkew is how far in the future a stapled response's thisUpdate
// may lie before a client refuses it.
const ocspClockSkew = 5 * time.Minute

// checkStaple refuses, after GnuTLS's verification accepted them, two
// stapled responses GnuTLS 3.7.9 lets through: one saying the responder
// does not know the certificate (status unknown, which proves nothing),
// and one issued in the future (thisUpdate beyond ocspClockSkew). Both
// fail as GnuTLS's own refusals do, with CertInvalid|CertInvalidOCSP.
func (c *Conn) checkStaple() error {
	if !c.isClient || c.config.InsecureSkipVerify || c.sess.Resumed() {
		return nil
	}
	der := c.sess.OCSPResponse()
	if der == nil {
		return nil
	}
	r, err := ParseOCSPResponse(der)
	if err != nil || r.Status != OCSPSuccessful {
		return nil // GnuTLS judged these already
	}
	var why string
	switch {
	case r.CertStatus == OCSPUnknown:
		why = "the OCSP responder does not know the certificate (status unknown)"
	case r.ThisUpdate.After(time.Now().Add(ocspClockSkew)):
		why = "the OCSP response is not valid yet (thisUpdate " + r.ThisUpdate.UTC().Format(time.RFC3339) + ")"
	default:
		return nil
	}
	st := CertInvalid | CertInvalidOCSP
	return &Error{Op: "handshake", Code: ErrCertificateVerification,
		Verify: &CertificateVerificationError{Status: st, Reason: strings.TrimSpace(st.String()) + " (" + why + ")",
			Certificates: c.sess.PeerCertificatesDER()}}
}

// OCSPResponse returns the DER OCSP response the server stapled, or nil.
func (s *Session) OCSPResponse() []byte {
	return get(s, func(p C.gnutls_session_t) []byte {
		var data *C.uchar
		var n C.uint
		var checked C.int
		if C.go_gnutls_ocsp_received(p, &data, &n, &checked) < 0 || n == 0 {
			return nil
		}
		return C.GoBytes(unsafe.Pointer(data), C.int(n))
	})
}

// OCSPVerified reports whether certificate verification found a stapled
// OCSP response valid: signed by a trusted responder, about the server's
// certificate, current and not revoking it
// (gnutls_ocsp_status_request_is_checked).
func (s *Session) OCSPVerified() bool {
	return get(s, func(p C.gnutls_session_t) bool {
		var data *C.uchar
		var n C.uint
		var checked C.int
		C.go_gnutls_ocsp_received(p, &data, &n, &checked)
		return checked != 0
	})
}

// OCSPVerifyStatus holds gnutls_ocsp_verify_reason_t bits: why a
// response's signature could not be trusted. Zero means it could.
type OCSPVerifyStatus uint32

// OCSP verification failures.
const (
	OCSPSignerNotFound     = OCSPVerifyStatus(1)      // GNUTLS_OCSP_VERIFY_SIGNER_NOT_FOUND
	OCSPSignerKeyUsage     = OCSPVerifyStatus(1 << 1) // GNUTLS_OCSP_VERIFY_SIGNER_KEYUSAGE_ERROR
	OCSPUntrustedSigner    = OCSPVerifyStatus(1 << 2) // GNUTLS_OCSP_VERIFY_UNTRUSTED_SIGNER
	OCSPInsecureAlgorithm  = OCSPVerifyStatus(1 << 3) // GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM
	OCSPSignatureFailure   = OCSPVerifyStatus(1 << 4) // GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE
	OCSPSignerNotActivated = OCSPVerifyStatus(1 << 5) // GNUTLS_OCSP_VERIFY_CERT_NOT_ACTIVATED
	OCSPSignerExpired      = OCSPVerifyStatus(1 << 6) // GNUTLS_OCSP_VERIFY_CERT_EXPIRED
)

// String lists the failures in gnutls-cli's words, such as "Signer cert
// not found, Signature failure"; "Success" for none.
func (s OCSPVerifyStatus) String() string {
	if s == 0 {
		return "Success"
	}
	var parts []string
	for _, f := range []struct {
		bit  OCSPVerifyStatus
		name string
	}{
		{OCSPSignerNotFound, "Signer cert not found"}, {OCSPSignerKeyUsage, "Signer cert keyusage error"},
		{OCSPUntrustedSigner, "Signer cert is not trusted"}, {OCSPInsecureAlgorithm, "Insecure algorithm"},
		{OCSPSignatureFailure, "Signature failure"}, {OCSPSignerNotActivated, "Signer cert not yet activated"},
		{OCSPSignerExpired, "Signer cert expired"},
	} {
		if s&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("OCSP verification status %#x", uint32(s))
	}
	return strings.Join(parts, ", ")
}

// ErrOCSPNonce: a responder's answer does not carry the request's nonce
// but another one, as a replayed answer would.
var ErrOCSPNonce = errors.New("gnutls: the OCSP response's nonce does not match the request's")

// NewOCSPRequest returns a DER OCSP request asking about cert, issued by
// issuer (both DER), with nonce when not nil, for a client that asks the
// responder itself rather than relying on a staple.
func NewOCSPRequest(cert, issuer, nonce []byte) ([]byte, error) {
	if len(cert) == 0 || len(issuer) == 0 {
		return nil, errors.New("gnutls: NewOCSPRequest needs a certificate and its issuer")
	}
	var out *C.uchar
	var n C.uint
	r := withBytes(cert, func(cp unsafe.Pointer, cn C.uint) C.int {
		return withBytes(issuer, func(ip unsafe.Pointer, in C.uint) C.int {
			return withBytes(nonce, func(np unsafe.Pointer, nn C.uint) C.int {
				return C.go_gnutls_ocsp_request(cp, cn, ip, in, np, nn, &out, &n)
			})
		})
	})
	if out != nil {
		defer C.go_gnutls_free(unsafe.Pointer(out))
	}
	if r < 0 {
		return nil, &Error{Op: "make OCSP request", Code: ErrorCode(r)}
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

// VerifyOCSPResponse checks a responder's DER answer about cert (DER):
// that it is about cert (else ErrOCSPMismatch), that issuer or a
// responder issuer delegated to signed it (gnutls_ocsp_resp_verify_direct;
// the failures come back as OCSPVerifyStatus) and, with a nonce, that it
// carries no other (ErrOCSPNonce; a responder may leave it out). What the
// response says of the certificate and when is in the OCSPResponse.
func VerifyOCSPResponse(der, cert, issuer, nonce []byte) (*OCSPResponse, OCSPVerifyStatus, error) {
	r, err := ParseOCSPResponse(der)
	if err != nil {
		return nil, 0, err
	}
	if len(cert) == 0 || len(issuer) == 0 {
		return r, 0, errors.New("gnutls: VerifyOCSPResponse needs the certificate and its issuer")
	}
	var status C.uint
	var nonceState C.int
	ret := withBytes(der, func(dp unsafe.Pointer, dn C.uint) C.int {
		return withBytes(cert, func(cp unsafe.Pointer, cn C.uint) C.int {
			return withBytes(issuer, func(ip unsafe.Pointer, in C.uint) C.int {
				return withBytes(nonce, func(np unsafe.Pointer, nn C.uint) C.int {
					return C.go_gnutls_ocsp_verify(dp, dn, cp, cn, ip, in, np, nn, &status, &nonceState)
				})
			})
		})
	})
	if ret < 0 {
		return r, 0, &Error{Op: "verify OCSP response", Code: ErrorCode(ret)}
	}
	if len(nonce) > 0 && nonceState == 0 {
		return r, OCSPVerifyStatus(status), ErrOCSPNonce
	}
	return r, OCSPVerifyStatus(status), nil
}

// FindIssuer returns the trusted CA certificate (DER) that issued cert
// (DER), as needed to ask about cert's status (gnutls_certificate_get_issuer).
func (c *Credentials) FindIssuer(cert []byte) ([]byte, error) {
	if len(cert) == 0 {
		return nil, errors.New("gnutls: FindIssuer: no certificate")
	}
	var out *C.uchar
	var n C.uint
	_, err := c.load("find issuer", func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(cert, func(b unsafe.Pointer, bn C.uint) C.int { return C.go_gnutls_find_issuer(p, b, bn, &out, &n) })
	})
	if out != nil {
		defer C.go_gnutls_free(unsafe.Pointer(out))
	}
	if err != nil {
		return nil, err
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}
