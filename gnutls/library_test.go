package gnutls

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	v := Version()
	if v == "" || !strings.HasPrefix(HeaderVersion, v[:strings.LastIndex(v, ".")]) {
		t.Fatalf("Version %q, HeaderVersion %q: not the same minor release", v, HeaderVersion)
	}
}
