package gnutlshttp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// labNginx starts nginx (peers.Nginx) in a lab whose link has a
// 20 ms RTT, so that the early data reaches nginx well before the
// client's Finished, with fast open on both hosts. It returns the lab and
// the server's base URL.
func labNginx(t *testing.T) (*netlab.Lab, *peers.Server, string) {
	testenv.RequireRoot(t)
	lab := netlab.NewForTest(t, netlab.LinkConfig{Delay: 10 * time.Millisecond})
	for _, h := range []*netlab.Host{lab.Client, lab.Server} {
		if err := h.Sysctl("net.ipv4.tcp_fastopen", "1027"); err != nil {
			t.Fatal(err)
		}
	}
	addr := netip.AddrPortFrom(lab.Server.Addr4, 8443).String()
	return lab, peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{Host: lab.Server, Addr: addr, EarlyData: true}), "https://" + addr
}

// Against nginx with ssl_early_data on: a GET on a new connection that
// resumes a session goes as early data, in the SYN; a 425 Too Early
// answer is sent again once after the handshake; a POST never goes as
// early data unless marked replay-safe. nginx's log shows each request
// as it arrived, and that none came twice but the one answered 425. Over
// HTTP/1.1 and HTTP/2.
func TestEarlyDataNginx(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) { testEarlyDataNginx(t, h1) })
	}
}

func testEarlyDataNginx(t *testing.T, h1 bool) {
	live.Check(t)
	lab, ng, base := labNginx(t)
	cfg := clientConfig()
	cfg.ServerName, cfg.FastOpen = "localhost", true
	tr := &Transport{Config: cfg, DisableHTTP2: h1}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	do := func(t *testing.T, req *http.Request) (resp *http.Response, body string) {
		t.Helper()
		if err := lab.Client.Do(func() error {
			var err error
			if resp, err = client.Do(req); err != nil {
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
	fresh := func(t *testing.T, req *http.Request) (*http.Response, string) {
		t.Helper()
		closeIdle(tr) // a new connection, resuming the session
		return do(t, req)
	}
	newReq := func(method, path, body string) *http.Request {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == "" {
			req.Body = http.NoBody
		}
		return req
	}
	if _, body := fresh(t, newReq("GET", "/early", "")); body != "\n" {
		t.Fatalf("first connection (no session yet): $ssl_early_data %q, want empty", body)
	}
	resp, body := fresh(t, newReq("GET", "/early", ""))
	if body != "1\n" || !resp.TLS.DidResume || !resp.TLS.HandshakeComplete || resp.ProtoMajor != map[bool]int{true: 1, false: 2}[h1] {
		t.Fatalf("resumed GET: $ssl_early_data %q, %s, TLS %+v; want 1, resumed", body, resp.Proto, resp.TLS)
	}
	// The keep-alive connection the early request made serves the next one.
	if _, body := do(t, newReq("GET", "/early", "")); body != "\n" {
		t.Fatalf("second request on the connection: $ssl_early_data %q, want empty", body)
	}
	resp, body = fresh(t, newReq("GET", "/too-early", ""))
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("/too-early: %d %q, want 200 ok after the retry", resp.StatusCode, body)
	}
	if _, body := fresh(t, newReq("POST", "/early", "x=1")); body != "\n" {
		t.Fatalf("POST: $ssl_early_data %q, want empty (never early data)", body)
	}
	req := newReq("POST", "/early", "x=1")
	req = req.WithContext(MarkReplaySafe(context.Background()))
	if _, body := fresh(t, req); body != "1\n" {
		t.Fatalf("POST marked replay-safe: $ssl_early_data %q, want 1", body)
	}
	log := peers.NginxAccessLog(t, ng, 7)
	want := []string{"GET /early - 200", "GET /early 1 200", "GET /early - 200", "GET /too-early 1 425", "GET /too-early - 200", "POST /early - 200", "POST /early 1 200"}
	if !slices.Equal(log, want) {
		t.Fatalf("nginx saw\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// The server marks requests received in early data with "Early-Data: 1"
// (RFC 8470); a handler answering those 425 Too Early gets each
// replay-safe request again after the handshake from this package's
// client, and a POST only once, never marked.
func TestServerEarlyDataHTTP1(t *testing.T) {
	live.Check(t)
	var mu sync.Mutex
	var seen []string
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	addr := startServer(t, &Server{Config: sc, DisableHTTP2: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Early-Data"))
		mu.Unlock()
		if r.Header.Get("Early-Data") == "1" && r.URL.Path == "/careful" {
			w.WriteHeader(http.StatusTooEarly)
			return
		}
		fmt.Fprintf(w, "early=%q", r.Header.Get("Early-Data"))
	})})
	base := "https://" + localhost(addr)
	tr := &Transport{Config: clientConfig()}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	fresh := func(method, path string) string {
		t.Helper()
		closeIdle(tr)
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	// The first connection learns that the server speaks HTTP/1.1 and
	// gets a ticket.
	for _, step := range []struct{ method, path, want string }{
		{"GET", "/", `200 early=""`},
		{"GET", "/", `200 early="1"`},
		{"GET", "/careful", `200 early=""`},
		{"POST", "/", `200 early=""`},
	} {
		if got := fresh(step.method, step.path); got != step.want {
			t.Fatalf("%s %s: %s, want %s", step.method, step.path, got, step.want)
		}
	}
	want := []string{"GET / ", "GET / 1", "GET /careful 1", "GET /careful ", "POST / "}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, want) {
		t.Fatalf("the handler saw %q, want %q", seen, want)
	}
}

// Over HTTP/2 the server marks the streams opened in early data: a raw
// client sends its preface, SETTINGS and a request as the first Write of
// a resumed connection (early data), then a second request after the
// handshake.
func TestServerEarlyDataHTTP2(t *testing.T) {
	live.Check(t)
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	addr := startServer(t, &Server{Config: sc, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s early=%q", r.Proto, r.Header.Get("Early-Data"))
	})})
	cfg := clientConfig()
	cfg.ServerName, cfg.NextProtos = "localhost", []string{"h2"}
	cfg.ClientSessionCache = gnutls.NewLRUClientSessionCache(1)
	for i, want := range [][]string{{`HTTP/2.0 early=""`, `HTTP/2.0 early=""`}, {`HTTP/2.0 early="1"`, `HTTP/2.0 early=""`}} {
		c, err := (&gnutls.Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		var first bytes.Buffer
		first.WriteString(http2.ClientPreface)
		fr := http2.NewFramer(&first, c)
		fr.WriteSettings()
		writeGET(t, fr, 1, "/a")
		if _, err := c.Write(first.Bytes()); err != nil {
			t.Fatal(err)
		}
		if got := readBody(t, c, 1); got != want[0] {
			t.Fatalf("connection %d, request in the first flight: %q, want %q", i, got, want[0])
		}
		fr = http2.NewFramer(c, c)
		writeGET(t, fr, 3, "/b")
		if got := readBody(t, c, 3); got != want[1] {
			t.Fatalf("connection %d, request after the handshake: %q, want %q", i, got, want[1])
		}
		if st := c.ConnectionState(); st.EarlyData.Accepted != (i == 1) {
			t.Fatalf("connection %d: early data %v", i, st.EarlyData)
		}
		c.Close()
	}
}

func writeGET(t *testing.T, fr *http2.Framer, stream uint32, path string) {
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: h2Headers(path), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
}

// readBody reads frames until stream's response ends and returns its
// body, acknowledging the server's SETTINGS.
func readBody(t *testing.T, c *gnutls.Conn, stream uint32) string {
	rd := http2.NewFramer(c, c)
	var body []byte
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			t.Fatalf("reading stream %d: %v", stream, err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				rd.WriteSettingsAck()
			}
		case *http2.DataFrame:
			if f.StreamID == stream {
				body = append(body, f.Data()...)
				if f.StreamEnded() {
					return string(body)
				}
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v", f.ErrCode)
		}
	}
}

// A server that sends 103 Early Hints before its response: a GET sent as
// early data gets the 1xx through httptrace's Got1xxResponse and the
// final response as its own, and a POST that follows on the same
// connection gets its own response. Over HTTP/1.1 and HTTP/2.
func TestEarlyDataInformational(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) {
			live.Check(t)
			sc := serverConfig()
			sc.MaxEarlyData = 16384
			addr := startServer(t, &Server{Config: sc, DisableHTTP2: h1, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if r.Method == http.MethodGet {
					w.Header().Set("Link", "</style.css>; rel=preload")
					w.WriteHeader(http.StatusEarlyHints)
				}
				w.Header().Set("Remote-Addr", r.RemoteAddr)
				fmt.Fprintf(w, "%s %s early=%q", r.Proto, r.Method, r.Header.Get("Early-Data"))
			})})
			tr := &Transport{Config: clientConfig(), DisableHTTP2: h1}
			defer closeIdle(tr)
			client := &http.Client{Transport: tr}
			url := "https://" + localhost(addr) + "/"
			proto := map[bool]string{true: "HTTP/1.1", false: "HTTP/2.0"}[h1]
			get(t, client, url) // a ticket, and the server's protocol
			closeIdle(tr)
			var hints []string
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
					return nil
				},
			})
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := proto + ` GET early="1"`; err != nil || resp.StatusCode != 200 || string(b) != want {
				t.Fatalf("GET in early data: %d %q, %v; want 200 %q", resp.StatusCode, b, err, want)
			}
			if want := []string{"103 </style.css>; rel=preload"}; !slices.Equal(hints, want) {
				t.Fatalf("Got1xxResponse saw %q, want %q", hints, want)
			}
			from := resp.Header.Get("Remote-Addr")
			resp, err = client.Post(url, "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Fatal(err)
			}
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := proto + ` POST early=""`; err != nil || resp.StatusCode != 200 || string(b) != want {
				t.Fatalf("POST after it: %d %q, %v; want 200 %q", resp.StatusCode, b, err, want)
			}
			if got := resp.Header.Get("Remote-Addr"); got != from {
				t.Fatalf("the POST came from %s, the GET from %s: not the same connection, the test shows nothing", got, from)
			}
		})
	}
}

// A GET with "Connection: close" sent as early data to nginx on loopback:
// nginx answers in 0.5-RTT data and closes, often before the client's
// Finished arrives, which then fails to be sent. The request is sent
// again on a new connection, and a response reaches the caller in every
// one of 20 tries.
func TestEarlyDataAnsweredAndClosed(t *testing.T) {
	live.Check(t)
	ng := peers.Nginx(t, testCA, testLeaf, peers.NginxOptions{EarlyData: true})
	tr := &Transport{Config: clientConfig(), DisableHTTP2: true}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	url := "https://" + localhost(ng.Addr) + "/early"
	get(t, client, url) // a ticket allowing early data
	failed, again := 0, 0
	for i := range 20 {
		closeIdle(tr)
		req, _ := http.NewRequest("GET", url, nil)
		req.Close = true
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("try %d: %v", i, err)
			failed++
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || (string(b) != "1\n" && string(b) != "\n") {
			t.Errorf("try %d: %d %q, %v", i, resp.StatusCode, b, err)
			failed++
		}
		if string(b) == "\n" {
			again++ // not in early data: sent again, or without a ticket
		}
	}
	t.Logf("%d of 20 requests reached nginx after the handshake", again)
	if failed > 0 {
		t.Fatalf("%d of 20 tries failed", failed)
	}
}

// registryCtx is a parent context that counts the children registered
// with it (context.WithCancel and the like call its AfterFunc) and not
// yet released. It is never cancelled.
type registryCtx struct {
	context.Context
	done chan struct{}
	live atomic.Int32
}

func (c *registryCtx) Done() <-chan struct{} { return c.done }

func (c *registryCtx) AfterFunc(func()) (stop func() bool) {
	c.live.Add(1)
	var once sync.Once
	return func() bool {
		stopped := false
		once.Do(func() { c.live.Add(-1); stopped = true })
		return stopped
	}
}

// A request on the early path releases what it registered with its
// context once its response is read: a long-lived parent does not
// collect a child per request.
func TestEarlyDataReleasesContext(t *testing.T) {
	live.Check(t)
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	addr := startServer(t, &Server{Config: sc, Handler: stateHandler})
	tr := &Transport{Config: clientConfig(), DisableHTTP2: true, ResponseHeaderTimeout: 5 * time.Second}
	defer closeIdle(tr)
	client := &http.Client{Transport: tr}
	parent := &registryCtx{Context: context.Background(), done: make(chan struct{})}
	for i := range 3 {
		closeIdle(tr)
		req, _ := http.NewRequestWithContext(parent, "GET", "https://"+localhost(addr)+"/", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || (i > 0 && !strings.Contains(string(b), `early="1"`)) {
			t.Fatalf("request %d: %q, %v; want it in early data", i, b, err)
		}
	}
	if n := parent.live.Load(); n != 0 {
		t.Fatalf("%d children of the request's context left registered after 3 requests, want 0", n)
	}
}

// Every request that began in early data reaches the handler with exactly
// "Early-Data: 1", whatever the client sent: over HTTP/1.1 the requests
// after a POST and the stray CRLF net/http skips, over HTTP/2 a request
// that sent "early-data: 0". A request after the handshake keeps a field
// the client sent (RFC 8470, section 5.1), as "1", and one without it has
// none.
func TestServerEarlyDataMarks(t *testing.T) {
	for _, h1 := range []bool{true, false} {
		t.Run(map[bool]string{true: "http1", false: "http2"}[h1], func(t *testing.T) {
			live.Check(t)
			sc := serverConfig()
			sc.MaxEarlyData = 16384
			addr := startServer(t, &Server{Config: sc, DisableHTTP2: h1, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				fmt.Fprintf(w, "%s %q", r.URL.Path, r.Header.Values("Early-Data"))
			})})
			cfg := clientConfig()
			cfg.ServerName, cfg.NextProtos = "localhost", []string{map[bool]string{true: "http/1.1", false: "h2"}[h1]}
			cfg.ClientSessionCache = gnutls.NewLRUClientSessionCache(1)
			var got []string
			for i := range 2 { // the second resumes, with early data
				c, err := (&gnutls.Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if h1 {
					got = serverMarksH1(t, c)
				} else {
					got = serverMarksH2(t, c)
				}
				if st := c.ConnectionState(); st.EarlyData.Accepted != (i == 1) {
					t.Fatalf("connection %d: early data %v", i, st.EarlyData)
				}
				c.Close()
			}
			want := []string{`/post ["1"]`, `/a ["1"]`, `/b ["1"]`, `/c ["1"]`, `/d []`}
			if !h1 {
				want = []string{`/a ["1"]`, `/c ["1"]`, `/d []`}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("the handler saw %q, want %q", got, want)
			}
		})
	}
}

// serverMarksH1 sends a POST, a stray CRLF and two GETs (the first with
// "Early-Data: 0") as its first Write, then two GETs, the first with
// "Early-Data: 0", and returns the bodies.
func serverMarksH1(t *testing.T, c *gnutls.Conn) []string {
	const (
		host = "Host: localhost\r\n"
		post = "POST /post HTTP/1.1\r\n" + host + "Content-Length: 1\r\n\r\nx\r\n"
		a    = "GET /a HTTP/1.1\r\n" + host + "Early-Data: 0\r\n\r\n"
		b    = "GET /b HTTP/1.1\r\n" + host + "\r\n"
		cc   = "GET /c HTTP/1.1\r\n" + host + "Early-Data: 0\r\n\r\n"
		d    = "GET /d HTTP/1.1\r\n" + host + "\r\n"
	)
	br := bufio.NewReader(c)
	var bodies []string
	read := func(n int) {
		for range n {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, string(body))
		}
	}
	if _, err := io.WriteString(c, post+a+b); err != nil {
		t.Fatal(err)
	}
	read(3)
	if _, err := io.WriteString(c, cc+d); err != nil {
		t.Fatal(err)
	}
	read(2)
	return bodies
}

// serverMarksH2 sends a request with "early-data: 0" in the first flight,
// then two after the handshake, the first with "early-data: 0", and
// returns the bodies.
func serverMarksH2(t *testing.T, c *gnutls.Conn) []string {
	var first bytes.Buffer
	first.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&first, c)
	fr.WriteSettings()
	early0 := [2]string{"early-data", "0"}
	write := func(fr *http2.Framer, stream uint32, path string, extra ...[2]string) {
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: h2Headers(path, extra...), EndStream: true, EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	}
	write(fr, 1, "/a", early0)
	if _, err := c.Write(first.Bytes()); err != nil {
		t.Fatal(err)
	}
	bodies := []string{readBody(t, c, 1)}
	fr = http2.NewFramer(c, c)
	write(fr, 3, "/c", early0)
	bodies = append(bodies, readBody(t, c, 3))
	write(fr, 5, "/d")
	return append(bodies, readBody(t, c, 5))
}
