package gnutls

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// refusedFor is the status bit each refused case must carry.
var refusedFor = map[string]CertStatus{
	testpki.CaseExpired:             CertExpired,
	testpki.CaseNotYetValid:         CertNotActivated,
	testpki.CaseWrongHost:           CertUnexpectedOwner,
	testpki.CaseSelfSigned:          CertSignerNotFound,
	testpki.CaseUntrustedRoot:       CertSignerNotFound,
	testpki.CaseRevoked:             CertRevoked,
	testpki.CaseClientOnlyEKU:       CertPurposeMismatch,
	testpki.CaseMissingIntermediate: CertSignerNotFound,
}

// certServers start a server presenting leaf and return its address.
var certServers = []struct {
	name  string
	start func(t *testing.T, leaf *testpki.Leaf) string
}{
	{"crypto/tls", func(t *testing.T, leaf *testpki.Leaf) string {
		return goTLSServer(t, func(c *tls.Config) { c.Certificates = []tls.Certificate{leaf.TLS} })
	}},
	{"gnutls-serv", func(t *testing.T, leaf *testpki.Leaf) string {
		return peers.GnutlsServ(t, pki.ca, leaf).Addr
	}},
}

// Every certificate a client must refuse is refused by default, with an
// error naming the reason; InsecureSkipVerify is the only way past, and
// the valid controls pass.
func TestVerifyRefuses(t *testing.T) {
	cases := testpki.Cases(testpki.NewCA("go-gnutls verify CA"), "localhost")
	for _, srv := range certServers {
		t.Run(srv.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.Name, func(t *testing.T) {
					addr := srv.start(t, tc.Leaf)
					checkLeaks(t)
					cfg := &Config{ServerName: "localhost", RootCAPEM: tc.Trust, CRLPEM: tc.CRL}
					c, err := Dial("tcp", addr, cfg)
					if tc.Valid {
						if err != nil {
							t.Fatalf("valid certificate refused: %v", err)
						}
						defer c.Close()
						echo(t, c, "valid\n")
						return
					}
					if err == nil {
						c.Close()
						t.Fatal("certificate accepted")
					}
					want := refusedFor[tc.Name]
					var ve *CertificateVerificationError
					if !errors.As(err, &ve) || !errors.Is(err, ErrCertificateVerification) {
						t.Fatalf("error is not a certificate verification error: %v", err)
					}
					if !ve.Status.Has(want | CertInvalid) {
						t.Fatalf("status %#x (%v), want %#x (%v) set", uint32(ve.Status), ve.Status, uint32(want), want)
					}
					if !strings.Contains(err.Error(), want.String()) && !strings.Contains(err.Error(), ve.Reason) {
						t.Errorf("error %q does not give the reason", err)
					}
					t.Logf("%s: %v", tc.Name, err)
					insecure := cfg.Clone()
					insecure.InsecureSkipVerify = true
					c, err = Dial("tcp", addr, insecure)
					if err != nil {
						t.Fatalf("InsecureSkipVerify: %v", err)
					}
					defer c.Close()
					if st := c.ConnectionState().VerifyStatus; st != 0 {
						t.Errorf("InsecureSkipVerify still reports status %v", st)
					}
					echo(t, c, "insecure\n")
				})
			}
		})
	}
}
