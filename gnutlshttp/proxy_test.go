package gnutlshttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// proxyURL is the http:// URL of a proxy that peers started.
func proxyURL(t *testing.T, s *peers.Server, userinfo string) *url.URL {
	t.Helper()
	u, err := url.Parse("http://" + userinfo + s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// HTTPS through tinyproxy: one CONNECT per connection, keep-alive through
// the tunnel, the server's name verified, and a new connection through
// the proxy resuming the session. Over HTTP/1.1 and HTTP/2.
func TestProxyConnect(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[h2], func(t *testing.T) {
			live.Check(t)
			srv, conns := goServer(t, h2)
			addr := localhost(srv.Listener.Addr().String())
			px := peers.Tinyproxy(t, peers.TinyproxyOptions{ConnectPorts: []int{port(t, addr)}})
			tr := &Transport{Config: clientConfig(), Proxy: http.ProxyURL(proxyURL(t, px, "")), DisableHTTP2: !h2}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
			for i := range 3 {
				resp, body := get(t, client, "https://"+addr+"/p")
				if !strings.HasPrefix(body, proto+" /p ") || resp.TLS == nil || resp.TLS.ServerName != "localhost" ||
					len(resp.TLS.VerifiedChains) != 1 || resp.TLS.DidResume {
					t.Fatalf("request %d: %q, TLS %+v", i, body, resp.TLS)
				}
			}
			closeIdle(tr)
			if resp, _ := get(t, client, "https://"+addr+"/p"); !resp.TLS.DidResume {
				t.Fatalf("a new connection through the proxy did not resume: %+v", resp.TLS)
			}
			want := []string{"CONNECT " + addr + " HTTP/1.1", "CONNECT " + addr + " HTTP/1.1"}
			if got := peers.ProxyRequests(px); !slices.Equal(got, want) || conns.Load() != 2 {
				t.Fatalf("proxy saw %q, server %d connections; want %q and 2\n%s", got, conns.Load(), want, px.Output())
			}
		})
	}
}

// A proxy that refuses the tunnel (403: the port is not allowed; 407: no
// credentials; tinyproxy answers 401 to wrong ones), closes the
// connection without answering (squid resetting it), or cannot be
// reached fails the request with a ProxyError naming the proxy, the
// target and the status or the cause; a password never shows. With the
// right credentials in the proxy URL, the tunnel opens.
func TestProxyRefused(t *testing.T) {
	live.Check(t)
	srv, _ := goServer(t, true)
	addr := localhost(srv.Listener.Addr().String())
	noPort := peers.Tinyproxy(t, peers.TinyproxyOptions{})
	auth := peers.Tinyproxy(t, peers.TinyproxyOptions{ConnectPorts: []int{port(t, addr)}, BasicAuth: "user s3cret"})
	squid := peers.SquidReset(t)
	down := "127.0.0.1:" + strconv.Itoa(peers.FreePort(t))
	for _, tc := range []struct {
		name   string
		proxy  *url.URL
		status int    // the ProxyError's, 0 for none
		errIs  error  // what the error matches
		msg    string // what the message says
	}{
		{"403", proxyURL(t, noPort, ""), 403, nil, fmt.Sprintf("gnutlshttp: proxy http://%s refused CONNECT %s: 403 ", noPort.Addr, addr)},
		{"407 no credentials", proxyURL(t, auth, ""), 407, nil, fmt.Sprintf("gnutlshttp: proxy http://%s refused CONNECT %s: 407 Proxy Authentication Required", auth.Addr, addr)},
		{"401 wrong password", proxyURL(t, auth, "user:wrong@"), 401, nil, fmt.Sprintf("proxy http://user:xxxxx@%s refused", auth.Addr)},
		{"closes", proxyURL(t, squid, ""), 0, nil, fmt.Sprintf("gnutlshttp: proxy http://%s, CONNECT %s: ", squid.Addr, addr)},
		{"not listening", &url.URL{Scheme: "http", Host: down}, 0, syscall.ECONNREFUSED, fmt.Sprintf("gnutlshttp: proxy http://%s, CONNECT %s: dial tcp %s: ", down, addr, down)},
		{"scheme", &url.URL{Scheme: "socks5", Host: noPort.Addr}, -1, nil, `proxy socks5://` + noPort.Addr + `: scheme "socks5" not supported (only http)`},
		{"basic auth", proxyURL(t, auth, "user:s3cret@"), -1, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{Config: clientConfig(), Proxy: http.ProxyURL(tc.proxy)}
			defer closeIdle(tr)
			resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) == "" || resp.StatusCode != 200 {
					t.Fatalf("%d %q", resp.StatusCode, b)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("request through %s succeeded: %s", tc.proxy.Redacted(), resp.Status)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "wrong") {
				t.Fatalf("error %q, want it to say %q", err, tc.msg)
			}
			t.Log(err)
			var pe *ProxyError
			if tc.status < 0 {
				if errors.As(err, &pe) {
					t.Fatalf("a ProxyError for a Proxy never dialed: %v", err)
				}
				return
			}
			if !errors.As(err, &pe) || pe.StatusCode != tc.status || pe.Target != addr || (tc.status == 0) != (pe.Err != nil) ||
				(tc.errIs != nil && !errors.Is(err, tc.errIs)) {
				t.Fatalf("error %v (%+v), want a ProxyError with status %d", err, pe, tc.status)
			}
		})
	}
}

// A plain http request goes to the proxy with its absolute URL, with
// Proxy-Authorization from the proxy URL: tinyproxy, which requires it,
// forwards it and adds its Via header.
func TestProxyPlainHTTP(t *testing.T) {
	live.Check(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "via %s", r.Header.Get("Via"))
	}))
	defer srv.Close()
	px := peers.Tinyproxy(t, peers.TinyproxyOptions{BasicAuth: "user s3cret"})
	tr := &Transport{Config: clientConfig(), Proxy: http.ProxyURL(proxyURL(t, px, "user:s3cret@"))}
	defer closeIdle(tr)
	resp, body := get(t, &http.Client{Transport: tr}, srv.URL+"/plain")
	if resp.StatusCode != 200 || !strings.Contains(body, "tinyproxy") {
		t.Fatalf("%s %q, want 200 and tinyproxy's Via", resp.Status, body)
	}
	if got, want := peers.ProxyRequests(px), []string{"GET " + srv.URL + "/plain HTTP/1.1"}; !slices.Equal(got, want) {
		t.Fatalf("proxy saw %q, want %q", got, want)
	}
}

// Connections are keyed by proxy and server: a request whose Proxy names
// another proxy, or none, gets a connection of its own, not the one made
// through the first proxy.
func TestProxyKeyed(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "http2"}[h2], func(t *testing.T) {
			live.Check(t)
			srv, conns := goServer(t, h2)
			addr := localhost(srv.Listener.Addr().String())
			opts := peers.TinyproxyOptions{ConnectPorts: []int{port(t, addr)}}
			pa, pb := peers.Tinyproxy(t, opts), peers.Tinyproxy(t, opts)
			proxies := []*url.URL{proxyURL(t, pa, ""), proxyURL(t, pb, ""), nil, proxyURL(t, pa, "")}
			var n atomic.Int32
			tr := &Transport{Config: clientConfig(), DisableHTTP2: !h2, Proxy: func(*http.Request) (*url.URL, error) {
				return proxies[n.Add(1)-1], nil
			}}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			for range proxies {
				get(t, client, "https://"+addr+"/")
			}
			connect := "CONNECT " + addr + " HTTP/1.1"
			if a, b := peers.ProxyRequests(pa), peers.ProxyRequests(pb); !slices.Equal(a, []string{connect}) || !slices.Equal(b, []string{connect}) || conns.Load() != 3 {
				t.Fatalf("proxy A saw %q, B %q, the server %d connections; want one CONNECT each and 3", a, b, conns.Load())
			}
		})
	}
}

// In the lab (20 ms RTT, fast open on both hosts), tinyproxy beside nginx
// on the server host: with Config.FastOpen the CONNECT request rides the
// SYN to the proxy once the kernel has its cookie, and a GET on a new
// connection goes as early data through the tunnel. The proxy is chosen
// as http.ProxyFromEnvironment chooses it (httpproxy, which it uses);
// with the server in NO_PROXY, the request goes direct.
func TestProxyLabFastOpenEarlyData(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) { testProxyLab(t, h1) })
	}
}

func testProxyLab(t *testing.T, h1 bool) {
	live.Check(t)
	lab, ng, base := labNginx(t)
	paddr := netip.AddrPortFrom(lab.Server.Addr4, 3128).String()
	px := peers.Tinyproxy(t, peers.TinyproxyOptions{Host: lab.Server, Addr: paddr, ConnectPorts: []int{8443}})
	env := func(noProxy string) func(*http.Request) (*url.URL, error) {
		f := (&httpproxy.Config{HTTPSProxy: "http://" + paddr, NoProxy: noProxy}).ProxyFunc()
		return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
	}
	cfg := clientConfig()
	cfg.ServerName, cfg.FastOpen = "localhost", true
	tr := &Transport{Config: cfg, DisableHTTP2: h1, Proxy: env("")}
	defer closeIdle(tr)
	fresh := func(tr *Transport) (resp *http.Response, body string) {
		t.Helper()
		closeIdle(tr)
		if err := lab.Client.Do(func() error {
			var err error
			if resp, err = (&http.Client{Transport: tr}).Get(base + "/early"); err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			body = string(b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	synData := func() uint64 { return lab.Link.Stats().ClientToServer.SYNDataPassed }
	if _, body := fresh(tr); body != "\n" || synData() != 0 {
		t.Fatalf("first connection: $ssl_early_data %q, %d SYNs with data; want empty, 0 (no cookie yet)", body, synData())
	}
	resp, body := fresh(tr)
	if body != "1\n" || !resp.TLS.DidResume || synData() != 1 {
		t.Fatalf("second connection: $ssl_early_data %q, resumed %v, %d SYNs with data; want 1, true, 1 (the CONNECT)", body, resp.TLS.DidResume, synData())
	}
	connect := "CONNECT " + strings.TrimPrefix(base, "https://") + " HTTP/1.1"
	if got := peers.ProxyRequests(px); !slices.Equal(got, []string{connect, connect}) {
		t.Fatalf("proxy saw %q, want two CONNECTs", got)
	}
	direct := &Transport{Config: cfg, DisableHTTP2: h1, Proxy: env(lab.Server.Addr4.String())}
	defer closeIdle(direct)
	if _, body := fresh(direct); body != "\n" || len(peers.ProxyRequests(px)) != 2 {
		t.Fatalf("NO_PROXY: %q, proxy saw %q; want the request direct", body, peers.ProxyRequests(px))
	}
	if log := peers.NginxAccessLog(t, ng, 3); !slices.Equal(log, []string{"GET /early - 200", "GET /early 1 200", "GET /early - 200"}) {
		t.Fatalf("nginx saw %q", log)
	}
}

// Whatever a proxy answers to CONNECT, the tunnel is either opened (a 200
// with nothing after it) or refused with a *ProxyError; nothing panics
// or waits past the dial's bound.
func FuzzProxyAnswer(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nshort"))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"))
	f.Add([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
	f.Add([]byte{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	answers := make(chan []byte)
	stop := peers.Serve(ln, func(c net.Conn) {
		data := <-answers
		tp := bufio.NewReader(c)
		for { // the CONNECT request, up to its blank line
			line, err := tp.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		c.Write(data)
	})
	defer stop()
	px := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	tr := &Transport{NetDialer: &net.Dialer{Timeout: 2 * time.Second}}
	f.Fuzz(func(t *testing.T, data []byte) {
		go func() { answers <- data }()
		ctx, cancel := tr.dialContext(context.Background())
		defer cancel()
		c, err := tr.tunnel(ctx, px, "example.test:443", false)
		if err == nil {
			c.Close()
			if !regexp.MustCompile(`^HTTP/\d+\.\d+ 200`).Match(data) {
				t.Fatalf("a tunnel opened on the answer %q", data)
			}
			return
		}
		var pe *ProxyError
		if !errors.As(err, &pe) || pe.Target != "example.test:443" {
			t.Fatalf("error %v (%T), want a *ProxyError", err, err)
		}
	})
}
