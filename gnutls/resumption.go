package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"time"
	"unsafe"
)

// Client sessions kept for resumption, and what their tickets allow.
//
// Whether a TLS 1.3 ticket allows early data, and how much, is said by the
// early_data extension of the NewSessionTicket that carried it. GnuTLS
// stores its max_early_data_size in the session data but does not reset
// it when a ticket has none: 3.7.9 then reports UINT32_MAX (0 from 3.8.9),
// and every version keeps the limit of the ticket the connection resumed.
// So a client session reads each ticket itself (go_gnutls_watch_tickets),
// and a cache entry holds the limit and the ticket's expiry beside
// GnuTLS's session data.

// watchTickets makes a client session record what each TLS 1.3 ticket it
// receives says of early data.
func (s *Session) watchTickets() error {
	return s.call(func(p C.gnutls_session_t) error {
		if s.ticket != nil {
			return nil
		}
		t := C.go_gnutls_watch_tickets(p)
		if t == nil {
			return errors.New("gnutls: out of memory watching session tickets")
		}
		s.ticket = unsafe.Pointer(t)
		return nil
	})
}

// lastTicket returns what the last ticket received said: the early data it
// allows (0: none) and its lifetime. ok is false when none was parsed.
func (s *Session) lastTicket() (maxEarly uint32, lifetime time.Duration, ok bool) {
	s.call(func(C.gnutls_session_t) error {
		if s.ticket == nil {
			return nil
		}
		t := (*C.struct_go_gnutls_ticket)(s.ticket)
		if t.seen > 0 {
			maxEarly, lifetime, ok = uint32(t.max_early), time.Duration(t.lifetime)*time.Second, true
		}
		return nil
	})
	return maxEarly, lifetime, ok
}

// parseTicket runs the hook's parser on msg, the body of a NewSessionTicket
// (FuzzParseTicket feeds it peer bytes).
func parseTicket(msg []byte) (maxEarly uint32, lifetime time.Duration) {
	var t C.struct_go_gnutls_ticket
	var p *C.uchar
	if len(msg) > 0 {
		p = (*C.uchar)(unsafe.Pointer(&msg[0]))
	}
	C.go_gnutls_parse_ticket(p, C.size_t(len(msg)), &t)
	return uint32(t.max_early), time.Duration(t.lifetime) * time.Second
}

// A cache entry is entryMagic, the early data limit (4 bytes), the
// ticket's expiry (8 bytes, Unix seconds), whether the server's chain was
// verified (1 byte), the chain (a count byte, then each certificate's
// length in 4 bytes and its DER, leaf first) and GnuTLS's session data.
// Entries in any other form are not offered.
const entryMagic = "GGS2"

// maxEntryChain bounds the chain an entry holds, as VerifyChain does.
const maxEntryChain = 16

// ticketInfo is what a cache entry says of its ticket.
type ticketInfo struct {
	maxEarly uint32
	expires  time.Time
}

// cachedSession is a decoded cache entry: the claims an earlier connection
// made, checked again by offerable before they are used.
type cachedSession struct {
	ticket   ticketInfo
	verified bool     // the chain was verified when the session was made
	chain    [][]byte // the server's chain as it was sent, leaf first
	data     []byte   // GnuTLS's session data
}

func encodeEntry(e cachedSession) []byte {
	b := append([]byte(entryMagic), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(e.chain)))
	binary.BigEndian.PutUint32(b[len(entryMagic):], e.ticket.maxEarly)
	binary.BigEndian.PutUint64(b[len(entryMagic)+4:], uint64(e.ticket.expires.Unix()))
	if e.verified {
		b[len(entryMagic)+12] = 1
	}
	return append(appendChain(b, e.chain), e.data...)
}

// appendChain appends each certificate's length (4 bytes) and DER; the
// count goes before, where the entry's form says.
func appendChain(b []byte, chain [][]byte) []byte {
	for _, der := range chain {
		b = binary.BigEndian.AppendUint32(b, uint32(len(der)))
		b = append(b, der...)
	}
	return b
}

// readChain reads n certificates that appendChain wrote at the start of b
// and returns them (slices of b) and the rest.
func readChain(b []byte, n int) (chain [][]byte, rest []byte, ok bool) {
	for range n {
		if len(b) < 4 {
			return nil, nil, false
		}
		l := binary.BigEndian.Uint32(b)
		if l == 0 || uint64(len(b)-4) < uint64(l) {
			return nil, nil, false
		}
		chain = append(chain, b[4:4+l])
		b = b[4+l:]
	}
	return chain, b, true
}

// decodeEntry reads a cache entry; ok is false for anything not in the
// form encodeEntry writes (the cache may hold anything).
func decodeEntry(b []byte) (e cachedSession, ok bool) {
	const head = len(entryMagic) + 14
	if len(b) < head || string(b[:len(entryMagic)]) != entryMagic || b[head-2] > 1 || b[head-1] > maxEntryChain {
		return cachedSession{}, false
	}
	e.ticket = ticketInfo{
		maxEarly: binary.BigEndian.Uint32(b[len(entryMagic):]),
		expires:  time.Unix(int64(binary.BigEndian.Uint64(b[len(entryMagic)+4:])), 0),
	}
	e.verified = b[head-2] == 1
	e.chain, e.data, ok = readChain(b[head:], int(b[head-1]))
	if !ok || len(e.data) == 0 {
		return cachedSession{}, false
	}
	return e, true
}

// ticketMargin is how long before its expiry a ticket stops being used for
// early data: GnuTLS does not offer a ticket past its lifetime, and the
// expiry kept is measured from when the session was saved, a little after
// the ticket arrived.
const ticketMargin = 2 * time.Second

// earlyLimit is how much early data the entry's ticket allows now.
func (t ticketInfo) earlyLimit(now time.Time) uint32 {
	if t.maxEarly == 0 || !now.Add(ticketMargin).Before(t.expires) {
		return 0
	}
	return t.maxEarly
}

// resume offers the cached session for key when this Config would accept
// it (offerable), and returns how much early data its ticket allows and
// the chain that was checked, which the resumed handshake must restore
// (checkResumed).
func (c *Config) resume(s *Session, key, serverName string) (limit uint32, chain [][]byte, offered bool) {
	if c.ClientSessionCache == nil {
		return 0, nil, false
	}
	b, ok := c.ClientSessionCache.Get(key)
	if !ok {
		return 0, nil, false
	}
	e, ok := decodeEntry(b)
	now := time.Now()
	if !ok || !c.offerable(e, serverName, now) || s.SetSessionData(e.data) != nil {
		return 0, nil, false // a full handshake
	}
	return e.ticket.earlyLimit(now), e.chain, true
}

// offerable reports whether a fresh handshake with c would accept the
// server the entry was made with, as crypto/tls's loadSession decides: the
// leaf has not expired; when c verifies, the session was verified and its
// chain verifies now against c's roots and CRLs for c's name. The chain
// is checked again whatever the entry says, so that a cache shared by
// Configs that trust differently, or one that returns any entry for any
// key, grants nothing a fresh handshake would refuse; a chain this Config
// verified for the name lately counts as verified (chainMemo).
func (c *Config) offerable(e cachedSession, serverName string, now time.Time) bool {
	verifies := !c.InsecureSkipVerify && !c.pskOnly(true)
	if len(e.chain) == 0 {
		return !verifies // a session without certificates: pre-shared keys
	}
	if verifies && !e.verified {
		return false
	}
	name := c.VerifyHostname
	if name == "" {
		name = serverName
	}
	var key [sha256.Size]byte
	if verifies {
		key = chainKey(e.chain, name)
		if c.chains.verified(key, now) {
			return true
		}
	}
	leaf, err := x509.ParseCertificate(e.chain[0])
	if err != nil || now.After(leaf.NotAfter) {
		return false
	}
	if !verifies {
		return true
	}
	creds, err := c.credentials(true)
	if err != nil {
		return false
	}
	if st, err := creds.VerifyChain(e.chain, name); err != nil || st != 0 {
		return false
	}
	c.chains.remember(key, leaf, e.chain[1:], now)
	return true
}

// ErrResumedPeerMismatch is the handshake error of a client that resumed
// a session whose server chain, as GnuTLS restored it, is not the chain
// its cache entry held and that was checked before it was offered: the
// entry was forged or corrupted.
var ErrResumedPeerMismatch = errors.New("gnutls: the resumed session's server certificates are not those its cache entry was checked with")

// checkResumed makes sure a resumed client connection reports, and
// trusts, the chain that offerable checked.
func (c *Conn) checkResumed() error {
	if !c.isClient || !c.resumeOffered || !c.sess.Resumed() {
		return nil
	}
	got := c.sess.PeerCertificatesDER()
	same := len(got) == len(c.resumeChain)
	for i := 0; same && i < len(got); i++ {
		same = bytes.Equal(got[i], c.resumeChain[i])
	}
	if !same {
		return &Error{Op: "handshake", Code: ErrCertificateVerification, Err: ErrResumedPeerMismatch}
	}
	return nil
}

// sessionEntry is the cache entry for the connection's session.
func (c *Conn) sessionEntry() ([]byte, error) {
	data, err := c.sess.SessionData()
	if err != nil {
		return nil, err
	}
	e := cachedSession{data: data, verified: c.verifiedPeer(), chain: c.sess.PeerCertificatesDER()}
	if len(e.chain) > maxEntryChain {
		return nil, errors.New("gnutls: the server's chain is too long to cache")
	}
	if c.state.Version == 0x0304 {
		if maxEarly, lifetime, ok := c.sess.lastTicket(); ok {
			e.ticket = ticketInfo{maxEarly, time.Now().Add(lifetime)}
		}
	}
	return encodeEntry(e), nil
}
