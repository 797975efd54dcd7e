package gnutls

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

func TestVersion(t *testing.T) {
	v := Version()
	if v == "" || !strings.HasPrefix(HeaderVersion, v[:strings.LastIndex(v, ".")]) {
		t.Fatalf("Version %q, HeaderVersion %q: not the same minor release", v, HeaderVersion)
	}
}

func TestParsePriority(t *testing.T) {
	p, err := ParsePriority("NORMAL:-VERS-ALL:+VERS-TLS1.3")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Suites) == 0 || len(p.Protocols) != 1 || p.Protocols[0] != "TLS1.3" {
		t.Fatalf("TLS 1.3 only: suites %v, protocols %v", p.Suites, p.Protocols)
	}
	for _, s := range p.Suites {
		if s.MinVersion != "TLS1.3" || s.ID>>8 != 0x13 || s.KeyExchange != "" {
			t.Errorf("suite %+v is not a TLS 1.3 suite", s)
		}
	}
	if len(p.Groups) == 0 || len(p.Signatures) == 0 || len(p.Ciphers) == 0 || len(p.CertificateTypes) == 0 {
		t.Errorf("empty lists: %+v", p)
	}

	def, err := ParsePriority("")
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Suites) <= len(p.Suites) {
		t.Errorf("the default enables %d suites, TLS 1.3 only %d", len(def.Suites), len(p.Suites))
	}

	_, err = ParsePriority("NORMAL:+NO-SUCH-THING")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), `invalid at "+NO-SUCH-THING"`) {
		t.Fatalf("bad priority: %v", err)
	}
}

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
	cr, err := NewCredentials()
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	if _, err := cr.AddTrustPEM(pki.ca.PEM); err != nil {
		t.Fatal(err)
	}
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
