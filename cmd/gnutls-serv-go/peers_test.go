package main

import (
	"crypto/tls"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// echoServers are the echo servers compared: this command and GnuTLS's
// gnutls-serv, each started with pki's certificate and extra arguments;
// start returns the address to connect to.
var echoServers = []struct {
	name  string
	start func(t *testing.T, extra ...string) string
}{
	{"gnutls-serv-go", func(t *testing.T, extra ...string) string {
		f := pkiFiles(t)
		return serve(t, append([]string{"--echo", "--x509certfile", f.cert, "--x509keyfile", f.key}, extra...)...).addr
	}},
	{"gnutls-serv", func(t *testing.T, extra ...string) string {
		return peers.GnutlsServ(t, pki.ca, pki.leaf, extra...).Addr
	}},
}

// eachEchoServer runs body against each of echoServers.
func eachEchoServer(t *testing.T, body func(t *testing.T, start func(t *testing.T, extra ...string) string)) {
	for _, s := range echoServers {
		t.Run(s.name, func(t *testing.T) { body(t, s.start) })
	}
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestEchoClients: gnutls-cli (resuming with -r), openssl s_client and
// crypto/tls (resuming from its session cache) get their line back.
func TestEchoClients(t *testing.T) {
	eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
		addr := start(t)
		ca := pkiFiles(t).ca
		out, err := peers.Client(t, "hello gnutls-cli\n", testenv.LookPath(t, "gnutls-cli"), "--x509cafile", ca, "-p", portOf(addr), "-r", "localhost")
		if err != nil || !strings.Contains(out, "hello gnutls-cli") || !strings.Contains(out, "*** This is a resumed session") {
			t.Errorf("gnutls-cli -r: %v, line echoed %v, resumed %v", err,
				strings.Contains(out, "hello gnutls-cli"), strings.Contains(out, "*** This is a resumed session"))
		}
		if err := sClient(t, addr, ca, "hello openssl"); err != nil {
			t.Errorf("openssl s_client: %v", err)
		}
		cfg := tlsConfig()
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		for i, wantResumed := range []bool{false, true} {
			got, st, err := echoLine(t, addr, cfg, "hello crypto/tls")
			if err != nil || got != "hello crypto/tls" || st.DidResume != wantResumed {
				t.Errorf("crypto/tls connection %d: %q, %v, resumed %v", i+1, got, err, st.DidResume)
			}
		}
	})
}

// TestClientCertificates: the client certificate options mean what they
// mean to gnutls-serv: by default a certificate is asked for and any is
// taken; -r requires one; --verify-client-cert refuses one the CAs of
// --x509cafile did not issue.
func TestClientCertificates(t *testing.T) {
	good := pki.ca.Issue(testpki.Options{}, "client").TLS
	other := pki.other.Issue(testpki.Options{}, "client").TLS
	const no, yes = 0, 1
	for _, c := range []struct {
		name string
		args []string
		// accepted: without a certificate, with good, with other
		accepted [3]int
	}{
		{"default", nil, [3]int{yes, yes, yes}},
		{"-a", []string{"-a"}, [3]int{yes, yes, yes}},
		{"-r", []string{"-r"}, [3]int{no, yes, yes}},
		{"--verify-client-cert", []string{"--verify-client-cert"}, [3]int{yes, yes, no}},
		{"-r --verify-client-cert", []string{"-r", "--verify-client-cert"}, [3]int{no, yes, no}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
				addr := start(t, append([]string{"--x509cafile", pkiFiles(t).ca}, c.args...)...)
				for i, cert := range []*tls.Certificate{nil, &good, &other} {
					cfg := tlsConfig()
					if cert != nil {
						// Sent whatever CAs the server names.
						cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
					}
					// Under TLS 1.3 the server judges the certificate
					// after the client's handshake ends: the echo shows it.
					got, _, err := echoLine(t, addr, cfg, "hi")
					if ok := err == nil && got == "hi"; ok != (c.accepted[i] == yes) {
						t.Errorf("client certificate %d (none, good, other): accepted %v (%v)", i, ok, err)
					}
				}
			})
		})
	}
}

// TestPSKPasswd: a client with a key of the --pskpasswd file connects, one
// with a wrong key does not.
func TestPSKPasswd(t *testing.T) {
	key := hex.EncodeToString([]byte("0123456789abcdef"))
	passwd := filepath.Join(t.TempDir(), "psk.txt")
	if err := os.WriteFile(passwd, []byte("bob:00ff\nalice:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
		addr := start(t, "--pskpasswd", passwd, "--priority", "NORMAL:+ECDHE-PSK:+PSK")
		cli := testenv.LookPath(t, "gnutls-cli")
		out, err := peers.Client(t, "hello psk\n", cli, "--pskusername", "alice", "--pskkey", key, "--priority", "NORMAL:-KX-ALL:+ECDHE-PSK", "-p", portOf(addr), "127.0.0.1")
		if err != nil || !strings.Contains(out, "hello psk") {
			t.Errorf("alice with her key: %v", err)
		}
		_, err = peers.Client(t, "hello psk\n", cli, "--pskusername", "alice", "--pskkey", "00ff", "--priority", "NORMAL:-KX-ALL:+ECDHE-PSK", "-p", portOf(addr), "127.0.0.1")
		if err == nil {
			t.Errorf("alice with a wrong key connected")
		}
	})
}

// TestNoTicket: with --noticket nothing resumes under TLS 1.3; TLS 1.2
// still resumes by session ID from the resumption database, unless --nodb.
func TestNoTicket(t *testing.T) {
	for _, c := range []struct {
		args     []string
		priority string
		resumed  bool
	}{
		{[]string{"--noticket"}, "NORMAL", false},
		{[]string{"--noticket"}, "NORMAL:-VERS-TLS1.3", true},
		{[]string{"--noticket", "--nodb"}, "NORMAL:-VERS-TLS1.3", false},
		{nil, "NORMAL:-VERS-TLS1.3", true},
	} {
		t.Run(strings.Join(c.args, " ")+" "+c.priority, func(t *testing.T) {
			eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
				addr := start(t, c.args...)
				out, err := peers.Client(t, "hi\n", testenv.LookPath(t, "gnutls-cli"), "--x509cafile", pkiFiles(t).ca, "--priority", c.priority, "-p", portOf(addr), "-r", "localhost")
				if err != nil {
					t.Fatalf("gnutls-cli: %v", err)
				}
				if got := strings.Contains(out, "*** This is a resumed session"); got != c.resumed {
					t.Errorf("resumed %v, want %v", got, c.resumed)
				}
			})
		})
	}
}
