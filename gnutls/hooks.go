package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"time"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// sessionHooks is the Go state that a session's GnuTLS callbacks other
// than the transport's reach: a server's PSK lookup (psk.go), session
// cache and check of resumed sessions (sessioncache.go). One handle reaches it, set as the session's db
// pointer (gnutls_db_set_ptr), which both callbacks read; the session
// pointer (gnutls_session_set_ptr) is a client's ticket watcher.
// The callbacks run inside Handshake, one at a time. It must not refer to
// the Session, so that a forgotten Session can still be collected.
type sessionHooks struct {
	// getPSKKey is the server's lookup; pskIdentity the identity it was
	// last asked for, pskUnknown whether it knew none such.
	getPSKKey   func(identity string) ([]byte, error)
	pskIdentity string
	pskAsked    bool
	pskUnknown  bool

	cache ServerSessionCache
	// resumable, for a server Config's session, says why a session a
	// client asks to resume must not be (sessioncache.go); refused is
	// what it said, for the caller of Handshake; policy is the Config's
	// client-auth policy, which cache entries record.
	resumable func(clientChain [][]byte) error
	refused   error
	policy    clientAuthPolicy
	// sess is the C session, for the callbacks, which run inside its calls.
	sess C.gnutls_session_t

	// tickets are a server's ticket keys, lifetime its session lifetime:
	// which key a ClientHello's ticket names (ticketkeys.go).
	tickets  *ticketKeys
	lifetime time.Duration

	// err is what a callback failed with, for the caller of Handshake.
	err error
}

func restoreHooks(p unsafe.Pointer) *sessionHooks { return pointer.Restore(p).(*sessionHooks) }

// hooksLocked returns the session's hooks, made and handed to C on first
// use. The caller holds the session (inside call).
func (s *Session) hooksLocked(p C.gnutls_session_t) *sessionHooks {
	if s.hooks == nil {
		s.hooks = &sessionHooks{sess: p}
		s.hooksHandle = saveHandle(s.hooks)
		C.gnutls_db_set_ptr(p, s.hooksHandle)
	}
	return s.hooks
}

// takeErr returns and clears the error a callback stored.
func (h *sessionHooks) takeErr() error {
	if h == nil {
		return nil
	}
	err := h.err
	h.err = nil
	return err
}

// refusal gives a failed handshake the reason a server refused to resume
// the client's session, when that is what failed it. The caller holds the
// session.
func (s *Session) refusal(err error) error {
	e, ok := err.(*Error)
	if !ok || s.hooks == nil || s.hooks.refused == nil {
		return err
	}
	e.Err, s.hooks.refused = s.hooks.refused, nil
	return e
}
