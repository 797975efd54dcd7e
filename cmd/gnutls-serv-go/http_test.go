package main

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// TestHTTPClients: curl over HTTP/2 and HTTP/1.1, crypto/tls resuming on
// a new connection, and gnutls-cli sending its request as early data each
// get an answer, and each request is one line on stdout.
func TestHTTPClients(t *testing.T) {
	f := pkiFiles(t)
	s := serve(t, "--http", "--earlydata", "--x509certfile", f.cert, "--x509keyfile", f.key)
	url := "https://localhost:" + s.port() + "/path?q=1"
	curl := testenv.LookPath(t, "curl")
	for _, c := range []struct{ flag, line string }{
		{"--http2", "GET /path?q=1 HTTP/2.0 resumed=no early-data=no"},
		{"--http1.1", "GET /path?q=1 HTTP/1.1 resumed=no early-data=no"},
	} {
		r := runCmd(t, curl, "-sS", c.flag, "--cacert", f.ca, "--resolve", "localhost:"+s.port()+":127.0.0.1", url)
		if r.code != 0 || strings.TrimSpace(r.stdout) != c.line {
			t.Errorf("curl %s: exit %d, %q, want %q", c.flag, r.code, r.stdout, c.line)
		}
		s.waitLines(t, c.line, 1)
	}

	cfg := tlsConfig()
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	for _, want := range []string{"resumed=no", "resumed=yes"} {
		if line := get(t, hc, "https://"+s.addr+"/crypto-tls"); !strings.Contains(line, "GET /crypto-tls HTTP/1.1 "+want) {
			t.Errorf("crypto/tls: %q, want %s", line, want)
		}
	}

	req := filepath.Join(t.TempDir(), "request")
	if err := os.WriteFile(req, []byte("GET /early HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// gnutls-cli -r --earlydata fares as it does against gnutls-serv: the
	// gnutls-cli of GnuTLS 3.8.9 fails to send early data to either
	// ("error sending early data", exit 1), that of 3.7.9 succeeds.
	cli := testenv.LookPath(t, "gnutls-cli")
	port := strconv.Itoa(peers.FreePort(t))
	startServer(t, exec.Command(testenv.LookPath(t, "gnutls-serv"), "--http", "--earlydata", "-p", port, "--x509certfile", f.cert, "--x509keyfile", f.key))
	_, refErr := peers.Client(t, "", cli, "--x509cafile", f.ca, "-p", port, "-r", "--earlydata", req, "localhost")
	out, err := peers.Client(t, "", cli, "--x509cafile", f.ca, "-p", s.port(), "-r", "--earlydata", req, "localhost")
	if (err == nil) != (refErr == nil) {
		t.Fatalf("gnutls-cli -r --earlydata: %v, where against gnutls-serv: %v", err, refErr)
	}
	if refErr != nil {
		return
	}
	if !strings.Contains(out, "GET /early HTTP/1.1 resumed=yes early-data=yes") {
		t.Errorf("gnutls-cli -r --earlydata: the request was not served as early data")
	}
	s.waitLines(t, "GET /early HTTP/1.1 resumed=yes early-data=yes", 1)
}

// TestHTTPAgainstGnutlsServ: curl gets an answer from gnutls-serv-go
// --http as from gnutls-serv --http.
func TestHTTPAgainstGnutlsServ(t *testing.T) {
	f := pkiFiles(t)
	ours := serve(t, "--http", "--x509certfile", f.cert, "--x509keyfile", f.key)
	port := strconv.Itoa(peers.FreePort(t))
	startServer(t, exec.Command(testenv.LookPath(t, "gnutls-serv"), "--http", "-p", port, "--x509certfile", f.cert, "--x509keyfile", f.key))
	for _, addr := range []string{ours.addr, "127.0.0.1:" + port} {
		r := runCmd(t, testenv.LookPath(t, "curl"), "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--http1.1", "--cacert", f.ca, "https://"+addr+"/")
		if r.code != 0 || r.stdout != "200" {
			t.Errorf("curl https://%s/: exit %d, status %q", addr, r.code, r.stdout)
		}
	}
}

// TestOCSPStaple: the response of --ocsp-response is stapled for a client
// that asks, as gnutls-serv staples it.
func TestOCSPStaple(t *testing.T) {
	testenv.LookPath(t, "openssl")
	der, err := pki.ca.OCSPResponse(pki.leaf.Cert, testpki.OCSPRequest{})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ocsp.der")
	if err := os.WriteFile(file, der, 0o600); err != nil {
		t.Fatal(err)
	}
	eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
		addr := start(t, "--ocsp-response", file)
		_, st, err := echoLine(t, addr, tlsConfig(), "hi")
		if err != nil || !bytes.Equal(st.OCSPResponse, der) {
			t.Errorf("stapled %d bytes (%v), want the %d of --ocsp-response", len(st.OCSPResponse), err, len(der))
		}
	})
}
