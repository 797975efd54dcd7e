package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// TestDemo runs what `make demo` runs, on a link with less delay.
func TestDemo(t *testing.T) {
	lab := netlab.NewForTest(t, netlab.LinkConfig{Delay: 2 * time.Millisecond})
	cli, err := testenv.GoBuild(t.TempDir(), "github.com/go-gnutls/go-gnutls/cmd/gnutls-cli-go")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runDemo(&out, lab, cli); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	// runDemo checks each step's report; here, that the account reads in order.
	last := -1
	for _, header := range []string{"=== 1. ", "=== 2. ", "=== 3. ", "=== 4. ", "=== 5. ", "=== Time to a usable TLS connection", "=== Kernel counters: client TCPFastOpenActive=5, server TCPFastOpenPassive=5"} {
		i := strings.Index(out.String(), header)
		if i <= last {
			t.Fatalf("%q missing or out of order", header)
		}
		last = i
	}
}

func TestDemoWithoutBinary(t *testing.T) {
	err := demo(&bytes.Buffer{}, "/nonexistent/gnutls-cli-go", time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("got %v, want an error saying how to build the binary", err)
	}
}

// TestDemoNeedsRoot runs the demo as an unprivileged user: it must say
// what is missing and how to get it.
func TestDemoNeedsRoot(t *testing.T) {
	testenv.RequireRoot(t)
	dir, err := os.MkdirTemp("", "demo-test-") // t.TempDir's parent is closed to other users
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	demoBin, err := testenv.GoBuild(dir, "github.com/go-gnutls/go-gnutls/internal/demo")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(demoBin, "-cli", demoBin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1: %s", err, out)
	}
	for _, want := range []string{"demo: not running as root.", "sudo make demo", "/dev/net/tun"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
