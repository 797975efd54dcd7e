package gnutls

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	v := Version()
	if v == "" || !strings.HasPrefix(HeaderVersion, v[:strings.LastIndex(v, ".")]) {
		t.Fatalf("Version %q, HeaderVersion %q: not the same minor release", v, HeaderVersion)
	}
}

// The oldest supported version is one in the header's number, its string,
// its #error message and the run-time check, which accepts the linked
// library and refuses when the minimum is above it.
func TestMinVersion(t *testing.T) {
	var major, minor, patch int
	if _, err := fmt.Sscanf(MinVersion, "%d.%d.%d", &major, &minor, &patch); err != nil {
		t.Fatalf("MinVersion %q: %v", MinVersion, err)
	}
	if n := major<<16 | minor<<8 | patch; n != minVersionNumber {
		t.Fatalf("MinVersion %q is %#06x, GO_GNUTLS_MIN_VERSION_NUMBER %#06x", MinVersion, n, minVersionNumber)
	}
	h, err := os.ReadFile("../include/go_gnutls.h")
	if err != nil {
		t.Fatal(err)
	}
	if want := "needs GnuTLS " + MinVersion + " or newer"; !strings.Contains(string(h), want) {
		t.Fatalf("include/go_gnutls.h has no #error saying %q", want)
	}
	if err := libraryVersionError(); err != nil {
		t.Fatalf("GnuTLS %s refused: %v", Version(), err)
	}
	err = checkVersion("99.0.0")
	if !errors.Is(err, ErrLibraryVersion) || !strings.Contains(err.Error(), Version()) {
		t.Fatalf("checkVersion(99.0.0) with GnuTLS %s: %v", Version(), err)
	}
}
