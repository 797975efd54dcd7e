package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"unsafe"
)

// ErrorCode is a GnuTLS error code (a negative number). The exported codes
// below are the ones callers branch on; any code compares equal to an
// *Error carrying it under errors.Is.
type ErrorCode int

// Codes callers commonly match with errors.Is.
const (
	ErrAgain                   = ErrorCode(-28)  // GNUTLS_E_AGAIN
	ErrInterrupted             = ErrorCode(-52)  // GNUTLS_E_INTERRUPTED
	ErrWarningAlertReceived    = ErrorCode(-16)  // GNUTLS_E_WARNING_ALERT_RECEIVED
	ErrFatalAlertReceived      = ErrorCode(-12)  // GNUTLS_E_FATAL_ALERT_RECEIVED
	ErrCertificateVerification = ErrorCode(-348) // GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR
	ErrPremature               = ErrorCode(-110) // GNUTLS_E_PREMATURE_TERMINATION
	ErrPush                    = ErrorCode(-53)  // GNUTLS_E_PUSH_ERROR
	ErrPull                    = ErrorCode(-54)  // GNUTLS_E_PULL_ERROR
	ErrUnexpectedPacket        = ErrorCode(-15)  // GNUTLS_E_UNEXPECTED_PACKET
	ErrUnexpectedPacketLength  = ErrorCode(-9)   // GNUTLS_E_UNEXPECTED_PACKET_LENGTH
	ErrUnsupportedVersion      = ErrorCode(-8)   // GNUTLS_E_UNSUPPORTED_VERSION_PACKET
	ErrDecryptionFailed        = ErrorCode(-24)  // GNUTLS_E_DECRYPTION_FAILED
	ErrNoCipherSuites          = ErrorCode(-87)  // GNUTLS_E_NO_CIPHER_SUITES
	ErrInvalidRequest          = ErrorCode(-50)  // GNUTLS_E_INVALID_REQUEST
	ErrInvalidSession          = ErrorCode(-10)  // GNUTLS_E_INVALID_SESSION
	ErrRecordOverflow          = ErrorCode(-417) // GNUTLS_E_RECORD_OVERFLOW
	ErrTimedOut                = ErrorCode(-319) // GNUTLS_E_TIMEDOUT
	ErrNoApplicationProtocol   = ErrorCode(-344) // GNUTLS_E_NO_APPLICATION_PROTOCOL
	ErrCertificateRequired     = ErrorCode(-112) // GNUTLS_E_CERTIFICATE_REQUIRED
	ErrFileError               = ErrorCode(-64)  // GNUTLS_E_FILE_ERROR
	ErrNoCertificateFound      = ErrorCode(-49)  // GNUTLS_E_NO_CERTIFICATE_FOUND
	ErrBase64Decoding          = ErrorCode(-34)  // GNUTLS_E_BASE64_DECODING_ERROR
	ErrEarlyDataRejected       = ErrorCode(-429) // GNUTLS_E_EARLY_DATA_REJECTED

	errRehandshake = ErrorCode(C.GNUTLS_E_REHANDSHAKE)
)

// Error returns gnutls_strerror's text and the code's name.
func (c ErrorCode) Error() string {
	return fmt.Sprintf("%s (%s)", c.Message(), c.Name())
}

// Name is the code's symbolic name, such as "GNUTLS_E_AGAIN".
func (c ErrorCode) Name() string { return C.GoString(C.gnutls_strerror_name(C.int(c))) }

// Message is gnutls_strerror's text for the code.
func (c ErrorCode) Message() string { return C.GoString(C.gnutls_strerror(C.int(c))) }

// Fatal reports whether GnuTLS considers the code fatal to the session.
func (c ErrorCode) Fatal() bool { return C.gnutls_error_is_fatal(C.int(c)) != 0 }

// Timeout reports whether the code is GNUTLS_E_TIMEDOUT.
func (c ErrorCode) Timeout() bool { return c == ErrTimedOut }

// Temporary reports whether retrying the operation can succeed.
func (c ErrorCode) Temporary() bool { return c == ErrAgain || c == ErrInterrupted }

// Error is a failed GnuTLS operation.
type Error struct {
	Op    string    // the operation, such as "handshake" or "read"
	Code  ErrorCode // the GnuTLS code
	Alert *AlertError
	// Verify is set when the peer's certificate was rejected.
	Verify *CertificateVerificationError
	// Err is the transport's own error behind a push or pull failure
	// (a syscall.Errno or the error a callback transport returned), or
	// ErrEmptyRecords.
	Err error

	errno syscall.Errno // errno after the failed call, 0 if none was set
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gnutls: ")
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	switch {
	case e.Verify != nil:
		b.WriteString(e.Verify.Error())
	case e.Alert != nil:
		b.WriteString(e.Alert.Error())
	default:
		b.WriteString(e.Code.Message())
	}
	b.WriteString(" (" + e.Code.Name() + ")")
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Fatal reports whether the session cannot be used after this error.
func (e *Error) Fatal() bool { return e.Code.Fatal() }

// Timeout reports whether the error is a timeout, of GnuTLS or of the transport.
func (e *Error) Timeout() bool {
	var t interface{ Timeout() bool }
	return e.Code.Timeout() || (errors.As(e.Err, &t) && t.Timeout())
}

// Temporary reports whether retrying can succeed (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED).
func (e *Error) Temporary() bool { return e.Code.Temporary() }

// Is matches the error's code, and io.ErrUnexpectedEOF for a peer that closed
// without close_notify.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return t == e.Code
	}
	return target == io.ErrUnexpectedEOF && e.Code == ErrPremature
}

// Unwrap gives the transport error, the alert and the verification failure.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Alert != nil {
		errs = append(errs, e.Alert)
	}
	if e.Verify != nil {
		errs = append(errs, e.Verify)
	}
	return errs
}

// AlertError is a TLS alert received from the peer.
type AlertError struct {
	Description Alert
	Fatal       bool
}

func (e *AlertError) Error() string {
	kind := "warning"
	if e.Fatal {
		kind = "fatal"
	}
	return fmt.Sprintf("received %s alert: %s", kind, e.Description)
}

// Alert is a TLS alert description (RFC 8446, section 6).
type Alert int

// String is GnuTLS's text for the alert, such as "Handshake failed".
func (a Alert) String() string {
	p := C.gnutls_alert_get_name(C.gnutls_alert_description_t(a))
	if p == nil {
		return fmt.Sprintf("alert %d", int(a))
	}
	return C.GoString(p)
}

// CertificateVerificationError says why the peer's certificate was rejected.
type CertificateVerificationError struct {
	Status CertStatus
	// Reason is GnuTLS's description of Status.
	Reason string
	// Certificates is the chain the peer sent, leaf first, as DER (as
	// crypto/tls's UnverifiedCertificates): what was rejected.
	Certificates [][]byte
}

func (e *CertificateVerificationError) Error() string {
	return "certificate verification failed: " + e.Reason
}

// CertStatus holds gnutls_certificate_status_t bits.
type CertStatus uint32

// Verification status bits.
const (
	CertInvalid           = CertStatus(1 << 1)  // GNUTLS_CERT_INVALID
	CertRevoked           = CertStatus(1 << 5)  // GNUTLS_CERT_REVOKED
	CertSignerNotFound    = CertStatus(1 << 6)  // GNUTLS_CERT_SIGNER_NOT_FOUND
	CertSignerNotCA       = CertStatus(1 << 7)  // GNUTLS_CERT_SIGNER_NOT_CA
	CertInsecureAlgorithm = CertStatus(1 << 8)  // GNUTLS_CERT_INSECURE_ALGORITHM
	CertNotActivated      = CertStatus(1 << 9)  // GNUTLS_CERT_NOT_ACTIVATED
	CertExpired           = CertStatus(1 << 10) // GNUTLS_CERT_EXPIRED
	CertUnexpectedOwner   = CertStatus(1 << 14) // GNUTLS_CERT_UNEXPECTED_OWNER
	CertSignerConstraints = CertStatus(1 << 16) // GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE
	CertPurposeMismatch   = CertStatus(1 << 18) // GNUTLS_CERT_PURPOSE_MISMATCH
	CertMissingOCSP       = CertStatus(1 << 19) // GNUTLS_CERT_MISSING_OCSP_STATUS
	CertInvalidOCSP       = CertStatus(1 << 20) // GNUTLS_CERT_INVALID_OCSP_STATUS
)

// String is GnuTLS's description of the status, without the space
// GnuTLS ends it with.
func (s CertStatus) String() string {
	var out *C.char
	if C.go_gnutls_status_print(C.uint(s), &out) < 0 || out == nil {
		return fmt.Sprintf("status %#x", uint32(s))
	}
	defer C.go_gnutls_free(unsafe.Pointer(out))
	return strings.TrimSpace(C.GoString(out))
}

// Has reports whether all bits of f are set.
func (s CertStatus) Has(f CertStatus) bool { return s&f == f }

// codeError builds the Error for a failed call. errno is what the failed
// system call left behind, used only for push and pull failures.
func (s *Session) codeError(op string, code C.int, errno error) error {
	e := &Error{Op: op, Code: ErrorCode(code)}
	e.errno, _ = errno.(syscall.Errno)
	switch e.Code {
	case ErrFatalAlertReceived, ErrWarningAlertReceived:
		e.Alert = &AlertError{
			Description: Alert(C.gnutls_alert_get(s.ptr)),
			Fatal:       e.Code == ErrFatalAlertReceived,
		}
	case ErrCertificateVerification:
		st := CertStatus(C.go_gnutls_verify_failure_status(s.ptr))
		e.Verify = &CertificateVerificationError{Status: st, Reason: st.String(), Certificates: peerChain(s.ptr)}
	case ErrPush, ErrPull:
		if err := s.tr.takeErr(e.Code == ErrPush); err != nil {
			e.Err = err
		} else if e.errno != 0 {
			e.Err = e.errno
		}
	}
	return e
}

// withOp is err from a step of op. A *Error names op before its own
// operation, so that the text says "gnutls: " once; another error is
// wrapped.
func withOp(op string, err error) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Op = op
		if e.Op != "" {
			c.Op += ": " + e.Op
		}
		return &c
	}
	return fmt.Errorf("gnutls: %s: %w", op, err)
}

// cString is C.GoString for GnuTLS's names, which are NULL when unknown.
func cString(cs *C.char) string {
	if cs == nil {
		return ""
	}
	return C.GoString(cs)
}

// checkNUL refuses a string C would cut short at a NUL byte (a priority
// string or a host name ending early would mean something else).
func checkNUL(op, what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("gnutls: %s: %s %q contains a NUL byte", op, what, s)
	}
	return nil
}

var errNoCertificate = errors.New("gnutls: a server Config needs a certificate in Certificates or CertFile, or GetPSKKey")
