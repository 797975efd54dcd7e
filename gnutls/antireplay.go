package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// EnableAntiReplay makes a server session check early data against ar
// (gnutls_anti_replay_enable). The session keeps ar alive.
func (s *Session) EnableAntiReplay(ar *AntiReplay) error {
	if !s.IsServer() {
		return errors.New("gnutls: anti-replay is for server sessions")
	}
	return s.call(func(p C.gnutls_session_t) error {
		C.gnutls_anti_replay_enable(p, ar.st.ptr)
		s.replay = ar
		return nil
	})
}

// AntiReplay is GnuTLS's protection of a server against replayed early
// data (gnutls_anti_replay_t): early data is accepted only for a
// ClientHello not seen before within the window, carrying a ticket issued
// since the current window began and an age that matches the server's
// view within the window. Share one among the sessions of a server; it is
// freed when no longer referenced.
type AntiReplay struct {
	st *antiReplayState
}

type antiReplayState struct {
	ptr    C.gnutls_anti_replay_t
	handle unsafe.Pointer
}

// DefaultEarlyDataWindow is GnuTLS's anti-replay window.
const DefaultEarlyDataWindow = 10 * time.Second

// NewAntiReplay returns anti-replay state with the given window
// (DefaultEarlyDataWindow when zero).
func NewAntiReplay(window time.Duration) (*AntiReplay, error) {
	return newAntiReplay(&replayStore{seen: map[string]int64{}}, window)
}

// newAntiReplay returns anti-replay state that records in r.
func newAntiReplay(r *replayStore, window time.Duration) (*AntiReplay, error) {
	if window == 0 {
		window = DefaultEarlyDataWindow
	}
	if window < time.Millisecond || window > time.Duration(math.MaxUint32)*time.Millisecond {
		return nil, fmt.Errorf("gnutls: early data replay window %v must be between 1ms and %v", window, time.Duration(math.MaxUint32)*time.Millisecond)
	}
	st := &antiReplayState{}
	st.handle = saveHandle(r)
	if err := check("anti-replay init", C.go_gnutls_anti_replay_new(&st.ptr, C.uint(window/time.Millisecond), st.handle)); err != nil {
		dropHandle(st.handle)
		return nil, err
	}
	ar := &AntiReplay{st}
	runtime.AddCleanup(ar, func(st *antiReplayState) {
		C.gnutls_anti_replay_deinit(st.ptr)
		dropHandle(st.handle)
	}, st)
	return ar, nil
}

// AntiReplayStore records the first flights of TLS 1.3 early data for
// servers that share session tickets (SetSessionTicketKeys), so that the
// fleet as a whole accepts each flight at most once (RFC 8446, section
// 8): set one shared store as Config.AntiReplay on every server. It must
// be safe for concurrent use.
//
// The key identifies the flight across servers: it is the PSK binder of
// the ClientHello, a MAC over the ClientHello under the resumed session's
// secret, so a replay has the same key and another flight a different
// one. The record must last ttl, twice Config.EarlyDataWindow, which
// covers server clocks that differ by up to a window.
//
// The store adds to GnuTLS's own checks, which each server still makes:
// early data is accepted only with a ticket issued since the server's
// current window began (it starts a new one when the last is older than
// EarlyDataWindow), whichever server issued it, and whose age as the
// client reports it matches the server's clock within the window.
type AntiReplayStore interface {
	// Add records key for ttl unless it is recorded already, and reports
	// whether it was absent. An error, or no answer within the Config's
	// AntiReplayTimeout, refuses the early data; the handshake goes on and
	// the client sends the data again after it.
	Add(ctx context.Context, key []byte, ttl time.Duration) (fresh bool, err error)
}

// DefaultAntiReplayTimeout is how long a server waits for its
// AntiReplayStore before it refuses early data.
const DefaultAntiReplayTimeout = 50 * time.Millisecond

// replayKeyPrefix is the length of the window's start time GnuTLS puts
// before the binder in its anti-replay key (lib/tls13/anti_replay.c).
const replayKeyPrefix = 12

// replayStore holds the keys GnuTLS's anti-replay check adds, until they
// expire: the ClientHellos that carried early data within the window. With
// a shared store set, it asks that instead.
type replayStore struct {
	mu    sync.Mutex
	seen  map[string]int64 // key: expiry, Unix seconds
	prune int64            // next time to drop expired keys

	shared  AntiReplayStore
	ttl     time.Duration // how long shared keeps a key
	timeout time.Duration // how long to wait for shared
}

func restoreReplayStore(p unsafe.Pointer) *replayStore { return pointer.Restore(p).(*replayStore) }

// add records key until exp and reports whether it was new.
func (r *replayStore) add(key string, exp int64) bool {
	if r.shared != nil {
		return r.addShared(key)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().Unix()
	if now >= r.prune {
		for k, e := range r.seen {
			if e < now {
				delete(r.seen, k)
			}
		}
		r.prune = now + 1
	}
	if e, ok := r.seen[key]; ok && e >= now {
		return false
	}
	r.seen[key] = exp
	return true
}

// addShared asks the shared store to record GnuTLS's key without its
// per-process prefix, and reports whether it was new; a failure or no
// answer within the timeout counts as seen. The store's call may go on
// after the timeout: its context is then done.
func (r *replayStore) addShared(key string) bool {
	if len(key) <= replayKeyPrefix {
		return false
	}
	id := []byte(key[replayKeyPrefix:])
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	done := make(chan bool, 1)
	go func() {
		fresh, err := r.shared.Add(ctx, id, r.ttl)
		done <- fresh && err == nil
	}()
	select {
	case fresh := <-done:
		return fresh
	case <-ctx.Done():
		return false
	}
}

// antiReplay returns the Config's anti-replay state, made on first use.
func (c *Config) antiReplay() (*AntiReplay, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replay == nil {
		window := c.EarlyDataWindow
		if window == 0 {
			window = DefaultEarlyDataWindow
		}
		r := &replayStore{seen: map[string]int64{}}
		if c.AntiReplay != nil {
			r.shared, r.ttl, r.timeout = c.AntiReplay, 2*window, c.AntiReplayTimeout
			if r.timeout <= 0 {
				r.timeout = DefaultAntiReplayTimeout
			}
		}
		ar, err := newAntiReplay(r, window)
		if err != nil {
			return nil, err
		}
		c.replay = ar
	}
	return c.replay, nil
}
