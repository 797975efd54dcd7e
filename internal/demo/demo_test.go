package main

import (
	"bytes"
	"strings"
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
	for _, header := range []string{"=== 1. ", "=== 2. ", "=== 3. ", "=== 4. ", "=== Time to a usable TLS connection", "=== Kernel counters: client TCPFastOpenActive=3, server TCPFastOpenPassive=3"} {
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
