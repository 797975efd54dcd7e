package gnutls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// dialWithPriority dials addr as clientConfig with a priority string.
func dialWithPriority(addr, priority string) (*Conn, error) {
	cfg := clientConfig()
	cfg.Priority = priority
	return Dial("tcp", addr, cfg)
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
		return peers.Nginx(t, pki.ca, leaf, peers.NginxOptions{OCSPStaple: staple}).Addr
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
						conn, err := dialWithPriority(addr, v.priority)
						if c.want != 0 {
							if err == nil {
								conn.Close()
							}
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
						if !bytes.Equal(st.TLS().OCSPResponse, staple) {
							t.Fatalf("%s: crypto/tls's state has %d stapled bytes, want %d", v.name, len(st.TLS().OCSPResponse), len(staple))
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

// This package's server staples its response for crypto/tls, gnutls-cli
// (--save-ocsp, and its report) and openssl s_client -status.
func TestOCSPStapleServed(t *testing.T) {
	staple := ocspResponse(t, pki.leaf, testpki.OCSPRequest{})
	cert := pki.leaf.TLS
	cert.OCSPStaple = staple
	addr := echoListener(t, &Config{Certificates: []tls.Certificate{cert}})
	caFile, _, _ := peers.Files(t, pki.ca, pki.leaf)
	_, port, _ := net.SplitHostPort(addr)

	t.Run("crypto/tls", func(t *testing.T) {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: newPool(pki.ca.Cert), MinVersion: v, MaxVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			got := c.ConnectionState().OCSPResponse
			c.Close()
			if !bytes.Equal(got, staple) {
				t.Fatalf("version %#x: stapled %d bytes, want %d", v, len(got), len(staple))
			}
		}
	})
	t.Run("gnutls-cli", func(t *testing.T) {
		saved := filepath.Join(t.TempDir(), "ocsp.der")
		out, err := exec.Command(testenv.LookPath(t, "gnutls-cli"), "--x509cafile", caFile, "-p", port,
			"--save-ocsp", saved, "127.0.0.1", "--verify-hostname", "localhost").CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.Contains(string(out), " OCSP status request,") {
			t.Fatalf("no verified OCSP status in the report:\n%s", out)
		}
		if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, staple) {
			t.Fatalf("--save-ocsp wrote %d bytes (%v), want %d", len(got), err, len(staple))
		}
	})
	t.Run("openssl s_client", func(t *testing.T) {
		cmd := exec.Command(testenv.LookPath(t, "openssl"), "s_client", "-status", "-connect", addr,
			"-servername", "localhost", "-CAfile", caFile, "-verify_return_error")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, want := range []string{"OCSP Response Status: successful", "Cert Status: good"} {
			if !strings.Contains(string(out), want) {
				t.Fatalf("no %q in:\n%s", want, out)
			}
		}
	})
}

// SetOCSPStaple replaces the staple while the server serves, and nil
// stops stapling; handshakes running meanwhile see one or the other.
func TestSetOCSPStapleWhileServing(t *testing.T) {
	checkLeaks(t)
	good := ocspResponse(t, pki.leaf, testpki.OCSPRequest{})
	revoked := ocspResponse(t, pki.leaf, testpki.OCSPRequest{Status: testpki.OCSPRevoked})
	sc := serverConfig()
	if err := sc.SetOCSPStaple(good); err != nil {
		t.Fatal(err)
	}
	addr := echoListener(t, sc)
	dial := func() (ConnectionState, error) {
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			return ConnectionState{}, err
		}
		defer c.Close()
		echo(t, c, "ping")
		return c.ConnectionState(), nil
	}
	if st, err := dial(); err != nil || !bytes.Equal(st.OCSPResponse, good) || !st.OCSPVerified {
		t.Fatalf("good staple: %v, verified %v", err, st.OCSPVerified)
	}
	if err := sc.SetOCSPStaple(revoked); err != nil {
		t.Fatal(err)
	}
	var ve *CertificateVerificationError
	if _, err := dial(); !errors.As(err, &ve) || !ve.Status.Has(CertRevoked) {
		t.Fatalf("revoked staple: got %v", err)
	}
	if err := sc.SetOCSPStaple(nil); err != nil {
		t.Fatal(err)
	}
	if st, err := dial(); err != nil || st.OCSPResponse != nil || st.OCSPVerified {
		t.Fatalf("no staple: %v, %d bytes, verified %v", err, len(st.OCSPResponse), st.OCSPVerified)
	}

	stop := make(chan struct{})
	swapped := make(chan error, 1)
	go func() {
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := sc.SetOCSPStaple([][]byte{good, nil}[i%2]); err != nil {
				swapped <- err
				return
			}
		}
	}()
	for range 20 {
		st, err := dial()
		if err != nil || (st.OCSPResponse != nil && !bytes.Equal(st.OCSPResponse, good)) {
			t.Errorf("while replacing: %v, %d bytes", err, len(st.OCSPResponse))
			break
		}
	}
	close(stop)
	if err := <-swapped; err != nil {
		t.Fatal(err)
	}
}

// A server refuses to staple what would only mislead: a response about
// another certificate, an expired one, one that does not parse.
func TestSetOCSPStapleRefused(t *testing.T) {
	checkLeaks(t)
	other := pki.ca.Issue(testpki.Options{}, "localhost")
	for _, c := range []struct {
		name string
		der  []byte
		want error
	}{
		{"about another certificate", ocspResponse(t, other, testpki.OCSPRequest{}), ErrOCSPMismatch},
		{"expired", ocspResponse(t, pki.leaf, testpki.OCSPRequest{Shift: -48 * time.Hour}), ErrExpired},
		{"not DER", []byte("not an OCSP response"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := serverConfig().SetOCSPStaple(c.der)
			var ge *Error
			if !errors.As(err, &ge) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("got %v, want a *gnutls.Error matching %v", err, c.want)
			}
			if !strings.Contains(err.Error(), "OCSP") || strings.Count(err.Error(), "gnutls: ") != 1 {
				t.Fatalf("error %q does not say once what was wrong", err)
			}
		})
	}
	if err := clientConfig().SetOCSPStaple(nil); !errors.Is(err, errNoCertificate) || strings.Count(err.Error(), "gnutls: ") != 1 {
		t.Fatalf("a Config without a certificate: got %v", err)
	}
}

// A peer's stapled OCSP response is outside input: whatever crypto/tls
// staples, the client either refuses it with an OCSP status bit or
// accepts a response that verified.
func FuzzPeerOCSPStaple(f *testing.F) {
	good := ocspResponse(f, pki.leaf, testpki.OCSPRequest{})
	f.Add(good)
	f.Add(ocspResponse(f, pki.leaf, testpki.OCSPRequest{Status: testpki.OCSPRevoked}))
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x06}) // unauthorized
	f.Add([]byte("not DER"))
	var staple atomic.Pointer[[]byte]
	addr := goTLSServer(f, func(tc *tls.Config) {
		tc.Certificates = nil
		tc.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c := pki.leaf.TLS
			c.OCSPStaple = *staple.Load()
			return &c, nil
		}
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		staple.Store(&data)
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			var ve *CertificateVerificationError
			ocspBits := CertInvalidOCSP | CertRevoked | CertRevocationDataSuperseded
			if !errors.As(err, &ve) || ve.Status&ocspBits == 0 {
				t.Fatalf("staple %x: %v", data, err)
			}
			return
		}
		defer c.Close()
		st := c.ConnectionState()
		if len(data) > 0 && (!st.OCSPVerified || !bytes.Equal(st.OCSPResponse, data)) {
			t.Fatalf("staple %x accepted unverified", data)
		}
		if len(data) > 0 {
			if r, err := ParseOCSPResponse(data); err != nil || r.CertStatus != OCSPGood {
				t.Fatalf("accepted staple parses as %+v, %v", r, err)
			}
		}
	})
}

// ParseOCSPResponse takes any bytes: an error of this package, or a
// response that holds them and DescribeOCSPResponse prints.
func FuzzParseOCSPResponse(f *testing.F) {
	good := ocspResponse(f, pki.leaf, testpki.OCSPRequest{})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseOCSPResponse(der)
		if err != nil {
			gnutlsErr(t, "ParseOCSPResponse", err)
			return
		}
		if !bytes.Equal(r.Raw, der) {
			t.Fatal("Raw is not the input")
		}
		if _, err := DescribeOCSPResponse(der, true); err != nil {
			t.Fatalf("parsed, but not described in full: %v", err)
		}
	})
}

// A client asking the responder itself: the request names the
// certificate and carries the nonce (as openssl reads it); the answer is
// checked against the issuer, the certificate and the nonce.
func TestOCSPQuery(t *testing.T) {
	checkLeaks(t)
	fx := ocspFixtures()
	nonce := []byte("0123456789abcdefghijklm")
	req, err := NewOCSPRequest(pki.leaf.Cert.Raw, pki.ca.Cert.Raw, nonce)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "req.der")
	if err := os.WriteFile(f, req, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.LookPath(t, "openssl"), "ocsp", "-reqin", f, "-req_text").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(strings.ToUpper(pki.leaf.Cert.SerialNumber.Text(16)))) || !bytes.Contains(out, []byte("OCSP Nonce")) {
		t.Fatalf("openssl reads the request as (%v):\n%s", err, out)
	}

	cr := trustingCredentials(t)
	issuer, err := cr.FindIssuer(pki.leaf.Cert.Raw)
	if err != nil || !bytes.Equal(issuer, pki.ca.Cert.Raw) {
		t.Fatalf("FindIssuer: %v", err)
	}
	var fe *Error
	if _, err := cr.FindIssuer(testpki.SelfSigned("x").Cert.Raw); !errors.As(err, &fe) || fe.Op != "find issuer" {
		t.Fatalf("FindIssuer of a certificate nobody trusted issued: %v", err)
	}

	other := pki.ca.Issue(testpki.Options{}, "localhost")
	for _, c := range []struct {
		name   string
		resp   testpki.OCSPRequest
		about  *testpki.Leaf
		status OCSPVerifyStatus
		err    error
		cert   OCSPCertStatus
	}{
		{"good", testpki.OCSPRequest{}, pki.leaf, 0, nil, OCSPGood},
		{"revoked", testpki.OCSPRequest{Status: testpki.OCSPRevoked}, pki.leaf, 0, nil, OCSPRevoked},
		{"delegated responder", testpki.OCSPRequest{SignerCert: fx.delegate.Cert, SignerKey: fx.delegate.Key}, pki.leaf, 0, nil, OCSPGood},
		{"another CA's responder", testpki.OCSPRequest{SignerCert: fx.stranger.Cert, SignerKey: fx.stranger.Key}, pki.leaf, OCSPUntrustedSigner, nil, OCSPGood},
		{"about another certificate", testpki.OCSPRequest{}, other, 0, ErrOCSPMismatch, OCSPGood},
	} {
		t.Run(c.name, func(t *testing.T) {
			der := ocspResponse(t, c.about, c.resp)
			r, vs, err := VerifyOCSPResponse(der, pki.leaf.Cert.Raw, issuer, nil)
			if !errors.Is(err, c.err) || (err == nil && (vs&c.status != c.status || (c.status == 0 && vs != 0) || r.CertStatus != c.cert)) {
				t.Fatalf("got status %v, verification %v, %v; want %v, verification %v, %v", certStatusOf(r), vs, err, c.cert, c.status, c.err)
			}
		})
	}
	if s := (OCSPSignerNotFound | OCSPSignatureFailure).String(); s != "Signer cert not found, Signature failure" {
		t.Fatalf("OCSPVerifyStatus.String: %q", s)
	}
}

// A responder's answer is outside input too.
func FuzzVerifyOCSPResponse(f *testing.F) {
	good := ocspResponse(f, pki.leaf, testpki.OCSPRequest{})
	f.Add(good, []byte(nil))
	f.Add(good[:len(good)-3], []byte("nonce"))
	f.Fuzz(func(t *testing.T, der, nonce []byte) {
		r, vs, err := VerifyOCSPResponse(der, pki.leaf.Cert.Raw, pki.ca.Cert.Raw, nonce)
		if err != nil {
			gnutlsErr(t, "VerifyOCSPResponse", err)
			return
		}
		if r == nil || (vs == 0 && r.Status != OCSPSuccessful) {
			t.Fatalf("verified a response that is not successful: %+v", r)
		}
	})
}

func certStatusOf(r *OCSPResponse) any {
	if r == nil {
		return nil
	}
	return r.CertStatus
}

// SetOCSPStaple reaches the Config's Clones, made before and after, as
// crypto/tls's Clone shares the certificates; a Clone given another
// certificate keeps stapling its own (none here).
func TestSetOCSPStapleClones(t *testing.T) {
	checkLeaks(t)
	good := ocspResponse(t, pki.leaf, testpki.OCSPRequest{})
	sc := serverConfig()
	before := sc.Clone()
	other := sc.Clone()
	other.Certificates = []tls.Certificate{pki.ca.Issue(testpki.Options{}, "localhost", "127.0.0.1").TLS}
	beforeAddr, otherAddr := echoListener(t, before), echoListener(t, other)
	stapled := func(addr string) []byte {
		t.Helper()
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echo(t, c, "ping")
		return c.ConnectionState().OCSPResponse
	}
	if got := stapled(beforeAddr); got != nil {
		t.Fatalf("a staple before SetOCSPStaple: %d bytes", len(got))
	}
	if err := sc.SetOCSPStaple(good); err != nil {
		t.Fatal(err)
	}
	after := sc.Clone()
	for name, addr := range map[string]string{"clone made before": beforeAddr, "clone made after": echoListener(t, after)} {
		if got := stapled(addr); !bytes.Equal(got, good) {
			t.Errorf("%s: %d bytes stapled, want the %d set on the original", name, len(got), len(good))
		}
	}
	if got := stapled(otherAddr); got != nil {
		t.Errorf("clone with another certificate: %d bytes stapled, want none", len(got))
	}
}
