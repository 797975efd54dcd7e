package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_psk.h"
import "C"

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Pre-shared keys (RFC 4279, RFC 8446 section 2.2): both sides hold the
// same secret under a name, the identity, which the client sends. Which
// key exchanges may use it is the priority string's choice: under TLS 1.3
// PSK gives psk_ke and ECDHE-PSK or DHE-PSK give psk_dhe_ke; under TLS 1.2
// they are the suites of those names.

// livePSKCredentials counts PSK credentials not yet freed.
var livePSKCredentials atomic.Int64

// ErrUnknownPSKIdentity is what a server's key lookup returns for an
// identity it does not know (a nil key with a nil error means the same).
// A handshake that failed for that reason matches it under errors.Is.
var ErrUnknownPSKIdentity = errors.New("gnutls: unknown PSK identity")

// maxPSKField is the largest identity or key TLS can carry (a 16-bit length).
const maxPSKField = 65535

// PSKCredentials are pre-shared key credentials: a client's identity and
// key (gnutls_psk_client_credentials_t), or a server's lookup from
// identity to key (gnutls_psk_server_credentials_t). Sessions keep them
// alive, so Close frees them once the last session using them is closed.
type PSKCredentials struct {
	*pskState
}

type pskState struct {
	shared
	client C.gnutls_psk_client_credentials_t
	server C.gnutls_psk_server_credentials_t
	// identity is a client's; getKey a server's lookup, hint whether it
	// has a hint.
	identity string
	getKey   func(identity string) ([]byte, error)
	hint     bool
}

func newPSKCredentials(st *pskState) *PSKCredentials {
	livePSKCredentials.Add(1)
	st.free = func() {
		if st.client != nil {
			C.gnutls_psk_free_client_credentials(st.client)
		} else {
			C.gnutls_psk_free_server_credentials(st.server)
		}
		livePSKCredentials.Add(-1)
	}
	c := &PSKCredentials{st}
	runtime.AddCleanup(c, func(st *pskState) { st.close() }, st)
	return c
}

// checkPSKField refuses an identity or key TLS cannot carry. The text
// never shows a key's bytes.
func checkPSKField(op, what string, n int) error {
	if n == 0 || n > maxPSKField {
		return fmt.Errorf("gnutls: %s: the PSK %s must be 1 to %d bytes, got %d", op, what, maxPSKField, n)
	}
	return nil
}

// NewPSKClientCredentials returns client credentials that authenticate as
// identity with key. GnuTLS keeps its own copy of both; key may be
// cleared once this returns.
func NewPSKClientCredentials(identity string, key []byte) (*PSKCredentials, error) {
	const op = "NewPSKClientCredentials"
	if err := checkPSKField(op, "identity", len(identity)); err != nil {
		return nil, err
	}
	if err := checkPSKField(op, "key", len(key)); err != nil {
		return nil, err
	}
	st := &pskState{identity: identity}
	// GnuTLS copies both during the call: no copy of the key is made here.
	id, k := unsafe.Pointer(unsafe.StringData(identity)), unsafe.Pointer(&key[0])
	if err := check("allocate PSK credentials", C.go_gnutls_psk_client_new(&st.client, id, C.uint(len(identity)), k, C.uint(len(key)))); err != nil {
		return nil, err
	}
	return newPSKCredentials(st), nil
}

// NewPSKServerCredentials returns server credentials that find the key of
// the identity a client names with getKey, during the handshake. getKey
// returns ErrUnknownPSKIdentity, or a nil key, for an identity it does not
// know: the handshake then goes on with a random key, so that the client
// cannot tell an unknown identity from a wrong key, and fails. Any other
// error fails the handshake at once; the handshake's error wraps it. The
// key is copied into GnuTLS's memory and the slice is not kept.
func NewPSKServerCredentials(getKey func(identity string) ([]byte, error)) (*PSKCredentials, error) {
	if getKey == nil {
		return nil, errors.New("gnutls: NewPSKServerCredentials needs a key lookup function")
	}
	st := &pskState{getKey: getKey}
	if err := check("allocate PSK credentials", C.go_gnutls_psk_server_new(&st.server)); err != nil {
		return nil, err
	}
	return newPSKCredentials(st), nil
}

// SetHint sets the identity hint a server sends under TLS 1.2 (RFC 4279
// section 5.2: it helps a client choose its identity), once, before the
// credentials are used (gnutls_psk_set_server_credentials_hint).
func (c *PSKCredentials) SetHint(hint string) error {
	if c.server == nil {
		return errors.New("gnutls: SetHint is for server PSK credentials")
	}
	if err := checkNUL("SetHint", "hint", hint); err != nil {
		return err
	}
	if err := checkPSKField("SetHint", "hint", len(hint)); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return net.ErrClosed
	case c.hint:
		return errors.New("gnutls: SetHint: the hint is already set")
	}
	cs := C.CString(hint)
	defer C.free(unsafe.Pointer(cs))
	if err := check("set PSK hint", C.gnutls_psk_set_server_credentials_hint(c.server, cs)); err != nil {
		return err
	}
	c.hint = true
	return nil
}

// Close frees the credentials once no session uses them. It is idempotent.
func (c *PSKCredentials) Close() error {
	c.close()
	return nil
}

// SetPSKCredentials attaches PSK credentials: client credentials to a
// client session, server credentials to a server session. The session
// keeps them alive until it is closed.
func (s *Session) SetPSKCredentials(c *PSKCredentials) error {
	if (c.client != nil) == s.IsServer() {
		return fmt.Errorf("gnutls: SetPSKCredentials: %s credentials on a %s session", c.side(), sideName(s.IsServer()))
	}
	return c.holding(func() error {
		return s.call(func(p C.gnutls_session_t) error {
			ptr := unsafe.Pointer(c.client)
			if c.server != nil {
				ptr = unsafe.Pointer(c.server)
				s.hooksLocked(p).getPSKKey = c.getKey
			}
			if err := check("set PSK credentials", C.gnutls_credentials_set(p, C.GNUTLS_CRD_PSK, ptr)); err != nil {
				return err
			}
			if s.psk != nil {
				s.psk.release()
			}
			s.psk = c
			return nil
		})
	})
}

func (c *PSKCredentials) side() string { return sideName(c.server != nil) }

func sideName(server bool) string {
	if server {
		return "server"
	}
	return "client"
}

// PSKIdentity returns the PSK identity the handshake authenticated with,
// or "" when it used none.
func (s *Session) PSKIdentity() string {
	return get(s, func(p C.gnutls_session_t) string {
		var d *C.uchar
		var n C.uint
		switch C.go_gnutls_psk_identity(p, &d, &n) {
		case 0:
			return ""
		case 1:
			return C.GoStringN((*C.char)(unsafe.Pointer(d)), C.int(n))
		}
		// A TLS 1.2 client keeps no identity for (EC)DHE-PSK: it is its own.
		if s.psk != nil && s.psk.client != nil {
			return s.psk.identity
		}
		return ""
	})
}

// PSKIdentityHint returns the identity hint the server sent (TLS 1.2, a
// client session), or "".
func (s *Session) PSKIdentityHint() string {
	return get(s, func(p C.gnutls_session_t) string { return cString(C.gnutls_psk_client_get_hint(p)) })
}

// pskKey answers GnuTLS's question for a server session: the key of
// identity, copied into key (a gnutls_datum_t GnuTLS zeroes and frees).
// It returns 0 with a key, 1 for an unknown identity, -1 on failure (the
// error is kept).
func (h *sessionHooks) pskKey(identity string, key *C.gnutls_datum_t) C.int {
	h.pskIdentity, h.pskAsked, h.pskUnknown = identity, true, false
	k, err := h.getPSKKey(identity)
	switch {
	case errors.Is(err, ErrUnknownPSKIdentity) || (err == nil && len(k) == 0):
		h.pskUnknown = true
		return 1
	case err != nil:
		h.err = err
		return -1
	case len(k) > maxPSKField:
		h.err = checkPSKField("GetPSKKey", "key", len(k))
		return -1
	}
	if C.go_gnutls_datum_copy(key, unsafe.Pointer(&k[0]), C.uint(len(k))) < 0 {
		return -1
	}
	return 0
}

// PSKFailure says why a handshake failed on its pre-shared key.
type PSKFailure int

const (
	// PSKLookupFailed: the server's key lookup returned an error.
	PSKLookupFailed PSKFailure = iota + 1
	// PSKUnknownIdentity: the server knows no key for the identity.
	PSKUnknownIdentity
	// PSKKeyMismatch: the server found the identity, but the client's
	// key is not the same.
	PSKKeyMismatch
	// PSKRefused: the server refused the client's key; the client cannot
	// tell whether the identity was unknown or the key wrong.
	PSKRefused
)

func (f PSKFailure) String() string {
	switch f {
	case PSKLookupFailed:
		return "the key lookup failed"
	case PSKUnknownIdentity:
		return "unknown identity"
	case PSKKeyMismatch:
		return "the client's key does not match"
	case PSKRefused:
		return "the server refused it (unknown identity, wrong key, or no PSK key exchange in common)"
	}
	return fmt.Sprintf("PSKFailure(%d)", int(f))
}

// PSKError is a handshake that failed on its pre-shared key. It wraps the
// handshake's *Error, whose Err holds the lookup's own error for
// PSKLookupFailed.
type PSKError struct {
	Identity string
	Failure  PSKFailure
	Err      error
}

func (e *PSKError) Error() string {
	return fmt.Sprintf("gnutls: PSK identity %q: %s: %s", e.Identity, e.Failure, strings.TrimPrefix(e.Err.Error(), "gnutls: "))
}

func (e *PSKError) Unwrap() error { return e.Err }

// Is matches ErrUnknownPSKIdentity for PSKUnknownIdentity.
func (e *PSKError) Is(target error) bool {
	return target == ErrUnknownPSKIdentity && e.Failure == PSKUnknownIdentity
}

// Alerts a server answers a client's wrong PSK with: GnuTLS's and
// OpenSSL's for a wrong binder (TLS 1.3) or Finished (TLS 1.2), the one
// RFC 4279 names, and OpenSSL's when it finds no key for the identity.
var pskRefusalAlerts = map[Alert]bool{
	Alert(C.GNUTLS_A_HANDSHAKE_FAILURE):    true,
	Alert(C.GNUTLS_A_ILLEGAL_PARAMETER):    true,
	Alert(C.GNUTLS_A_DECRYPT_ERROR):        true,
	Alert(C.GNUTLS_A_BAD_RECORD_MAC):       true,
	Alert(C.GNUTLS_A_UNKNOWN_PSK_IDENTITY): true,
}

// Codes a GnuTLS server fails with when the client's key is not its own.
var pskMismatchCodes = map[ErrorCode]bool{
	ErrorCode(C.GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER): true, // TLS 1.3 binder
	ErrDecryptionFailed:                            true, // TLS 1.2: the client's Finished
	ErrorCode(C.GNUTLS_E_ERROR_IN_FINISHED_PACKET): true,
}

// pskError explains a failed handshake by its pre-shared key, when that
// is what failed; other errors come back as they are. The caller holds
// the session.
func (s *Session) pskError(err error) error {
	e, ok := err.(*Error)
	if !ok || s.psk == nil {
		return err
	}
	if s.psk.client != nil {
		if e.Alert != nil && pskRefusalAlerts[e.Alert.Description] {
			return &PSKError{Identity: s.psk.identity, Failure: PSKRefused, Err: e}
		}
		return e
	}
	h := s.hooks
	if h == nil || !h.pskAsked {
		return e
	}
	if err := h.takeErr(); err != nil {
		e.Err = err
		return &PSKError{Identity: h.pskIdentity, Failure: PSKLookupFailed, Err: e}
	}
	switch {
	case h.pskUnknown:
		return &PSKError{Identity: h.pskIdentity, Failure: PSKUnknownIdentity, Err: e}
	case pskMismatchCodes[e.Code]:
		return &PSKError{Identity: h.pskIdentity, Failure: PSKKeyMismatch, Err: e}
	}
	return e
}

// pskKeyExchanges are added to the default priorities of a Config with a
// pre-shared key: the key exchanges that keep forward secrecy (TLS 1.3's
// psk_dhe_ke). Plain PSK (psk_ke) is for a Priority to ask for.
const pskKeyExchanges = "+ECDHE-PSK:+DHE-PSK"

// hasPSK reports whether the Config sets a pre-shared key for a role: a
// client's identity and key, a server's lookup.
func (c *Config) hasPSK(isClient bool) bool {
	if isClient {
		return c.PSKIdentity != "" || len(c.PSKKey) > 0
	}
	return c.GetPSKKey != nil
}

// usesPSK reports whether the Config sets a pre-shared key, either side's.
func (c *Config) usesPSK() bool { return c.hasPSK(true) || c.hasPSK(false) }

// pskOnly reports whether the side authenticates by pre-shared key alone,
// without certificate credentials: a PSK client. A server always has
// them, empty without a certificate: GnuTLS's TLS 1.2 server skips the
// certificate suites only when it finds no certificate in them, and picks
// them, then fails, when it has no certificate credentials at all.
func (c *Config) pskOnly(isClient bool) bool {
	return isClient && c.hasPSK(isClient)
}

// pskCredentials builds the Config's PSK credentials for a role at the
// first use that succeeds and shares them: a client's hold its identity and key, a server's the lookup.
func (c *Config) pskCredentials(isClient bool) (*PSKCredentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.role(isClient)
	if r.psk != nil {
		return r.psk, nil
	}
	var psk *PSKCredentials
	var err error
	if isClient {
		psk, err = NewPSKClientCredentials(c.PSKIdentity, c.PSKKey)
	} else if psk, err = NewPSKServerCredentials(c.GetPSKKey); err == nil && c.PSKIdentityHint != "" {
		if err = psk.SetHint(c.PSKIdentityHint); err != nil {
			psk.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	r.psk = psk
	return psk, nil
}

// configurePSK attaches the Config's PSK credentials, if it has any for
// this side.
func (c *Config) configurePSK(s *Session, isClient bool) error {
	if !c.hasPSK(isClient) {
		return nil
	}
	cr, err := c.pskCredentials(isClient)
	if err != nil {
		return err
	}
	return s.SetPSKCredentials(cr)
}

// newDefaultPriorityCacheWith parses the default priorities with add
// appended; op names the operation in an error.
func newDefaultPriorityCacheWith(op, add string) (*priorityCache, error) {
	cs := C.CString(add)
	defer C.free(unsafe.Pointer(cs))
	pc := &priorityCache{str: add}
	if r := C.go_gnutls_priority_init_append(&pc.ptr, cs); r < 0 {
		return nil, priorityError(op, "(the default)"+add, r, -1)
	}
	runtime.AddCleanup(pc, func(p C.gnutls_priority_t) { C.gnutls_priority_deinit(p) }, pc.ptr)
	return pc, nil
}
