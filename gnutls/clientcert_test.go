package gnutls

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

func TestCertificateRequestedAndSent(t *testing.T) {
	for _, tc := range []struct {
		name            string
		auth            ClientAuthType
		withCert        bool
		requested, sent bool
	}{
		{"not requested", NoClientCert, true, false, false},
		{"requested, none given", RequestClientCert, false, true, false},
		{"requested and given", RequestClientCert, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := serverConfig()
			sc.ClientAuth = tc.auth
			addr := echoListener(t, sc)
			cc := clientConfig()
			if tc.withCert {
				cc.Certificates = []tls.Certificate{pki.leaf.TLS}
			}
			c, err := Dial("tcp", addr, cc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "ping")
			if got := c.Session().CertificateRequested(); got != tc.requested {
				t.Errorf("CertificateRequested %v, want %v", got, tc.requested)
			}
			if got := c.Session().CertificateSent(); got != tc.sent {
				t.Errorf("CertificateSent %v, want %v", got, tc.sent)
			}
		})
	}
}

// VerifyClientCertIfGiven serves a client that sends no certificate, and
// one whose certificate verifies, and refuses one whose certificate does
// not, naming why on the server: crypto/tls and gnutls-cli clients, TLS
// 1.2 and 1.3.
func TestVerifyClientCertIfGiven(t *testing.T) {
	checkLeaks(t)
	type result struct {
		st  ConnectionState
		err error
	}
	results := make(chan result, 1)
	sc := serverConfig()
	sc.ClientAuth, sc.ClientCAPEM = VerifyClientCertIfGiven, pki.ca.PEM
	addr := serveOn(t, sc, func(c *Conn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		err := c.Handshake()
		results <- result{c.ConnectionState(), err}
		if err == nil {
			io.Copy(c, c)
		}
	})
	_, port, _ := net.SplitHostPort(addr)
	other := testpki.NewCA("go-gnutls other client CA").Issue(testpki.Options{}, "client")
	caFile, certFile, keyFile := peers.Files(t, pki.ca, pki.leaf)
	_, otherCertFile, otherKeyFile := peers.Files(t, pki.ca, other)
	certs := []struct {
		name              string
		leaf              *testpki.Leaf
		certFile, keyFile string
	}{
		{"none", nil, "", ""},
		{"trusted", pki.leaf, certFile, keyFile},
		{"untrusted", other, otherCertFile, otherKeyFile},
	}
	gnutlsCLI := testenv.LookPath(t, "gnutls-cli")
	for _, v := range versions {
		for _, cert := range certs {
			clients := map[string]func() error{
				"crypto/tls": func() error {
					tc := &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost", MinVersion: v.want, MaxVersion: v.want}
					if cert.leaf != nil {
						// Sent even when its issuer is not among the CAs the server names.
						tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
							return &cert.leaf.TLS, nil
						}
					}
					c, err := tls.Dial("tcp", addr, tc)
					if err != nil {
						return err
					}
					defer c.Close()
					c.SetDeadline(time.Now().Add(30 * time.Second))
					if _, err := io.WriteString(c, "ping"); err != nil {
						return err
					}
					_, err = io.ReadFull(c, make([]byte, 4))
					return err
				},
				"gnutls-cli": func() error {
					args := []string{"-p", port, "--x509cafile", caFile, "--priority", v.priority}
					if cert.leaf != nil {
						args = append(args, "--x509certfile", cert.certFile, "--x509keyfile", cert.keyFile)
					}
					out, err := peers.Client(t, "ping\n", gnutlsCLI, append(args, "127.0.0.1")...)
					if err == nil && !strings.Contains(out, "- Handshake was completed") {
						err = errors.New("no handshake")
					}
					return err
				},
			}
			for name, dial := range clients {
				t.Run(v.name+"/"+name+"/"+cert.name, func(t *testing.T) {
					clientErr := dial()
					r := <-results
					if cert.leaf != other {
						if r.err != nil || clientErr != nil {
							t.Fatalf("refused: server %v; client %v", r.err, clientErr)
						}
						if r.st.Version != v.want {
							t.Fatalf("version %#x", r.st.Version)
						}
						if got, want := len(r.st.TLS().VerifiedChains) > 0, cert.leaf != nil; got != want {
							t.Fatalf("VerifiedChains %v, want them %v", r.st.TLS().VerifiedChains, want)
						}
						return
					}
					var ve *CertificateVerificationError
					if !errors.As(r.err, &ve) || !ve.Status.Has(CertSignerNotFound|CertInvalid) {
						t.Fatalf("server: %v, want a certificate verification error for an unknown signer", r.err)
					}
					if clientErr == nil && name == "crypto/tls" {
						t.Fatal("the crypto/tls client was served")
					}
					t.Logf("server: %v; client: %v", r.err, clientErr)
				})
			}
		}
	}
}
