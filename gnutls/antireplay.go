package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
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
	if window == 0 {
		window = DefaultEarlyDataWindow
	}
	if window < time.Millisecond || window > time.Duration(math.MaxUint32)*time.Millisecond {
		return nil, fmt.Errorf("gnutls: early data replay window %v must be between 1ms and %v", window, time.Duration(math.MaxUint32)*time.Millisecond)
	}
	st := &antiReplayState{}
	st.handle = saveHandle(&replayStore{seen: map[string]int64{}})
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

// replayStore holds the keys GnuTLS's anti-replay check adds, until they
// expire: the ClientHellos that carried early data within the window.
type replayStore struct {
	mu    sync.Mutex
	seen  map[string]int64 // key: expiry, Unix seconds
	prune int64            // next time to drop expired keys
}

func restoreReplayStore(p unsafe.Pointer) *replayStore { return pointer.Restore(p).(*replayStore) }

// add records key until exp and reports whether it was new.
func (r *replayStore) add(key string, exp int64) bool {
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

// antiReplay returns the Config's anti-replay state, made on first use.
func (c *Config) antiReplay() (*AntiReplay, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replay == nil {
		ar, err := NewAntiReplay(c.EarlyDataWindow)
		if err != nil {
			return nil, err
		}
		c.replay = ar
	}
	return c.replay, nil
}
