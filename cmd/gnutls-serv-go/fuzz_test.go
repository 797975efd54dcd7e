package main

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/cliopts"
)

// FuzzParseArgs: any command line is parsed or refused with a usage
// error; none panics.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"--echo -p 0", "-p", "-ra --x509certfile c --x509keyfile k", "--maxearlydata=99999999999 --earlydata", "--listen ::1 --redis h:1", "--redis rediss://u@h:1/2?skip_verify=1 --redis-ca-file c", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseArgs(strings.Fields(s))
		var ue *cliopts.UsageError
		if err != nil && !errors.As(err, &ue) {
			t.Fatalf("%q: %v is not a usage error", s, err)
		}
		if err == nil && o == nil {
			t.Fatalf("%q: no options and no error", s)
		}
	})
}

// FuzzTicketKeys: a --ticket-key-file gives 32-byte keys, one for each
// line holding one, or an error naming the file; none panics.
func FuzzTicketKeys(f *testing.F) {
	f.Add([]byte(base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n# old\n\n"))
	f.Add([]byte("c2hvcnQ=\n"))
	f.Add([]byte(strings.Repeat("A", 60)))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseTicketKeys("keys", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--ticket-key-file keys: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(keys) == 0 || len(keys) > strings.Count(string(b), "\n")+1 {
			t.Fatalf("%d keys from %d lines", len(keys), strings.Count(string(b), "\n")+1)
		}
	})
}

// FuzzPSKPasswd: a --pskpasswd file gives non-empty keys under non-empty
// identities, or an error naming the file.
func FuzzPSKPasswd(f *testing.F) {
	f.Add([]byte("alice:00ff\nbob:0102\n"))
	f.Add([]byte("alice:xyz\n"))
	f.Add([]byte(":00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parsePSKPasswd("psk", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--pskpasswd psk: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for id, k := range keys {
			if id == "" || len(k) == 0 {
				t.Fatalf("identity %q with a %d-byte key", id, len(k))
			}
		}
	})
}
