package gnutlshttp

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// labNginx starts nginx (peers.NginxConfig) in a lab whose link has a
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
	return lab, peers.NginxOn(t, lab.Server, addr, testCA, testLeaf), "https://" + addr
}

// Against nginx with ssl_early_data on: a GET on a new connection that
// resumes a session goes as early data, in the SYN; a 425 Too Early
// answer is sent again once after the handshake; a POST never goes as
// early data unless marked replay-safe. nginx's log shows each request
// as it arrived, and that none came twice but the one answered 425.
func TestEarlyDataNginx(t *testing.T) {
	live.Check(t)
	lab, ng, base := labNginx(t)
	cfg := clientConfig()
	cfg.ServerName, cfg.FastOpen = "localhost", true
	tr := &Transport{Config: cfg, DisableHTTP2: true}
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
	if body != "1\n" || !resp.TLS.DidResume {
		t.Fatalf("resumed GET: $ssl_early_data %q, resumed %v; want 1, true", body, resp.TLS.DidResume)
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
	log := peers.NginxAccessLog(t, ng)
	want := []string{"GET /early - 200", "GET /early 1 200", "GET /early - 200", "GET /too-early 1 425", "GET /too-early - 200", "POST /early - 200", "POST /early 1 200"}
	if !slices.Equal(log, want) {
		t.Fatalf("nginx saw\n%s\nwant\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}
