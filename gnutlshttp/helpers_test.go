package gnutlshttp

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// TestMain fails the run when a GnuTLS session, handle or credentials
// object outlived the tests.
func TestMain(m *testing.M) { live.Main(m) }

var (
	testCA   = testpki.NewCA("gnutlshttp test CA")
	testLeaf = testCA.Issue(testpki.Options{}, "localhost", "127.0.0.1", "::1")
)

// closeIdle closes tr's idle connections, waiting for an HTTP/2 stream
// whose response was read to be forgotten by its connection.
func closeIdle(tr *Transport) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		tr.CloseIdleConnections()
		tr.mu.Lock()
		n := len(tr.h2conns)
		tr.mu.Unlock()
		if n == 0 {
			return
		}
	}
}

func clientConfig() *gnutls.Config {
	return &gnutls.Config{RootCAPEM: testCA.PEM}
}

func serverConfig() *gnutls.Config {
	return &gnutls.Config{Certificates: []tls.Certificate{testLeaf.TLS}}
}

func goClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(testCA.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// get fetches url and returns the response with its body read.
func get(t testing.TB, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(b)
}
