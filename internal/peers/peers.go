// Package peers starts real servers for tests: GnuTLS's gnutls-serv,
// OpenSSL's s_server and OCSP responder, nginx, stopped when the test ends.
package peers

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// Server is a running peer.
type Server struct {
	Addr   string // host:port
	CAFile string // the CA that issued its certificate
	cmd    *exec.Cmd
	exited chan struct{}
	out    *Buffer
}

// Stop stops the server and waits for it to exit; the test's end does too.
func (s *Server) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(2 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Output returns what the server printed so far.
func (s *Server) Output() string { return s.out.String() }

// Files writes ca, the leaf's certificate and key into a temporary
// directory of t.
func Files(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf) (caFile, certFile, keyFile string) {
	t.Helper()
	caFile, certFile, keyFile, err := testpki.Files(t.TempDir(), ca, leaf)
	if err != nil {
		t.Fatal(err)
	}
	return caFile, certFile, keyFile
}

// Version returns the version a GnuTLS program (gnutls-cli, gnutls-serv)
// reports on the first line of --version, such as "3.8.9".
func Version(t testing.TB, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) != 2 {
		t.Fatalf("%s --version: %q is not a program name and a version", bin, line)
	}
	return string(f[1])
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// GnutlsServ starts `gnutls-serv --echo` with the certificate for
// localhost and 127.0.0.1 issued by ca, plus extra arguments.
func GnutlsServ(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, extra ...string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "gnutls-serv")
	caFile, certFile, keyFile := Files(t, ca, leaf)
	port := FreePort(t)
	args := append([]string{"--echo", "-p", strconv.Itoa(port), "--x509certfile", certFile, "--x509keyfile", keyFile}, extra...)
	return start(t, caFile, port, nil, bin, args...)
}

// OpenSSL starts `openssl s_server -rev` (it sends each line back
// reversed) with the certificate issued by ca, plus extra arguments.
func OpenSSL(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, extra ...string) *Server {
	t.Helper()
	return openssl(t, ca, leaf, "-rev", nil, extra)
}

// OpenSSLSink starts `openssl s_server -quiet` with the certificate issued
// by ca, plus extra arguments: it prints what it receives (see Output) and
// sends nothing back. Its standard input stays open until the test ends.
func OpenSSLSink(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, extra ...string) *Server {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return openssl(t, ca, leaf, "-quiet", func(c *exec.Cmd) { c.Stdin = r }, extra)
}

// OpenSSLTLS12 starts `openssl s_server -tls1_2` with the certificate
// issued by ca, plus extra arguments, and returns the writer of its
// standard input, where s_server takes its commands: "r\n" asks the client
// to renegotiate (a HelloRequest). It prints what it receives (see Output).
func OpenSSLTLS12(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, extra ...string) (*Server, io.Writer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return openssl(t, ca, leaf, "-tls1_2", func(c *exec.Cmd) { c.Stdin = r }, extra), w
}

func openssl(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, mode string, prepare func(*exec.Cmd), extra []string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "openssl")
	caFile, certFile, keyFile := Files(t, ca, leaf)
	port := FreePort(t)
	args := append([]string{"s_server", mode, "-accept", "127.0.0.1:" + strconv.Itoa(port), "-cert", certFile, "-key", keyFile}, extra...)
	return start(t, caFile, port, prepare, bin, args...)
}

// Command starts bin with args on loopback, in dir, and waits until addr
// accepts a connection: a server a test was told how to start, such as
// the README's.
func Command(t testing.TB, dir, addr, bin string, args ...string) *Server {
	t.Helper()
	return startOn(t, loopback{}, addr, filepath.Join(dir, "none"), nil, nil, bin, args...)
}

func start(t testing.TB, caFile string, port int, prepare func(*exec.Cmd), bin string, args ...string) *Server {
	t.Helper()
	return startOn(t, loopback{}, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), caFile, prepare, nil, bin, args...)
}

// Host is where a peer runs: loopback, or a netlab host.
type Host interface {
	Command(name string, arg ...string) *exec.Cmd
	Start(cmd *exec.Cmd) error
	DialContext(ctx context.Context, d *net.Dialer, network, address string) (net.Conn, error)
}

// loopback runs peers in the test's own network namespace.
type loopback struct{}

func (loopback) Command(name string, arg ...string) *exec.Cmd { return exec.Command(name, arg...) }
func (loopback) Start(cmd *exec.Cmd) error                    { return cmd.Start() }
func (loopback) DialContext(ctx context.Context, d *net.Dialer, network, address string) (net.Conn, error) {
	return d.DialContext(ctx, network, address)
}

// accepts reports whether s takes a TCP connection from h.
func accepts(h Host, s *Server) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := h.DialContext(ctx, &net.Dialer{}, "tcp", s.Addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// startOn starts bin on h and waits until ready says the server is; a nil
// ready waits until addr accepts a connection. A server that must not be
// probed by a connection (openssl ocsp) needs its own ready.
func startOn(t testing.TB, h Host, addr, caFile string, prepare func(*exec.Cmd), ready func(*Server) bool, bin string, args ...string) *Server {
	t.Helper()
	if ready == nil {
		ready = func(s *Server) bool { return accepts(h, s) }
	}
	s := &Server{Addr: addr, CAFile: caFile, out: &Buffer{}}
	s.cmd = h.Command(bin, args...)
	if prepare != nil {
		prepare(s.cmd)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.Dir = filepath.Dir(caFile)
	if err := h.Start(s.cmd); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ready(s) {
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("%s %v exited: %s", filepath.Base(bin), args, s.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 10s: %s", filepath.Base(bin), s.Addr, s.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Buffer is a bytes.Buffer that goroutines may write and read at once:
// a program's output, a logger's.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Reverse is what `openssl s_server -rev` answers to a line.
func Reverse(line string) string {
	r := []byte(line)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// Serve accepts connections on ln until it is closed and runs handle on
// each in a goroutine of its own, closing the connection afterwards. stop
// closes ln and waits for every handler to return.
func Serve(ln net.Listener, handle func(net.Conn)) (stop func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return func() {
		ln.Close()
		wg.Wait()
	}
}

// OpenSSLPSK starts `openssl s_server -rev -nocert` that accepts only the
// pre-shared key keyHex (hex) under identity, plus extra arguments.
func OpenSSLPSK(t testing.TB, identity, keyHex string, extra ...string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "openssl")
	port := FreePort(t)
	args := append([]string{"s_server", "-rev", "-nocert", "-accept", "127.0.0.1:" + strconv.Itoa(port),
		"-psk_identity", identity, "-psk", keyHex}, extra...)
	return start(t, filepath.Join(t.TempDir(), "none"), port, nil, bin, args...)
}

// Client runs a TLS client program (gnutls-cli, openssl s_client) with
// stdin and returns what it printed, killing it after a minute.
func Client(t testing.TB, stdin, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	return string(out), err
}
