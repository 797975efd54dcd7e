package gnutls

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// otherPKI is a second CA, trusted by no Config of the tests unless they
// say so, with a certificate for the names pki's has.
var otherPKI = func() struct {
	ca   *testpki.CA
	leaf *testpki.Leaf
} {
	ca := testpki.NewCA("go-gnutls other test CA")
	return struct {
		ca   *testpki.CA
		leaf *testpki.Leaf
	}{ca, ca.Issue(testpki.Options{}, "localhost", "127.0.0.1", "::1")}
}()

// connectEcho dials addr with cc, echoes a byte (so that a TLS 1.3 ticket
// arrives and a server that refuses the client has said so) and returns
// the state or the error.
func connectEcho(addr string, cc *Config) (ConnectionState, error) {
	c, err := Dial("tcp", addr, cc)
	if err != nil {
		return ConnectionState{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if err := echoConcurrently(c, []byte("x")); err != nil {
		return c.ConnectionState(), err
	}
	return c.ConnectionState(), nil
}

// A session made by a Config that skips verification, with a server no
// other Config trusts, is not resumed by a Config that verifies: that one
// refuses the server as a fresh handshake would, by TLS 1.2 session ID and
// by TLS 1.3 ticket, whatever key the cache returns it under.
func TestResumeSkipsNoVerification(t *testing.T) {
	checkLeaks(t)
	sc := &Config{Certificates: []tls.Certificate{otherPKI.leaf.TLS}, ServerSessionCache: NewLRUServerSessionCache(8)}
	addr := echoListener(t, sc)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			cache := &peers.LastSession{}
			insecure := &Config{InsecureSkipVerify: true, ServerName: "localhost", Priority: v.priority, ClientSessionCache: cache}
			if _, err := connectEcho(addr, insecure); err != nil {
				t.Fatal(err)
			}
			if st, err := connectEcho(addr, insecure); err != nil || !st.DidResume {
				t.Fatalf("the Config that made the session: resumed %v, err %v", st.DidResume, err)
			}
			strict := clientConfig()
			strict.Priority, strict.ClientSessionCache = v.priority, cache
			st, err := connectEcho(addr, strict)
			var ve *CertificateVerificationError
			if err == nil || !errors.As(err, &ve) {
				t.Fatalf("a Config trusting another CA connected (resumed %v, verified chains %d), err %v", st.DidResume, len(st.TLS().VerifiedChains), err)
			}
		})
	}
}

// Entries that are not what this package writes, and entries whose parts
// were put together from two sessions, grant nothing: the first are not
// offered, the second fails the handshake once GnuTLS restored a server
// chain other than the one checked.
func TestResumeHostileEntries(t *testing.T) {
	checkLeaks(t)
	good := echoListener(t, &Config{Certificates: []tls.Certificate{pki.leaf.TLS}, ServerSessionCache: NewLRUServerSessionCache(8)})
	evil := echoListener(t, &Config{Certificates: []tls.Certificate{otherPKI.leaf.TLS}, ServerSessionCache: NewLRUServerSessionCache(8)})
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			cache := &peers.LastSession{}
			strict := clientConfig()
			strict.Priority, strict.ClientSessionCache = v.priority, cache
			if _, err := connectEcho(good, strict); err != nil {
				t.Fatal(err)
			}
			entry, _ := cache.Get("")
			trusted, ok := decodeEntry(entry)
			if !ok || !trusted.verified || len(trusted.chain) == 0 {
				t.Fatalf("the entry of a verified session: ok %v, verified %v, chain %d", ok, trusted.verified, len(trusted.chain))
			}
			insecure := &Config{InsecureSkipVerify: true, ServerName: "localhost", Priority: v.priority, ClientSessionCache: cache}
			if _, err := connectEcho(evil, insecure); err != nil {
				t.Fatal(err)
			}
			entry, _ = cache.Get("")
			untrusted, ok := decodeEntry(entry)
			if !ok || untrusted.verified {
				t.Fatalf("the entry of an unverified session: ok %v, verified %v", ok, untrusted.verified)
			}

			// The trusted chain, marked verified, with the other server's
			// session: offered, and refused after the handshake.
			forged := untrusted
			forged.verified, forged.chain = true, trusted.chain
			cache.Put("", encodeEntry(forged))
			st, err := connectEcho(evil, strict)
			if !errors.Is(err, ErrResumedPeerMismatch) {
				t.Fatalf("a forged entry: resumed %v, verified chains %d, err %v", st.DidResume, len(st.TLS().VerifiedChains), err)
			}

			// Garbage, the previous entry form, a cut entry, a chain that
			// is not a certificate: full handshakes with the good server.
			v1 := append([]byte("GGS1"), make([]byte, 12)...)
			junk := trusted
			junk.chain = [][]byte{[]byte("not a certificate")}
			for name, b := range map[string][]byte{
				"garbage":       []byte("GGS2 and then nothing of use"),
				"old form":      append(v1, trusted.data...),
				"cut":           encodeEntry(trusted)[:40],
				"bad chain":     encodeEntry(junk),
				"chain too big": append([]byte("GGS2"), append(make([]byte, 13), 200)...),
			} {
				cache.Put("", b)
				st, err := connectEcho(good, strict)
				if err != nil || st.DidResume {
					t.Errorf("%s: resumed %v, err %v", name, st.DidResume, err)
				}
			}
		})
	}
}

// Two crypto/tls servers behind one name, on 127.0.0.1 and 127.0.0.2,
// share their ticket keys and certificate: a client that connected to the
// first resumes at the second, its cache keyed by the server's name.
func TestResumeAcrossServersByName(t *testing.T) {
	checkLeaks(t)
	var keys [32]byte
	copy(keys[:], "go-gnutls fleet ticket key 12345")
	var addrs []string
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		tc := &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
		tc.SetSessionTicketKeys([][32]byte{keys})
		l, err := tls.Listen("tcp", ip+":0", tc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))
		addrs = append(addrs, l.Addr().String())
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			cc := clientConfig()
			cc.Priority, cc.ClientSessionCache = v.priority, NewLRUClientSessionCache(4)
			for i, addr := range addrs {
				st, err := connectEcho(addr, cc)
				if err != nil {
					t.Fatalf("server %d: %v", i, err)
				}
				if st.DidResume != (i == 1) {
					t.Fatalf("server %d (%s): resumed %v", i, addr, st.DidResume)
				}
			}
		})
	}
}
