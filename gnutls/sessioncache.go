package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_sessioncache.h"
import "C"

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ServerSessionCache keeps a server's sessions by session ID, so that
// clients without session tickets resume them (TLS 1.2; TLS 1.3 resumes
// by ticket only). GnuTLS stores a session once its handshake completes
// and removes it when it finds it unusable. The data holds the session's
// master secret, and the client's certificates (a Config resumes a
// session only if it would accept them now): keep it as keys are kept.
// When the Config has session ticket keys (SetSessionTicketKeys), the
// data is sealed under a key derived from them (AES-256-GCM, bound to the
// session ID), so that servers sharing the keys can share the cache and a
// reader of it learns no secret. Data in any other form than what Put was
// given is not resumed. Get returns nothing from expires on: the end of
// the second gnutls_db_check_entry_expire_time gives, the last one in
// which GnuTLS resumes the session. It must be safe for concurrent use.
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
// session cache, and makes it resume only sessions the Config accepts.
func (c *Config) configureSessionCache(s *Session) error {
	if c.SessionLifetime != 0 {
		if err := s.SetSessionLifetime(c.SessionLifetime); err != nil {
			return err
		}
	}
	if err := s.call(func(p C.gnutls_session_t) error {
		h := s.hooksLocked(p)
		h.resumable, h.policy = c.resumable, c.clientAuthPolicy()
		C.go_gnutls_set_server_hook(p)
		return nil
	}); err != nil {
		return err
	}
	if c.ServerSessionCache == nil {
		return nil
	}
	if ks := c.sessionTicketKeys(); ks != nil {
		return s.SetSessionCache(sealedCache{c.ServerSessionCache, ks.seal})
	}
	return s.SetSessionCache(c.ServerSessionCache)
}

// ErrResumeRefused is the Err of the handshake error of a server that
// refused to resume the session a client offered, because a fresh
// handshake with its Config would have refused the client; what follows
// it in the message says why.
var ErrResumeRefused = errors.New("gnutls: the session the client resumes is not one this Config accepts")

// resumable decides, as crypto/tls's checkForResumption does, whether a
// server resumes a session whose client presented clientChain (leaf
// first; none when it presented no certificate): not when the Config now
// requires a certificate and the session has none, nor when the session
// has one and the Config asks for none, the certificate has expired, or
// (when the Config verifies client certificates) it does not verify
// against ClientCAs now. The sessions come from a shared cache, from
// tickets, or from a client that offers any session it holds.
//
// Before that, a session resumes only under the client-auth policy it was
// made under (clientAuthPolicy): a cache entry records the policy, and
// the ticket key is derived from it (sessionTicketKey), so that a Config
// with another policy cannot decrypt the ticket. Both then give a full
// handshake, which judges the client afresh.
//
// Within one policy, a session ID is checked when the cache returns its
// entry, so that a refused one also gives a full handshake. A ticket
// GnuTLS decrypts itself, and GnuTLS 3.7.9 has no way to set a decrypted
// ticket aside: every resumed session is checked again when the client's
// Finished arrives, and a refused one (a client certificate that expired
// or no longer verifies) fails the handshake with ErrResumeRefused and a
// bad_certificate alert. TLS 1.3 early data of such a session has been
// read by then: GnuTLS restores the session's client certificates only
// after it.
func (c *Config) resumable(clientChain [][]byte) error {
	has := len(clientChain) > 0
	switch {
	case !has && (c.ClientAuth == RequireAnyClientCert || c.ClientAuth == RequireAndVerifyClientCert):
		return fmt.Errorf("%w: it has no client certificate, which the Config requires", ErrResumeRefused)
	case !has:
		return nil
	case c.ClientAuth == NoClientCert:
		return fmt.Errorf("%w: it has a client certificate, and the Config asks for none", ErrResumeRefused)
	}
	leaf, err := x509.ParseCertificate(clientChain[0])
	if err != nil {
		return fmt.Errorf("%w: its client certificate: %v", ErrResumeRefused, err)
	}
	if time.Now().After(leaf.NotAfter) {
		return fmt.Errorf("%w: its client certificate expired at %v", ErrResumeRefused, leaf.NotAfter)
	}
	if c.ClientAuth != VerifyClientCertIfGiven && c.ClientAuth != RequireAndVerifyClientCert {
		return nil
	}
	creds, err := c.credentials(false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrResumeRefused, err)
	}
	st, err := creds.verifyChain(clientChain, "", true)
	if err != nil {
		return fmt.Errorf("%w: verifying its client certificate: %v", ErrResumeRefused, err)
	}
	if st != 0 {
		return fmt.Errorf("%w: its client certificate does not verify against ClientCAs: %s", ErrResumeRefused, strings.TrimSpace(st.String()))
	}
	return nil
}

// clientAuthPolicy is a digest of what decides whether a server accepts a
// client: ClientAuth, and the CAs and CRLs it verifies client
// certificates against (as named: a file's name, not its contents). The
// zero value is the policy of a session cache set on a Session alone.
type clientAuthPolicy [sha256.Size]byte

// clientAuthPolicy is computed once per Config (a Config does not change
// after use), so that its server sessions and its ticket keys agree on it.
func (c *Config) clientAuthPolicy() clientAuthPolicy {
	c.policyOnce.Do(func() { c.policy = c.computeClientAuthPolicy() })
	return c.policy
}

func (c *Config) computeClientAuthPolicy() clientAuthPolicy {
	h := sha256.New()
	h.Write([]byte("go-gnutls client-auth policy\x00"))
	h.Write([]byte{byte(c.ClientAuth)})
	for _, b := range [][]byte{[]byte(c.ClientCAFile), c.ClientCAPEM, []byte(c.CRLFile), c.CRLPEM} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	return clientAuthPolicy(h.Sum(nil))
}

// sessionTicketKey is the key the Config's server sessions issue and
// accept tickets with: its ticket key, tied to its client-auth policy.
func (c *Config) sessionTicketKey() (*ticketKey, error) {
	base, err := c.serverTicketKey()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policyTicketKey == nil {
		p := c.clientAuthPolicy()
		k := &ticketKey{}
		r := C.go_gnutls_ticket_key_derive(base.ptr, unsafe.Pointer(&p[0]), C.uint(len(p)), &k.ptr)
		runtime.KeepAlive(base)
		if err := check("derive ticket key", r); err != nil {
			return nil, err
		}
		runtime.AddCleanup(k, func(p *C.gnutls_datum_t) { C.go_gnutls_ticket_key_free(p) }, k.ptr)
		c.policyTicketKey = k
	}
	return c.policyTicketKey, nil
}

// A server cache entry is serverEntryMagic, the client-auth policy it was
// made under, the client's chain (a count byte, then appendChain's form)
// and GnuTLS's session data: the client's certificates travel with the
// session, so that the Config that reads it judges them (resumable)
// before resuming it. Entries in any other form are not resumed.
const serverEntryMagic = "GSS1"

func encodeServerEntry(policy clientAuthPolicy, clientChain [][]byte, data []byte) []byte {
	b := append(append([]byte(serverEntryMagic), policy[:]...), byte(len(clientChain)))
	return append(appendChain(b, clientChain), data...)
}

func decodeServerEntry(b []byte) (policy clientAuthPolicy, clientChain [][]byte, data []byte, ok bool) {
	const head = len(serverEntryMagic) + len(policy) + 1
	if len(b) < head || string(b[:len(serverEntryMagic)]) != serverEntryMagic || b[head-1] > maxEntryChain {
		return policy, nil, nil, false
	}
	copy(policy[:], b[len(serverEntryMagic):])
	clientChain, data, ok = readChain(b[head:], int(b[head-1]))
	return policy, clientChain, data, ok && len(data) > 0
}

// The session cache callbacks (callbacks.go) land here.

// cacheStore keeps the session with the client's chain; a session whose
// chain is too long for an entry is not kept.
func (h *sessionHooks) cacheStore(id string, data []byte, expires int64) C.int {
	chain := peerChain(h.sess)
	if len(chain) > maxEntryChain {
		return 0
	}
	// GnuTLS counts whole seconds: it resumes until the clock passes the
	// second of expires, so an entry stored in the middle of a second
	// would otherwise lose up to a second of its lifetime.
	h.cache.Put(id, encodeServerEntry(h.policy, chain, data), time.Unix(expires+1, 0))
	return 0
}

// cacheRetrieve copies the session into out (a gnutls_datum_t GnuTLS
// frees), or leaves it empty: then the handshake is a full one.
func (h *sessionHooks) cacheRetrieve(id string, out *C.gnutls_datum_t) {
	b, ok := h.cache.Get(id)
	if !ok {
		return
	}
	policy, chain, data, ok := decodeServerEntry(b)
	if !ok || policy != h.policy || (h.resumable != nil && h.resumable(chain) != nil) {
		return
	}
	C.go_gnutls_datum_copy(out, unsafe.Pointer(&data[0]), C.uint(len(data)))
}

// resumeCheck judges a session GnuTLS resumed (a session ID or a ticket),
// by the client chain it restored; a refusal fails the handshake.
func (h *sessionHooks) resumeCheck(clientChain [][]byte) C.int {
	if h.resumable == nil {
		return 0
	}
	if err := h.resumable(clientChain); err != nil {
		h.refused = err
		return C.GNUTLS_E_CERTIFICATE_ERROR
	}
	return 0
}

func (h *sessionHooks) cacheRemove(id string) C.int {
	h.cache.Delete(id)
	return 0
}
