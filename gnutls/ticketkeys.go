package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_ticketkeys.h"
import "C"

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/binary"
	"runtime"
	"time"
	"unsafe"
)

// Session ticket keys shared by a fleet of servers.
//
// GnuTLS encrypts tickets under a 64-byte master key per session
// (gnutls_session_ticket_enable_server) and rotates it on its own: the
// key of each period is SHA3-512 of the period's number and the master,
// its first 16 bytes the key name written at the start of each ticket,
// and a ticket of the previous period is still accepted (lib/stek.c). A
// period is three times the session lifetime, counted from the Unix epoch,
// so servers that share a master, a SessionLifetime and a clock issue and
// accept the same tickets without talking to each other.
//
// SetSessionTicketKeys derives one master from each 32-byte key (HKDF,
// masterInfo), and each Config ties the masters to its client-auth
// policy (forPolicy), as it does its random key (sessionTicketKey). The
// first issues tickets; before GnuTLS parses a ClientHello (the server
// session's hook, go_gnutls_server_hook in go_gnutls_sessioncache.h), the
// key name of each ticket it offers is compared with the names every
// listed master has in this period and the previous one, and the session
// is given the master that matches.

// Labels of the keys derived from a 32-byte ticket key: the ticket master
// and the key that seals ServerSessionCache entries (sealedcache.go).
const (
	masterInfo = "go-gnutls session ticket master key"
	sealInfo   = "go-gnutls session cache sealing key"
)

// ticketKeyNameSize is GnuTLS's TICKET_KEY_NAME_SIZE.
const ticketKeyNameSize = 16

// stekPeriodFactor is GnuTLS's STEK_ROTATION_PERIOD_PRODUCT: the master
// rotates every stekPeriodFactor session lifetimes.
const stekPeriodFactor = 3

// defaultSessionLifetime is GnuTLS's DEFAULT_EXPIRE_TIME.
const defaultSessionLifetime = 6 * time.Hour

// SetSessionTicketKeys sets the keys of a server's session tickets, and
// replaces the random key each Config otherwise makes for itself: the
// first key issues tickets, and a ticket issued under any of them is
// accepted. Servers that share the keys resume one another's sessions,
// provided they have the same SessionLifetime (GnuTLS rotates the key of
// its tickets every three lifetimes, counted from the Unix epoch) and
// clocks that agree within seconds (a ticket issued just after a rotation
// by a server whose clock is ahead is not accepted by one behind it
// before its own rotation). To rotate keys, set [new, old] on every
// server, then [new]. A session resumed from a ticket under a key other
// than the first gets its new tickets under that same key (GnuTLS fixes a
// session's ticket key once it has decrypted a ticket), so its client
// makes one full handshake after that key is dropped. When keys are set, the
// entries of ServerSessionCache are sealed under a key derived from them
// (see ServerSessionCache).
//
// It may be called while the Config is in use; connections started
// afterwards use the new keys. It panics when keys is empty, as
// crypto/tls does. Anyone holding a key can decrypt the sessions of
// tickets issued under it: keep keys as private keys are kept.
func (c *Config) SetSessionTicketKeys(keys [][32]byte) {
	if len(keys) == 0 {
		panic("gnutls: keys must have at least one key")
	}
	ks := newTicketKeys(keys)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticketKeys = ks
}

// sessionTicketKeys returns the keys SetSessionTicketKeys set, or nil.
func (c *Config) sessionTicketKeys() *ticketKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ticketKeys
}

// ticketKeys are the keys set by SetSessionTicketKeys, as GnuTLS masters
// (in C memory, for gnutls_session_ticket_enable_server, and in Go, to
// compute their key names) and as keys sealing session cache entries.
type ticketKeys struct {
	masters []*ticketKey
	raw     [][64]byte
	seal    []sealKey
	// from is what forPolicy derived these from.
	from *ticketKeys
}

func newTicketKeys(keys [][32]byte) *ticketKeys {
	ks := &ticketKeys{}
	for _, k := range keys {
		var m [64]byte
		copy(m[:], derive(k, masterInfo, len(m)))
		ks.raw = append(ks.raw, m)
		ks.masters = append(ks.masters, newTicketKeyFrom(m[:]))
		ks.seal = append(ks.seal, newSealKey(derive(k, sealInfo, 32)))
	}
	return ks
}

// derive returns n bytes of HKDF-SHA256 of key under info.
func derive(key [32]byte, info string, n int) []byte {
	b, err := hkdf.Key(sha256.New, key[:], nil, info, n)
	if err != nil {
		panic(err) // n is far below HKDF's limit
	}
	return b
}

// newTicketKeyFrom copies master into C memory.
func newTicketKeyFrom(master []byte) *ticketKey {
	k := &ticketKey{}
	if r := C.go_gnutls_ticket_key_from(unsafe.Pointer(&master[0]), C.uint(len(master)), &k.ptr); r < 0 {
		panic(&Error{Op: "copy ticket key", Code: ErrorCode(r)})
	}
	runtime.AddCleanup(k, func(p *C.gnutls_datum_t) { C.go_gnutls_ticket_key_free(p) }, k.ptr)
	return k
}

// keyName returns the name GnuTLS gives the key of master in period t.
func keyName(master *[64]byte, t uint64) [ticketKeyNameSize]byte {
	h := sha3.New512()
	var tb [8]byte
	binary.BigEndian.PutUint64(tb[:], t)
	h.Write(tb[:])
	h.Write(master[:])
	var name [ticketKeyNameSize]byte
	copy(name[:], h.Sum(nil))
	return name
}

// stekPeriod is GnuTLS's period number at now for a session lifetime.
func stekPeriod(now time.Time, lifetime time.Duration) uint64 {
	secs := int64(lifetime / time.Second)
	if secs <= 0 {
		secs = int64(defaultSessionLifetime / time.Second)
	}
	if now.Unix() <= 0 {
		return 0
	}
	return uint64(now.Unix()) / uint64(secs*stekPeriodFactor)
}

// find returns the master whose key, in the current period or the
// previous one, has the given name.
func (ks *ticketKeys) find(name []byte, now time.Time, lifetime time.Duration) *ticketKey {
	if len(name) < ticketKeyNameSize {
		return nil
	}
	t := stekPeriod(now, lifetime)
	for i := range ks.raw {
		for _, p := range [2]uint64{t, t - 1} {
			if n := keyName(&ks.raw[i], p); string(n[:]) == string(name[:ticketKeyNameSize]) {
				return ks.masters[i]
			}
		}
	}
	return nil
}

// configureTickets lets a server session issue and accept tickets under
// the keys set by SetSessionTicketKeys, or else the Config's random key.
func (c *Config) configureTickets(s *Session) error {
	if ks := c.policyTicketKeys(); ks != nil {
		return s.enableTicketKeys(ks, c.SessionLifetime)
	}
	k, err := c.sessionTicketKey()
	if err != nil {
		return err
	}
	return s.enableTickets(k)
}

// policyTicketKeys returns the keys SetSessionTicketKeys set, tied to the
// Config's client-auth policy, or nil: a Config with another policy
// cannot decrypt the tickets, and its client makes a full handshake.
func (c *Config) policyTicketKeys() *ticketKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ticketKeys == nil {
		return nil
	}
	if c.policyKeys == nil || c.policyKeys.from != c.ticketKeys {
		c.policyKeys = c.ticketKeys.forPolicy(c.clientAuthPolicy())
	}
	return c.policyKeys
}

// forPolicy returns ks with each master replaced by HMAC-SHA-512 under it
// of the policy's digest, as go_gnutls_ticket_key_derive derives the
// random key's. The sealing keys stay: a sealed entry records its policy.
func (ks *ticketKeys) forPolicy(p clientAuthPolicy) *ticketKeys {
	out := &ticketKeys{seal: ks.seal, from: ks}
	for i := range ks.raw {
		mac := hmac.New(sha512.New, ks.raw[i][:])
		mac.Write(p[:])
		var m [64]byte
		copy(m[:], mac.Sum(nil))
		out.raw = append(out.raw, m)
		out.masters = append(out.masters, newTicketKeyFrom(m[:]))
	}
	return out
}

// enableTicketKeys lets a server session issue tickets under the first
// key and accept those of every key.
func (s *Session) enableTicketKeys(ks *ticketKeys, lifetime time.Duration) error {
	if err := s.enableTickets(ks.masters[0]); err != nil {
		return err
	}
	if len(ks.masters) == 1 {
		return nil
	}
	return s.call(func(p C.gnutls_session_t) error {
		h := s.hooksLocked(p)
		h.tickets, h.lifetime = ks, lifetime
		return nil
	})
}

// clientHello gives the session the master of the first ticket the
// ClientHello offers under a listed key. GnuTLS refuses a new master once
// it has used one (a second ClientHello, after HelloRetryRequest), and
// then keeps the first.
func (h *sessionHooks) clientHello(p C.gnutls_session_t, msg []byte) {
	if h.tickets == nil {
		return
	}
	for _, name := range ticketKeyNames(msg) {
		if k := h.tickets.find(name, time.Now(), h.lifetime); k != nil {
			C.gnutls_session_ticket_enable_server(p, k.ptr)
			return
		}
	}
}

// ticketKeyNames returns the first 16 bytes of each ticket a ClientHello
// body offers: in its session_ticket extension (TLS 1.2) and as the
// identities of its pre_shared_key extension (TLS 1.3). It returns what
// it read before anything malformed.
func ticketKeyNames(msg []byte) [][]byte {
	r := helloReader(msg)
	if !r.skip(2+32) || !r.skipVec(1) || !r.skipVec(2) || !r.skipVec(1) {
		return nil
	}
	exts, ok := r.vec(2)
	var names [][]byte
	for ok && len(exts) > 0 {
		var typ uint16
		var body helloReader
		if typ, ok = exts.u16(); !ok {
			break
		}
		if body, ok = exts.vec(2); !ok {
			break
		}
		switch typ {
		case 35: // session_ticket
			if len(body) >= ticketKeyNameSize {
				names = append(names, body[:ticketKeyNameSize])
			}
		case 41: // pre_shared_key: identities, then binders
			ids, ok := body.vec(2)
			for ok && len(ids) > 0 {
				var id helloReader
				if id, ok = ids.vec(2); ok {
					ok = ids.skip(4) // obfuscated_ticket_age
				}
				if ok && len(id) >= ticketKeyNameSize {
					names = append(names, id[:ticketKeyNameSize])
				}
			}
		}
	}
	return names
}

// helloReader reads a handshake message from its front.
type helloReader []byte

func (r *helloReader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *helloReader) u16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(*r)
	*r = (*r)[2:]
	return v, true
}

// vec reads a vector whose length takes lenBytes (1 or 2) bytes.
func (r *helloReader) vec(lenBytes int) (helloReader, bool) {
	if len(*r) < lenBytes {
		return nil, false
	}
	n := int((*r)[0])
	if lenBytes == 2 {
		n = int(binary.BigEndian.Uint16(*r))
	}
	rest := (*r)[lenBytes:]
	if len(rest) < n {
		return nil, false
	}
	*r = rest[n:]
	return rest[:n], true
}

func (r *helloReader) skipVec(lenBytes int) bool {
	_, ok := r.vec(lenBytes)
	return ok
}
