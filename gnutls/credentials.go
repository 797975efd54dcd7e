package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

var liveCredentials atomic.Int64

// Credentials are X.509 certificate credentials
// (gnutls_certificate_credentials_t): a trust store, CRLs, and the
// certificate and key this side presents. Configure them before handing
// them to sessions; sessions keep them alive, so Close frees them only
// once the last session using them is closed.
type Credentials struct {
	*credState
}

type credState struct {
	shared
	ptr C.gnutls_certificate_credentials_t
	// afterFree undoes, once the C credentials are freed, what their
	// callbacks reach (ocsp.go, pkcs11.go): handles and C memory.
	afterFree []func()
	staple    *stapler
	pin       *pinAsker
	// paths are the verified paths found with this trust store
	// (verifiedpath.go); pathsGen counts the changes to it, which forget
	// them. Both under mu.
	paths    map[[sha256.Size]byte]memoPath
	pathsGen uint64
}

// NewCredentials returns empty certificate credentials.
func NewCredentials() (*Credentials, error) {
	st := &credState{}
	if err := check("allocate credentials", C.gnutls_certificate_allocate_credentials(&st.ptr)); err != nil {
		return nil, err
	}
	liveCredentials.Add(1)
	st.free = func() {
		C.gnutls_certificate_free_credentials(st.ptr)
		st.ptr = nil
		for _, f := range st.afterFree {
			f()
		}
		st.afterFree = nil
		liveCredentials.Add(-1)
	}
	c := &Credentials{st}
	runtime.AddCleanup(c, func(st *credState) { st.close() }, st)
	return c, nil
}

// Close frees the credentials once no session uses them. It is idempotent.
func (c *Credentials) Close() error {
	c.close()
	return nil
}

// load runs f on the C credentials; f returns a GnuTLS count or code, and
// op names what it does in an error.
func (c *Credentials) load(op string, f func(C.gnutls_certificate_credentials_t) C.int) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	r := f(c.ptr)
	if r < 0 {
		return 0, &Error{Op: op, Code: ErrorCode(r)}
	}
	return int(r), nil
}

// loadCerts is load for calls that return how many certificates they
// added; none is an error, with the code GnuTLS gives an empty list
// elsewhere (GNUTLS_E_NO_CERTIFICATE_FOUND).
func (c *Credentials) loadCerts(what string, f func(C.gnutls_certificate_credentials_t) C.int) (int, error) {
	n, err := c.load("load "+what, func(p C.gnutls_certificate_credentials_t) C.int {
		c.forgetPaths() // the trust store changes
		return f(p)
	})
	if err == nil && n == 0 {
		return 0, &Error{Op: "load " + what, Code: ErrNoCertificateFound}
	}
	return n, err
}

func withCString(s string, f func(*C.char) C.int) C.int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return f(cs)
}

// withBytes hands f a C copy of b (GnuTLS parses it before returning).
func withBytes(b []byte, f func(unsafe.Pointer, C.uint) C.int) C.int {
	if len(b) == 0 {
		return f(nil, 0)
	}
	p := C.CBytes(b)
	defer C.free(p)
	return f(p, C.uint(len(b)))
}

// SetSystemTrust adds the system's trusted CAs and returns how many.
func (c *Credentials) SetSystemTrust() (int, error) {
	return c.loadCerts("system trust store", func(p C.gnutls_certificate_credentials_t) C.int {
		return C.gnutls_certificate_set_x509_system_trust(p)
	})
}

// AddTrustFile adds the CAs of a PEM file, or of a pkcs11: URL, and
// returns how many.
func (c *Credentials) AddTrustFile(path string) (int, error) {
	return c.loadFile("AddTrustFile", "CA file", path, func(p C.gnutls_certificate_credentials_t, cs *C.char) C.int {
		return C.gnutls_certificate_set_x509_trust_file(p, cs, C.GNUTLS_X509_FMT_PEM)
	}, func(p C.gnutls_certificate_credentials_t, b unsafe.Pointer, n C.uint) C.int {
		return C.go_gnutls_trust_mem(p, b, n)
	})
}

// AddTrustPEM adds the CAs of PEM data and returns how many.
func (c *Credentials) AddTrustPEM(pem []byte) (int, error) {
	return c.loadCerts("CA PEM", func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(pem, func(b unsafe.Pointer, n C.uint) C.int { return C.go_gnutls_trust_mem(p, b, n) })
	})
}

// AddCRLFile adds the CRLs of a PEM file and returns how many.
func (c *Credentials) AddCRLFile(path string) (int, error) {
	return c.loadFile("AddCRLFile", "CRL file", path, func(p C.gnutls_certificate_credentials_t, cs *C.char) C.int {
		return C.gnutls_certificate_set_x509_crl_file(p, cs, C.GNUTLS_X509_FMT_PEM)
	}, func(p C.gnutls_certificate_credentials_t, b unsafe.Pointer, n C.uint) C.int {
		return C.go_gnutls_crl_mem(p, b, n)
	})
}

// loadFile is loadCerts for the PEM file at path: Go reads it, so that a
// failure carries the OS's reason (an *fs.PathError), and mem loads the
// bytes; a URL GnuTLS supports (pkcs11:) goes to file as it is. op names
// the method in the error for a path C cannot take.
func (c *Credentials) loadFile(op, what, path string, file func(C.gnutls_certificate_credentials_t, *C.char) C.int, mem func(C.gnutls_certificate_credentials_t, unsafe.Pointer, C.uint) C.int) (int, error) {
	if err := checkNUL(op, "path", path); err != nil {
		return 0, err
	}
	what = fmt.Sprintf("%s %q", what, RedactURL(path))
	if isURL(path) {
		return c.loadCerts(what, func(p C.gnutls_certificate_credentials_t) C.int {
			return withCString(path, func(cs *C.char) C.int { return file(p, cs) })
		})
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("gnutls: load %s: %w", what, err)
	}
	return c.loadCerts(what, func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(b, func(b unsafe.Pointer, n C.uint) C.int { return mem(p, b, n) })
	})
}

// isURL reports whether GnuTLS takes name as a URL (pkcs11:, tpmkey:, ...)
// rather than a file name.
func isURL(name string) bool {
	return withCString(name, func(cs *C.char) C.int { return C.int(C.gnutls_url_is_supported(cs)) }) != 0
}

// AddCRLPEM adds the CRLs of PEM data and returns how many.
func (c *Credentials) AddCRLPEM(pem []byte) (int, error) {
	return c.loadCerts("CRL PEM", func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(pem, func(b unsafe.Pointer, n C.uint) C.int { return C.go_gnutls_crl_mem(p, b, n) })
	})
}

// AddKeyPairFiles adds a certificate chain and its private key, both PEM
// files or pkcs11: URLs of objects in a PKCS#11 token (GnuTLS finds the
// token through p11-kit's module configuration; see SetPINFunc), to
// present to the peer. A PIN in a URL never appears in an error.
func (c *Credentials) AddKeyPairFiles(certFile, keyFile string) error {
	for _, f := range []string{certFile, keyFile} {
		if err := checkNUL("AddKeyPairFiles", "path", RedactURL(f)); err != nil {
			return err
		}
	}
	op := fmt.Sprintf("load certificate %q with key %q", RedactURL(certFile), RedactURL(keyFile))
	if !isURL(certFile) && !isURL(keyFile) {
		// Files are read in Go, so that a failure carries the OS's reason.
		certPEM, err := os.ReadFile(certFile)
		if err != nil {
			return fmt.Errorf("gnutls: %s: %w", op, err)
		}
		keyPEM, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("gnutls: %s: %w", op, err)
		}
		return c.addKeyPairPEM(op, certPEM, keyPEM)
	}
	_, err := c.load(op, func(p C.gnutls_certificate_credentials_t) C.int {
		return withCString(certFile, func(cf *C.char) C.int {
			return withCString(keyFile, func(kf *C.char) C.int {
				return C.gnutls_certificate_set_x509_key_file2(p, cf, kf, C.GNUTLS_X509_FMT_PEM, nil, 0)
			})
		})
	})
	return c.loginError(err)
}

// AddKeyPairPEM adds a PEM certificate chain (leaf first) and its PEM
// private key, to present to the peer. Inputs that look switched (a key
// where the certificate should be, or the reverse) give an error matching
// ErrKeyPairSwitched.
func (c *Credentials) AddKeyPairPEM(certPEM, keyPEM []byte) error {
	return c.addKeyPairPEM("load certificate and key PEM", certPEM, keyPEM)
}

func (c *Credentials) addKeyPairPEM(op string, certPEM, keyPEM []byte) error {
	_, err := c.load(op, func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(certPEM, func(cb unsafe.Pointer, cn C.uint) C.int {
			return withBytes(keyPEM, func(kb unsafe.Pointer, kn C.uint) C.int {
				return C.go_gnutls_key_pair_mem(p, cb, cn, kb, kn)
			})
		})
	})
	if err != nil {
		if why := switchedPEM(certPEM, keyPEM); why != "" {
			return fmt.Errorf("gnutls: %s: %s: %w", op, why, ErrKeyPairSwitched)
		}
	}
	return err
}

// ErrKeyPairSwitched is matched by the error of a key pair whose
// certificate input holds a private key and no certificate, or whose key
// input holds a certificate and no private key.
var ErrKeyPairSwitched = errors.New("the certificate and key inputs may have been switched")

// switchedPEM says why certPEM and keyPEM look switched, or "" when they
// do not, from the types of their PEM blocks (as crypto/tls's
// X509KeyPair does).
func switchedPEM(certPEM, keyPEM []byte) string {
	certHasCert, certHasKey := pemHolds(certPEM)
	keyHasCert, keyHasKey := pemHolds(keyPEM)
	switch {
	case certHasKey && !certHasCert:
		return "found a private key and no certificate in the certificate input"
	case keyHasCert && !keyHasKey:
		return "found a certificate and no private key in the key input"
	}
	return ""
}

// pemHolds reports whether b has a certificate block and a private key
// block.
func pemHolds(b []byte) (cert, key bool) {
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			return cert, key
		}
		cert = cert || strings.HasSuffix(blk.Type, "CERTIFICATE")
		key = key || strings.HasSuffix(blk.Type, "PRIVATE KEY")
	}
}

// ticketKey is a server's session ticket key, in C memory.
type ticketKey struct{ ptr *C.gnutls_datum_t }

func newTicketKey() (*ticketKey, error) {
	k := &ticketKey{}
	if err := check("generate ticket key", C.go_gnutls_ticket_key(&k.ptr)); err != nil {
		return nil, err
	}
	runtime.AddCleanup(k, func(p *C.gnutls_datum_t) { C.go_gnutls_ticket_key_free(p) }, k.ptr)
	return k, nil
}

// enableTickets lets a server session issue session tickets with key.
func (s *Session) enableTickets(k *ticketKey) error {
	return s.call(func(p C.gnutls_session_t) error {
		if err := check("enable session tickets", C.gnutls_session_ticket_enable_server(p, k.ptr)); err != nil {
			return err
		}
		s.key = k
		return nil
	})
}

// VerifyChain verifies a certificate chain (DER, leaf first) as a client
// handshake would: against the credentials' CAs and CRLs, for a TLS
// server, and, when hostname is not empty, for that name or IP address.
// Zero status means trusted. It lets a client that skipped verification
// (InsecureSkipVerify) still learn what verification would have said.
func (c *Credentials) VerifyChain(chain [][]byte, hostname string) (CertStatus, error) {
	return c.verifyChain(chain, hostname, false)
}

// verifyChain is VerifyChain for a TLS server's chain, or with
// clientPurpose for a TLS client's, as a server verifies it.
func (c *Credentials) verifyChain(chain [][]byte, hostname string, clientPurpose bool) (CertStatus, error) {
	if len(chain) == 0 || len(chain) > 16 {
		return 0, fmt.Errorf("gnutls: VerifyChain needs 1 to 16 certificates, got %d", len(chain))
	}
	if err := checkNUL("VerifyChain", "host name", hostname); err != nil {
		return 0, err
	}
	var packed []byte
	lens := make([]C.uint, len(chain))
	for i, der := range chain {
		if len(der) == 0 {
			return 0, fmt.Errorf("gnutls: VerifyChain: certificate %d is empty", i)
		}
		packed = append(packed, der...)
		lens[i] = C.uint(len(der))
	}
	var status C.uint
	_, err := c.load("verify chain", func(p C.gnutls_certificate_credentials_t) C.int {
		return withBytes(packed, func(b unsafe.Pointer, _ C.uint) C.int {
			var name *C.char
			if hostname != "" {
				name = C.CString(hostname)
				defer C.free(unsafe.Pointer(name))
			}
			purpose := C.int(0)
			if clientPurpose {
				purpose = 1
			}
			return C.go_gnutls_verify_chain(p, (*C.uchar)(b), &lens[0], C.uint(len(chain)), name, purpose, &status)
		})
	})
	return CertStatus(status), err
}

// DescribeCertificate prints a DER certificate as GnuTLS does
// (gnutls_x509_crt_print): on one line ("subject `CN=...', issuer ...,
// pin-sha256=..."), or in full.
func DescribeCertificate(der []byte, full bool) (string, error) {
	if len(der) == 0 {
		return "", fmt.Errorf("gnutls: DescribeCertificate: no certificate")
	}
	var out *C.char
	fl := C.int(0)
	if full {
		fl = 1
	}
	r := withBytes(der, func(p unsafe.Pointer, n C.uint) C.int { return C.go_gnutls_crt_print(p, n, fl, &out) })
	if out != nil {
		defer C.go_gnutls_free(unsafe.Pointer(out))
	}
	if r < 0 {
		return "", &Error{Op: "print certificate", Code: ErrorCode(r)}
	}
	return cString(out), nil
}
