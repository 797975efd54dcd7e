package gnutls

import (
	"errors"
	"slices"
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

// A Config parses its priority string once; every session it makes shares
// the result and negotiates under it.
func TestConfigPriorityShared(t *testing.T) {
	c := &Config{InsecureSkipVerify: true, Priority: "NORMAL:-VERS-ALL:+VERS-TLS1.2"}
	var first *priorityCache
	for i := range 3 {
		s, err := c.newSession(true, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		if v := s.Version(); v != 0x0303 {
			t.Errorf("session %d: version before the handshake %#x, want TLS 1.2 (0x0303)", i, v)
		}
		s.Close()
		pc, _ := c.priorities()
		if first == nil {
			first = pc
		} else if pc != first {
			t.Errorf("session %d: priorities parsed again", i)
		}
	}

	for _, tc := range []struct{ priority, want string }{
		{"NORMAL:+NO-SUCH-THING", `invalid at "+NO-SUCH-THING"`},
		{"NONE", `priority "NONE"`},
		{"NORMAL\x00:+VERS-SSL3.0", "NUL"},
	} {
		c := &Config{InsecureSkipVerify: true, Priority: tc.priority}
		for range 2 { // the error is kept, not just returned once
			s, err := c.newSession(true, "example.com")
			if err == nil {
				s.Close()
				t.Fatalf("priority %q accepted", tc.priority)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("priority %q: %v, want it to say %s", tc.priority, err, tc.want)
			}
		}
	}
}

// What a priority string enables is among what GnuTLS supports.
func TestSupportedAlgorithms(t *testing.T) {
	all := SupportedAlgorithms()
	p, err := ParsePriority("NORMAL")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range all.Suites {
		have[s.Name] = true
	}
	for _, s := range p.Suites {
		if !have[s.Name] {
			t.Errorf("NORMAL enables %s, which SupportedAlgorithms lacks", s.Name)
		}
	}
	if len(all.Suites) <= len(p.Suites) || !slices.Contains(all.Protocols, "TLS1.3") || !slices.Contains(all.Digests, "SHA256") ||
		!slices.Contains(all.PublicKeys, "EC/ECDSA") || !slices.Contains(all.Compression, "NULL") {
		t.Errorf("SupportedAlgorithms: %+v", all)
	}
}
