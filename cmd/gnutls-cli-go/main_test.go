package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// bin is gnutls-cli-go, built once for all tests.
var bin string

func TestMain(m *testing.M) {
	testenv.RunWithCommand(m, "github.com/go-gnutls/go-gnutls/cmd/gnutls-cli-go", &bin)
}

// pki is a CA with a certificate for localhost and 127.0.0.1, and a CA
// that issued nothing the servers use.
var pki = func() (p struct {
	ca, other *testpki.CA
	leaf      *testpki.Leaf
}) {
	p.ca = testpki.NewCA("gnutls-cli-go test CA")
	p.other = testpki.NewCA("unrelated CA")
	p.leaf = p.ca.Issue(testpki.Options{}, "localhost", "127.0.0.1")
	return p
}()

// result is what a run of gnutls-cli-go gave.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs gnutls-cli-go with stdin and args, in the current namespace.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(bin, args...), stdin, nil)
}

// runCmd runs cmd (started by start, or cmd.Start when nil) and waits up
// to a minute for it.
func runCmd(t *testing.T, cmd *exec.Cmd, stdin string, start func(*exec.Cmd) error) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gnutls-cli-go %q did not exit within a minute; stderr:\n%s", cmd.Args[1:], stderr.String())
	}
	r := result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
	out := r.stdout
	if len(out) > 2048 {
		out = fmt.Sprintf("%q... (%d bytes)\n", out[:64], len(out))
	}
	t.Logf("gnutls-cli-go %s\nexit %d\n--- stdout:\n%s--- stderr:\n%s", strings.Join(cmd.Args[1:], " "), r.code, out, r.stderr)
	return r
}

// ok fails the test unless the run succeeded and its report has every line.
func (r result) ok(t *testing.T, report ...string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	r.has(t, report...)
}

// has fails the test unless stderr has every text.
func (r result) has(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
}

// fails checks a failed run: exit status 1 and a last line on stderr
// that starts with prefix and names the cause.
func (r result) fails(t *testing.T, prefix string, cause ...string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1", r.code)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, prefix) {
		t.Fatalf("last line of stderr %q does not start with %q", last, prefix)
	}
	for _, c := range cause {
		if !strings.Contains(last, c) {
			t.Errorf("last line of stderr %q does not say %q", last, c)
		}
	}
	if strings.Contains(r.stderr, "- Simple Client Mode") && !strings.Contains(last, "read failed") {
		t.Errorf("a failed connection went on to copy data")
	}
}

// caFile writes the PEM of ca to a file and returns its path.
func caFile(t *testing.T, ca *testpki.CA) string {
	t.Helper()
	f, _, _ := peers.Files(t, ca, pki.leaf)
	return f
}

// goServer starts this module's TLS server on loopback. handle runs on
// each connection after the handshake; the connection is closed after.
func goServer(t *testing.T, cfg *gnutls.Config, handle func(*gnutls.Conn)) (port string) {
	t.Helper()
	if cfg.Certificates == nil {
		cfg.Certificates = []tls.Certificate{pki.leaf.TLS}
	}
	ln, err := gnutls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(time.Minute))
		tc := c.(*gnutls.Conn)
		if tc.HandshakeContext(context.Background()) == nil {
			handle(tc)
		}
	}))
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// echo is a goServer handler.
func echo(c *gnutls.Conn) { io.Copy(c, c) }

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
