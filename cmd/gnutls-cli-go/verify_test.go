package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// refusedSays is what the command's last line says for each refused case.
var refusedSays = map[string]string{
	testpki.CaseExpired:             "expired certificate",
	testpki.CaseNotYetValid:         "not yet valid certificate",
	testpki.CaseWrongHost:           "The name in the certificate does not match",
	testpki.CaseSelfSigned:          "The certificate issuer is unknown",
	testpki.CaseUntrustedRoot:       "The certificate issuer is unknown",
	testpki.CaseRevoked:             "revoked",
	testpki.CaseClientOnlyEKU:       "does not match the intended purpose",
	testpki.CaseMissingIntermediate: "The certificate issuer is unknown",
}

// Every certificate a client must refuse makes the command fail, saying
// why, with no data through; --insecure alone lets it through.
func TestVerifyCases(t *testing.T) {
	for _, tc := range testpki.Cases(testpki.NewCA("gnutls-cli-go verify CA"), "localhost") {
		t.Run(tc.Name, func(t *testing.T) {
			pt := port(peers.GnutlsServ(t, pki.ca, tc.Leaf, "--disable-client-cert").Addr)
			dir := t.TempDir()
			ca := filepath.Join(dir, "trust.pem")
			args := []string{"--x509cafile", ca, "-p", pt}
			files := map[string][]byte{ca: tc.Trust}
			if tc.CRL != nil {
				crl := filepath.Join(dir, "crl.pem")
				files[crl] = tc.CRL
				args = append(args, "--x509crlfile", crl)
			}
			for name, data := range files {
				if err := os.WriteFile(name, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := cli(t, "through\n", append(args, "localhost")...)
			if tc.Valid {
				r.ok(t, "- Status: The certificate is trusted.")
				if r.stdout != "through\n" {
					t.Errorf("stdout %q", r.stdout)
				}
				return
			}
			r.fails(t, "*** Fatal error: ", "certificate rejected: ", refusedSays[tc.Name])
			if r.stdout != "" {
				t.Errorf("data went through a rejected connection: %q", r.stdout)
			}
			r = cli(t, "through\n", append(append([]string{"--insecure"}, args...), "localhost")...)
			r.ok(t, "*** PKI verification of server certificate failed; continuing because of --insecure")
			if r.stdout != "through\n" {
				t.Errorf("--insecure: stdout %q", r.stdout)
			}
		})
	}
}
