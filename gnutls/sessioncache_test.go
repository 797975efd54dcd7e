package gnutls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// cachingServer serves echo with a session cache and reports whether each
// connection resumed.
func cachingServer(t *testing.T, cache ServerSessionCache, lifetime time.Duration) (addr string, resumed chan bool) {
	t.Helper()
	sc := serverConfig()
	sc.ServerSessionCache, sc.SessionLifetime = cache, lifetime
	return cachingServerWith(t, sc)
}

// gnutls-cli -r and openssl s_client -reconnect, both without session
// tickets, resume by session ID from the server's cache under TLS 1.2;
// without a cache they cannot.
func TestServerSessionCacheInterop(t *testing.T) {
	checkLeaks(t)
	caFile, _, _ := peers.Files(t, pki.ca, pki.leaf)
	clients := []struct {
		name, bin string
		args      func(port string) []string
		// resumed counts the resumed connections in the output
		resumed func(out string) int
		conns   int
	}{
		// gnutls-cli 3.7.9 accepts --noticket but still sends the
		// session ticket extension; %NO_TICKETS stops it.
		{"gnutls-cli --noticket -r", "gnutls-cli", func(port string) []string {
			return []string{"--noticket", "-r", "--priority", "NORMAL:-VERS-TLS1.3:%NO_TICKETS", "--x509cafile", caFile, "-p", port, "localhost"}
		}, func(out string) int { return strings.Count(out, "*** This is a resumed session") }, 2},
		{"openssl s_client -no_ticket -reconnect", "openssl", func(port string) []string {
			return []string{"s_client", "-no_ticket", "-reconnect", "-tls1_2", "-CAfile", caFile, "-connect", "127.0.0.1:" + port}
		}, func(out string) int { return strings.Count(out, "Reused, TLSv1.2") }, 6},
	}
	for _, cl := range clients {
		bin := testenv.LookPath(t, cl.bin)
		for _, cached := range []bool{true, false} {
			t.Run(cl.name+map[bool]string{true: "/cache", false: "/no cache"}[cached], func(t *testing.T) {
				var cache ServerSessionCache
				if cached {
					cache = NewLRUServerSessionCache(8)
				}
				addr, resumed := cachingServer(t, cache, 0)
				_, port, _ := net.SplitHostPort(addr)
				out, err := peers.Client(t, "", bin, cl.args(port)...)
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				if cached {
					want = cl.conns - 1
				}
				if got := cl.resumed(out); got != want {
					t.Errorf("%s reports %d resumed connections, want %d", cl.name, got, want)
				}
				n := 0
				for i := 0; i < cl.conns; i++ {
					select {
					case r := <-resumed:
						if r {
							n++
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("the server saw %d connections, want %d", i, cl.conns)
					}
				}
				if n != want {
					t.Errorf("the server resumed %d connections, want %d", n, want)
				}
			})
		}
	}
}

// This package's client resumes, by session ID without tickets under TLS
// 1.2 and by ticket under TLS 1.3; once the session lifetime has passed,
// it cannot.
func TestServerSessionCacheLifetime(t *testing.T) {
	checkLeaks(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			puts := &expiryCache{ServerSessionCache: NewLRUServerSessionCache(8)}
			addr, resumed := cachingServer(t, puts, time.Second)
			cc := clientConfig()
			cc.Priority = v.priority
			cc.SessionTicketsDisabled = v.want == tls.VersionTLS12
			cc.ClientSessionCache = NewLRUClientSessionCache(1)
			dial := func() bool { return dialResumed(t, addr, cc, resumed) }
			if dial() {
				t.Fatal("the first connection resumed")
			}
			if !dial() {
				t.Fatal("the second connection did not resume")
			}
			// GnuTLS resumes through the second its expiry names, so an
			// entry lasts at least the lifetime after it was stored. TLS
			// 1.3 resumes by ticket and stores nothing.
			short, stored := puts.shortest()
			if stored != (v.want == tls.VersionTLS12) {
				t.Fatalf("sessions stored in the cache: %v", stored)
			}
			if stored && short < time.Second {
				t.Fatalf("an entry stored with a 1s lifetime expires %v after it was stored", short)
			}
			time.Sleep(2100 * time.Millisecond)
			if dial() {
				t.Fatal("a session resumed after its lifetime")
			}
		})
	}
}

// expiryCache records, for each Put, how long the entry has left.
type expiryCache struct {
	ServerSessionCache
	mu   sync.Mutex
	left []time.Duration
}

func (c *expiryCache) Put(id string, data []byte, expires time.Time) {
	c.mu.Lock()
	c.left = append(c.left, time.Until(expires))
	c.mu.Unlock()
	c.ServerSessionCache.Put(id, data, expires)
}

func (c *expiryCache) shortest() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.left) == 0 {
		return 0, false
	}
	return slices.Min(c.left), true
}

// The in-memory cache holds at most its capacity, drops the least recently
// used and the expired, and zeroes what leaves.
func TestLRUServerSessionCache(t *testing.T) {
	c := NewLRUServerSessionCache(2).(*serverCache)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	a, b, d := []byte("secret-a"), []byte("secret-b"), []byte("secret-d")
	c.Put("a", a, now.Add(time.Minute))
	c.Put("b", b, now.Add(time.Second))
	if got, ok := c.Get("a"); !ok || string(got) != "secret-a" {
		t.Fatalf("Get(a) = %q, %v", got, ok)
	}
	c.Put("d", d, now.Add(time.Minute)) // b is the least recently used
	if _, ok := c.Get("b"); ok {
		t.Error("b was kept beyond the capacity")
	}
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Errorf("b's data was not zeroed: %q", b)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Error("an expired session was returned")
	}
	c.Delete("d")
	if c.lru.len() != 0 || !bytes.Equal(a, make([]byte, len(a))) || !bytes.Equal(d, make([]byte, len(d))) {
		t.Errorf("%d entries left; a %q, d %q", c.lru.len(), a, d)
	}
}

// The Session API's rules for the cache and the lifetime.
func TestSessionCacheRules(t *testing.T) {
	checkLeaks(t)
	client, _ := NewSession(InitClient)
	defer client.Close()
	server, _ := NewSession(InitServer)
	defer server.Close()
	if err := client.SetSessionCache(NewLRUServerSessionCache(1)); err == nil || !strings.Contains(err.Error(), "is for server sessions") {
		t.Errorf("a client session took a server session cache: %v", err)
	}
	if err := server.SetSessionCache(nil); err == nil || !strings.Contains(err.Error(), "nil cache") {
		t.Errorf("SetSessionCache(nil): %v", err)
	}
	for _, d := range []time.Duration{0, time.Millisecond, 8 * 24 * time.Hour} {
		if err := server.SetSessionLifetime(d); err == nil || !strings.Contains(err.Error(), "is not between 1s and") {
			t.Errorf("SetSessionLifetime(%v): %v", d, err)
		}
	}
	if err := server.SetSessionLifetime(time.Hour); err != nil {
		t.Error(err)
	}
}

// resumeServer serves echo with sc and sends each handshake's outcome on
// the channel it returns.
func resumeServer(t *testing.T, sc *Config) (addr string, outcome chan resumeOutcome) {
	t.Helper()
	outcome = make(chan resumeOutcome, 64)
	addr = serveOn(t, sc, func(c *Conn) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		err := c.Handshake()
		outcome <- resumeOutcome{c.ConnectionState(), err}
		if err == nil {
			io.Copy(c, c)
		}
	})
	return addr, outcome
}

type resumeOutcome struct {
	state ConnectionState
	err   error
}

func (o resumeOutcome) String() string {
	return fmt.Sprintf("resumed %v, client chain %d, verified chains %d, err %v", o.state.DidResume, len(o.state.PeerCertificates), len(o.state.TLS().VerifiedChains), o.err)
}

// Two server Configs share a session cache, the first without client
// authentication, the second requiring a verified client certificate: a
// client without one that resumes its session from the first at the
// second gets a full handshake there, which the second refuses.
func TestServerResumeSharedCacheClientAuth(t *testing.T) {
	checkLeaks(t)
	open := serverConfig()
	open.ServerSessionCache = NewLRUServerSessionCache(8)
	strict := open.Clone()
	strict.ClientAuth, strict.ClientCAPEM = RequireAndVerifyClientCert, pki.ca.PEM
	openAddr, openOut := resumeServer(t, open)
	strictAddr, strictOut := resumeServer(t, strict)

	cc := clientConfig()
	cc.Priority, cc.SessionTicketsDisabled = versions[0].priority, true
	cc.ClientSessionCache = &peers.LastSession{}
	for i := range 2 {
		if _, err := connectEcho(openAddr, cc); err != nil {
			t.Fatal(err)
		}
		if o := <-openOut; o.err != nil || o.state.DidResume != (i == 1) {
			t.Fatalf("connection %d to the first server: %v", i, o)
		}
	}
	st, err := connectEcho(strictAddr, cc)
	o := <-strictOut
	if err == nil || o.err == nil || o.state.DidResume {
		t.Fatalf("a client without a certificate at the server that requires one: client resumed %v, err %v; server %v", st.DidResume, err, o)
	}
}

// Servers that share a ticket key (as servers sharing ticket keys do) but
// not a client-auth policy do not resume each other's tickets: the one
// whose ClientCAs the client's certificate does not verify against gives
// a full handshake and refuses it, as it refuses a fresh one.
func TestServerResumeTicketOtherPolicy(t *testing.T) {
	checkLeaks(t)
	for _, v := range versions {
		for _, shared := range []string{"random key", "SetSessionTicketKeys"} {
			t.Run(v.name+"/"+shared, func(t *testing.T) {
				sa := serverConfig()
				sa.ClientAuth, sa.ClientCAPEM = RequireAndVerifyClientCert, pki.ca.PEM
				if shared == "SetSessionTicketKeys" {
					sa.SetSessionTicketKeys([][32]byte{{1}, {2}})
				}
				sb := sa.Clone()
				sb.ClientCAPEM = otherPKI.ca.PEM
				if shared == "random key" {
					k, err := sa.serverTicketKey()
					if err != nil {
						t.Fatal(err)
					}
					sb.ticketKey = k
				}
				aAddr, aOut := resumeServer(t, sa)
				bAddr, bOut := resumeServer(t, sb)

				cc := clientConfig()
				cc.Priority, cc.Certificates = v.priority, []tls.Certificate{pki.leaf.TLS}
				cc.ClientSessionCache = &peers.LastSession{}
				for i := range 2 {
					if _, err := connectEcho(aAddr, cc); err != nil {
						t.Fatalf("connection %d to the issuing server: %v; server %v", i, err, <-aOut)
					}
					if o := <-aOut; o.err != nil || o.state.DidResume != (i == 1) || (i == 1 && len(o.state.TLS().VerifiedChains) != 1) {
						t.Fatalf("connection %d to the issuing server: %v", i, o)
					}
				}
				if _, err := connectEcho(bAddr, cc); err == nil {
					t.Fatal("the client was accepted by the server whose ClientCAs it does not verify against")
				}
				if o := <-bOut; o.err == nil || o.state.DidResume || errors.Is(o.err, ErrResumeRefused) {
					t.Fatalf("the other server: %v", o)
				}
			})
		}
	}
}

// A session whose client certificate has expired since is not resumed:
// by session ID the server gives a full handshake instead, a ticket it
// refuses with ErrResumeRefused; either way the client is refused, as in
// a fresh handshake.
func TestServerResumeExpiredClientCert(t *testing.T) {
	checkLeaks(t)
	expires := time.Now().Add(3 * time.Second)
	client := pki.ca.Issue(testpki.Options{NotAfter: expires}, "client")
	type run struct {
		addr string
		out  chan resumeOutcome
		cc   *Config
	}
	runs := make([]run, len(resumeMechanisms))
	for i, m := range resumeMechanisms {
		sc := serverConfig()
		sc.ClientAuth, sc.ClientCAPEM, sc.ServerSessionCache = RequireAndVerifyClientCert, pki.ca.PEM, NewLRUServerSessionCache(8)
		r := &runs[i]
		r.addr, r.out = resumeServer(t, sc)
		r.cc = clientConfig()
		r.cc.Priority, r.cc.SessionTicketsDisabled, r.cc.Certificates = m.priority, m.noTicket, []tls.Certificate{client.TLS}
		r.cc.ClientSessionCache = &peers.LastSession{}
		for j := range 2 {
			if _, err := connectEcho(r.addr, r.cc); err != nil {
				t.Fatalf("%s, connection %d: %v; server %v", m.name, j, err, <-r.out)
			}
			if o := <-r.out; o.err != nil || o.state.DidResume != (j == 1) {
				t.Fatalf("%s, connection %d: %v", m.name, j, o)
			}
		}
	}
	time.Sleep(time.Until(expires) + 1100*time.Millisecond)
	for i, m := range resumeMechanisms {
		r := runs[i]
		if _, err := connectEcho(r.addr, r.cc); err == nil {
			t.Errorf("%s: the client was accepted with an expired certificate", m.name)
		}
		o := <-r.out
		var ve *CertificateVerificationError
		if m.noTicket && !errors.As(o.err, &ve) || !m.noTicket && !errors.Is(o.err, ErrResumeRefused) {
			t.Errorf("%s: server: %v", m.name, o)
		}
	}
}
