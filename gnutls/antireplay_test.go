package gnutls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// mapReplayStore is an AntiReplayStore in a map, shared by the servers of
// a test; delay, when set, is how long Add takes, ignoring its context;
// fail makes it fail.
type mapReplayStore struct {
	mu    sync.Mutex
	seen  map[string]time.Duration
	delay time.Duration
	fail  error
}

func (s *mapReplayStore) Add(ctx context.Context, key []byte, ttl time.Duration) (bool, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, s.fail
	}
	if s.seen == nil {
		s.seen = map[string]time.Duration{}
	}
	if _, ok := s.seen[string(key)]; ok {
		return false, nil
	}
	s.seen[string(key)] = ttl
	return true, nil
}

// fleetEarlyServers starts n early data servers sharing a ticket key and
// store; each has served one connection, so that its anti-replay window
// began before the test's tickets are issued (GnuTLS refuses early data
// of older tickets).
func fleetEarlyServers(t *testing.T, n int, store AntiReplayStore, adjust func(*Config)) (addrs []string, seen []<-chan earlyConn) {
	t.Helper()
	key := newTicketKey32(t)
	for range n {
		sc := earlyServerConfig()
		sc.SetSessionTicketKeys([][32]byte{key})
		sc.AntiReplay = store
		if adjust != nil {
			adjust(sc)
		}
		addr, ch := earlyServer(t, sc)
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			t.Fatal(err)
		}
		echo(t, c, "warm")
		c.Close()
		<-ch
		addrs, seen = append(addrs, addr), append(seen, ch)
	}
	return addrs, seen
}

// recordFlight makes a 0-RTT connection to addr through a recorder and
// returns its first flight, checking that the server accepted the early
// data.
func recordFlight(t *testing.T, addr string, cfg *Config, req []byte, seen <-chan earlyConn) []byte {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &flightRecorder{Conn: nc}
	c := ClientEarly(rec, cfg)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(req))
	if _, err := io.ReadFull(c, got); err != nil || !c.ConnectionState().EarlyData.Accepted {
		t.Fatalf("recorded connection: %v, early data %v", err, c.ConnectionState().EarlyData)
	}
	c.Close()
	if r := <-seen; !bytes.Equal(r.early, req) {
		t.Fatalf("server, recorded connection: early data %q", r.early)
	}
	return rec.flight.Bytes()
}

// With a shared AntiReplayStore, a first flight recorded at one server
// and replayed to the others of the fleet is refused its early data
// everywhere, while a genuine 0-RTT connection to another server is
// accepted.
func TestAntiReplayStoreFleet(t *testing.T) {
	checkLeaks(t)
	store := &mapReplayStore{}
	addrs, seen := fleetEarlyServers(t, 3, store, nil)
	cfg := clientConfig()
	cfg.ClientSessionCache = &oneSessionCache{}
	req := []byte("idempotent request\n")
	dialEarly(t, addrs[0], cfg, req) // a ticket
	<-seen[0]
	flight := recordFlight(t, addrs[0], cfg, req, seen[0])

	for i := range addrs {
		replayFlight(t, addrs[i], flight)
		if r := <-seen[i]; len(r.early) != 0 || r.state.EarlyDataAccepted {
			t.Errorf("server %d accepted a replayed first flight's early data %q", i, r.early)
		}
	}
	st := dialEarly(t, addrs[1], cfg, req)
	if r := <-seen[1]; !st.EarlyData.Accepted || !bytes.Equal(r.early, req) {
		t.Errorf("genuine 0-RTT at another server: %v, server read %q", st.EarlyData, r.early)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for k, ttl := range store.seen {
		if ttl != 2*DefaultEarlyDataWindow || len(k) < 32 {
			t.Errorf("stored a %d-byte key for %v, want a binder for %v", len(k), ttl, 2*DefaultEarlyDataWindow)
		}
	}
}

// A store that fails, or answers after AntiReplayTimeout (ignoring its
// context), costs the early data, not the handshake, and nobody waits
// longer than the bound.
func TestAntiReplayStoreFailing(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name  string
		store *mapReplayStore
	}{
		{"failing", &mapReplayStore{fail: errors.New("store down")}},
		{"slow", &mapReplayStore{delay: 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const bound = 100 * time.Millisecond
			addrs, seen := fleetEarlyServers(t, 1, tc.store, func(sc *Config) { sc.AntiReplayTimeout = bound })
			cfg := clientConfig()
			cfg.ClientSessionCache = &oneSessionCache{}
			req := []byte("request\n")
			dialEarly(t, addrs[0], cfg, req)
			<-seen[0]
			for i := 0; i < 2; i++ {
				start := time.Now()
				st := dialEarly(t, addrs[0], cfg, req)
				took := time.Since(start)
				r := <-seen[0]
				if !st.DidResume || st.EarlyData.Accepted || !st.EarlyData.Resent || len(r.early) != 0 {
					t.Errorf("resumed %v, early data %v, server read early %q: want resumed, refused and sent again", st.DidResume, st.EarlyData, r.early)
				}
				if took > bound+time.Second {
					t.Errorf("the connection took %v with a store bound of %v", took, bound)
				}
			}
		})
	}
}
