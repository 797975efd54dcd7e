package gnutls

import (
	"bufio"
	"strings"
	"testing"
)

func TestConfigEnablesKTLS(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   bool
	}{
		{"[global]\nktls = true\n", true},
		{"[ Global ]\n  KTLS=TRUE  \n", true},
		{"# a comment\n[overrides]\nktls = true\n[global]\noverride-mode = blocklist\n", false},
		{"[global]\n; ktls = true\nktls = false\n", false},
		{"ktls = true\n", false},
		{"", false},
	} {
		if got := configEnablesKTLS(bufio.NewScanner(strings.NewReader(tc.config))); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.config, got, tc.want)
		}
	}
}
