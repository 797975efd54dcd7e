package gnutls

import (
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
	cr := caCredentials(t)
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
