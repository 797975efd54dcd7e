package gnutls

import (
	"errors"
	"strings"
	"testing"
)

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
