package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

func TestEarlyData(t *testing.T) {
	file := filepath.Join(t.TempDir(), "early.txt")
	if err := os.WriteFile(file, []byte("early bird\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := caFile(t, pki.ca)
	for _, tc := range []struct {
		name   string
		port   func(t *testing.T) string
		report string
		stdout string
	}{
		{"accepted by this module's server", func(t *testing.T) string {
			return goServer(t, &gnutls.Config{MaxEarlyData: 1 << 10}, echo)
		}, "- Early data: accepted", "early bird\nlater\n"},
		{"not allowed by the ticket", func(t *testing.T) string {
			return goServer(t, &gnutls.Config{}, echo)
		}, "- Early data: not offered (the session does not allow it), sent after the handshake instead", "early bird\nlater\n"},
		// gnutls-serv --echo takes early data but does not echo it.
		{"accepted by gnutls-serv", func(t *testing.T) string {
			return allPeers[0].start(t, "--earlydata")
		}, "- Early data: accepted", "later\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, "later\n", "--x509cafile", ca, "-p", tc.port(t), "-r", "--earlydata", file, "localhost")
			r.ok(t, "*** This is a resumed session", tc.report)
			if r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
		})
	}
	t.Run("without -r", func(t *testing.T) {
		cli(t, "", "--earlydata", file, "localhost").fails(t, "gnutls-cli-go: ", "--earlydata needs -r/--resume")
	})
}

// An HTTP/1.1 request with "Connection: close" as early data to nginx
// (ssl_early_data on) on loopback: nginx answers in 0.5-RTT data and
// closes, at times before the client's Finished arrives, which then fails
// to be sent. The run connects again, sends the request after a full
// handshake and prints the answer, in every one of 20 tries.
func TestEarlyDataAnsweredAndClosed(t *testing.T) {
	ng := peers.Nginx(t, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true})
	file := filepath.Join(t.TempDir(), "request.txt")
	if err := os.WriteFile(file, []byte("GET /early HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--x509cafile", caFile(t, pki.ca), "-p", port(ng.Addr), "-r", "--earlydata", file, "localhost"}
	again := 0
	for i := range 20 {
		r := cli(t, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "HTTP/1.1 200 OK") {
			t.Fatalf("try %d: exit status %d, stdout %q; want 0 and nginx's answer", i, r.code, r.stdout)
		}
		if strings.Contains(r.stderr, "- Connecting again, without resuming") {
			again++
		}
	}
	t.Logf("%d of 20 tries connected again", again)
}
