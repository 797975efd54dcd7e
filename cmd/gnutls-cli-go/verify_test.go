package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
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

// A rejected certificate is shown as gnutls-cli shows it, from the same
// server: the chain, the leaf's one-line description (with -V the whole
// certificate with its dates), and the status.
func TestRejectedChainLikeGnutlsCli(t *testing.T) {
	ref := testenv.LookPath(t, "gnutls-cli")
	pt := port(peers.GnutlsServ(t, pki.ca, pki.leaf, "--disable-client-cert").Addr)
	shared := []string{"- Certificate type:", "- Got a certificate list", "- Certificate[", " - subject ", " - X.509 Certificate Information:", "\tNot Before:", "\tNot After:",
		"\tSubject:", "\tIssuer:", "- Status:", "*** PKI verification of server certificate failed"}
	pick := func(out string) []string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimRight(l, " ")
			for _, p := range shared {
				if strings.HasPrefix(l, p) {
					lines = append(lines, l)
				}
			}
		}
		return lines
	}
	for _, verbose := range []bool{false, true} {
		args := []string{"--x509cafile", caFile(t, pki.other), "-p", pt, "localhost"}
		if verbose {
			args = append([]string{"-V"}, args...)
		}
		cmd := exec.Command(ref, args...)
		cmd.Stdin = strings.NewReader("")
		want, err := cmd.Output() // gnutls-cli prints its report on stdout
		if err == nil {
			t.Fatalf("gnutls-cli accepted the certificate:\n%s", want)
		}
		got := cli(t, "", args...)
		got.fails(t, "*** Fatal error: ", "certificate rejected: ", "The certificate issuer is unknown")
		w, g := pick(string(want)), pick(got.stderr)
		if strings.Join(g, "\n") != strings.Join(w, "\n") || len(w) < 6 {
			t.Errorf("-V %v: rejected chain differs from gnutls-cli's:\n%s\nwant:\n%s", verbose, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
}
