package gnutls

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// A peer is a real TLS server and what it answers to a line.
type peer struct {
	name  string
	start func(t *testing.T) (addr string, answer func(string) string)
}

func same(s string) string { return s }

var servers = []peer{
	{"gnutls-serv", func(t *testing.T) (string, func(string) string) {
		return peers.GnutlsServ(t, pki.ca, pki.leaf).Addr, same
	}},
	{"openssl", func(t *testing.T) (string, func(string) string) {
		return peers.OpenSSL(t, pki.ca, pki.leaf, "-quiet").Addr, peers.Reverse
	}},
	{"crypto/tls", func(t *testing.T) (string, func(string) string) {
		return goTLSServer(t, nil), same
	}},
	{"gnutls.Server", func(t *testing.T) (string, func(string) string) {
		return echoListener(t, serverConfig()), same
	}},
}

var versions = []struct {
	name     string
	priority string
	want     uint16
}{
	{"TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", tls.VersionTLS12},
	{"TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", tls.VersionTLS13},
}

// The same body against every server and protocol version: handshake,
// verification, and a line echoed back.
func TestEchoAcrossPeers(t *testing.T) {
	for _, p := range servers {
		t.Run(p.name, func(t *testing.T) {
			addr, answer := p.start(t)
			for _, v := range versions {
				t.Run(v.name, func(t *testing.T) {
					cfg := clientConfig()
					cfg.Priority = v.priority
					c, err := Dial("tcp", addr, cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					line := "hello from go-gnutls over " + v.name
					if _, err := c.Write([]byte(line + "\n")); err != nil {
						t.Fatal(err)
					}
					got, err := bufio.NewReader(c).ReadString('\n')
					if err != nil {
						t.Fatal(err)
					}
					if want := answer(line); strings.TrimRight(got, "\r\n") != want {
						t.Fatalf("got %q, want %q", got, want)
					}
					st := c.ConnectionState()
					if st.Version != v.want || st.VerifyStatus != 0 || len(st.PeerCertificates) == 0 {
						t.Fatalf("state: version %#x status %v certs %d", st.Version, st.VerifyStatus, len(st.PeerCertificates))
					}
					if st.PeerCertificates[0].SerialNumber.Cmp(pki.leaf.Cert.SerialNumber) != 0 {
						t.Fatal("peer certificate is not the server's")
					}
				})
			}
		})
	}
}
