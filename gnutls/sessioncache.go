package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_sessioncache.h"
import "C"

import (
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// ServerSessionCache keeps a server's sessions by session ID, so that
// clients without session tickets resume them (TLS 1.2; TLS 1.3 resumes
// by ticket only). GnuTLS stores a session once its handshake completes
// and removes it when it finds it unusable. The data holds the session's
// master secret: keep it as keys are kept. When the Config has session
// ticket keys (SetSessionTicketKeys), the data is sealed under a key
// derived from them (AES-256-GCM, bound to the session ID), so that
// servers sharing the keys can share the cache and a reader of it learns
// no secret; an entry that does not open is not resumed. Get returns
// nothing past expires, the session's expiry as GnuTLS computes it
// (gnutls_db_check_entry_expire_time). It must be safe for concurrent use.
type ServerSessionCache interface {
	Put(sessionID string, data []byte, expires time.Time)
	Get(sessionID string) (data []byte, ok bool)
	Delete(sessionID string)
}

// NewLRUServerSessionCache returns a ServerSessionCache in memory holding
// at most capacity sessions (1024 when capacity < 1), dropping the least
// recently used and the expired. The data of a session that leaves it is
// zeroed.
func NewLRUServerSessionCache(capacity int) ServerSessionCache {
	if capacity < 1 {
		capacity = 1024
	}
	return &serverCache{lru: newLRU(capacity, func(e serverCacheEntry) { clear(e.data) }), now: time.Now}
}

type serverCache struct {
	mu  sync.Mutex
	lru *lru[serverCacheEntry]
	now func() time.Time
}

type serverCacheEntry struct {
	data    []byte
	expires time.Time
}

func (c *serverCache) Put(id string, data []byte, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.put(id, serverCacheEntry{data, expires})
}

// Get returns a copy, which stays intact when the entry leaves.
func (c *serverCache) Get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.get(id)
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		c.lru.remove(id)
		return nil, false
	}
	return append([]byte(nil), e.data...), true
}

func (c *serverCache) Delete(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.remove(id)
}

// SessionID returns the session's ID (gnutls_session_get_id2): under TLS
// 1.2 the key a server's session cache keeps it under; under TLS 1.3 the
// legacy_session_id of the ClientHello.
func (s *Session) SessionID() []byte {
	return get(s, func(p C.gnutls_session_t) []byte {
		var d C.gnutls_datum_t
		if C.gnutls_session_get_id2(p, &d) < 0 || d.size == 0 {
			return nil
		}
		return C.GoBytes(unsafe.Pointer(d.data), C.int(d.size))
	})
}

// maxSessionLifetime is the longest GnuTLS lets a session be resumed.
const maxSessionLifetime = 7 * 24 * time.Hour

// SetSessionLifetime sets how long a server session can be resumed, by
// ticket or from a session cache (gnutls_db_set_cache_expiration), in
// whole seconds from 1 s to 7 days.
func (s *Session) SetSessionLifetime(d time.Duration) error {
	if d < time.Second || d > maxSessionLifetime {
		return fmt.Errorf("gnutls: SetSessionLifetime: %v is not between 1s and %v", d, maxSessionLifetime)
	}
	return s.call(func(p C.gnutls_session_t) error {
		C.gnutls_db_set_cache_expiration(p, C.int(d/time.Second))
		return nil
	})
}

// SetSessionCache makes a server session store its session in cache and
// look up the session a client asks to resume there
// (gnutls_db_set_retrieve_function and its siblings).
func (s *Session) SetSessionCache(cache ServerSessionCache) error {
	if !s.IsServer() {
		return fmt.Errorf("gnutls: SetSessionCache is for server sessions")
	}
	if cache == nil {
		return fmt.Errorf("gnutls: SetSessionCache with a nil cache")
	}
	return s.call(func(p C.gnutls_session_t) error {
		s.hooksLocked(p).cache = cache
		C.go_gnutls_set_cache(p)
		return nil
	})
}

// configureSessionCache gives a server session the Config's lifetime and
// session cache.
func (c *Config) configureSessionCache(s *Session) error {
	if c.SessionLifetime != 0 {
		if err := s.SetSessionLifetime(c.SessionLifetime); err != nil {
			return err
		}
	}
	if c.ServerSessionCache == nil {
		return nil
	}
	if ks := c.sessionTicketKeys(); ks != nil {
		return s.SetSessionCache(sealedCache{c.ServerSessionCache, ks.seal})
	}
	return s.SetSessionCache(c.ServerSessionCache)
}

// The session cache callbacks (callbacks.go) land here.

func (h *sessionHooks) cacheStore(id string, data []byte, expires int64) C.int {
	h.cache.Put(id, data, time.Unix(expires, 0))
	return 0
}

// cacheRetrieve copies the session into out (a gnutls_datum_t GnuTLS
// frees), or leaves it empty.
func (h *sessionHooks) cacheRetrieve(id string, out *C.gnutls_datum_t) {
	if data, ok := h.cache.Get(id); ok && len(data) > 0 {
		C.go_gnutls_datum_copy(out, unsafe.Pointer(&data[0]), C.uint(len(data)))
	}
}

func (h *sessionHooks) cacheRemove(id string) C.int {
	h.cache.Delete(id)
	return 0
}
