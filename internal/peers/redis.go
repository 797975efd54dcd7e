package peers

import (
	"net"
	"strconv"
	"syscall"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// Redis starts redis-server on 127.0.0.1 at port (a free one when 0),
// keeping nothing on disk but in a temporary directory of t; extra are
// more of its options, such as --requirepass.
func Redis(t testing.TB, port int, extra ...string) *Server {
	t.Helper()
	return redis(t, port, false, extra)
}

// RedisTLS starts redis-server on 127.0.0.1 serving TLS only, with the
// certificate and key of certFile and keyFile, clients not asked for a
// certificate.
func RedisTLS(t testing.TB, certFile, keyFile string, extra ...string) *Server {
	t.Helper()
	return redis(t, 0, true, append([]string{"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no"}, extra...))
}

func redis(t testing.TB, port int, tls bool, extra []string) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "redis-server")
	if port == 0 {
		port = FreePort(t)
	}
	ports := []string{"--port", strconv.Itoa(port)}
	if tls {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(port)}
	}
	args := append(ports, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	return startOn(t, loopback{}, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "", nil, nil, bin, append(args, extra...)...)
}

// Port returns the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Pause stops the server's process (SIGSTOP) until Resume: it keeps its
// connections but answers nothing, as a server that hangs does.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused server run again.
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }
