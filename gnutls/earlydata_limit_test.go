package gnutls

import (
	"bytes"
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
// and math.MaxUint32 before; earlyDataLimitTrusted follows what it reports.
func TestEarlyDataLimitTrusted(t *testing.T) {
	s, err := NewSession(InitClient)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fresh, trusted := s.MaxEarlyDataSize(), earlyDataLimitTrusted()
	switch {
	case fresh == 0 && trusted, fresh == math.MaxUint32 && !trusted:
	default:
		t.Fatalf("GnuTLS %s: a new client session reports %d, trusted %v", Version(), fresh, trusted)
	}
	if versionAtLeast(t, 3, 8, 9) && !trusted {
		t.Fatalf("GnuTLS %s: the limit is not trusted, but 3.8.9 starts client sessions at 0", Version())
	}
	t.Logf("GnuTLS %s: a new client session reports %d, trusted %v", Version(), fresh, trusted)
}

// A ticket allowing math.MaxUint32 bytes of early data. From GnuTLS 3.8.9
// the client offers the data on it and the server accepts. Before, that
// limit looks like a ticket without the early_data extension, so the data
// follows the handshake instead, still exactly once.
func TestEarlyDataTicketAllowsMaxUint32(t *testing.T) {
	sc := serverConfig()
	sc.MaxEarlyData = math.MaxUint32
	addr, seen := earlyServer(t, sc)
	cfg := clientConfig()
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	cfg.EarlyData = []byte("early line\n")
	dialEarly(t, addr, cfg)
	if rec := <-seen; rec.err != nil {
		t.Fatalf("server, first connection: %v", rec.err)
	}

	st := dialEarly(t, addr, cfg)
	rec := <-seen
	want := versionAtLeast(t, 3, 8, 9) || earlyDataLimitTrusted()
	if !st.DidResume || st.EarlyData.Offered != want || st.EarlyData.Accepted != want || st.EarlyData.Resent {
		t.Fatalf("GnuTLS %s: resumed %v, early data %+v, want offered and accepted %v", Version(), st.DidResume, st.EarlyData, want)
	}
	if rec.err != nil || (len(rec.early) != 0) != want || (want && !bytes.Equal(rec.early, cfg.EarlyData)) {
		t.Fatalf("server: early data %q, err %v", rec.early, rec.err)
	}
}
