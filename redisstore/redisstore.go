// Package redisstore keeps the state a fleet of go-gnutls servers shares in
// Redis: the anti-replay records of TLS 1.3 early data
// (gnutls.AntiReplayStore) and the TLS 1.2 session cache
// (gnutls.ServerSessionCache).
//
// Give every server of the fleet the same session ticket keys
// (gnutls.Config.SetSessionTicketKeys) and one Store:
//
//	store := redisstore.New(redis.NewClient(&redis.Options{Addr: "10.0.0.5:6379"}), redisstore.Options{Prefix: "web:"})
//	cfg.SetSessionTicketKeys(keys)
//	cfg.AntiReplay = store
//	cfg.ServerSessionCache = store
//
// Anti-replay records are set with SET NX and an expiry, so that one
// server of the fleet at most records a flight. Session cache entries are
// sealed by gnutls under a key derived from the ticket keys before they
// reach the Store, and kept with the expiry GnuTLS gives them. When Redis
// fails or is slow, early data is refused and TLS 1.2 sessions are not
// resumed from the cache (tickets still are): the handshakes go on.
// Options.Report hears of each command's outcome, to log or count.
package redisstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/redis/go-redis/v9"
)

// Options configures a Store.
type Options struct {
	// Prefix is put before every key the Store writes, so that fleets
	// can share one Redis.
	Prefix string
	// Timeout bounds each Redis command; zero means DefaultTimeout. An
	// anti-replay check is bounded by the Config's AntiReplayTimeout too.
	// A command the Store stopped waiting for may still reach Redis
	// later.
	Timeout time.Duration
	// Report, when set, is called after each command: with nil when Redis
	// answered (a session it does not hold included), else with why not
	// (a timeout, a refused connection, an error reply such as a key of
	// another type). It is called from the handshake's goroutines,
	// concurrently, and must not block.
	Report func(err error)
}

// DefaultTimeout is how long a Store waits for Redis when Options.Timeout
// is zero.
const DefaultTimeout = 100 * time.Millisecond

// Store keeps anti-replay records and sealed session cache entries in
// Redis. It is safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	report  func(error)
}

// New returns a Store on client.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Store{client: client, prefix: opts.Prefix, timeout: opts.Timeout, report: opts.Report}
}

// Keys under the prefix: "replay:" and the hex of the anti-replay key,
// "session:" and the hex of the session ID.
func (s *Store) replayKey(key []byte) string { return s.prefix + "replay:" + hex.EncodeToString(key) }
func (s *Store) sessionKey(id string) string {
	return s.prefix + "session:" + hex.EncodeToString([]byte(id))
}

// Add records key for ttl with SET NX and reports whether it was absent
// (gnutls.AntiReplayStore).
func (s *Store) Add(ctx context.Context, key []byte, ttl time.Duration) (bool, error) {
	fresh, err := run(ctx, s.timeout, func(ctx context.Context) (bool, error) {
		return s.client.SetNX(ctx, s.replayKey(key), 1, ttl).Result()
	})
	s.done(err)
	return fresh, err
}

// Put stores a session until expires (gnutls.ServerSessionCache). A
// failure is dropped: the session is then not resumed by ID.
func (s *Store) Put(sessionID string, data []byte, expires time.Time) {
	ttl := time.Until(expires)
	if ttl <= 0 {
		return
	}
	data = bytes.Clone(data) // the command may outlive the call
	_, err := run(context.Background(), s.timeout, func(ctx context.Context) (string, error) {
		return s.client.Set(ctx, s.sessionKey(sessionID), data, ttl).Result()
	})
	s.done(err)
}

// Get returns the session stored under sessionID; a failure, or a value
// that is not a string, reads as none.
func (s *Store) Get(sessionID string) ([]byte, bool) {
	b, err := run(context.Background(), s.timeout, func(ctx context.Context) ([]byte, error) {
		return s.client.Get(ctx, s.sessionKey(sessionID)).Bytes()
	})
	if err == redis.Nil {
		err = nil
	}
	s.done(err)
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}

// Delete removes the session stored under sessionID.
func (s *Store) Delete(sessionID string) {
	_, err := run(context.Background(), s.timeout, func(ctx context.Context) (int64, error) {
		return s.client.Del(ctx, s.sessionKey(sessionID)).Result()
	})
	s.done(err)
}

// done hands a command's outcome to Options.Report.
func (s *Store) done(err error) {
	if s.report != nil {
		s.report(err)
	}
}

// run runs cmd with ctx bounded by timeout, and returns when either ends:
// a client that does not heed its context's deadline (go-redis without
// ContextTimeoutEnabled waits its ReadTimeout) still does not hold up a
// handshake. The command then finishes in the background.
func run[T any](ctx context.Context, timeout time.Duration, cmd func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := cmd(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

var (
	_ gnutls.AntiReplayStore    = (*Store)(nil)
	_ gnutls.ServerSessionCache = (*Store)(nil)
)
