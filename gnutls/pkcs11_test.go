package gnutls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// tokenObjects are the pkcs11: URLs of what the test token holds.
type tokenObjects struct {
	hsm                   *testpki.SoftHSM
	serverCert, serverKey string
	clientCert, clientKey string
	client                *testpki.Leaf
	// lockedCert and lockedKey are on a token whose right PIN is never
	// given, so that a wrong PIN meets a token nobody logged in to.
	lockedCert, lockedKey string
}

// testToken makes the SoftHSM2 tokens once per test process: the softhsm2
// module reads SOFTHSM2_CONF when GnuTLS first loads it, so it is set
// before any test uses PKCS#11. removeTestToken deletes them at the end.
var testToken = sync.OnceValues(func() (*tokenObjects, error) {
	dir, err := os.MkdirTemp("", "go-gnutls-softhsm-")
	if err != nil {
		return nil, err
	}
	tokenDir = dir
	o := &tokenObjects{client: pki.ca.Issue(testpki.Options{}, "go-gnutls test client")}
	if o.hsm, err = testpki.NewSoftHSM(dir, "go-gnutls", "go-gnutls-locked"); err != nil {
		return nil, err
	}
	if err := os.Setenv("SOFTHSM2_CONF", o.hsm.Conf); err != nil {
		return nil, err
	}
	for _, imp := range []struct {
		token, object string
		leaf          *testpki.Leaf
		cert, key     *string
	}{
		{"go-gnutls", "server", pki.leaf, &o.serverCert, &o.serverKey},
		{"go-gnutls", "client", o.client, &o.clientCert, &o.clientKey},
		{"go-gnutls-locked", "server", pki.leaf, &o.lockedCert, &o.lockedKey},
	} {
		if *imp.cert, *imp.key, err = o.hsm.Import(imp.token, imp.object, imp.leaf); err != nil {
			return nil, err
		}
	}
	return o, o.loadPKCS11()
})

var tokenDir string

func removeTestToken() {
	if tokenDir != "" {
		os.RemoveAll(tokenDir)
	}
}

func token(t testing.TB) *tokenObjects {
	t.Helper()
	testenv.LookPath(t, "softhsm2-util")
	testenv.LookPath(t, "p11tool")
	o, err := testToken()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// loadPKCS11 loads GnuTLS's PKCS#11 modules, which keep files open for
// the rest of the process, so that leak checks start after.
func (o *tokenObjects) loadPKCS11() error {
	cr, err := NewCredentials()
	if err != nil {
		return err
	}
	defer cr.Close()
	if err := cr.SetPINFunc(func(PINRequest) ([]byte, error) { return []byte(testpki.TokenPIN), nil }); err != nil {
		return err
	}
	return cr.AddKeyPairFiles(o.serverCert, o.serverKey)
}

// pinFunc answers with pin and counts the requests.
func pinFunc(pin string, asked *atomic.Int32) PINFunc {
	return func(r PINRequest) ([]byte, error) {
		asked.Add(1)
		return []byte(pin), nil
	}
}

// A server whose key and certificate are in the token serves crypto/tls,
// gnutls-cli and this package's client, over TLS 1.2 and 1.3; the token
// is asked for its PIN once.
func TestPKCS11ServerKey(t *testing.T) {
	tok := token(t)
	checkLeaks(t)
	var asked atomic.Int32
	addr := echoListener(t, &Config{CertFile: tok.serverCert, KeyFile: tok.serverKey, GetPIN: pinFunc(testpki.TokenPIN, &asked)})
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			c, err := dialWithPriority(addr, v.priority)
			if err != nil {
				t.Fatal(err)
			}
			echo(t, c, "ping")
			c.Close()
			gc, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: newPool(pki.ca.Cert), MinVersion: v.want, MaxVersion: v.want})
			if err != nil {
				t.Fatalf("crypto/tls: %v", err)
			}
			echo(t, gc, "ping")
			gc.Close()
		})
	}
	t.Run("gnutls-cli", func(t *testing.T) {
		caFile, _, _, err := testpki.Files(t.TempDir(), pki.ca, pki.leaf)
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(addr, ":")
		cmd := exec.Command(testenv.LookPath(t, "gnutls-cli"), "--x509cafile", caFile, "-p", port, host, "--verify-hostname", "localhost")
		cmd.Stdin = strings.NewReader("ping\n")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("- Handshake was completed")) || !bytes.Contains(out, []byte("\nping\n")) {
			t.Fatalf("%v:\n%s", err, out)
		}
	})
	if n := asked.Load(); n != 1 {
		t.Fatalf("the PIN was asked for %d times, want once", n)
	}
}

// A client certificate in the token is accepted by servers that require
// and verify one: crypto/tls and this package's.
func TestPKCS11ClientCert(t *testing.T) {
	tok := token(t)
	checkLeaks(t)
	var asked atomic.Int32
	cc := clientConfig()
	cc.CertFile, cc.KeyFile, cc.GetPIN = tok.clientCert, tok.clientKey, pinFunc(testpki.TokenPIN, &asked)
	goAddr := goTLSServer(t, func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = newPool(pki.ca.Cert)
		c.VerifyConnection = func(st tls.ConnectionState) error {
			if len(st.PeerCertificates) == 0 || !st.PeerCertificates[0].Equal(tok.client.Cert) {
				return errors.New("not the token's client certificate")
			}
			return nil
		}
	})
	sc := serverConfig()
	sc.ClientAuth, sc.ClientCAPEM = RequireAndVerifyClientCert, pki.ca.PEM
	var peer atomic.Pointer[x509.Certificate]
	ourAddr := serveOn(t, sc, func(c *Conn) {
		if c.Handshake() == nil {
			if pc := c.ConnectionState().PeerCertificates; len(pc) > 0 {
				peer.Store(pc[0])
			}
		}
		c.Write([]byte("ping"))
	})
	for _, addr := range []string{goAddr, ourAddr} {
		c, err := Dial("tcp", addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if addr == goAddr {
			echo(t, c, "ping")
		} else if _, err := c.Read(buf); err != nil {
			t.Fatalf("read from this package's server: %v", err)
		}
		c.Close()
	}
	if p := peer.Load(); p == nil || !p.Equal(tok.client.Cert) {
		t.Fatalf("this package's server saw client certificate %v", p)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("the PIN was asked for %d times, want once", n)
	}
}

// A wrong PIN fails with ErrPINIncorrect, asked for once and never
// retried, without the PIN in the error and without leaking; so does a
// wrong pin-value in the URL, and a PINFunc's own error comes back.
func TestPKCS11WrongPIN(t *testing.T) {
	tok := token(t)
	checkLeaks(t)
	const wrong = "98765"
	var asked atomic.Int32
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	if err := cr.SetPINFunc(pinFunc(wrong, &asked)); err != nil {
		t.Fatal(err)
	}
	err = cr.AddKeyPairFiles(tok.lockedCert, tok.lockedKey)
	if !errors.Is(err, ErrPINIncorrect) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("got %v, want ErrPINIncorrect without the PIN", err)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("the PIN was asked for %d times, want once", n)
	}

	inURL := tok.lockedKey + "?pin-value=" + wrong
	err = cr.AddKeyPairFiles(tok.lockedCert, inURL)
	if !errors.Is(err, ErrPKCS11PIN) || strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), "pin-value=REDACTED") {
		t.Fatalf("pin-value in the URL: got %v", err)
	}

	refused := errors.New("no PIN for you")
	sc := &Config{CertFile: tok.lockedCert, KeyFile: tok.lockedKey, GetPIN: func(PINRequest) ([]byte, error) { return nil, refused }}
	c1, c2 := net.Pipe()
	defer c2.Close()
	srv := Server(c1, sc)
	defer srv.Close()
	if err := srv.Handshake(); !errors.Is(err, refused) || !strings.Contains(err.Error(), "go-gnutls-locked") {
		t.Fatalf("a PINFunc's error: got %v", err)
	}
}

// Credentials take one PIN function.
func TestSetPINFuncTwice(t *testing.T) {
	checkLeaks(t)
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	var asked atomic.Int32
	if err := cr.SetPINFunc(pinFunc("1", &asked)); err != nil {
		t.Fatal(err)
	}
	if err := cr.SetPINFunc(pinFunc("2", &asked)); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("second SetPINFunc: got %v", err)
	}
	if err := cr.SetPINFunc(nil); err == nil || !strings.Contains(err.Error(), "nil function") {
		t.Fatalf("SetPINFunc(nil): %v", err)
	}
}

// RedactURL hides every pin-value, in any case, up to the next separator.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkcs11:token=a;object=k?pin-value=1234":   "pkcs11:token=a;object=k?pin-value=REDACTED",
		"pkcs11:token=a;PIN-Value=12%3B4;object=k": "pkcs11:token=a;PIN-Value=REDACTED;object=k",
		"pkcs11:pin-value=1&pin-value=2":           "pkcs11:pin-value=REDACTED&pin-value=REDACTED",
		"pkcs11:token=é;object=k":                  "pkcs11:token=é;object=k",
		"/etc/key.pem":                             "/etc/key.pem",
		"pkcs11:object=k?pin-value=":               "pkcs11:object=k?pin-value=REDACTED",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
