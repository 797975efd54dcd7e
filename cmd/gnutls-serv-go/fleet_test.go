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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// redisServer is a redis-server the test started on loopback.
type redisServer struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts redis-server on 127.0.0.1 with a free port and a
// temporary directory, without persistence; the test's end stops it.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(peers.FreePort(t))), dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.kill() })
	return r
}

// start (re)starts the server on its address and waits until it answers.
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command(testenv.LookPath(t, "redis-server"), "--bind", "127.0.0.1", "--port", port,
		"--dir", r.dir, "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	out := &peers.Buffer{}
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if reply, err := r.do("PING"); err == nil && reply == "+PONG" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer within 10s: %s", out.String())
		}
	}
}

// kill stops the server at once.
func (r *redisServer) kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGCONT)
	r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// do sends one command in Redis's inline form and returns the first
// line of the reply.
func (r *redisServer) do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.addr, time.Second)
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

// startFleet starts an HTTP gnutls-serv-go accepting early data on each
// of fleetAddrs, with pki's certificate and args.
func startFleet(t *testing.T, args ...string) []*proc {
	t.Helper()
	f := pkiFiles(t)
	var fleet []*proc
	for _, a := range fleetAddrs {
		fleet = append(fleet, serve(t, append([]string{"--listen", a, "--earlydata", "--x509certfile", f.cert, "--x509keyfile", f.key}, args...)...))
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
	rs := startRedis(t)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.addr)
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
