package gnutls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
	"golang.org/x/sys/unix"
)

// pki is one CA and a certificate for localhost, 127.0.0.1 and ::1,
// shared by the tests of this package.
var pki = func() struct {
	ca   *testpki.CA
	leaf *testpki.Leaf
} {
	ca := testpki.NewCA("go-gnutls test CA")
	return struct {
		ca   *testpki.CA
		leaf *testpki.Leaf
	}{ca, ca.Issue(testpki.Options{}, "localhost", "127.0.0.1", "::1")}
}()

func clientConfig() *Config {
	return &Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM}
}

func serverConfig() *Config {
	return &Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
}

// goTLSServer starts a crypto/tls echo server; cfg may adjust its config.
func goTLSServer(t testing.TB, cfg func(*tls.Config)) string {
	t.Helper()
	tc := &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
	if cfg != nil {
		cfg(tc)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))
	return l.Addr().String()
}

// echo writes msg and expects it back.
func echo(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo: got %q, want %q", buf, msg)
	}
}

// isClosedOrEOF reports an error a closed peer may give.
func isClosedOrEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed)
}

func newPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// echoListener listens on loopback with sc and echoes on every connection
// until the test ends; it returns the address.
func echoListener(t testing.TB, sc *Config) string {
	return serveOn(t, sc, func(c *Conn) { io.Copy(c, c) })
}

// serveOn listens on loopback with sc and runs handle on every connection
// (closed afterwards) until the test ends; it returns the address.
func serveOn(t testing.TB, sc *Config, handle func(c *Conn)) string {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	stop := peers.Serve(l, func(c net.Conn) { handle(c.(*Conn)) })
	// Dropped once run, so that sc, and the credentials it holds, can be
	// collected before a leak check that runs after this cleanup.
	t.Cleanup(func() { stop(); stop = nil })
	return l.Addr().String()
}

// echoConcurrently writes data from another goroutine while it reads the
// echo back, and checks it. After a failed read it returns at once; closing
// c ends the writer.
func echoConcurrently(c net.Conn, data []byte) error {
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		errc <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, data) {
		return errors.New("echo came back changed")
	}
	return nil
}

// silentServer accepts TCP connections, reads them and never writes; each
// is closed when its client goes away.
func silentServer(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	peers.Serve(l, func(c net.Conn) { io.Copy(io.Discard, c) })
	return l.Addr().String()
}

// within fails t when f has not returned after a generous time: a guard
// against hangs, not a measurement.
func within(t testing.TB, what string, f func()) {
	t.Helper()
	withinFor(t, what, 30*time.Second, f)
}

// withinFor is within for work that may take long on a loaded machine.
func withinFor(t testing.TB, what string, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return in %v", what, limit)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

// dialTCP connects to addr; the connection is closed when the test ends.
func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// socketKinds are the two ways GnuTLS can use a socket the test made, in
// either role: its fd itself (waits happen on the netpoller), or, with the
// socket hidden behind a wrapper, through the Go transport callbacks.
var socketKinds = []struct {
	name string
	wrap func(net.Conn) net.Conn
}{
	{"fd", func(c net.Conn) net.Conn { return c }},
	{"callbacks", hideSocket},
}

// transports gives a client its connection to addr: each of socketKinds
// over a connected socket, and the unconnected socket Dial makes when
// Config.FastOpen is set (the ClientHello in the SYN), which only a client
// has.
var transports = []struct {
	name string
	dial func(t testing.TB, addr string) net.Conn
}{
	{"fd", dialTCP},
	{"callbacks", func(t testing.TB, addr string) net.Conn { return hideSocket(dialTCP(t, addr)) }},
	{"fastopen", func(t testing.TB, addr string) net.Conn {
		t.Helper()
		nc, _, err := dialFastOpen(context.Background(), &net.Dialer{}, "tcp", addr, &Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		return nc
	}},
}

// hideSocket wraps c so that GnuTLS drives it through the Go callbacks.
func hideSocket(c net.Conn) net.Conn { return struct{ net.Conn }{c} }

// eachTransport runs f as a subtest per transport, on a client connection
// to addr that is closed afterwards; the subtest checks for leaks.
func eachTransport(t *testing.T, addr string, f func(t *testing.T, c *Conn)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			checkLeaks(t)
			c := Client(tr.dial(t, addr), clientConfig())
			defer c.Close()
			f(t, c)
		})
	}
}

// hostileServer runs handle on every TCP connection to the address it
// returns, until the test ends.
func hostileServer(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(l, handle))
	return l.Addr().String()
}

// readClientHello reads one TLS record (the ClientHello): a server that closes
// with unread data would make the kernel reset the connection instead.
func readClientHello(c net.Conn) error {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, int(hdr[3])<<8|int(hdr[4])))
	return err
}

// answer reads the ClientHello, writes reply and then reads until the
// client goes away.
func answer(reply []byte) func(net.Conn) {
	return func(c net.Conn) {
		readClientHello(c)
		c.Write(reply)
		io.Copy(io.Discard, c)
	}
}

// cutProxy forwards to target; the server's bytes stop after budget of them
// (negative: no limit) and both connections are then closed. budget may be
// changed while connections run.
func cutProxy(t testing.TB, target string, budget *atomic.Int64) string {
	return hostileServer(t, func(c net.Conn) {
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.Close() }()
		buf := make([]byte, 1)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			b := budget.Load()
			if b == 0 {
				return
			}
			if b > 0 {
				budget.Add(-1)
			}
			c.Write(buf[:n])
		}
	})
}

// fastOpenLab builds two namespaces joined by a link of the given one-way
// delay, with fast open on in both.
func fastOpenLab(t *testing.T, delay time.Duration) *netlab.Lab {
	t.Helper()
	lab := netlab.NewForTest(t, netlab.LinkConfig{Delay: delay})
	for _, h := range []*netlab.Host{lab.Client, lab.Server} {
		if err := h.Sysctl("net.ipv4.tcp_fastopen", labFastOpen); err != nil {
			t.Fatal(err)
		}
	}
	return lab
}

// labDial dials addr from the lab's client namespace.
func labDial(t *testing.T, lab *netlab.Lab, addr string, cfg *Config) *Conn {
	t.Helper()
	var c *Conn
	if err := lab.Client.Do(func() (err error) {
		c, err = Dial("tcp", addr, cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// labWriteFirst dials addr with DialEarly from the lab's client namespace
// and writes data first, which makes the connection and runs the
// handshake.
func labWriteFirst(t *testing.T, lab *netlab.Lab, addr string, cfg *Config, data []byte) *Conn {
	t.Helper()
	var c *Conn
	if err := lab.Client.Do(func() (err error) {
		if c, err = (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr); err != nil {
			return err
		}
		if _, err = c.Write(data); err != nil {
			c.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// tcpExt returns one TcpExt counter of h.
func tcpExt(t *testing.T, h *netlab.Host, name string) int64 {
	t.Helper()
	m, err := h.TcpExt()
	if err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// earlyServerConfig accepts up to 16 KiB of early data.
func earlyServerConfig() *Config {
	sc := serverConfig()
	sc.MaxEarlyData = 16384
	return sc
}

// earlyConn is what an early data server saw on one connection.
type earlyConn struct {
	early       []byte // returned by ReadEarlyData
	beforeDone  bool   // ReadEarlyData returned data before the handshake completed
	state       ConnectionState
	err         error
	readEarlyOK bool
}

// serveEarly is earlyServer on a listener of this package.
func serveEarly(t *testing.T, l net.Listener) <-chan earlyConn {
	ch := make(chan earlyConn, 16)
	stop := peers.Serve(l, func(nc net.Conn) {
		c := nc.(*Conn)
		var rec earlyConn
		buf := make([]byte, 64)
		for {
			n, err := c.ReadEarlyData(buf)
			if n > 0 && len(rec.early) == 0 {
				rec.beforeDone = !c.ConnectionState().HandshakeComplete
			}
			rec.early = append(rec.early, buf[:n]...)
			if err == io.EOF {
				rec.readEarlyOK = true
				break
			}
			if err != nil {
				rec.err = err
				break
			}
		}
		// ReadEarlyData consumed the early data; send it back first.
		if _, err := c.Write(rec.early); err != nil && rec.err == nil {
			rec.err = err
		}
		if _, err := io.Copy(c, c); err != nil && rec.err == nil && !isClosedOrEOF(err) {
			rec.err = err
		}
		rec.state = c.ConnectionState()
		ch <- rec
	})
	// Dropped once run, as in serveOn, for the leak checks.
	t.Cleanup(func() { stop(); stop = nil })
	return ch
}

// labListener listens with this package on an ephemeral port of addr in
// the server namespace.
func labListener(t testing.TB, lab *netlab.Lab, addr netip.Addr, sc *Config) net.Listener {
	t.Helper()
	var l net.Listener
	if err := lab.Server.Do(func() (err error) {
		l, err = Listen("tcp", netip.AddrPortFrom(addr, 0).String(), sc)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

// labListen listens with this package on addr in the server namespace and
// echoes on every connection until the test ends.
func labListen(t testing.TB, lab *netlab.Lab, addr netip.Addr, sc *Config) string {
	t.Helper()
	l := labListener(t, lab, addr, sc)
	t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))
	return l.Addr().String()
}

// labGnutlsServ starts gnutls-serv --echo on port in the server namespace
// with extra arguments, and waits until it answers on addr.
func labGnutlsServ(t *testing.T, lab *netlab.Lab, addr netip.Addr, port int, extra ...string) string {
	t.Helper()
	bin := testenv.LookPath(t, "gnutls-serv")
	_, certFile, keyFile := peers.Files(t, pki.ca, pki.leaf)
	args := append([]string{"--echo", "-p", strconv.Itoa(port), "--x509certfile", certFile, "--x509keyfile", keyFile}, extra...)
	cmd := lab.Server.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := lab.Server.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ap := netip.AddrPortFrom(addr, uint16(port)).String()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := lab.Client.DialContext(context.Background(), nil, "tcp", ap)
		if err == nil {
			c.Close()
			return ap
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnutls-serv does not listen on %s: %v; %s", ap, err, out.String())
		}
	}
}

// fastOpenConfig is the client configuration of these tests.
func fastOpenConfig() *Config {
	cfg := clientConfig()
	cfg.FastOpen = true
	return cfg
}

func newClient(t *testing.T) *Session {
	t.Helper()
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func socket(t *testing.T, domain, typ, proto int) int {
	t.Helper()
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// blockingSocket connects a blocking TCP socket to addr.
func blockingSocket(t testing.TB, addr string) int {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	return fd
}

// nopConn is a net.Conn that is never used.
type nopConn struct{ net.Conn }

// trustingCredentials returns credentials that trust the test CA, closed
// when the test ends.
func trustingCredentials(t testing.TB) *Credentials {
	t.Helper()
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cr.Close() })
	if _, err := cr.AddTrustPEM(pki.ca.PEM); err != nil {
		t.Fatal(err)
	}
	return cr
}

// inChild runs the test named name again in a child process with the
// environment added, since GnuTLS reads its system configuration once,
// when the library loads; it fails unless the child's test passed.
func inChild(t *testing.T, name string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s in a child process with %q: %v\n%s", name, env, err, out)
	}
	t.Logf("%s in a child process with %q:\n%s", name, env, out)
}
