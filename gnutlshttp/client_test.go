package gnutlshttp

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
	"golang.org/x/net/http2"
)

// goServer starts net/http's server on crypto/tls, HTTP/2 as well when h2;
// it answers with the protocol and TLS state it saw, and counts the
// connections it accepted.
func goServer(t *testing.T, h2 bool) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %#x", r.Proto, r.URL.Path, r.TLS.CipherSuite)
	}))
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{testLeaf.TLS}}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// The client against Go's server on crypto/tls: HTTP/1.1 and HTTP/2 by
// ALPN, keep-alive (one connection for several requests), Response.TLS
// filled, and a new connection resuming the session.
func TestClientGoServer(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[h2], func(t *testing.T) {
			live.Check(t)
			srv, conns := goServer(t, h2)
			tr := &Transport{Config: clientConfig()}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			url := "https://" + localhost(srv.Listener.Addr().String()) + "/p"
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
			var first *tls.ConnectionState
			for i := range 3 {
				resp, body := get(t, client, url)
				if resp.Proto != proto || resp.TLS == nil {
					t.Fatalf("request %d: proto %s, TLS %v", i, resp.Proto, resp.TLS)
				}
				// One connection's responses share its state, as
				// net/http's do: it is not built again per request.
				if first == nil {
					first = resp.TLS
				} else if resp.TLS != first {
					t.Fatalf("request %d: Response.TLS is a new copy of the connection's state", i)
				}
				st := resp.TLS
				if want := fmt.Sprintf("%s /p %#x", proto, st.CipherSuite); body != want {
					t.Fatalf("body %q, want %q", body, want)
				}
				if st.Version != tls.VersionTLS13 || !st.HandshakeComplete || st.ServerName != "localhost" ||
					len(st.PeerCertificates) != 1 || !st.PeerCertificates[0].Equal(testLeaf.Cert) ||
					len(st.VerifiedChains) != 1 || st.DidResume {
					t.Fatalf("request %d: TLS state %+v", i, st)
				}
				if wantALPN := map[bool]string{false: "http/1.1", true: "h2"}[h2]; st.NegotiatedProtocol != wantALPN {
					t.Fatalf("ALPN %q, want %q", st.NegotiatedProtocol, wantALPN)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("%d connections for 3 requests, want 1 (keep-alive)", n)
			}
			closeIdle(tr)
			resp, _ := get(t, client, url)
			if !resp.TLS.DidResume || conns.Load() != 2 {
				t.Fatalf("after CloseIdleConnections: %d connections, resumed %v; want 2, true", conns.Load(), resp.TLS.DidResume)
			}
		})
	}
}

// Concurrent requests to a new HTTP/2 server share one connection.
func TestClientH2OneDial(t *testing.T) {
	live.Check(t)
	srv, conns := goServer(t, true)
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(srv.Listener.Addr().String()) + "/"
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		// t.Fatal belongs to the test's goroutine: these report instead.
		wg.Go(func() {
			resp, err := client.Get(url)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 concurrent requests, want 1", n)
	}
}

// The client against nginx: HTTP/2 and HTTP/1.1.
func TestClientNginx(t *testing.T) {
	live.Check(t)
	ng := peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{EarlyData: true})
	url := "https://" + localhost(ng.Addr) + "/"
	for _, h1 := range []bool{false, true} {
		tr := &Transport{Config: clientConfig(), DisableHTTP2: h1}
		client := &http.Client{Transport: tr}
		for range 2 {
			resp, body := get(t, client, url)
			if body != "hello\n" || resp.TLS == nil || resp.TLS.NegotiatedProtocol != map[bool]string{false: "h2", true: "http/1.1"}[h1] {
				t.Errorf("DisableHTTP2=%v: %s %q TLS %+v; %s", h1, resp.Proto, body, resp.TLS, ng.Output())
			}
		}
		resp, body := get(t, client, url+"big")
		if len(body) != 1<<20 || resp.StatusCode != 200 {
			t.Errorf("/big: %d, %d bytes", resp.StatusCode, len(body))
		}
		closeIdle(tr)
	}
}

// nginx closes an HTTP/2 connection after 1,000 requests with a graceful
// GOAWAY; the streams it names as not processed go again on a new
// connection, as x/net/http2's and net/http's transports send them,
// rather than failing with "received Server's graceful shutdown GOAWAY".
func TestClientNginxGoAway(t *testing.T) {
	live.Check(t)
	ng := peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{})
	url := "https://" + localhost(ng.Addr) + "/"
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	const workers, each = 16, 200 // three GOAWAYs
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range workers {
		wg.Go(func() {
			for range each {
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("GET %s: %v", url, err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d workers failed", n, workers)
	}
}

// localhost is addr (host:port) with the name the test certificate holds.
func localhost(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "localhost:" + port
}

// Without verification the state has no verified chain.
func TestClientInsecureState(t *testing.T) {
	live.Check(t)
	srv, _ := goServer(t, false)
	cfg := &gnutls.Config{InsecureSkipVerify: true}
	tr := &Transport{Config: cfg}
	defer closeIdle(tr)
	resp, _ := get(t, &http.Client{Transport: tr}, srv.URL)
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) != 1 || resp.TLS.VerifiedChains != nil {
		t.Fatalf("TLS state %+v; want the peer's certificate and no verified chain", resp.TLS)
	}
}

// A URL with an international host name: the Transport dials, verifies
// and pools its connections under the ASCII form (IDNA), as net/http
// does, so requests to it share one connection.
func TestClientInternationalHost(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) {
			live.Check(t)
			const ascii = "xn--bcher-kva.test" // bücher.test
			leaf := testCA.Issue(testpki.Options{}, ascii)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s %s %s", r.Host, r.TLS.ServerName, r.RemoteAddr)
			}))
			srv.EnableHTTP2 = !h1
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			tr := &Transport{Config: clientConfig(), DisableHTTP2: h1, NetDialer: &net.Dialer{Timeout: 5 * time.Second, Resolver: peers.Resolver(peers.DNS(t, map[string][]netip.Addr{ascii: {netip.MustParseAddr("127.0.0.1")}}))}}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			var first string
			for i := range 3 {
				_, body := get(t, client, "https://bücher.test:"+port+"/")
				f := strings.Fields(body)
				if len(f) != 3 || f[0] != ascii+":"+port || f[1] != ascii {
					t.Fatalf("request %d: the server saw %q, want host and server name %s", i, body, ascii)
				}
				if i == 0 {
					first = f[2]
				} else if f[2] != first {
					t.Fatalf("request %d came from %s, the first from %s: want one connection", i, f[2], first)
				}
			}
		})
	}
}

// hostPort names a URL's address as net/http does (the host in its ASCII
// form, then JoinHostPort with 443 by default), whether or not it can
// return the URL's own Host.
func TestHostPort(t *testing.T) {
	for host, want := range map[string]string{
		"localhost":           "localhost:443",
		"localhost:8443":      "localhost:8443",
		"127.0.0.1:1":         "127.0.0.1:1",
		"[::1]":               "[::1]:443",
		"[::1]:8443":          "[::1]:8443",
		"bücher.test:8443":    "xn--bcher-kva.test:8443",
		"a:b:443":             "[a:b]:443",
		"[fe80::1%eth0]:8443": "[fe80::1%eth0]:8443",
	} {
		if got := hostPort(&url.URL{Scheme: "https", Host: host}); got != want {
			t.Errorf("hostPort(%q) = %q, want %q", host, got, want)
		}
	}
}

// firstH2Listener hands its first connection to h2, a TLS server that
// offers HTTP/2 alone, and returns the others from Accept.
type firstH2Listener struct {
	net.Listener
	once sync.Once
	h2   func(*tls.Conn)
}

func (l *firstH2Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		first := false
		l.once.Do(func() { first = true })
		if !first {
			return c, nil
		}
		go l.h2(tls.Server(c, &tls.Config{Certificates: []tls.Certificate{testLeaf.TLS}, NextProtos: []string{http2.NextProtoTLS}}))
	}
}

// A POST that an HTTP/2 server takes whole and then leaves out with a
// graceful GOAWAY goes again with its whole body when the next
// connection finds the server speaking only HTTP/1.1.
func TestClientGoAwayThenHTTP1(t *testing.T) {
	live.Check(t)
	body := strings.Repeat("0123456789abcdef", 1024)
	var h2got atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %d %v", r.Proto, len(b), err)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{testLeaf.TLS}}
	srv.Listener = &firstH2Listener{Listener: srv.Listener, h2: func(c *tls.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(c, preface); err != nil {
			t.Errorf("HTTP/2 server: %v", err)
			return
		}
		fr := http2.NewFramer(c, c)
		fr.WriteSettings()
		for done := false; !done; {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Errorf("HTTP/2 server: %v", err)
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					fr.WriteSettingsAck()
				}
			case *http2.DataFrame:
				h2got.Add(int64(len(f.Data())))
				done = f.StreamEnded()
			}
		}
		fr.WriteGoAway(0, http2.ErrCodeNo, nil)
		io.Copy(io.Discard, c)
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	url := "https://" + localhost(srv.Listener.Addr().String()) + "/"
	resp, err := (&http.Client{Transport: tr}).Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("HTTP/1.1 %d <nil>", len(body)); err != nil || string(b) != want {
		t.Fatalf("response %q, %v; want %q", b, err, want)
	}
	if n := h2got.Load(); n != int64(len(body)) {
		t.Fatalf("the HTTP/2 server took %d bytes of the body before its GOAWAY, want all %d", n, len(body))
	}
}
