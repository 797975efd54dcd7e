// Package testpki makes certificate authorities and certificates for tests,
// demos and benchmarks: ECDSA P-256, valid for an hour either side of now
// unless a test asks otherwise.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

// Leaf is a certificate with its key, and the chain up to (not including) the root.
type Leaf struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte // leaf, then any intermediates
	KeyPEM  []byte
	TLS     tls.Certificate
}

// Options change a certificate from the defaults.
type Options struct {
	NotBefore, NotAfter time.Time // default: now-1h, now+24h
	KeyUsage            x509.KeyUsage
	ExtKeyUsage         []x509.ExtKeyUsage // default: server and client auth
	IsCA                bool
	// MustStaple adds the TLS feature extension asking for a stapled OCSP
	// response (RFC 7633, status_request).
	MustStaple bool
	// OCSPServer is the responder URL put in the authority information access.
	OCSPServer []string
}

var serial int64 = time.Now().UnixNano()

func nextSerial() *big.Int {
	serial++
	return big.NewInt(serial)
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func encode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// NewCA makes a self-signed root.
func NewCA(name string) *CA {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"go-gnutls tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, PEM: encode("CERTIFICATE", der)}
}

// Issue makes a certificate for the names (DNS names or IP addresses).
func (ca *CA) Issue(opts Options, names ...string) *Leaf {
	return issue(opts, ca, names)
}

// issue signs with ca's key, or with the certificate's own when ca is nil.
func issue(opts Options, ca *CA, names []string) *Leaf {
	key := newKey()
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     opts.KeyUsage,
		ExtKeyUsage:  opts.ExtKeyUsage,
		OCSPServer:   opts.OCSPServer,
	}
	if opts.MustStaple {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, mustStaple)
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if opts.IsCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
	} else {
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		}
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		}
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, parentKey := tmpl, crypto.Signer(key)
	if ca != nil {
		parent, parentKey = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	l := &Leaf{Cert: cert, Key: key, CertPEM: encode("CERTIFICATE", der), KeyPEM: encode("PRIVATE KEY", keyDER)}
	l.TLS = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	return l
}

// Intermediate makes a CA signed by ca.
func (ca *CA) Intermediate(name string) *CA {
	l := ca.Issue(Options{IsCA: true}, name)
	l.Cert.Subject.CommonName = name
	return &CA{Cert: l.Cert, Key: l.Key, PEM: l.CertPEM}
}

// WithChain appends the intermediates' certificates to the leaf's chain.
func (l *Leaf) WithChain(ims ...*CA) *Leaf {
	c := *l
	c.CertPEM = append([]byte(nil), l.CertPEM...)
	c.TLS.Certificate = append([][]byte(nil), l.TLS.Certificate...)
	for _, im := range ims {
		c.CertPEM = append(c.CertPEM, im.PEM...)
		c.TLS.Certificate = append(c.TLS.Certificate, im.Cert.Raw)
	}
	return &c
}

// CRL returns a PEM CRL signed by ca revoking the certificates.
func (ca *CA) CRL(revoked ...*x509.Certificate) []byte {
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    nextSerial(),
		ThisUpdate:                time.Now().Add(-time.Hour),
		NextUpdate:                time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		panic(err)
	}
	return encode("X509 CRL", der)
}

// Files writes the CA and the leaf to dir as ca.pem, cert.pem and key.pem
// and returns their paths.
func Files(dir string, ca *CA, l *Leaf) (caFile, certFile, keyFile string, err error) {
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []struct {
		path string
		data []byte
	}{{caFile, ca.PEM}, {certFile, l.CertPEM}, {keyFile, l.KeyPEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return "", "", "", fmt.Errorf("testpki: %w", err)
		}
	}
	return caFile, certFile, keyFile, nil
}

// SelfSigned makes a certificate for the names that signs itself and is
// not a CA: what a server shows before anyone issued it a certificate.
func SelfSigned(names ...string) *Leaf { return issue(Options{}, nil, names) }

// Case is a certificate a TLS client meets: what the server presents, and
// what the client is given to check it with.
type Case struct {
	Name string
	// Leaf is what the server presents (with its chain, if any).
	Leaf *Leaf
	// Trust is the client's root CA, CRL a revocation list it also holds.
	Trust, CRL []byte
	// Valid is set for the cases a client must accept.
	Valid bool
}

// Case names, for tests that map them to what they expect.
const (
	CaseValid               = "valid"
	CaseValidChain          = "valid chain with intermediate"
	CaseExpired             = "expired"
	CaseNotYetValid         = "not yet valid"
	CaseWrongHost           = "wrong host name"
	CaseSelfSigned          = "self-signed"
	CaseUntrustedRoot       = "untrusted root"
	CaseRevoked             = "revoked by CRL"
	CaseClientOnlyEKU       = "extended key usage forbids server use"
	CaseMissingIntermediate = "intermediate missing from the chain"
)

// Cases returns the certificates a client verifying host against ca must
// accept and those it must refuse, all made now: expired, not yet valid,
// for another name, self-signed, from an untrusted root, revoked by a CRL
// the client holds, limited to client authentication, and issued by an
// intermediate the server does not send.
func Cases(ca *CA, host string) []Case {
	day := 24 * time.Hour
	now := time.Now()
	im := ca.Intermediate("go-gnutls test intermediate")
	viaIM := im.Issue(Options{}, host)
	revoked := ca.Issue(Options{}, host)
	return []Case{
		{Name: CaseValid, Leaf: ca.Issue(Options{}, host), Trust: ca.PEM, Valid: true},
		{Name: CaseValidChain, Leaf: viaIM.WithChain(im), Trust: ca.PEM, Valid: true},
		{Name: CaseExpired, Leaf: ca.Issue(Options{NotBefore: now.Add(-2 * day), NotAfter: now.Add(-day)}, host), Trust: ca.PEM},
		{Name: CaseNotYetValid, Leaf: ca.Issue(Options{NotBefore: now.Add(day), NotAfter: now.Add(2 * day)}, host), Trust: ca.PEM},
		{Name: CaseWrongHost, Leaf: ca.Issue(Options{}, "other.example"), Trust: ca.PEM},
		{Name: CaseSelfSigned, Leaf: SelfSigned(host), Trust: ca.PEM},
		{Name: CaseUntrustedRoot, Leaf: NewCA("untrusted root").Issue(Options{}, host), Trust: ca.PEM},
		{Name: CaseRevoked, Leaf: revoked, Trust: ca.PEM, CRL: ca.CRL(revoked.Cert)},
		{Name: CaseClientOnlyEKU, Leaf: ca.Issue(Options{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, host), Trust: ca.PEM},
		{Name: CaseMissingIntermediate, Leaf: viaIM, Trust: ca.PEM},
	}
}
