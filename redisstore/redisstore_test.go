package redisstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/live"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// Add is SET NX with an expiry, under the Store's prefix.
func TestStoreAdd(t *testing.T) {
	// A Timeout that a loaded machine cannot reach: the test is about
	// what Add stores.
	s, client, _ := redisStore(t, Options{Prefix: "a:", Timeout: 10 * time.Second})
	other := New(client, Options{Prefix: "b:"})
	ctx := context.Background()
	key := []byte("binder \x00\xff")
	for i, want := range []bool{true, false, false} {
		if fresh, err := s.Add(ctx, key, 200*time.Millisecond); err != nil || fresh != want {
			t.Fatalf("Add %d: %v, %v; want %v", i, fresh, err, want)
		}
	}
	if fresh, err := other.Add(ctx, key, time.Second); err != nil || !fresh {
		t.Errorf("another prefix: %v, %v", fresh, err)
	}
	ttl, err := client.PTTL(ctx, s.replayKey(key)).Result()
	if err != nil || ttl <= 0 || ttl > 200*time.Millisecond {
		t.Errorf("PTTL %v, %v; want up to 200ms", ttl, err)
	}
	time.Sleep(300 * time.Millisecond)
	if fresh, err := s.Add(ctx, key, time.Second); err != nil || !fresh {
		t.Errorf("after the expiry: %v, %v", fresh, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Add(cancelled, []byte("other"), time.Second); err == nil {
		t.Error("Add with a cancelled context succeeded")
	}
}

// Sessions are kept until their expiry; what is not a string reads as
// nothing.
func TestStoreSessions(t *testing.T) {
	s, client, _ := redisStore(t, Options{Prefix: "p:", Timeout: 10 * time.Second})
	ctx := context.Background()
	s.Put("id\x00", []byte("sealed"), time.Now().Add(time.Minute))
	if got, ok := s.Get("id\x00"); !ok || string(got) != "sealed" {
		t.Fatalf("Get = %q, %v", got, ok)
	}
	if ttl := client.TTL(ctx, s.sessionKey("id\x00")).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v, want up to a minute", ttl)
	}
	s.Delete("id\x00")
	if _, ok := s.Get("id\x00"); ok {
		t.Error("a deleted session was returned")
	}
	s.Put("old", []byte("x"), time.Now().Add(-time.Second))
	if n := client.Exists(ctx, s.sessionKey("old")).Val(); n != 0 {
		t.Error("an expired session was stored")
	}
	client.RPush(ctx, s.sessionKey("list"), "a")
	if got, ok := s.Get("list"); ok {
		t.Errorf("a list read as a session: %q", got)
	}
}

// Report hears of every command: nil while Redis answers, for a session
// it does not hold too; an error for an error reply, a Redis that hangs
// and one that is gone.
func TestStoreReport(t *testing.T) {
	var mu sync.Mutex
	var reports []error
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, err)
	}
	// take returns the reports since the last call.
	take := func() []error {
		mu.Lock()
		defer mu.Unlock()
		r := reports
		reports = nil
		return r
	}
	const timeout = time.Second
	s, client, srv := redisStore(t, Options{Prefix: "r:", Timeout: timeout, Report: report})
	ctx := context.Background()
	s.Add(ctx, []byte("key"), time.Minute)
	s.Put("id", []byte("sealed"), time.Now().Add(time.Minute))
	s.Get("id")
	s.Get("absent")
	s.Delete("id")
	if r := take(); len(r) != 5 || slices.ContainsFunc(r, func(err error) bool { return err != nil }) {
		t.Errorf("five commands Redis answered: reports %v", r)
	}
	if err := client.RPush(ctx, s.sessionKey("list"), "a").Err(); err != nil {
		t.Fatal(err)
	}
	s.Get("list")
	if r := take(); len(r) != 1 || r[0] == nil || !strings.Contains(r[0].Error(), "WRONGTYPE") {
		t.Errorf("a session key holding a list: reports %v", r)
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Get("id")
	took := time.Since(start)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if r := take(); len(r) != 1 || !errors.Is(r[0], context.DeadlineExceeded) || took < timeout {
		t.Errorf("Redis hanging: reports %v after %v, want a deadline exceeded after %v", r, took, timeout)
	}
	srv.Stop()
	if _, err := s.Add(ctx, []byte("other"), time.Minute); err == nil {
		t.Error("Add succeeded with Redis gone")
	}
	if r := take(); len(r) != 1 || r[0] == nil {
		t.Errorf("Redis gone: reports %v", r)
	}
}

// Three servers sharing ticket keys and a Store: a client resumes at each
// (TLS 1.3 tickets, and TLS 1.2 session IDs from Redis), a recorded first
// flight replayed to each is refused its early data, genuine 0-RTT at the
// others is accepted, and Redis holds no session in clear.
func TestFleet(t *testing.T) {
	live.Check(t)
	store, client, _ := redisStore(t, Options{Prefix: "fleet:", Timeout: 10 * time.Second})
	keys := [][32]byte{newKey()}
	var addrs []string
	var seen []<-chan served
	for range 3 {
		a, ch := fleetServer(t, fleetConfig(keys, store))
		addrs, seen = append(addrs, a), append(seen, ch)
	}
	cc := clientConfig()
	req := []byte("GET / HTTP/1.1\r\n\r\n")
	if st, _ := dial(t, addrs[0], cc, req, seen[0]); st.DidResume {
		t.Fatal("the first connection resumed")
	}
	flight := recordFlight(t, addrs[0], cc, req, seen[0])
	for i := range addrs {
		if s := replay(t, addrs[i], flight, seen[i]); len(s.early) != 0 {
			t.Errorf("server %d accepted a replayed flight's early data %q", i, s.early)
		}
	}
	for i := 1; i < len(addrs); i++ {
		st, s := dial(t, addrs[i], cc, req, seen[i])
		if !st.DidResume || !st.EarlyData.Accepted || !bytes.Equal(s.early, req) {
			t.Errorf("server %d: resumed %v, early data %v, server read %q", i, st.DidResume, st.EarlyData, s.early)
		}
	}

	tls12 := clientConfig()
	tls12.Priority, tls12.SessionTicketsDisabled = "NORMAL:-VERS-ALL:+VERS-TLS1.2", true
	for i := range 4 {
		st, s := dial(t, addrs[i%3], tls12, req, seen[i%3])
		if st.DidResume != (i > 0) || s.resumed != st.DidResume {
			t.Errorf("TLS 1.2 connection %d to server %d: resumed %v (server %v)", i, i%3, st.DidResume, s.resumed)
		}
	}
	sessions := client.Keys(context.Background(), "fleet:session:*").Val()
	if len(sessions) == 0 {
		t.Fatal("no session in Redis")
	}
	for _, k := range sessions {
		if v := client.Get(context.Background(), k).Val(); !strings.HasPrefix(v, "GGC1") {
			t.Errorf("%s is not sealed: %q", k, v[:min(len(v), 8)])
		}
	}
}

// Redis stopped, or hanging, in mid-run: the servers go on, resuming by
// ticket with early data refused (the client sends it again) and making
// full TLS 1.2 handshakes, no connection waits past the Store's bounds,
// and all is as before once Redis is back.
func TestFleetRedisDown(t *testing.T) {
	live.Check(t)
	// Long enough for a loaded machine to answer in time while Redis is up.
	const timeout = time.Second
	store, _, srv := redisStore(t, Options{Prefix: "down:", Timeout: timeout})
	keys := [][32]byte{newKey()}
	a0, seen0 := fleetServer(t, fleetConfig(keys, store))
	a1, seen1 := fleetServer(t, fleetConfig(keys, store))
	cc := clientConfig()
	tls12 := clientConfig()
	tls12.Priority, tls12.SessionTicketsDisabled = "NORMAL:-VERS-ALL:+VERS-TLS1.2", true
	req := []byte("request\n")

	// check makes a 0-RTT connection and a TLS 1.2 one to each server in
	// turn, and says whether the early data was accepted and the TLS 1.2
	// session resumed. The two wait for Redis three times at most (an
	// anti-replay check; a session looked up and one stored), each bounded
	// by timeout; without the bounds they would wait for the server's
	// 20 s deadline.
	check := func(what string, wantEarly, want12 bool) {
		t.Helper()
		for i, s := range []struct {
			addr string
			ch   <-chan served
		}{{a0, seen0}, {a1, seen1}} {
			start := time.Now()
			st, _ := dial(t, s.addr, cc, req, s.ch)
			if !st.DidResume || st.EarlyData.Accepted != wantEarly {
				t.Errorf("%s, server %d: resumed %v, early data %v; want resumed, early data accepted %v", what, i, st.DidResume, st.EarlyData, wantEarly)
			}
			st, _ = dial(t, s.addr, tls12, req, s.ch)
			if i > 0 && st.DidResume != want12 {
				t.Errorf("%s, server %d: TLS 1.2 resumed %v, want %v", what, i, st.DidResume, want12)
			}
			if took, bound := time.Since(start), 3*timeout+5*time.Second; took > bound {
				t.Errorf("%s, server %d: two connections took %v, more than %v", what, i, took, bound)
			}
		}
	}
	dial(t, a0, cc, req, seen0)
	check("Redis up", true, true)

	srv.Stop()
	check("Redis stopped", false, false)

	srv = peers.Redis(t, srv.Port())
	eventually(t, "early data accepted after Redis restarted", func() bool {
		st, _ := dial(t, a1, cc, req, seen1)
		return st.EarlyData.Accepted
	})
	check("Redis back", true, true)

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	check("Redis hanging", false, false)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "early data accepted after Redis resumed", func() bool {
		st, _ := dial(t, a1, cc, req, seen1)
		return st.EarlyData.Accepted
	})
	check("Redis resumed", true, true)
}

// Garbage in Redis is ignored: a session key holding what no server
// sealed, or a value of another type, gives a full handshake, and the
// fleet resumes again once Redis is emptied.
func TestFleetRedisGarbage(t *testing.T) {
	live.Check(t)
	// A Store that waits long enough for every session to be stored before
	// the connection that made it ends: the test plants garbage under
	// every key there is.
	store, client, _ := redisStore(t, Options{Prefix: "junk:", Timeout: 10 * time.Second})
	keys := [][32]byte{newKey()}
	a0, seen0 := fleetServer(t, fleetConfig(keys, store))
	a1, seen1 := fleetServer(t, fleetConfig(keys, store))
	tls12 := clientConfig()
	tls12.Priority, tls12.SessionTicketsDisabled = "NORMAL:-VERS-ALL:+VERS-TLS1.2", true
	req := []byte("request\n")
	ctx := context.Background()
	// plant stores what set does under every session key, and reports
	// how many keys there were.
	plant := func(set func(key string) error) int {
		t.Helper()
		sessions, err := client.Keys(ctx, "junk:session:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range sessions {
			if err := set(k); err != nil {
				t.Fatal(err)
			}
		}
		return len(sessions)
	}
	resumed := func(addr string, seen <-chan served) bool {
		t.Helper()
		st, s := dial(t, addr, tls12, req, seen)
		if s.resumed != st.DidResume {
			t.Errorf("client resumed %v, server %v", st.DidResume, s.resumed)
		}
		return st.DidResume
	}

	if resumed(a0, seen0) || !resumed(a1, seen1) {
		t.Fatal("TLS 1.2 did not resume at the second server after a full handshake at the first")
	}
	n := plant(func(k string) error { return client.Set(ctx, k, "GGC1 not a sealed session", time.Minute).Err() })
	if n == 0 {
		t.Fatal("no session in Redis")
	}
	if resumed(a1, seen1) {
		t.Error("resumed a session from garbage")
	}
	plant(func(k string) error {
		if err := client.Del(ctx, k).Err(); err != nil {
			return err
		}
		return client.RPush(ctx, k, "x").Err()
	})
	if resumed(a0, seen0) {
		t.Error("resumed a session from a list")
	}
	if err := client.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if resumed(a1, seen1) || !resumed(a0, seen0) {
		t.Error("Redis emptied: TLS 1.2 did not resume at the other server after a full handshake")
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 20 {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not %s", what)
}

// What Redis holds of a session is not its master secret: gnutls-cli -r,
// without tickets, logs it (SSLKEYLOGFILE) and resumes by session ID from
// Redis.
func TestStoreHoldsNoSecret(t *testing.T) {
	live.Check(t)
	bin := testenv.LookPath(t, "gnutls-cli")
	// A Timeout that a loaded machine cannot reach: the test is about what
	// Redis holds, not about a slow store.
	store, client, _ := redisStore(t, Options{Prefix: "secret:", Timeout: 10 * time.Second})
	addr, seen := fleetServer(t, fleetConfig([][32]byte{newKey()}, store))
	caFile, _, _ := peers.Files(t, testCA, testLeaf)
	keylog := filepath.Join(t.TempDir(), "keylog")
	t.Setenv("SSLKEYLOGFILE", keylog)
	_, port, _ := net.SplitHostPort(addr)
	// gnutls-cli -r reconnects as soon as the server's Finished arrives,
	// and a TLS 1.2 server stores its session after sending it: the
	// second connection can come before the entry is in Redis. Up to three
	// tries; one that resumes is needed.
	for try := 1; ; try++ {
		out, err := peers.Client(t, "", bin, "--noticket", "-r", "--priority", "NORMAL:-VERS-TLS1.3:%NO_TICKETS", "--x509cafile", caFile, "-p", port, "localhost")
		for range 2 {
			select {
			case <-seen:
			case <-time.After(10 * time.Second):
				t.Fatalf("the server did not see gnutls-cli's two connections: %v", err)
			}
		}
		if err == nil && strings.Contains(out, "*** This is a resumed session") {
			break
		}
		if try == 3 {
			t.Fatalf("gnutls-cli -r did not resume in %d tries: %v", try, err)
		}
	}
	b, err := os.ReadFile(keylog)
	if err != nil {
		t.Fatal(err)
	}
	var masters [][]byte
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "CLIENT_RANDOM" {
			m, err := hex.DecodeString(f[2])
			if err != nil {
				t.Fatal(err)
			}
			masters = append(masters, m)
		}
	}
	keys := client.Keys(context.Background(), "secret:session:*").Val()
	if len(masters) == 0 || len(keys) == 0 {
		t.Fatalf("%d master secrets logged, %d sessions in Redis", len(masters), len(keys))
	}
	for _, k := range keys {
		v, _ := client.Get(context.Background(), k).Bytes()
		for _, m := range masters {
			if bytes.Contains(v, m) {
				t.Errorf("%s holds a master secret", k)
			}
		}
	}
}
