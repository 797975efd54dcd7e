package gnutls

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
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
