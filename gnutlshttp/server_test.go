package gnutlshttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// stateHandler answers with the protocol and the TLS state the request
// carries.
var stateHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		http.Error(w, "no TLS state", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "%s %s %s %x %s resumed=%v early=%q\n", r.Proto, r.URL.Path, r.TLS.NegotiatedProtocol,
		r.TLS.Version, r.TLS.ServerName, r.TLS.DidResume, r.Header.Get("Early-Data"))
})

// startServer serves h on a loopback port; the server is closed at the
// end of the test.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

// The server against clients: net/http on crypto/tls, this package's
// Transport, curl and wget, over HTTP/1.1 and HTTP/2; r.TLS is filled.
func TestServerClients(t *testing.T) {
	live.Check(t)
	addr := startServer(t, &Server{Handler: stateHandler, Config: serverConfig()})
	url := "https://" + localhost(addr) + "/x"
	want := func(proto, alpn string) string {
		return fmt.Sprintf("%s /x %s 304 localhost resumed=false early=\"\"\n", proto, alpn)
	}
	caFile, _, _ := peers.Files(t, testCA, testLeaf)

	goClient := func(h2 bool) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: goClientTLS(), ForceAttemptHTTP2: h2}}
	}
	ours := func(h1 bool) *Transport { return &Transport{Config: clientConfig(), DisableHTTP2: h1} }
	for _, tc := range []struct {
		name, want string
		client     *http.Client
	}{
		{"crypto-tls-http1", want("HTTP/1.1", ""), goClient(false)}, // no ALPN
		{"crypto-tls-http2", want("HTTP/2.0", "h2"), goClient(true)},
		{"ours-http1", want("HTTP/1.1", "http/1.1"), &http.Client{Transport: ours(true)}},
		{"ours-http2", want("HTTP/2.0", "h2"), &http.Client{Transport: ours(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				if _, body := get(t, tc.client, url); body != tc.want {
					t.Fatalf("got %q, want %q", body, tc.want)
				}
			}
			if tr, ok := tc.client.Transport.(*Transport); ok {
				closeIdle(tr)
			} else {
				tc.client.CloseIdleConnections()
			}
		})
	}
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"curl-http1", want("HTTP/1.1", "http/1.1"), []string{"curl", "-sS", "--http1.1", "--cacert", caFile, url}},
		{"curl-http2", want("HTTP/2.0", "h2"), []string{"curl", "-sS", "--http2", "--cacert", caFile, url}},
		{"wget", want("HTTP/1.1", ""), []string{"wget", "-q", "-O", "-", "--ca-certificate", caFile, url}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(testenv.LookPath(t, tc.args[0]), tc.args[1:]...).CombinedOutput()
			if err != nil || string(out) != tc.want {
				t.Fatalf("%v: %v\n%s\nwant %q", tc.args, err, out, tc.want)
			}
		})
	}
	t.Run("h2load", func(t *testing.T) {
		out, err := exec.Command(testenv.LookPath(t, "h2load"), "-n", "200", "-c", "4", "-m", "5", url).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "200 succeeded, 0 failed, 0 errored") {
			t.Fatalf("h2load: %v\n%s", err, out)
		}
	})
}

// Shutdown lets a request in flight finish, over HTTP/1.1 and HTTP/2,
// and refuses new connections; Serve returns http.ErrServerClosed.
func TestServerShutdown(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) {
			live.Check(t)
			started, release := make(chan struct{}), make(chan struct{})
			srv := &Server{Config: serverConfig(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				<-release
				io.WriteString(w, "done")
			})}
			addr := startServer(t, srv)
			tr := &Transport{Config: clientConfig(), DisableHTTP2: h1}
			defer closeIdle(tr)
			type result struct {
				body string
				err  error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := (&http.Client{Transport: tr}).Get("https://" + localhost(addr) + "/")
				if err != nil {
					got <- result{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				got <- result{string(b), err}
			}()
			<-started
			shut := make(chan error, 1)
			go func() { shut <- srv.Shutdown(context.Background()) }()
			time.Sleep(50 * time.Millisecond)
			select {
			case err := <-shut:
				t.Fatalf("Shutdown returned %v with a request in flight", err)
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Fatal("a new connection was accepted during Shutdown")
			}
			close(release)
			if r := <-got; r.err != nil || r.body != "done" {
				t.Fatalf("request in flight: %q, %v", r.body, r.err)
			}
			select {
			case err := <-shut:
				if err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Shutdown did not return once the request was done")
			}
		})
	}
}

// A handshake that fails (a client that does not trust the server) is
// logged and closed; the server goes on serving.
func TestServerHandshakeError(t *testing.T) {
	live.Check(t)
	var logged peers.Buffer
	addr := startServer(t, &Server{Handler: stateHandler, Config: serverConfig(), ErrorLog: log.New(&logged, "", 0)})
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost"})
	if err == nil {
		c.Close()
		t.Fatal("a client without the CA completed the handshake")
	}
	if _, body := get(t, &http.Client{Transport: &http.Transport{TLSClientConfig: goClientTLS()}}, "https://"+addr+"/y"); !strings.HasPrefix(body, "HTTP/1.1 /y") {
		t.Fatalf("after a failed handshake: %q", body)
	}
	if got := logged.String(); !strings.Contains(got, "TLS handshake error from 127.0.0.1") || !strings.Contains(got, "Certificate is bad") {
		t.Fatalf("logged %q", got)
	}
}

// A staple set on the Server's Config with SetOCSPStaple, before it
// serves and while it does, is what its handshakes send.
func TestServerOCSPStaple(t *testing.T) {
	live.Check(t)
	staple := func(validity time.Duration) []byte {
		der, err := testCA.OCSPResponse(testLeaf.Cert, testpki.OCSPRequest{Validity: validity})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	first, second := staple(time.Hour), staple(2*time.Hour)
	sc := serverConfig()
	if err := sc.SetOCSPStaple(first); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, &Server{Config: sc, Handler: stateHandler})
	stapled := func() []byte {
		t.Helper()
		cfg := clientConfig()
		cfg.ServerName = "localhost"
		c, err := gnutls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st := c.ConnectionState()
		if len(st.OCSPResponse) > 0 && !st.OCSPVerified {
			t.Fatal("the staple did not verify")
		}
		return st.OCSPResponse
	}
	if got := stapled(); !bytes.Equal(got, first) {
		t.Fatalf("staple set before serving: got %d bytes, want the %d set", len(got), len(first))
	}
	if err := sc.SetOCSPStaple(second); err != nil {
		t.Fatal(err)
	}
	if got := stapled(); !bytes.Equal(got, second) {
		t.Fatalf("staple set while serving: got %d bytes, want the %d set", len(got), len(second))
	}
}

// ListenAndServe and Serve load the Config first and return its error,
// leaving nothing listening.
func TestServeChecksConfig(t *testing.T) {
	live.Check(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, testLeaf.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]*gnutls.Config{
		"missing CertFile":   {CertFile: filepath.Join(dir, "missing.pem"), KeyFile: keyFile},
		"key as certificate": {CertFile: keyFile, KeyFile: keyFile},
		"bogus priority":     {Certificates: serverConfig().Certificates, Priority: "BOGUS"},
	}
	// serve runs f, which must return at once; a server that serves a
	// Config that cannot load is closed after 5 s.
	serve := func(srv *Server, f func() error) error {
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			srv.Close()
			<-done
			return nil
		}
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			srv := &Server{Config: cfg}
			if err := serve(srv, func() error { return srv.Serve(l) }); err == nil || errors.Is(err, http.ErrServerClosed) {
				t.Fatalf("Serve: got %v, want the Config's error", err)
			}
			if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Serve left its listener open: Accept gave %v", err)
			}
			srv = &Server{Addr: addr, Config: cfg}
			err = serve(srv, srv.ListenAndServe)
			if err == nil || errors.Is(err, http.ErrServerClosed) {
				t.Fatalf("ListenAndServe: got %v, want the Config's error", err)
			}
			t.Log(err)
			free, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("after ListenAndServe failed, %s is still taken: %v", addr, err)
			}
			free.Close()
		})
	}
}

// Plain HTTP sent to the server gets net/http's answer: 400 in plain
// text, read by curl and by net/http's client, and the server goes on
// serving TLS.
func TestServerAnswersPlainHTTP(t *testing.T) {
	live.Check(t)
	var logged strings.Builder
	addr := startServer(t, &Server{Handler: stateHandler, Config: serverConfig(), ErrorLog: log.New(&logged, "", 0)})
	out, err := exec.Command(testenv.LookPath(t, "curl"), "-sS", "-w", "%{http_code}", "http://"+addr+"/x").CombinedOutput()
	if err != nil || string(out) != "Client sent an HTTP request to an HTTPS server.\n400" {
		t.Errorf("curl over plain HTTP: %v, got %q", err, out)
	}
	resp, err := http.Get("http://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
		t.Errorf("net/http over plain HTTP: %s %q", resp.Status, body)
	}
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	if _, body := get(t, &http.Client{Transport: tr}, "https://"+localhost(addr)+"/x"); !strings.Contains(body, "/x") {
		t.Errorf("TLS after plain HTTP: %q", body)
	}
	if logged.Len() > 0 {
		t.Errorf("the server logged: %s", logged.String())
	}
}
