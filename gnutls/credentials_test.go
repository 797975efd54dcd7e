package gnutls

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

func TestDescribeCertificate(t *testing.T) {
	line, err := DescribeCertificate(pki.leaf.Cert.Raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "issuer `CN=go-gnutls test CA") || strings.Contains(line, "\n") {
		t.Fatalf("one line: %q", line)
	}
	full, err := DescribeCertificate(pki.leaf.Cert.Raw, true)
	if err != nil || !strings.Contains(full, "Subject Alternative Name") {
		t.Fatalf("full: %v %q", err, full)
	}
	if _, err := DescribeCertificate([]byte("not DER"), false); err == nil {
		t.Fatal("garbage described without an error")
	}
}

func TestVerifyChain(t *testing.T) {
	cr := trustingCredentials(t)
	chain := [][]byte{pki.leaf.Cert.Raw}
	for _, tc := range []struct {
		name string
		want CertStatus
	}{{"localhost", 0}, {"127.0.0.1", 0}, {"", 0}, {"other.example", CertInvalid | CertUnexpectedOwner}} {
		if st, err := cr.VerifyChain(chain, tc.name); err != nil || st != tc.want {
			t.Errorf("%q: status %v (%#x), %v; want %#x", tc.name, st, uint32(st), err, uint32(tc.want))
		}
	}
	other := testpki.NewCA("unrelated CA").Issue(testpki.Options{}, "localhost")
	if st, err := cr.VerifyChain([][]byte{other.Cert.Raw}, "localhost"); err != nil || !st.Has(CertSignerNotFound) {
		t.Errorf("unknown issuer: status %v, %v", st, err)
	}
	if _, err := cr.VerifyChain([][]byte{[]byte("junk")}, ""); err == nil {
		t.Error("junk verified without an error")
	}
	if _, err := cr.VerifyChain(nil, ""); err == nil {
		t.Error("an empty chain verified without an error")
	}
}

// Loading files: a missing one says why as the OS does (fs.ErrNotExist),
// inputs given the wrong way round say they may have been switched, and
// files that are right load.
func TestCredentialsFileErrors(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	caFile, certFile, keyFile, err := testpki.Files(dir, pki.ca, pki.leaf)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	notExist := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "open "+missing+": no such file or directory") {
			t.Errorf("%s of a missing file: got %v, want the OS's reason", what, err)
		}
	}
	_, err = cr.AddTrustFile(missing)
	notExist("AddTrustFile", err)
	_, err = cr.AddCRLFile(missing)
	notExist("AddCRLFile", err)
	notExist("AddKeyPairFiles", cr.AddKeyPairFiles(missing, keyFile))
	notExist("AddKeyPairFiles", cr.AddKeyPairFiles(certFile, missing))
	_, err = Dial("tcp", echoListener(t, serverConfig()), &Config{ServerName: "localhost", RootCAFile: missing})
	notExist("Dial with RootCAFile", err)

	for _, c := range []struct{ cert, key, want string }{
		{keyFile, keyFile, "found a private key and no certificate in the certificate input"},
		{keyFile, certFile, "found a private key and no certificate in the certificate input"},
		{certFile, certFile, "found a certificate and no private key in the key input"},
	} {
		err := cr.AddKeyPairFiles(c.cert, c.key)
		if !errors.Is(err, ErrKeyPairSwitched) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "may have been switched") {
			t.Errorf("AddKeyPairFiles(%s, %s): got %v, want %q", filepath.Base(c.cert), filepath.Base(c.key), err, c.want)
		}
	}
	if err := cr.AddKeyPairPEM(pki.leaf.KeyPEM, pki.leaf.CertPEM); !errors.Is(err, ErrKeyPairSwitched) {
		t.Errorf("AddKeyPairPEM switched: got %v", err)
	}

	if n, err := cr.AddTrustFile(caFile); err != nil || n != 1 {
		t.Errorf("AddTrustFile: %d, %v", n, err)
	}
	if err := cr.AddKeyPairFiles(certFile, keyFile); err != nil {
		t.Errorf("AddKeyPairFiles: %v", err)
	}
}
