package gnutlshttp

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// rawServer accepts TLS connections offering alpn and runs handle on each
// after its handshake; it counts the connections.
func rawServer(t *testing.T, alpn string, handle func(*gnutls.Conn)) (string, *atomic.Int32) {
	cfg := serverConfig()
	cfg.NextProtos = []string{alpn}
	l, err := gnutls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	stop := peers.Serve(l, func(c net.Conn) {
		conns.Add(1)
		gc := c.(*gnutls.Conn)
		if gc.Handshake() == nil {
			handle(gc)
		}
	})
	t.Cleanup(stop)
	return "https://" + localhost(l.Addr().String()), &conns
}

// A server that selects "h2" and then sends what is not HTTP/2: the
// request fails with x/net/http2's error, on one connection.
func TestFaultH2Garbage(t *testing.T) {
	live.Check(t)
	url, conns := rawServer(t, "h2", func(c *gnutls.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
		io.Copy(io.Discard, c)
	})
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %s from a server speaking HTTP/1.1 after selecting h2", resp.Status)
	}
	if !strings.Contains(err.Error(), "http2") {
		t.Fatalf("error %q does not say HTTP/2 failed", err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// A server that closes mid-response: reading the body fails with
// io.ErrUnexpectedEOF (HTTP/1.1) or the stream's reset (HTTP/2), and a
// POST is not sent again.
func TestFaultCloseMidResponse(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) {
			live.Check(t)
			var posts atomic.Int32
			addr := startServer(t, &Server{Config: serverConfig(), DisableHTTP2: h1, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					posts.Add(1)
				}
				w.Header().Set("Content-Length", "100")
				io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler) // closes the connection, or resets the stream
			})})
			tr := &Transport{Config: clientConfig(), DisableHTTP2: h1}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			url := "https://" + localhost(addr) + "/"
			for _, post := range []bool{false, true} {
				var resp *http.Response
				var err error
				if post {
					resp, err = client.Post(url, "text/plain", strings.NewReader("once"))
				} else {
					resp, err = client.Get(url)
				}
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "partial" || err == nil {
					t.Fatalf("body %q, error %v; want the partial body and an error", b, err)
				}
				if h1 && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
				}
				if !h1 && !strings.Contains(err.Error(), "stream error") {
					t.Fatalf("error %v, want the stream's reset", err)
				}
			}
			if n := posts.Load(); n != 1 {
				t.Fatalf("the POST arrived %d times", n)
			}
		})
	}
}

// A client whose ticket allows early data, against a server that now has
// early data off (nginx restarted with ssl_early_data off and the same
// ticket key): the server rejects the early data, the client sends the
// request again after the handshake, and the server sees it once.
func TestFaultEarlyDataOff(t *testing.T) {
	live.Check(t)
	key := make([]byte, 80)
	rand.Read(key)
	addr := "127.0.0.1:" + strconv.Itoa(peers.FreePort(t))
	ng := peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{Addr: addr, EarlyData: true, TicketKey: key})
	tr := &Transport{Config: clientConfig(), DisableHTTP2: true}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(addr) + "/early"
	get(t, client, url) // a ticket allowing early data
	closeIdle(tr)
	ng.Stop()
	if log := peers.NginxAccessLog(t, ng, 1); !slices.Equal(log, []string{"GET /early - 200"}) {
		t.Fatalf("the first nginx saw %q, want the request once, not in early data", log)
	}
	ng = peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{Addr: addr, TicketKey: key})
	resp, body := get(t, client, url)
	if body != "\n" || !resp.TLS.DidResume {
		t.Fatalf("$ssl_early_data %q, resumed %v; want empty, true", body, resp.TLS.DidResume)
	}
	tr.mu.Lock()
	spare := tr.spare[localhost(addr)]
	tr.mu.Unlock()
	if len(spare) != 1 {
		t.Fatalf("%d spare connections, want the one the request made", len(spare))
	}
	if st := spare[0].Conn.ConnectionState().EarlyData; !st.Offered || !st.Rejected || !st.Resent {
		t.Fatalf("early data: %v; want offered, rejected and sent again", st)
	}
	if log := peers.NginxAccessLog(t, ng, 1); !slices.Equal(log, []string{"GET /early - 200"}) {
		t.Fatalf("the restarted nginx saw %q, want the request once, not in early data", log)
	}
}

// A server that spoke HTTP/2 and issued a ticket allowing early data, then
// (restarted) speaks only HTTP/1.1 and rejects the early data: the client
// sends nothing of its HTTP/2 first flight and makes the request over
// HTTP/1.1, once. When the restarted server answered a POST first (which
// never goes as early data), the client knows it speaks HTTP/1.1 and
// sends the GET as early data over HTTP/1.1, once.
func TestFaultNoLongerH2(t *testing.T) {
	for _, post := range []bool{false, true} {
		t.Run(map[bool]string{false: "GET", true: "POST-then-GET"}[post], func(t *testing.T) { testFaultNoLongerH2(t, post) })
	}
}

func testFaultNoLongerH2(t *testing.T, post bool) {
	live.Check(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var seen []string
	var mu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Proto+" "+r.Method+" "+r.Header.Get("Early-Data"))
		mu.Unlock()
		io.WriteString(w, r.Proto)
	})
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	first := &Server{Config: sc, Handler: handler}
	go first.Serve(l)
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(addr) + "/"
	if _, body := get(t, client, url); body != "HTTP/2.0" {
		t.Fatalf("first server: %q", body)
	}
	closeIdle(tr)
	first.Close()
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	second := &Server{Config: sc, Handler: handler, DisableHTTP2: true}
	go second.Serve(l)
	defer second.Close()
	want := []string{"HTTP/2.0 GET ", "HTTP/1.1 GET "}
	if post {
		resp, err := client.Post(url, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "HTTP/1.1" {
			t.Fatalf("POST to the second server: %q, %v", b, err)
		}
		closeIdle(tr)
		want = []string{"HTTP/2.0 GET ", "HTTP/1.1 POST ", "HTTP/1.1 GET 1"}
	}
	if _, body := get(t, client, url); body != "HTTP/1.1" {
		t.Fatalf("second server: %q", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, want) {
		t.Fatalf("the servers saw %q, want %q", seen, want)
	}
}

// A server that reads requests and never answers: ResponseHeaderTimeout
// and the request's context end the wait with an error, on a connection
// from net/http's pool and on one made for early data alike.
func TestFaultNoAnswer(t *testing.T) {
	live.Check(t)
	url, _ := rawServer(t, "http/1.1", func(c *gnutls.Conn) { io.Copy(io.Discard, c) })
	tr := &Transport{Config: clientConfig(), ResponseHeaderTimeout: 100 * time.Millisecond}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	for i := range 2 { // the second request is one that may go as early data
		start := time.Now()
		_, err := client.Get(url)
		if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") || time.Since(start) > 2*time.Second {
			t.Fatalf("request %d: %v after %v; want the response header timeout", i, err, time.Since(start))
		}
	}
	tr2 := &Transport{Config: clientConfig()}
	defer closeIdle(tr2)
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		_, err := (&http.Client{Transport: tr2}).Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("request %d with a context deadline: %v", i, err)
		}
	}
}

// A connection made for early data waits, after its response, for the
// next request; a server that closed it meanwhile (its idle timeout)
// costs that request nothing but a new connection.
func TestFaultSpareClosed(t *testing.T) {
	live.Check(t)
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	addr := startServer(t, &Server{Config: sc, Handler: stateHandler, IdleTimeout: 50 * time.Millisecond})
	tr := &Transport{Config: clientConfig(), DisableHTTP2: true}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(addr) + "/"
	get(t, client, url) // a ticket
	closeIdle(tr)
	if _, body := get(t, client, url); !strings.Contains(body, `early="1"`) {
		t.Fatalf("second request: %q, want it in early data", body)
	}
	time.Sleep(300 * time.Millisecond) // the server closes the idle connection
	if _, body := get(t, client, url); !strings.HasPrefix(body, "HTTP/1.1 / ") {
		t.Fatalf("after the server closed the connection: %q", body)
	}
}

// A spare connection whose socket holds the server's session tickets
// (nginx sends them after the client's Finished) is still open: a short
// Read takes the tickets in, and it serves the next request.
func TestSpareWithTickets(t *testing.T) {
	live.Check(t)
	ng := peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{EarlyData: true})
	tr := &Transport{Config: clientConfig(), DisableHTTP2: true}
	defer closeIdle(tr)
	tr.init()
	addr := localhost(ng.Addr)
	if err := tr.connect(context.Background(), addr); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	spare := tr.spare[addr][0]
	tr.mu.Unlock()
	for deadline := time.Now().Add(2 * time.Second); waiting(spare) != socketData; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no session ticket waits in the socket: the test shows nothing")
		}
	}
	var used net.Conn
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { used = i.Conn }})
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://"+addr+"/", strings.NewReader("x"))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if used != spare {
		t.Fatal("the request did not use the spare connection")
	}
}

// A server (crypto/tls) that answers with a body delimited by the
// connection's close and closes its TCP socket without close_notify: the
// body is read whole, as net/http on crypto/tls reads it, on a new
// connection and on one that resumes.
func TestFaultCloseWithoutCloseNotify(t *testing.T) {
	live.Check(t)
	body := strings.Repeat("close-delimited ", 4096)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{testLeaf.TLS}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	stop := peers.Serve(l, func(c net.Conn) {
		tc := c.(*tls.Conn)
		if _, err := http.ReadRequest(bufio.NewReader(tc)); err != nil {
			return
		}
		io.WriteString(tc, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"+body)
		tc.NetConn().Close() // no close_notify
	})
	t.Cleanup(stop)
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(l.Addr().String()) + "/"
	for i := range 2 {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != body {
			t.Fatalf("request %d: read %d of %d bytes, %v", i, len(b), len(body), err)
		}
		closeIdle(tr)
	}
}

// A server that accepts connections and never answers: NetDialer.Timeout
// bounds the handshake of a request that may go as early data (a GET) as
// it bounds that of one that may not (a POST), well before the request's
// context ends. Over HTTP/1.1, and over HTTP/2 to a server that answered
// a first connection (crypto/tls) over HTTP/2.
func TestFaultHandshakeTimeout(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) { testFaultHandshakeTimeout(t, h1) })
	}
}

func testFaultHandshakeTimeout(t *testing.T, h1 bool) {
	live.Check(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var first atomic.Bool
	first.Store(!h1)
	t.Cleanup(peers.Serve(l, func(c net.Conn) {
		if first.CompareAndSwap(true, false) {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{testLeaf.TLS}, NextProtos: []string{"h2"}})
			if tc.Handshake() == nil {
				(&http2.Server{IdleTimeout: time.Second}).ServeConn(tc, &http2.ServeConnOpts{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
			}
			return
		}
		io.Copy(io.Discard, c)
	}))
	tr := &Transport{Config: clientConfig(), DisableHTTP2: h1, NetDialer: &net.Dialer{Timeout: 200 * time.Millisecond}}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(l.Addr().String()) + "/"
	if !h1 {
		get(t, client, url) // the server speaks HTTP/2
		closeIdle(tr)
	}
	for _, method := range []string{"POST", "GET"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, method, url, nil)
		start := time.Now()
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
		}
		var oe *net.OpError
		if took := time.Since(start); !errors.As(err, &oe) || oe.Op != "handshake" || !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second {
			t.Fatalf("%s: %v after %v; want the handshake's timeout after 200 ms", method, err, took)
		}
	}
}
