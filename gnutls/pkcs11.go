package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls_pki.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// PINFlags are gnutls_pin_flag_t bits: which PIN a token asks for and how
// its retry counter stands.
type PINFlags uint

// PIN flags.
const (
	PINUser            = PINFlags(1)      // GNUTLS_PIN_USER
	PINSO              = PINFlags(1 << 1) // GNUTLS_PIN_SO
	PINFinalTry        = PINFlags(1 << 2) // GNUTLS_PIN_FINAL_TRY
	PINCountLow        = PINFlags(1 << 3) // GNUTLS_PIN_COUNT_LOW
	PINContextSpecific = PINFlags(1 << 4) // GNUTLS_PIN_CONTEXT_SPECIFIC
	PINWrong           = PINFlags(1 << 5) // GNUTLS_PIN_WRONG
)

// PINRequest is a token asking for its PIN.
type PINRequest struct {
	TokenURL   string // the token's pkcs11: URL
	TokenLabel string
	Flags      PINFlags
}

// PINFunc returns the PIN a token asks for. The package clears the
// returned slice as soon as it has handed the PIN to GnuTLS, so it should
// be a fresh copy. An error stops the login and comes back from the call
// that needed it.
type PINFunc func(PINRequest) ([]byte, error)

// ErrPKCS11PIN is GnuTLS's code for a login that failed: a wrong PIN, or
// none to give.
const ErrPKCS11PIN = ErrorCode(-303) // GNUTLS_E_PKCS11_PIN_ERROR

// ErrPINIncorrect: the token refused the PIN. The PIN is not asked for
// again, so that a wrong PIN cannot be tried until the token locks.
var ErrPINIncorrect = errors.New("gnutls: the token refused the PIN")

// pinAsker is what the PIN callback of some credentials reaches.
type pinAsker struct {
	f   PINFunc
	mu  sync.Mutex
	err error // why the last request was refused, for the caller
}

func restorePINAsker(p unsafe.Pointer) *pinAsker { return pointer.Restore(p).(*pinAsker) }

// fill writes the PIN into dst (C memory) and returns its length, or -1
// after storing why not. GnuTLS asks again after a wrong PIN (attempt > 0);
// that is refused.
func (a *pinAsker) fill(attempt int, req PINRequest, dst []byte) int {
	if attempt > 0 || req.Flags&PINWrong != 0 {
		return a.refuse(ErrPINIncorrect)
	}
	pin, err := a.f(req)
	defer clear(pin)
	switch {
	case err != nil:
		return a.refuse(fmt.Errorf("gnutls: PIN for token %q: %w", req.TokenLabel, err))
	case len(pin) > len(dst):
		return a.refuse(fmt.Errorf("gnutls: PIN for token %q: longer than the %d bytes GnuTLS takes", req.TokenLabel, len(dst)))
	case bytes.IndexByte(pin, 0) >= 0:
		return a.refuse(fmt.Errorf("gnutls: PIN for token %q: contains a NUL byte", req.TokenLabel))
	}
	return copy(dst, pin)
}

func (a *pinAsker) refuse(err error) int {
	a.mu.Lock()
	a.err = err
	a.mu.Unlock()
	return -1
}

// take returns and clears the stored refusal.
func (a *pinAsker) take() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.err
	a.err = nil
	return err
}

// SetPINFunc sets the function asked for the PIN of a PKCS#11 token
// holding a key or certificate these credentials load, when loading and,
// should the token want it again, when signing
// (gnutls_certificate_set_pin_function). Set it before loading; it can be
// set once. Without it, only a PIN the URL carries (pin-value,
// pin-source) logs in.
func (c *Credentials) SetPINFunc(f PINFunc) error {
	if f == nil {
		return errors.New("gnutls: SetPINFunc: nil function")
	}
	_, err := c.load("set PIN function", func(p C.gnutls_certificate_credentials_t) C.int {
		if c.pin != nil {
			return C.GNUTLS_E_INVALID_REQUEST
		}
		c.pin = &pinAsker{f: f}
		h := saveHandle(c.pin)
		c.afterFree = append(c.afterFree, func() { dropHandle(h) })
		C.go_gnutls_set_pin(p, h)
		return 0
	})
	return err
}

// RedactURL returns s with the PIN a pkcs11: URL may carry (pin-value,
// RFC 7512, in any case) replaced by REDACTED, for messages.
func RedactURL(s string) string {
	const attr = "pin-value="
	var b strings.Builder
	for {
		i := 0
		for i+len(attr) <= len(s) && !strings.EqualFold(s[i:i+len(attr)], attr) {
			i++
		}
		if i+len(attr) > len(s) {
			return b.String() + s
		}
		i += len(attr)
		b.WriteString(s[:i])
		b.WriteString("REDACTED")
		s = s[i:]
		if end := strings.IndexAny(s, ";?&"); end >= 0 {
			s = s[end:]
		} else {
			s = ""
		}
	}
}

// loginError adds to a failed load why the PIN was refused, if it was.
func (c *Credentials) loginError(err error) error {
	if err == nil {
		return nil
	}
	if why := c.pin.take(); why != nil {
		return fmt.Errorf("%w: %w", err, why)
	}
	return err
}
