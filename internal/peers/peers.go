// Package peers starts real TLS servers for tests: GnuTLS's gnutls-serv and
// OpenSSL's s_server, on loopback ports, stopped when the test ends.
package peers

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	out    *syncBuffer
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

func openssl(t testing.TB, ca *testpki.CA, leaf *testpki.Leaf, mode string, prepare func(*exec.Cmd), extra []string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "openssl")
	caFile, certFile, keyFile := Files(t, ca, leaf)
	port := FreePort(t)
	args := append([]string{"s_server", mode, "-accept", "127.0.0.1:" + strconv.Itoa(port), "-cert", certFile, "-key", keyFile}, extra...)
	return start(t, caFile, port, prepare, bin, args...)
}

func start(t testing.TB, caFile string, port int, prepare func(*exec.Cmd), bin string, args ...string) *Server {
	t.Helper()
	return startWhen(t, caFile, port, prepare, accepts, bin, args...)
}

// accepts is ready when the server takes a TCP connection.
func accepts(s *Server) bool {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// startWhen is start with the test of readiness given.
func startWhen(t testing.TB, caFile string, port int, prepare func(*exec.Cmd), ready func(*Server) bool, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), CAFile: caFile, out: &syncBuffer{}}
	s.cmd = exec.Command(bin, args...)
	if prepare != nil {
		prepare(s.cmd)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.Dir = filepath.Dir(caFile)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			s.cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ready(s) {
			return s
		}
		select {
		case <-exited:
			t.Fatalf("%s %v exited: %s", filepath.Base(bin), args, s.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 10s: %s", filepath.Base(bin), s.Addr, s.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
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
