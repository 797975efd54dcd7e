package gnutls

import (
	"fmt"
	"math"
	"testing"
)

// versionAtLeast reports whether the GnuTLS linked at run time is at least
// major.minor.patch.
func versionAtLeast(t *testing.T, major, minor, patch int) bool {
	t.Helper()
	var v [3]int
	if _, err := fmt.Sscanf(Version(), "%d.%d.%d", &v[0], &v[1], &v[2]); err != nil {
		t.Fatalf("GnuTLS version %q: %v", Version(), err)
	}
	for i, w := range [3]int{major, minor, patch} {
		if v[i] != w {
			return v[i] > w
		}
	}
	return true
}

// A new client session reports 0 as its early data limit from GnuTLS 3.8.9
// and math.MaxUint32 before, which is why a client decides from the ticket
// itself (resumption.go) and never from this number.
func TestEarlyDataLimitByVersion(t *testing.T) {
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh := s.MaxEarlyDataSize()
	want := uint32(math.MaxUint32)
	if versionAtLeast(t, 3, 8, 9) {
		want = 0
	}
	if fresh != want {
		t.Fatalf("GnuTLS %s: a new client session reports %d, want %d", Version(), fresh, want)
	}
}
