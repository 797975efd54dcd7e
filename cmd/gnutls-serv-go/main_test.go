package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// bin is gnutls-serv-go, built once for all tests.
var bin string

func TestMain(m *testing.M) {
	testenv.RunWithCommand(m, "github.com/go-gnutls/go-gnutls/cmd/gnutls-serv-go", &bin)
}

// pki is a CA with a certificate for localhost and the loopback addresses
// the servers listen on, and a CA that issued nothing the servers use.
var pki = func() (p struct {
	ca, other *testpki.CA
	leaf      *testpki.Leaf
}) {
	p.ca = testpki.NewCA("gnutls-serv-go test CA")
	p.other = testpki.NewCA("unrelated CA")
	p.leaf = p.ca.Issue(testpki.Options{}, "localhost", "127.0.0.1", "127.0.0.2", "127.0.0.3")
	return p
}()

// files are the PEM files of pki: the CA, the leaf's chain and key.
type files struct{ ca, cert, key string }

func pkiFiles(t *testing.T) files {
	t.Helper()
	ca, cert, key := peers.Files(t, pki.ca, pki.leaf)
	return files{ca, cert, key}
}

// proc is a running gnutls-serv-go (or gnutls-serv).
type proc struct {
	addr   string // host:port
	cmd    *exec.Cmd
	stdout *peers.Buffer
	stderr *peers.Buffer
	exited chan struct{}
}

// listening matches the line a server prints once it listens.
var listening = regexp.MustCompile(`(?m)^(HTTP|Echo) Server listening on IPv[46] (\S+) port (\d+)\.\.\.done$`)

// serve starts gnutls-serv-go on 127.0.0.1 (or the --listen address args
// give) with a free port and args, and waits for its listening line.
func serve(t *testing.T, args ...string) *proc {
	t.Helper()
	if !hasListen(args) {
		args = append([]string{"--listen", "127.0.0.1"}, args...)
	}
	return startServer(t, exec.Command(bin, append([]string{"-p", "0"}, args...)...))
}

func hasListen(args []string) bool {
	for _, a := range args {
		if a == "--listen" || strings.HasPrefix(a, "--listen=") {
			return true
		}
	}
	return false
}

// startServer starts cmd and waits up to 10 s for its listening line on
// stderr; the test's end stops it.
func startServer(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	return startServerWith(t, cmd, (*exec.Cmd).Start)
}

// startServerWith is startServer with start starting cmd (in a lab
// namespace: Host.Start).
func startServerWith(t *testing.T, cmd *exec.Cmd, start func(*exec.Cmd) error) *proc {
	t.Helper()
	s := &proc{cmd: cmd, stdout: &peers.Buffer{}, stderr: &peers.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listening.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = net.JoinHostPort(m[2], m[3])
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("%s exited: %s", cmd.Args, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 10s: %s", cmd.Args, s.stderr.String())
		}
	}
}

// stop sends SIGTERM and waits for the exit, which must be gnutls-serv's:
// status 1 after "Exiting via signal 15". A data race the server's race
// detector reported fails the test.
func (s *proc) stop(t *testing.T) {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if code := s.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(s.stderr.String(), "Exiting via signal 15\n") {
				t.Errorf("%s after SIGTERM: exit status %d, want 1 after \"Exiting via signal 15\"", s.cmd.Args[0], code)
			}
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("%s did not exit within 5s of SIGTERM", s.cmd.Args)
		}
	}
	if strings.Contains(s.stderr.String(), "WARNING: DATA RACE") {
		t.Errorf("%s reported a data race", s.cmd.Args[0])
	}
	t.Logf("%s\n--- stdout:\n%s--- stderr:\n%s", strings.Join(s.cmd.Args, " "), s.stdout.String(), s.stderr.String())
}

func (s *proc) port() string {
	_, p, _ := net.SplitHostPort(s.addr)
	return p
}

// waitLines waits up to 5 s until stdout has n lines that contain sub and
// returns them.
func (s *proc) waitLines(t *testing.T, sub string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.lines(sub)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d lines with %q on stdout, want %d:\n%s", len(got), sub, n, s.stdout.String())
			}
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines returns the lines of stdout that contain sub.
func (s *proc) lines(sub string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), sub) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// result is what a run of a command gave.
type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs a command to its end, killing it after a minute.
func runCmd(t *testing.T, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	r := result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
	t.Logf("%s %s\nexit %d\n--- stdout:\n%s--- stderr:\n%s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// tlsConfig is a crypto/tls client Config trusting pki.ca.
func tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// echoLine sends line to an echo server with crypto/tls and returns
// what comes back, and the connection's state.
func echoLine(t *testing.T, addr string, cfg *tls.Config, line string) (string, tls.ConnectionState, error) {
	t.Helper()
	d := &tls.Dialer{Config: cfg, NetDialer: &net.Dialer{Timeout: 10 * time.Second}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", tls.ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", tls.ConnectionState{}, err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), c.(*tls.Conn).ConnectionState(), err
}

// sClient sends line with openssl s_client, waits up to 10 s for it to
// come back, then ends stdin, which makes s_client close.
func sClient(t *testing.T, addr, caFile, line string) error {
	t.Helper()
	cmd := exec.Command(testenv.LookPath(t, "openssl"), "s_client", "-connect", addr, "-CAfile", caFile,
		"-servername", "localhost", "-verify_return_error", "-quiet", "-no_ign_eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out := &peers.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Logf("openssl s_client: %v\n%s", err, out.String())
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("openssl s_client did not exit at the end of its input")
		}
	}()
	io.WriteString(stdin, line+"\n")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(out.String(), line) {
			return nil
		}
	}
	return fmt.Errorf("%q did not come back", line)
}
