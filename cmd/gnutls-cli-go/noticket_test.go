package main

import (
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// --noticket -r resumes by session ID from a server that keeps a session
// cache, though the server issues tickets; without the cache it cannot,
// which shows no ticket was used. Under TLS 1.3, which resumes by ticket
// only, it does not resume, and it does not wait for a ticket.
func TestNoTicket(t *testing.T) {
	ca := caFile(t, pki.ca)
	for _, tc := range []struct {
		name     string
		cache    bool
		priority string
		resumed  bool
	}{
		{"TLS1.2, server cache", true, "NORMAL:-VERS-TLS1.3", true},
		{"TLS1.2, no server cache", false, "NORMAL:-VERS-TLS1.3", false},
		{"TLS1.3, server cache", true, "NORMAL", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &gnutls.Config{}
			if tc.cache {
				cfg.ServerSessionCache = gnutls.NewLRUServerSessionCache(4)
			}
			pt := goServer(t, cfg, echo)
			r := cli(t, "after resuming\n", "--x509cafile", ca, "-p", pt, "--noticket", "-r", "--priority", tc.priority, "localhost")
			want := "*** Previous session was NOT resumed"
			if tc.resumed {
				want = "*** This is a resumed session"
			}
			r.ok(t, want)
			if strings.Contains(r.stderr, "sent no session ticket") {
				t.Error("waited for a session ticket")
			}
			if r.stdout != "after resuming\n" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
	t.Run("gnutls-serv", func(t *testing.T) {
		// gnutls-serv keeps a session cache of its own.
		pt := allPeers[0].start(t)
		r := cli(t, "", "--x509cafile", ca, "-p", pt, "--noticket", "-r", "--priority", "NORMAL:-VERS-TLS1.3", "localhost")
		r.ok(t, "*** This is a resumed session")
	})
}
