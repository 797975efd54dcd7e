package gnutls

import (
	"math"
	"testing"
)

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
	if checkVersion("3.8.9") == nil {
		want = 0
	}
	if fresh != want {
		t.Fatalf("GnuTLS %s: a new client session reports %d, want %d", Version(), fresh, want)
	}
}
