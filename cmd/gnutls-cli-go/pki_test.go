package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// stapling starts openssl s_server presenting leaf and stapling a
// response of the given status for it, or nothing when status is "".
func stapling(t *testing.T, leaf *testpki.Leaf, status string) (pt string, staple []byte) {
	t.Helper()
	testenv.LookPath(t, "openssl")
	extra := []string{"-quiet"}
	if status != "" {
		var err error
		if staple, err = pki.ca.OCSPResponse(leaf.Cert, testpki.OCSPRequest{Status: status}); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "staple.der")
		if err := os.WriteFile(f, staple, 0o600); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "-status_file", f)
	}
	return port(peers.OpenSSL(t, pki.ca, leaf, extra...).Addr), staple
}

// gnutlsCLI runs GnuTLS's gnutls-cli with the same arguments, to compare
// the lines both print.
func gnutlsCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := exec.Command(testenv.LookPath(t, "gnutls-cli"), args...).CombinedOutput()
	return string(out)
}

// --save-ocsp writes the stapled response, or leaves the file empty and
// says so in gnutls-cli's words.
func TestSaveOCSP(t *testing.T) {
	ca := caFile(t, pki.ca)
	for _, status := range []string{testpki.OCSPGood, ""} {
		pt, staple := stapling(t, pki.leaf, status)
		saved := filepath.Join(t.TempDir(), "ocsp.der")
		args := []string{"--x509cafile", ca, "-p", pt, "--save-ocsp", saved, "localhost"}
		r := cli(t, "", args...)
		r.ok(t)
		got, err := os.ReadFile(saved)
		if err != nil || !bytes.Equal(got, staple) {
			t.Fatalf("staple %q: saved %d bytes (%v), want %d", status, len(got), err, len(staple))
		}
		const none = "no OCSP response for certificate 0\n"
		if status == "" {
			r.has(t, none)
			if !strings.Contains(gnutlsCLI(t, args...), none) {
				t.Errorf("gnutls-cli does not say %q", none)
			}
		} else if strings.Contains(r.stderr, none) {
			t.Errorf("stderr says %q", none)
		}
	}
}

// --ocsp goes on with a verified staple; without one it asks the
// responder the certificate names (openssl ocsp), and fails when it says
// revoked or there is none, in gnutls-cli's lines.
func TestOCSPOption(t *testing.T) {
	ca := caFile(t, pki.ca)
	pt, _ := stapling(t, pki.leaf, testpki.OCSPGood)
	args := []string{"--x509cafile", ca, "-p", pt, "--ocsp", "-V", "localhost"}
	r := cli(t, "", args...)
	verbose := []string{"OCSP Response Information:\n", "\tResponse Status: Successful\n", "\t\tCertificate Status: good\n"}
	r.ok(t, verbose...)
	theirs := gnutlsCLI(t, args...)
	for _, l := range verbose {
		if !strings.Contains(theirs, l) {
			t.Errorf("gnutls-cli -V does not say %q", l)
		}
	}
	if strings.Contains(r.stderr, "Connecting to OCSP server") {
		t.Error("asked the responder despite a verified staple")
	}
	pt, _ = stapling(t, pki.leaf, testpki.OCSPRevoked)
	cli(t, "", "--x509cafile", ca, "-p", pt, "--ocsp", "localhost").fails(t, "*** Fatal error: ", "certificate rejected", "revoked")

	const failed = "*** Verifying (with OCSP) server certificate chain failed...\n"
	for _, c := range []struct {
		name     string
		status   string // what the responder says; "" for none named
		lines    []string
		verified bool
	}{
		{"no responder named", "", []string{"*** Cannot find OCSP server URI in certificate: The requested data were not available.\n", failed}, false},
		{"responder says good", testpki.OCSPGood, []string{"Connecting to OCSP server: 127.0.0.1...\n", "- OCSP server flags certificate not revoked as of ", "*** OCSP: verified 1 certificate(s).\n"}, true},
		{"responder says revoked", testpki.OCSPRevoked, []string{"*** Certificate was revoked at ", failed}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			leaf := pki.leaf
			if c.status != "" {
				rp := peers.FreePort(t)
				leaf = pki.ca.Issue(testpki.Options{OCSPServer: []string{"http://127.0.0.1:" + strconv.Itoa(rp) + "/"}}, "localhost")
				peers.OCSPResponder(t, pki.ca, leaf.Cert, testpki.OCSPRequest{Status: c.status}, rp)
			}
			pt, _ := stapling(t, leaf, "")
			args := []string{"--x509cafile", ca, "-p", pt, "--ocsp", "localhost"}
			r := cli(t, "", args...)
			if c.verified {
				r.ok(t, c.lines...)
			} else {
				r.has(t, c.lines...)
				r.fails(t, "*** Fatal error: ", "--ocsp")
			}
			theirs := gnutlsCLI(t, args...)
			for _, l := range c.lines {
				if !strings.Contains(theirs, l) {
					t.Errorf("gnutls-cli does not say %q:\n%s", l, theirs)
				}
			}
		})
	}
}

// A client certificate and key in a PKCS#11 token, given as pkcs11: URLs
// with the PIN in GNUTLS_PIN, are accepted by an openssl s_server that
// requires a client certificate; a wrong or missing PIN fails before
// connecting, and the PIN shows nowhere.
func TestTokenClientCertificate(t *testing.T) {
	testenv.LookPath(t, "softhsm2-util")
	testenv.LookPath(t, "p11tool")
	hsm, err := testpki.NewSoftHSM(t.TempDir(), "cli")
	if err != nil {
		t.Fatal(err)
	}
	client := pki.ca.Issue(testpki.Options{}, "token client")
	certURL, keyURL, err := hsm.Import("cli", "client", client)
	if err != nil {
		t.Fatal(err)
	}
	ca := caFile(t, pki.ca)
	srv := peers.OpenSSL(t, pki.ca, pki.leaf, "-quiet", "-Verify", "1", "-CAfile", ca)
	run := func(pin string, args ...string) result {
		cmd := exec.Command(bin, append([]string{"--x509cafile", ca, "-p", port(srv.Addr)}, append(args, "localhost")...)...)
		cmd.Env = hsm.Env()
		if pin != "" {
			cmd.Env = append(cmd.Env, "GNUTLS_PIN="+pin)
		}
		return runCmd(t, cmd, "hello\n", nil)
	}
	r := run(testpki.TokenPIN, "--x509certfile", certURL, "--x509keyfile", keyURL)
	r.ok(t, "- Successfully sent 1 certificate(s) to server.\n")
	if r.stdout != peers.Reverse("hello")+"\n" {
		t.Errorf("stdout %q", r.stdout)
	}

	const wrong = "31337"
	r = run(wrong, "--x509certfile", certURL, "--x509keyfile", keyURL)
	r.fails(t, "*** Fatal error: ", "--x509keyfile", "the token refused the PIN")
	r = run("", "--x509certfile", certURL, "--x509keyfile", keyURL+"?pin-value="+wrong)
	r.fails(t, "*** Fatal error: ", "pin-value=REDACTED")
	if strings.Contains(r.stderr+r.stdout, wrong) {
		t.Errorf("the PIN shows in the output")
	}
	run("", "--x509certfile", certURL, "--x509keyfile", keyURL).fails(t, "*** Fatal error: ", "no PIN given (set GNUTLS_PIN)")
}
