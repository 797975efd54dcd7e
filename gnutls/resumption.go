package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
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
// ticket's expiry (8 bytes, Unix seconds) and GnuTLS's session data.
// Entries in any other form resume without early data.
const entryMagic = "GGS1"

const entryHeader = len(entryMagic) + 4 + 8

// ticketInfo is what a cache entry says of its ticket.
type ticketInfo struct {
	maxEarly uint32
	expires  time.Time
}

func encodeEntry(t ticketInfo, data []byte) []byte {
	b := make([]byte, entryHeader, entryHeader+len(data))
	copy(b, entryMagic)
	binary.BigEndian.PutUint32(b[len(entryMagic):], t.maxEarly)
	binary.BigEndian.PutUint64(b[len(entryMagic)+4:], uint64(t.expires.Unix()))
	return append(b, data...)
}

func decodeEntry(b []byte) (ticketInfo, []byte) {
	if len(b) < entryHeader || string(b[:len(entryMagic)]) != entryMagic {
		return ticketInfo{}, b
	}
	return ticketInfo{
		maxEarly: binary.BigEndian.Uint32(b[len(entryMagic):]),
		expires:  time.Unix(int64(binary.BigEndian.Uint64(b[len(entryMagic)+4:])), 0),
	}, b[entryHeader:]
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

// resume offers the cached session for key, if any, and returns how much
// early data its ticket allows.
func (c *Config) resume(s *Session, key string) uint32 {
	if c.ClientSessionCache == nil {
		return 0
	}
	b, ok := c.ClientSessionCache.Get(key)
	if !ok {
		return 0
	}
	t, data := decodeEntry(b)
	if len(data) == 0 || s.SetSessionData(data) != nil {
		return 0 // a stale entry just means a full handshake
	}
	return t.earlyLimit(time.Now())
}

// sessionEntry is the cache entry for the connection's session.
func (c *Conn) sessionEntry() ([]byte, error) {
	data, err := c.sess.SessionData()
	if err != nil {
		return nil, err
	}
	var t ticketInfo
	if c.state.Version == 0x0304 {
		if maxEarly, lifetime, ok := c.sess.lastTicket(); ok {
			t = ticketInfo{maxEarly, time.Now().Add(lifetime)}
		}
	}
	return encodeEntry(t, data), nil
}
