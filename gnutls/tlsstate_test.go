package gnutls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// ConnectionState.TLS gives what crypto/tls's own server saw of the same
// connection: version, IANA cipher suite, ALPN, server name; and the
// peer's chain, verified unless InsecureSkipVerify.
func TestConnectionStateTLS(t *testing.T) {
	checkLeaks(t)
	seen := make(chan tls.ConnectionState, 2)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	stop := peers.Serve(l, func(c net.Conn) {
		tc := c.(*tls.Conn)
		if tc.Handshake() == nil {
			seen <- tc.ConnectionState()
		}
	})
	defer stop()
	for _, insecure := range []bool{false, true} {
		cfg := clientConfig()
		cfg.InsecureSkipVerify, cfg.NextProtos = insecure, []string{"h2"}
		c, err := Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := c.ConnectionState().TLS()
		c.Close()
		want := <-seen
		if got.Version != want.Version || got.CipherSuite != want.CipherSuite || got.NegotiatedProtocol != "h2" ||
			got.ServerName != want.ServerName || !got.HandshakeComplete || got.DidResume {
			t.Fatalf("InsecureSkipVerify=%v: %s %s %q %q, crypto/tls's server saw %s %s %q", insecure,
				tls.VersionName(got.Version), tls.CipherSuiteName(got.CipherSuite), got.NegotiatedProtocol, got.ServerName,
				tls.VersionName(want.Version), tls.CipherSuiteName(want.CipherSuite), want.ServerName)
		}
		if len(got.PeerCertificates) != 1 || !got.PeerCertificates[0].Equal(pki.leaf.Cert) {
			t.Fatalf("peer certificates %v", got.PeerCertificates)
		}
		if verified := got.VerifiedChains != nil; verified == insecure {
			t.Fatalf("InsecureSkipVerify=%v: verified chains %v", insecure, got.VerifiedChains)
		}
	}
}

// chainPKI is a root, an intermediate under it, a leaf for localhost
// under that, and an unrelated CA whose certificate a peer appends to its
// chain.
type chainPKI struct {
	root, im, stray *testpki.CA
	leaf            *testpki.Leaf
}

func newChainPKI() chainPKI {
	root := testpki.NewCA("go-gnutls chain root")
	im := root.Intermediate("go-gnutls chain intermediate")
	stray := testpki.NewCA("go-gnutls stray CA")
	return chainPKI{root, im, stray, im.Issue(testpki.Options{}, "localhost", "127.0.0.1").WithChain(im, stray)}
}

// checkPeer fails unless st's VerifiedChains is the one path leaf,
// intermediate, root. A crypto/tls peer sends the stray CA too; GnuTLS
// drops it when it loads the chain.
func (p chainPKI) checkPeer(t *testing.T, peer string, st tls.ConnectionState) {
	t.Helper()
	if sent := len(st.PeerCertificates); peer == "crypto/tls" && sent != 3 || sent < 2 {
		t.Fatalf("%d peer certificates from %s", sent, peer)
	}
	chains := st.VerifiedChains
	want := []*x509.Certificate{p.leaf.Cert, p.im.Cert, p.root.Cert}
	ok := len(chains) == 1 && len(chains[0]) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = chains[0][i].Equal(want[i])
	}
	if !ok {
		var got [][]string
		for _, ch := range chains {
			var names []string
			for _, c := range ch {
				names = append(names, c.Subject.CommonName)
			}
			got = append(got, names)
		}
		t.Fatalf("VerifiedChains %q, want [[localhost %q %q]]", got, p.im.Cert.Subject.CommonName, p.root.Cert.Subject.CommonName)
	}
}

// A server's VerifiedChains is the path it verified, ending at its trust
// anchor, not the chain the client sent with a stray CA appended: from a
// crypto/tls client and from this package's.
func TestVerifiedChainsClientPath(t *testing.T) {
	checkLeaks(t)
	p := newChainPKI()
	for _, v := range versions {
		sc := serverConfig()
		sc.ClientAuth, sc.ClientCAPEM = RequireAndVerifyClientCert, p.root.PEM
		seen := make(chan tls.ConnectionState, 1)
		addr := serveOn(t, sc, func(c *Conn) {
			if c.Handshake() == nil {
				seen <- c.ConnectionState().TLS()
				io.Copy(c, c)
			}
		})
		clients := map[string]func() (net.Conn, error){
			"crypto/tls": func() (net.Conn, error) {
				return tls.Dial("tcp", addr, &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost",
					Certificates: []tls.Certificate{p.leaf.TLS}, MinVersion: v.want, MaxVersion: v.want})
			},
			"go-gnutls": func() (net.Conn, error) {
				cc := clientConfig()
				cc.Certificates, cc.Priority = []tls.Certificate{p.leaf.TLS}, v.priority
				return Dial("tcp", addr, cc)
			},
		}
		for name, dial := range clients {
			t.Run(v.name+"/"+name, func(t *testing.T) {
				c, err := dial()
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				echo(t, c, "ping")
				st := <-seen
				if st.Version != v.want {
					t.Fatalf("version %s", tls.VersionName(st.Version))
				}
				p.checkPeer(t, name, st)
			})
		}
	}
}

// A client's VerifiedChains is the path to its root when the server sends
// a stray CA after its chain: crypto/tls and gnutls-serv servers. It
// stays readable after Close.
func TestVerifiedChainsServerPath(t *testing.T) {
	checkLeaks(t)
	p := newChainPKI()
	servers := map[string]string{
		"crypto/tls":  goTLSServer(t, func(c *tls.Config) { c.Certificates = []tls.Certificate{p.leaf.TLS} }),
		"gnutls-serv": peers.GnutlsServ(t, p.im, p.leaf).Addr,
	}
	for name, addr := range servers {
		for _, v := range versions {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				cfg := &Config{ServerName: "localhost", RootCAPEM: p.root.PEM, Priority: v.priority}
				c, err := Dial("tcp", addr, cfg)
				if err != nil {
					t.Fatal(err)
				}
				echo(t, c, "ping\n")
				c.Close()
				st := c.ConnectionState().TLS()
				p.checkPeer(t, name, st)
			})
		}
	}
}

// With the system trust store, the one a client uses without RootCAFile
// or RootCAPEM, the trust anchor of a verified path comes from that store:
// each root CA of the system bundle is found as its own anchor.
func TestVerifiedPathSystemTrust(t *testing.T) {
	checkLeaks(t)
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	if _, err := cr.SetSystemTrust(); err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for block, rest := pem.Decode(bundle); block != nil; block, rest = pem.Decode(rest) {
		root, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !bytes.Equal(root.RawIssuer, root.RawSubject) {
			continue
		}
		// A CA re-issued under the same name and key may come back for
		// its twin; either is an anchor that signed it.
		issuer := cr.trustedIssuer(root.Raw)
		path := verifiedPath([]*x509.Certificate{root}, [][]byte{issuer})
		if len(path) == 0 || !bytes.Equal(path[len(path)-1].RawSubject, root.RawSubject) ||
			!bytes.Equal(path[len(path)-1].RawSubjectPublicKeyInfo, root.RawSubjectPublicKeyInfo) {
			t.Fatalf("%s: path %v from the system store's %d bytes", root.Subject, path, len(issuer))
		}
		found++
	}
	if found == 0 {
		t.Fatal("no self-signed CA in the system bundle")
	}
}

// A handshake does not look up the peer's trusted issuers: the first
// ConnectionState does, after Close too, and finds the same path. With
// credentials set through Session, which their owner may close before the
// state is read, the lookup happens at the handshake's end instead.
func TestVerifiedChainsLookedUpOnRead(t *testing.T) {
	checkLeaks(t)
	p := newChainPKI()
	addr := goTLSServer(t, func(c *tls.Config) { c.Certificates = []tls.Certificate{p.leaf.TLS} })
	for _, own := range []bool{false, true} {
		cfg := &Config{ServerName: "localhost", RootCAPEM: p.root.PEM}
		c := Client(dialTCP(t, addr), cfg)
		var cr *Credentials
		if own {
			var err error
			if cr, err = NewCredentials(); err != nil {
				t.Fatal(err)
			}
			if _, err := cr.AddTrustPEM(p.root.PEM); err != nil {
				t.Fatal(err)
			}
			if err := c.Session().SetCredentials(cr); err != nil {
				t.Fatal(err)
			}
		}
		before := issuerLookups.Load()
		echo(t, c, "ping\n")
		looked := issuerLookups.Load() - before
		c.Close()
		if own {
			cr.Close()
			if looked == 0 {
				t.Fatal("credentials set through Session: no trusted issuer looked up before Close")
			}
		} else if looked != 0 {
			t.Fatalf("the handshake looked up %d trusted issuers", looked)
		}
		p.checkPeer(t, "crypto/tls", c.ConnectionState().TLS())
	}
}

// A chain seen again, here on a second connection, gets its parsed
// certificates and its verified path from the credentials' memo: it is not
// parsed again, no trusted issuer is looked up and no signature checked
// again. Verifying a chain with the credentials keeps it; a change to the
// trust store forgets it: with the intermediate trusted too, the next
// path ends there.
func TestVerifiedChainsRemembered(t *testing.T) {
	checkLeaks(t)
	p := newChainPKI()
	addr := goTLSServer(t, func(c *tls.Config) { c.Certificates = []tls.Certificate{p.leaf.TLS} })
	cfg := &Config{ServerName: "localhost", RootCAPEM: p.root.PEM}
	state := func() (tls.ConnectionState, int64) {
		t.Helper()
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		before := issuerLookups.Load()
		st := c.ConnectionState().TLS()
		return st, issuerLookups.Load() - before
	}
	first, looked := state()
	p.checkPeer(t, "crypto/tls", first)
	if looked == 0 {
		t.Fatal("first connection: no trusted issuer looked up")
	}
	leaf := first.PeerCertificates[0]
	first.PeerCertificates[0] = nil // the caller's slice: the memo keeps its own
	st, looked := state()
	p.checkPeer(t, "crypto/tls", st)
	if looked != 0 {
		t.Errorf("second connection, same chain: %d trusted issuers looked up, want none", looked)
	}
	if st.PeerCertificates[0] != leaf || st.VerifiedChains[0][0] != leaf {
		t.Error("the second connection parsed the chain again, or its path does not start at its leaf")
	}
	// Using the trust store, as offering a cached session does, keeps the
	// paths; changing it forgets them.
	creds, err := cfg.credentials(true)
	if err != nil {
		t.Fatal(err)
	}
	chain := [][]byte{p.leaf.Cert.Raw, p.im.Cert.Raw}
	if status, err := creds.VerifyChain(chain, "localhost"); err != nil || status != 0 {
		t.Fatalf("VerifyChain: %v, %v", status, err)
	}
	if _, looked = state(); looked != 0 {
		t.Errorf("after VerifyChain: %d trusted issuers looked up, want none", looked)
	}
	if _, err := creds.AddTrustPEM(p.im.PEM); err != nil {
		t.Fatal(err)
	}
	st, looked = state()
	if looked == 0 {
		t.Error("after a change to the trust store: no trusted issuer looked up")
	}
	if ch := st.VerifiedChains; len(ch) != 1 || len(ch[0]) != 2 || !ch[0][0].Equal(p.leaf.Cert) || !ch[0][1].Equal(p.im.Cert) {
		t.Errorf("with the intermediate trusted: verified chains %v, want leaf then intermediate", ch)
	}
}
