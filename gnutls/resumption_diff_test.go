package gnutls

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// The rule these tests hold resumption to, as crypto/tls does: a
// connection that resumes a session is accepted exactly when a fresh
// handshake with the same Configs would be, whichever Config made the
// session and whatever session a cache or a client offers.

// resumeMechanisms are the ways a session comes back: a TLS 1.3 ticket, a
// TLS 1.2 session ID from the server's cache, a TLS 1.2 ticket.
var resumeMechanisms = []struct {
	name     string
	priority string
	noTicket bool
}{
	{"TLS1.3 ticket", "NORMAL:-VERS-ALL:+VERS-TLS1.3", false},
	{"TLS1.2 session ID", "NORMAL:-VERS-ALL:+VERS-TLS1.2", true},
	{"TLS1.2 ticket", "NORMAL:-VERS-ALL:+VERS-TLS1.2", false},
}

// A client Config that made a session, and another that shares its cache:
// the second resumes only a server it would accept in a fresh handshake
// (servers of this package and of crypto/tls), with the cache in memory and
// with one that returns the session whatever the key. What the resumed connection reports as verified is the
// server's chain, and only for a Config that verifies.
func TestResumeClientDifferential(t *testing.T) {
	checkLeaks(t)
	servers := []struct {
		name  string
		leaf  *testpki.Leaf
		addr  string
		noIDs bool // resumes no session ID (crypto/tls)
	}{
		{name: "server of CA A", leaf: pki.leaf},
		{name: "server of CA B", leaf: otherPKI.leaf},
		{name: "crypto/tls server of CA B", leaf: otherPKI.leaf, noIDs: true},
	}
	for i := range servers {
		if servers[i].noIDs {
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{servers[i].leaf.TLS}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))
			servers[i].addr = l.Addr().String()
			continue
		}
		servers[i].addr = echoListener(t, &Config{Certificates: []tls.Certificate{servers[i].leaf.TLS}, ServerSessionCache: NewLRUServerSessionCache(64)})
	}
	clients := []struct {
		name string
		cfg  *Config
	}{
		{"no verification", &Config{ServerName: "localhost", InsecureSkipVerify: true}},
		{"roots A", &Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM}},
		{"roots B", &Config{ServerName: "localhost", RootCAPEM: otherPKI.ca.PEM}},
		{"roots A, ServerName 127.0.0.1", &Config{ServerName: "127.0.0.1", RootCAPEM: pki.ca.PEM}},
		{"roots A, ServerName other", &Config{ServerName: "other.example", RootCAPEM: pki.ca.PEM}},
		{"roots A, VerifyHostname other", &Config{ServerName: "localhost", VerifyHostname: "other.example", RootCAPEM: pki.ca.PEM}},
	}
	caches := []struct {
		name string
		make func() ClientSessionCache
	}{
		{"LRU cache", func() ClientSessionCache { return NewLRUClientSessionCache(8) }},
		{"any-session cache", func() ClientSessionCache { return &peers.LastSession{} }},
	}
	config := func(base *Config, m int, cache ClientSessionCache) *Config {
		cc := base.Clone()
		cc.Priority, cc.SessionTicketsDisabled, cc.ClientSessionCache = resumeMechanisms[m].priority, resumeMechanisms[m].noTicket, cache
		return cc
	}
	resumed := 0
	for m, mech := range resumeMechanisms {
		for _, srv := range servers {
			fresh := make([]bool, len(clients))
			for i, cl := range clients {
				_, err := connectEcho(srv.addr, config(cl.cfg, m, nil))
				fresh[i] = err == nil
			}
			for _, cache := range caches {
				for i1, c1 := range clients {
					for i2, c2 := range clients {
						what := fmt.Sprintf("%s, %s, %s: a session of %q used by %q", mech.name, srv.name, cache.name, c1.name, c2.name)
						cc := cache.make()
						connectEcho(srv.addr, config(c1.cfg, m, cc))
						cfg2 := config(c2.cfg, m, cc)
						st, err := connectEcho(srv.addr, cfg2)
						if (err == nil) != fresh[i2] {
							t.Errorf("%s: accepted %v (resumed %v, err %v), a fresh handshake %v", what, err == nil, st.DidResume, err, fresh[i2])
							continue
						}
						if err != nil {
							continue
						}
						if i1 == i2 && !st.DidResume && !(srv.noIDs && mech.noTicket) {
							t.Errorf("%s: did not resume its own session", what)
						}
						if st.DidResume {
							resumed++
						}
						chains := st.TLS().VerifiedChains
						switch {
						case len(st.PeerCertificates) == 0 || !bytes.Equal(st.PeerCertificates[0].Raw, srv.leaf.Cert.Raw):
							t.Errorf("%s: resumed %v, the peer's certificates are not the server's", what, st.DidResume)
						case cfg2.InsecureSkipVerify && len(chains) != 0:
							t.Errorf("%s: resumed %v, %d verified chains without verification", what, st.DidResume, len(chains))
						case !cfg2.InsecureSkipVerify && (len(chains) != 1 || !bytes.Equal(chains[0][0].Raw, srv.leaf.Cert.Raw)):
							t.Errorf("%s: resumed %v, verified chains %v", what, st.DidResume, chains)
						}
					}
				}
			}
		}
	}
	t.Logf("%d connections resumed", resumed)
}

// Server Configs sharing a session cache and a ticket key (as servers
// sharing SetSessionTicketKeys do), each with its client-auth policy, and
// a client that offers a session it made with one to another: the other
// resumes it only if it accepts the client in a fresh handshake, and
// gives a full handshake instead where it can (a session ID).
func TestResumeServerDifferential(t *testing.T) {
	checkLeaks(t)
	shared := NewLRUServerSessionCache(256)
	first := serverConfig()
	key, err := first.serverTicketKey()
	if err != nil {
		t.Fatal(err)
	}
	policies := []struct {
		name string
		auth ClientAuthType
		cas  []byte
	}{
		{"no client certificate", NoClientCert, nil},
		{"request", RequestClientCert, nil},
		{"require any", RequireAnyClientCert, nil},
		{"verify if given, CA A", VerifyClientCertIfGiven, pki.ca.PEM},
		{"require verified, CA A", RequireAndVerifyClientCert, pki.ca.PEM},
		{"require verified, CA B", RequireAndVerifyClientCert, otherPKI.ca.PEM},
	}
	addrs := make([]string, len(policies))
	for i, p := range policies {
		sc := first.Clone()
		sc.ClientAuth, sc.ClientCAPEM, sc.ServerSessionCache, sc.ticketKey = p.auth, p.cas, shared, key
		addrs[i] = echoListener(t, sc)
	}
	clientA := pki.ca.Issue(testpki.Options{}, "client A")
	clientB := otherPKI.ca.Issue(testpki.Options{}, "client B")
	clients := []struct {
		name  string
		certs []tls.Certificate
	}{{"no certificate", nil}, {"certificate of CA A", []tls.Certificate{clientA.TLS}}, {"certificate of CA B", []tls.Certificate{clientB.TLS}}}
	config := func(m, c int, cache ClientSessionCache) *Config {
		cc := clientConfig()
		cc.Certificates, cc.ClientSessionCache = clients[c].certs, cache
		cc.Priority, cc.SessionTicketsDisabled = resumeMechanisms[m].priority, resumeMechanisms[m].noTicket
		return cc
	}
	resumed := 0
	for m, mech := range resumeMechanisms {
		for c, cl := range clients {
			fresh := make([]bool, len(policies))
			for p := range policies {
				_, err := connectEcho(addrs[p], config(m, c, nil))
				fresh[p] = err == nil
			}
			for p1, s1 := range policies {
				for p2, s2 := range policies {
					what := fmt.Sprintf("%s, client with %s: a session made at %q offered to %q", mech.name, cl.name, s1.name, s2.name)
					cache := &peers.LastSession{}
					cc := config(m, c, cache)
					connectEcho(addrs[p1], cc)
					st, err := connectEcho(addrs[p2], cc)
					if (err == nil) != fresh[p2] {
						t.Errorf("%s: accepted %v (resumed %v, err %v), a fresh handshake %v", what, err == nil, st.DidResume, err, fresh[p2])
						continue
					}
					if err == nil && st.DidResume {
						resumed++
					}
					if err == nil && p1 == p2 && !st.DidResume {
						t.Errorf("%s: did not resume", what)
					}
				}
			}
		}
	}
	t.Logf("%d connections resumed", resumed)
}
