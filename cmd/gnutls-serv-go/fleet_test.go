package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// redisDo sends one command to the Redis at addr and returns its reply,
// as RESP.
func redisDo(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	cmd := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		cmd += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	return strings.TrimRight(string(buf[:n]), "\r\n"), err
}

// ticketKeyFile writes keys to a file in the --ticket-key-file format.
func ticketKeyFile(t *testing.T, keys ...[32]byte) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k[:]) + "\n")
	}
	p := filepath.Join(t.TempDir(), "ticket-keys")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey() (k [32]byte) {
	rand.Read(k[:])
	return k
}

// fleetAddrs are the addresses of the three servers.
var fleetAddrs = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// startFleet starts a gnutls-serv-go accepting early data on each of
// fleetAddrs, with pki's certificate and args (HTTP unless they say
// --echo). Each has served one connection, so that its anti-replay window
// began before the test's tickets are issued: GnuTLS refuses the early
// data of older tickets, and at the first early data after a window
// ended starts a new one (refusing the tickets issued before it), so the
// window is long enough for a test.
func startFleet(t *testing.T, args ...string) []*proc {
	t.Helper()
	f := pkiFiles(t)
	var fleet []*proc
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(), DisableKeepAlives: true}}
	for _, a := range fleetAddrs {
		s := serve(t, append([]string{"--listen", a, "--earlydata", "--earlydata-window", "1m", "--x509certfile", f.cert, "--x509keyfile", f.key}, args...)...)
		if slices.Contains(args, "--echo") {
			if _, _, err := echoLine(t, s.addr, tlsConfig(), "warm-up"); err != nil {
				t.Fatal(err)
			}
		} else {
			get(t, c, "https://"+s.addr+"/warm-up")
		}
		fleet = append(fleet, s)
	}
	return fleet
}

// fleetLines returns the lines of the fleet's stdout that contain sub.
func fleetLines(fleet []*proc, sub string) []string {
	var out []string
	for _, s := range fleet {
		out = append(out, s.lines(sub)...)
	}
	return out
}

// get requests path from c and fails the test unless it answers 200
// with the line the server printed for it.
func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	r, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %s, %v", url, r.Status, err)
	}
	return strings.TrimSpace(string(b))
}

// TestFleetResumes: a crypto/tls client going round three servers that
// share ticket keys and Redis resumes at each after its first connection.
func TestFleetResumes(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	cfg := tlsConfig()
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	for i := 0; i < 6; i++ {
		s := fleet[i%3]
		line := get(t, c, "https://"+s.addr+"/round/"+strconv.Itoa(i))
		if want := "resumed=" + yesNo(i > 0); !strings.Contains(line, want) {
			t.Errorf("connection %d, to %s: %q, want %s", i+1, s.addr, line, want)
		}
	}
}

// TestFleetKeyRotation: servers restarted one by one with [new, old]
// resume the sessions of tickets issued under old, and issue tickets
// under new, which servers restarted with [new] alone then resume.
func TestFleetKeyRotation(t *testing.T) {
	old, new := newKey(), newKey()
	f := pkiFiles(t)
	start := func(addr string, keys ...[32]byte) *proc {
		return serve(t, "--listen", addr, "--x509certfile", f.cert, "--x509keyfile", f.key, "--ticket-key-file", ticketKeyFile(t, keys...))
	}
	client := func() *http.Client {
		cfg := tlsConfig()
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	}
	a := start(fleetAddrs[0], old)
	early := client()
	get(t, early, "https://"+a.addr+"/old")
	a.stop(t)
	// The rolling restart: A and B now hold [new, old].
	a = start(fleetAddrs[0], new, old)
	b := start(fleetAddrs[1], new, old)
	if line := get(t, early, "https://"+b.addr+"/under-old"); !strings.Contains(line, "resumed=yes") {
		t.Errorf("a ticket issued under the old key was not resumed by a server with [new, old]: %q", line)
	}
	late := client()
	get(t, late, "https://"+a.addr+"/new")
	a.stop(t)
	b.stop(t)
	c := start(fleetAddrs[2], new)
	if line := get(t, late, "https://"+c.addr+"/under-new"); !strings.Contains(line, "resumed=yes") {
		t.Errorf("a ticket issued under the new key by a server with [new, old] was not resumed by one with [new]: %q", line)
	}
}

// gnutlsClient is an HTTP client of this module whose connections all go
// to the proxy, so that its session cache (keyed by address) offers one
// server's session to another; it sends GETs on resumed connections as
// TLS 1.3 early data. Each request opens a new connection.
type gnutlsClient struct {
	tr    *gnutlshttp.Transport
	c     *http.Client
	proxy *switchProxy
}

func newGnutlsClient(t *testing.T, proxy *switchProxy, cfg *gnutls.Config) *gnutlsClient {
	if cfg == nil {
		cfg = &gnutls.Config{}
	}
	cfg.ServerName, cfg.RootCAPEM = "localhost", pki.ca.PEM
	tr := &gnutlshttp.Transport{Config: cfg, DisableHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &gnutlsClient{tr: tr, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, proxy: proxy}
}

// get requests path from s through the proxy on a new connection and
// returns the server's line for it and how long it took.
func (g *gnutlsClient) get(t *testing.T, s *proc, path string) (string, time.Duration) {
	t.Helper()
	g.proxy.setTarget(s.addr)
	start := time.Now()
	line := get(t, g.c, "https://"+g.proxy.addr()+path)
	d := time.Since(start)
	g.tr.CloseIdleConnections()
	return line, d
}

// TestFleetReplay: a recorded first flight (ClientHello and early data)
// sent again to every server of an echo fleet gets its early data acted
// on once fleet-wide, while genuine 0-RTT with the same session at
// another server is accepted.
func TestFleetReplay(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--echo", "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	proxy := newSwitchProxy(t, fleet[0].addr)
	cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, ClientSessionCache: gnutls.NewLRUClientSessionCache(1)}
	// dial sends line on a new connection through the proxy to s, as early
	// data when the cached session allows, and reads it back.
	dial := func(s *proc, line string) gnutls.ConnectionState {
		t.Helper()
		proxy.setTarget(s.addr)
		nc, err := net.DialTimeout("tcp", proxy.addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c := gnutls.ClientEarly(nc, cfg)
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, line+"\n"); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(line)+1)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != line+"\n" {
			t.Fatalf("%s: got %q, %v", line, got, err)
		}
		return c.ConnectionState()
	}
	dial(fleet[0], "first")
	if st := dial(fleet[0], "replay-me"); !st.EarlyData.Accepted {
		t.Fatalf("the connection to record did not send early data: %v", st.EarlyData)
	}
	fleet[0].waitLines(t, `"replay-me\n"`, 1)
	flight := proxy.flight(t, 1)
	if len(flight) < 512 || flight[0] != 22 {
		t.Fatalf("the recorded first flight is %d bytes, starting %x: not a ClientHello and early data", len(flight), flight[:min(len(flight), 8)])
	}
	for _, s := range fleet {
		replay(t, s.addr, flight)
	}
	time.Sleep(100 * time.Millisecond)
	if got := fleetLines(fleet, `"replay-me\n"`); len(got) != 1 {
		t.Errorf("the recorded early data was acted on %d times: %q", len(got), got)
	}
	if st := dial(fleet[1], "genuine"); !st.EarlyData.Accepted {
		t.Errorf("genuine 0-RTT at another server: %v", st.EarlyData)
	}
	fleet[1].waitLines(t, `"genuine\n"`, 1)
}

// redisTimeout is the fleet tests' --redis-timeout: long enough for a
// loaded machine to answer in time while Redis is up.
const redisTimeout = 500 * time.Millisecond

// redisBound is how long a request may take while Redis does not answer:
// a TLS 1.2 handshake looks its session up and stores a new one, each
// waiting up to redisTimeout; the rest is slack for a loaded machine.
const redisBound = 2*redisTimeout + time.Second

// TestFleetRedisDown: while Redis is stopped (not answering) or gone, the
// servers go on: early data is refused and TLS 1.2 sessions are not
// resumed by ID, within redisBound; when Redis answers again, early data
// is accepted again.
func TestFleetRedisDown(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	proxy := newSwitchProxy(t, fleet[0].addr)
	g := newGnutlsClient(t, proxy, nil)
	// TLS 1.2 without tickets: resumed by session ID, from Redis.
	g12 := newGnutlsClient(t, proxy, &gnutls.Config{Priority: "NORMAL:-VERS-TLS1.3", SessionTicketsDisabled: true})
	g.get(t, fleet[0], "/warm")
	g12.get(t, fleet[0], "/warm12")
	if line, _ := g.get(t, fleet[1], "/up"); !strings.Contains(line, "resumed=yes early-data=yes") {
		t.Errorf("with Redis up: %q", line)
	}
	if line, _ := g12.get(t, fleet[1], "/up12"); !strings.Contains(line, "resumed=yes") {
		t.Errorf("TLS 1.2 with Redis up: %q", line)
	}
	down := func(name string) {
		for i, s := range fleet {
			line, d := g.get(t, s, "/"+name+"/"+strconv.Itoa(i))
			if !strings.Contains(line, "early-data=no") || d > redisBound {
				t.Errorf("Redis %s: %q after %v, want early data refused within %v", name, line, d, redisBound)
			}
			line, d = g12.get(t, s, "/"+name+"12/"+strconv.Itoa(i))
			if !strings.Contains(line, "resumed=no") || d > redisBound {
				t.Errorf("Redis %s, TLS 1.2: %q after %v, want a full handshake within %v", name, line, d, redisBound)
			}
			// A Redis that hangs is waited for as long as --redis-timeout
			// says, for the session looked up and the one stored.
			if name == "stopped" && d < 2*redisTimeout {
				t.Errorf("Redis %s, TLS 1.2: answered after %v, before two waits of --redis-timeout %v", name, d, redisTimeout)
			}
		}
	}
	if err := rs.Pause(); err != nil {
		t.Fatal(err)
	}
	down("stopped")
	rs.Resume()
	rs.Stop()
	down("gone")
	peers.Redis(t, rs.Port())
	// The first command on a connection Redis dropped may fail: allow a
	// few requests for the servers to reconnect.
	for i := 0; ; i++ {
		line, _ := g.get(t, fleet[2], "/back/"+strconv.Itoa(i))
		if strings.Contains(line, "early-data=yes") {
			break
		}
		if i == 5 {
			t.Fatalf("early data still refused after Redis returned: %q", line)
		}
	}
	// Each server said once that Redis failed, through stopped and gone;
	// the one that served since says it works again.
	for i, s := range fleet {
		stderr := s.stderr.String()
		if n := strings.Count(stderr, "Warning: --redis "+rs.Addr+" failed ("); n != 1 {
			t.Errorf("server %d warned %d times that Redis failed, want once:\n%s", i, n, stderr)
		}
		want := 0
		if i == 2 {
			want = 1
		}
		if n := strings.Count(stderr, "--redis "+rs.Addr+" works again.\n"); n != want {
			t.Errorf("server %d said %d times that Redis works again, want %d:\n%s", i, n, want, stderr)
		}
	}
}

// TestFleetRedisReadOnly: a Redis that answers but refuses writes (a
// replica, as after a fail-over gone wrong) is a failure: early data is
// refused, the server says so once, and says when Redis works again.
func TestFleetRedisReadOnly(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	proxy := newSwitchProxy(t, fleet[0].addr)
	g := newGnutlsClient(t, proxy, nil)
	g.get(t, fleet[0], "/warm")
	// A replica of a master that is not there: reads are served, writes
	// refused with READONLY.
	if reply, err := redisDo(rs.Addr, "REPLICAOF", "127.0.0.1", "1"); err != nil || reply != "+OK" {
		t.Fatalf("REPLICAOF: %q, %v", reply, err)
	}
	for i := range 2 {
		if line, _ := g.get(t, fleet[1], "/read-only/"+strconv.Itoa(i)); !strings.Contains(line, "resumed=yes early-data=no") {
			t.Errorf("Redis read-only, request %d: %q, want resumed without early data", i, line)
		}
	}
	if reply, err := redisDo(rs.Addr, "REPLICAOF", "NO", "ONE"); err != nil || reply != "+OK" {
		t.Fatalf("REPLICAOF NO ONE: %q, %v", reply, err)
	}
	if line, _ := g.get(t, fleet[1], "/writable"); !strings.Contains(line, "resumed=yes early-data=yes") {
		t.Errorf("Redis writable again: %q", line)
	}
	stderr := fleet[1].stderr.String()
	if n := strings.Count(stderr, "Warning: --redis "+rs.Addr+" failed (READONLY"); n != 1 {
		t.Errorf("warned %d times of READONLY, want once:\n%s", n, stderr)
	}
	if n := strings.Count(stderr, "--redis "+rs.Addr+" works again.\n"); n != 1 {
		t.Errorf("said %d times that Redis works again, want once:\n%s", n, stderr)
	}
}

// TestFleetGarbageInStore: session entries overwritten with garbage in
// Redis are ignored: the client gets a full handshake, and the servers
// go on.
func TestFleetGarbageInStore(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	proxy := newSwitchProxy(t, fleet[0].addr)
	g12 := newGnutlsClient(t, proxy, &gnutls.Config{Priority: "NORMAL:-VERS-TLS1.3", SessionTicketsDisabled: true})
	big := make([]byte, 1<<20)
	rand.Read(big)
	for i, garbage := range []string{"", "x", string(big[:48]), string(big[:4096]), string(big)} {
		g12.get(t, fleet[0], "/store/"+strconv.Itoa(i))
		keys, err := redisDo(rs.Addr, "KEYS", redisPrefix+"session:*")
		if err != nil || !strings.HasPrefix(keys, "*") || keys == "*0" {
			t.Fatalf("no session in Redis: %q, %v", keys, err)
		}
		for _, k := range strings.Split(keys, "\r\n") {
			if strings.HasPrefix(k, redisPrefix) {
				if reply, err := redisDo(rs.Addr, "SET", k, garbage); err != nil || reply != "+OK" {
					t.Fatalf("SET %s: %q, %v", k, reply, err)
				}
			}
		}
		if line, _ := g12.get(t, fleet[1+i%2], "/garbage/"+strconv.Itoa(i)); !strings.Contains(line, "resumed=no") {
			t.Errorf("garbage of %d bytes: %q", len(garbage), line)
		}
	}
	// Still serving, and resuming from sound entries.
	g12.get(t, fleet[0], "/sound")
	if line, _ := g12.get(t, fleet[2], "/sound-resumed"); !strings.Contains(line, "resumed=yes") {
		t.Errorf("after the garbage: %q", line)
	}
}

// TestRedisAbsentAtStart: a server whose Redis does not answer when it
// starts says so and serves, with full handshakes for TLS 1.2.
func TestRedisAbsentAtStart(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(peers.FreePort(t)))
	f := pkiFiles(t)
	s := serve(t, "--x509certfile", f.cert, "--x509keyfile", f.key, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", addr)
	if want := "Warning: --redis " + addr + " failed ("; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("stderr lacks %q", want)
	}
	cfg := tlsConfig()
	cfg.MaxVersion = tls.VersionTLS12
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	if line := get(t, c, "https://"+s.addr+"/no-redis"); line != "GET /no-redis HTTP/1.1 resumed=no early-data=no" {
		t.Errorf("got %q", line)
	}
	// Said once, not again for each command that fails.
	if n := strings.Count(s.stderr.String(), "Warning: --redis"); n != 1 {
		t.Errorf("warned %d times, want once: %s", n, s.stderr.String())
	}
}
