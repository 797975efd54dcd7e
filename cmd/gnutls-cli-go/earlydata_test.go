package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gnutls/go-gnutls/gnutls"
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
