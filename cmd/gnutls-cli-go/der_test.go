package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// writeDER writes b into a file of the test's and returns its path.
func writeDER(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// --x509fmtder reads the CA, CRL, certificate and key files as DER.
func TestX509FmtDER(t *testing.T) {
	ca := writeDER(t, "ca.der", pki.ca.Cert.Raw)
	crlBlock, _ := pem.Decode(pki.ca.CRL(pki.leaf.Cert))
	crl := writeDER(t, "crl.der", crlBlock.Bytes)
	t.Run("CA against gnutls-serv", func(t *testing.T) {
		pt := allPeers[0].start(t)
		r := cli(t, "der\n", "--x509fmtder", "--x509cafile", ca, "-p", pt, "localhost")
		r.ok(t, "Processed 1 CA certificate(s).", "- Status: The certificate is trusted.")
		if r.stdout != "der\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("CRL against openssl s_server", func(t *testing.T) {
		pt := allPeers[1].start(t)
		r := cli(t, "", "--x509fmtder", "--x509cafile", ca, "--x509crlfile", crl, "-p", pt, "localhost")
		r.fails(t, "*** Fatal error: certificate rejected: ", "revoked")
	})
	t.Run("client certificate", func(t *testing.T) {
		pt := goServer(t, &gnutls.Config{ClientAuth: gnutls.RequireAndVerifyClientCert, ClientCAPEM: pki.ca.PEM}, func(c *gnutls.Conn) {
			fmt.Fprintf(c, "client=%s\n", c.ConnectionState().PeerCertificates[0].Subject.CommonName)
			io.Copy(io.Discard, c)
		})
		client := pki.ca.Issue(testpki.Options{}, "client.example")
		key, err := x509.MarshalPKCS8PrivateKey(client.Key)
		if err != nil {
			t.Fatal(err)
		}
		cert, keyFile := writeDER(t, "client.der", client.Cert.Raw), writeDER(t, "client.key.der", key)
		r := cli(t, "", "--x509fmtder", "--x509cafile", ca, "--x509certfile", cert, "--x509keyfile", keyFile, "-p", pt, "localhost")
		r.ok(t, "- Successfully sent 1 certificate(s) to server.")
		if r.stdout != "client=client.example\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("PEM given as DER", func(t *testing.T) {
		r := cli(t, "", "--x509fmtder", "--x509cafile", caFile(t, pki.ca), "localhost")
		r.fails(t, "*** Fatal error: --x509cafile ", "not DER (--x509fmtder)")
	})
	t.Run("certificate given as key", func(t *testing.T) {
		r := cli(t, "", "--x509fmtder", "--x509certfile", ca, "--x509keyfile", ca, "--x509cafile", ca, "localhost")
		r.fails(t, "*** Fatal error: --x509keyfile ", "not DER (--x509fmtder): not a PKCS #8, PKCS #1 or EC private key")
	})
}
