package peers

import (
	"net"
	"strconv"
	"syscall"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// Redis starts redis-server on 127.0.0.1 at port (a free one when 0),
// keeping nothing on disk but in a temporary directory of t.
func Redis(t testing.TB, port int) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "redis-server")
	if port == 0 {
		port = FreePort(t)
	}
	dir := t.TempDir()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no"}
	return startOn(t, loopback{}, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "", nil, nil, bin, args...)
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
