package gnutls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// ocspFixtures are certificates for the OCSP tests, made once: a
// must-staple certificate of pki.ca, a responder pki.ca delegates to and
// one of another CA.
var ocspFixtures = sync.OnceValue(func() (f struct {
	mustStaple, delegate, stranger *testpki.Leaf
}) {
	f.mustStaple = pki.ca.Issue(testpki.Options{MustStaple: true}, "localhost", "127.0.0.1")
	f.delegate = pki.ca.OCSPResponder("go-gnutls test OCSP responder")
	f.stranger = testpki.NewCA("another CA").OCSPResponder("another CA's OCSP responder")
	return f
})

// ocspResponse makes a response of pki.ca about leaf.
func ocspResponse(t testing.TB, leaf *testpki.Leaf, r testpki.OCSPRequest) []byte {
	t.Helper()
	testenv.LookPath(t, "openssl")
	if r.Shift != 0 {
		testenv.LookPath(t, "faketime")
	}
	der, err := pki.ca.OCSPResponse(leaf.Cert, r)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// stapleServer is a server stapling a response for its certificate.
type stapleServer struct {
	name string
	// ours: this package's server, which refuses to staple a response that
	// has expired or is about another certificate.
	ours  bool
	start func(t *testing.T, leaf *testpki.Leaf, staple []byte) string
}

var stapleServers = []stapleServer{
	{"gnutls.Server", true, func(t *testing.T, leaf *testpki.Leaf, staple []byte) string {
		cert := leaf.TLS
		cert.OCSPStaple = staple
		return echoListener(t, &Config{Certificates: []tls.Certificate{cert}})
	}},
	{"openssl s_server -status_file", false, func(t *testing.T, leaf *testpki.Leaf, staple []byte) string {
		var extra []string
		if staple != nil {
			f := filepath.Join(t.TempDir(), "staple.der")
			if err := os.WriteFile(f, staple, 0o600); err != nil {
				t.Fatal(err)
			}
			extra = []string{"-status_file", f}
		}
		return peers.OpenSSL(t, pki.ca, leaf, append(extra, "-quiet")...).Addr
	}},
	{"nginx ssl_stapling_file", false, func(t *testing.T, leaf *testpki.Leaf, staple []byte) string {
		conf := ""
		if staple != nil {
			f := filepath.Join(t.TempDir(), "staple.der")
			if err := os.WriteFile(f, staple, 0o600); err != nil {
				t.Fatal(err)
			}
			conf = "ssl_stapling on; ssl_stapling_file " + f + ";"
		}
		return peers.Nginx(t, pki.ca, leaf, conf).Addr
	}},
}


// ocspCase is a stapled response a client meets, and what it must say.
type ocspCase struct {
	name string
	leaf *testpki.Leaf
	// resp describes the staple; nil staples nothing.
	resp *testpki.OCSPRequest
	// want is the refusal's status; zero means accepted and verified.
	want CertStatus
	// refusedByOurs: this package's server will not staple it.
	refusedByOurs bool
}

func ocspCases() []ocspCase {
	fx := ocspFixtures()
	return []ocspCase{
		{name: "good", leaf: pki.leaf, resp: &testpki.OCSPRequest{}},
		{name: "good, from a delegated responder", leaf: pki.leaf,
			resp: &testpki.OCSPRequest{SignerCert: fx.delegate.Cert, SignerKey: fx.delegate.Key}},
		{name: "must-staple with a staple", leaf: fx.mustStaple, resp: &testpki.OCSPRequest{}},
		{name: "revoked", leaf: pki.leaf, resp: &testpki.OCSPRequest{Status: testpki.OCSPRevoked},
			want: CertInvalid | CertRevoked},
		{name: "unknown", leaf: pki.leaf, resp: &testpki.OCSPRequest{Status: testpki.OCSPUnknown},
			want: CertInvalid | CertInvalidOCSP},
		{name: "expired", leaf: pki.leaf, resp: &testpki.OCSPRequest{Shift: -48 * time.Hour},
			want: CertInvalid | CertRevocationDataSuperseded, refusedByOurs: true},
		{name: "not yet valid", leaf: pki.leaf, resp: &testpki.OCSPRequest{Shift: 24 * time.Hour, Validity: 2 * time.Hour},
			want: CertInvalid | CertInvalidOCSP},
		{name: "signed by another CA's responder", leaf: pki.leaf,
			resp: &testpki.OCSPRequest{SignerCert: fx.stranger.Cert, SignerKey: fx.stranger.Key},
			want: CertInvalid | CertInvalidOCSP},
		{name: "must-staple without a staple", leaf: fx.mustStaple, want: CertInvalid | CertMissingOCSP},
	}
}

// A client verifies the server's stapled OCSP response, over TLS 1.2 and
// 1.3, from this package's server, OpenSSL's and nginx: accepted ones show
// in ConnectionState, refused ones fail the handshake with the status bits
// that say why.
func TestOCSPStapleVerified(t *testing.T) {
	for _, c := range ocspCases() {
		t.Run(c.name, func(t *testing.T) {
			var staple []byte
			if c.resp != nil {
				staple = ocspResponse(t, c.leaf, *c.resp)
			}
			for _, srv := range stapleServers {
				if srv.ours && c.refusedByOurs {
					continue // TestSetOCSPStapleRefused
				}
				t.Run(srv.name, func(t *testing.T) {
					addr := srv.start(t, c.leaf, staple)
					for _, v := range versions {
						cfg := clientConfig()
						cfg.Priority = v.priority
						conn, err := Dial("tcp", addr, cfg)
						if c.want != 0 {
							var ve *CertificateVerificationError
							if !errors.As(err, &ve) || ve.Status != c.want {
								t.Fatalf("%s: got %v, want a verification error with status %#x (%v)", v.name, err, uint32(c.want), c.want)
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s: %v", v.name, err)
						}
						st := conn.ConnectionState()
						conn.Close()
						if !bytes.Equal(st.OCSPResponse, staple) || !st.OCSPVerified || st.VerifyStatus != 0 {
							t.Fatalf("%s: stapled %d bytes (want %d), verified %v, status %v", v.name, len(st.OCSPResponse), len(staple), st.OCSPVerified, st.VerifyStatus)
						}
						r, err := ParseOCSPResponse(st.OCSPResponse)
						if err != nil || r.Status != OCSPSuccessful || r.CertStatus != OCSPGood {
							t.Fatalf("%s: parsed %+v, %v", v.name, r, err)
						}
					}
				})
			}
		})
	}
}
