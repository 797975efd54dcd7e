package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
// #include "go_gnutls_records.h"
import "C"

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// InitFlags are gnutls_init flags.
type InitFlags uint32

// Flags for NewSession. Exactly one of InitClient and InitServer must be given.
const (
	InitClient          = InitFlags(1 << 1)  // GNUTLS_CLIENT
	InitServer          = InitFlags(1)       // GNUTLS_SERVER
	InitNonBlock        = InitFlags(1 << 3)  // GNUTLS_NONBLOCK
	InitNoSignal        = InitFlags(1 << 6)  // GNUTLS_NO_SIGNAL
	InitEnableEarlyData = InitFlags(1 << 20) // GNUTLS_ENABLE_EARLY_DATA
	InitNoTickets       = InitFlags(1 << 10) // GNUTLS_NO_TICKETS
)

// Errors of the Session API that are not GnuTLS codes.
var (
	ErrBadFlags = errors.New("gnutls: NewSession needs exactly one of InitClient and InitServer")
	// ErrTransportSet: a transport was set already; GnuTLS allows one, and
	// after SetFastOpen none at all.
	ErrTransportSet = errors.New("gnutls: the session's transport is already set")
	// ErrNoTransport: Handshake, Read or Write before any transport was set.
	ErrNoTransport = errors.New("gnutls: no transport set on the session")
)

// liveSessions counts sessions not yet freed; leakedSessions counts those
// freed by the cleanup because nobody called Close.
var liveSessions, leakedSessions atomic.Int64

type transportKind int

const (
	noTransport transportKind = iota
	intTransport
	callbackTransport
	fastOpenTransport
)

func (k transportKind) String() string {
	return [...]string{"none", "a file descriptor", "Go callbacks", "fast open"}[k]
}

// Session is a GnuTLS session (gnutls_session_t). One goroutine may read
// (Read) while another writes (Write); other methods must not run
// concurrently with Handshake. Close may be called at any time, from any
// goroutine, and more than once: it waits for a C call in progress and
// frees the session, after which every method that would call GnuTLS
// returns net.ErrClosed, or its zero value when it returns no error
// (Version, Info, FastOpenReport, ...).
type Session struct {
	*sessionState
}

// sessionState owns the C session. It is what the cleanup frees, so it must
// not refer to its Session.
type sessionState struct {
	mu     sync.RWMutex       // write-locked by Close; read-locked around C calls
	ptr    C.gnutls_session_t // nil once freed
	flags  InitFlags
	kind   transportKind
	fd     int // the socket under the transport, or -1
	handle unsafe.Pointer
	tr     *transport
	creds  *Credentials
	psk    *PSKCredentials
	// hooks is reached by the PSK and session cache callbacks through
	// hooksHandle (hooks.go).
	hooks       *sessionHooks
	hooksHandle unsafe.Pointer
	key         *ticketKey     // keeps the server's ticket key alive
	replay      *AntiReplay    // keeps the server's anti-replay state alive
	verify      unsafe.Pointer // C memory gnutls_session_set_verify_cert2 refers to
	ra          unsafe.Pointer // the read-ahead transport's C state (readahead.go)
	raAgain     *C.int         // its flag that a recv found the socket empty
	recs        unsafe.Pointer // what the pull functions saw of records (records.go)
	ticket      unsafe.Pointer // what the last TLS 1.3 ticket said (resumption.go)
	tfo         bool           // the socket connects with fast open (markFastOpen)
	// tfoSysctl is net.ipv4.tcp_fastopen when SetFastOpen was called.
	tfoSysctl int
}

// NewSession returns a session with the system's default priorities
// (gnutls_set_default_priority) and GnuTLS's own timeouts off, so deadlines
// belong to the caller. InitNoSignal is always added: a write to a closed
// socket returns EPIPE instead of raising SIGPIPE. It fails with
// ErrLibraryVersion when the GnuTLS linked at run time is older than
// MinVersion.
func NewSession(flags InitFlags) (*Session, error) {
	return newSession(flags, nil)
}

// newSession is NewSession with the priorities of pc, or the default ones
// when pc is nil.
func newSession(flags InitFlags, pc *priorityCache) (*Session, error) {
	if (flags&InitClient != 0) == (flags&InitServer != 0) {
		return nil, ErrBadFlags
	}
	if err := libraryVersionError(); err != nil {
		return nil, err
	}
	flags |= InitNoSignal
	st := &sessionState{flags: flags, fd: -1}
	if r := C.gnutls_init(&st.ptr, C.uint(flags)); r < 0 {
		return nil, &Error{Op: "init", Code: ErrorCode(r)}
	}
	liveSessions.Add(1)
	if pc == nil {
		if r := C.gnutls_set_default_priority(st.ptr); r < 0 {
			st.free()
			return nil, &Error{Op: "set default priority", Code: ErrorCode(r)}
		}
	} else if r := C.gnutls_priority_set(st.ptr, pc.ptr); r < 0 {
		st.free()
		return nil, priorityError("set priority", pc.str, r, -1)
	}
	runtime.KeepAlive(pc)
	C.gnutls_handshake_set_timeout(st.ptr, 0)
	s := &Session{st}
	runtime.AddCleanup(s, func(st *sessionState) {
		if st.free() {
			leakedSessions.Add(1)
		}
	}, st)
	return s, nil
}

// free releases the C session and what C holds of Go; it reports whether
// there was anything to free.
func (st *sessionState) free() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ptr == nil {
		return false
	}
	C.gnutls_deinit(st.ptr)
	st.ptr = nil
	C.free(st.verify)
	st.verify = nil
	C.free(st.ticket)
	st.ticket = nil
	freeReadahead(st.ra)
	st.ra, st.raAgain = nil, nil
	C.free(st.recs)
	st.recs = nil
	dropHandle(st.handle)
	st.handle = nil
	dropHandle(st.hooksHandle)
	st.hooksHandle, st.hooks = nil, nil
	if st.psk != nil {
		st.psk.release()
		st.psk = nil
	}
	if st.creds != nil {
		st.creds.release()
		st.creds = nil
	}
	liveSessions.Add(-1)
	return true
}

// Close frees the session. It does not send close_notify (see Bye) and
// does not close the transport.
func (s *Session) Close() error {
	s.free()
	return nil
}

// call runs f with the session locked against Close; it returns
// net.ErrClosed after Close.
func (s *Session) call(f func(p C.gnutls_session_t) error) error {
	return s.callNeeding(false, f)
}

// callIO is call for what reads or writes the transport: it returns
// ErrNoTransport while none is set.
func (s *Session) callIO(f func(p C.gnutls_session_t) error) error {
	return s.callNeeding(true, f)
}

func (s *Session) callNeeding(transport bool, f func(p C.gnutls_session_t) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(transport); err != nil {
		return err
	}
	return f(s.ptr)
}

// usable is net.ErrClosed after Close and, when transport is set,
// ErrNoTransport while no transport is set; the caller holds s.mu.
func (st *sessionState) usable(transport bool) error {
	if st.ptr == nil {
		return net.ErrClosed
	}
	if transport && st.kind == noTransport {
		return ErrNoTransport
	}
	return nil
}

// get returns f's answer on the live session, or T's zero value after Close.
func get[T any](s *Session, f func(p C.gnutls_session_t) T) T {
	var v T
	s.call(func(p C.gnutls_session_t) error {
		v = f(p)
		return nil
	})
	return v
}

// check turns a negative GnuTLS return into an *Error.
func check(op string, r C.int) error {
	if r < 0 {
		return &Error{Op: op, Code: ErrorCode(r)}
	}
	return nil
}

// IsServer reports whether the session was made with InitServer.
func (s *Session) IsServer() bool { return s.flags&InitServer != 0 }

// SetPriority sets the priority string (gnutls_priority_set_direct), such
// as "NORMAL:-VERS-TLS1.2". A bad string is an error naming where it fails.
func (s *Session) SetPriority(priority string) error {
	if err := checkNUL("set priority", "priority", priority); err != nil {
		return err
	}
	return s.call(func(p C.gnutls_session_t) error {
		cs := C.CString(priority)
		defer C.free(unsafe.Pointer(cs))
		var pos C.int
		if r := C.go_gnutls_priority_set(p, cs, &pos); r < 0 {
			return priorityError("set priority", priority, r, pos)
		}
		return nil
	})
}

// SetCredentials attaches certificate credentials. The session keeps them
// alive until it is closed.
func (s *Session) SetCredentials(c *Credentials) error {
	return c.holding(func() error {
		return s.call(func(p C.gnutls_session_t) error {
			if err := check("set credentials", C.gnutls_credentials_set(p, C.GNUTLS_CRD_CERTIFICATE, unsafe.Pointer(c.ptr))); err != nil {
				return err
			}
			if s.creds != nil {
				s.creds.release()
			}
			s.creds = c
			return nil
		})
	})
}

// SetServerName sets the SNI host name sent in the ClientHello.
func (s *Session) SetServerName(name string) error {
	if err := checkNUL("set server name", "name", name); err != nil {
		return err
	}
	return s.call(func(p C.gnutls_session_t) error {
		cs := C.CString(name)
		defer C.free(unsafe.Pointer(cs))
		return check("set server name", C.gnutls_server_name_set(p, C.GNUTLS_NAME_DNS, unsafe.Pointer(cs), C.size_t(len(name))))
	})
}

// ServerName returns the SNI name the client sent (server sessions).
func (s *Session) ServerName() string {
	var name string
	s.call(func(p C.gnutls_session_t) error {
		buf := make([]byte, 256)
		n := C.size_t(len(buf))
		if C.go_gnutls_server_name(p, (*C.char)(unsafe.Pointer(&buf[0])), &n) == 0 && n > 0 {
			name = string(buf[:n])
		}
		return nil
	})
	return name
}

// VerifyPeer makes the handshake verify the peer's certificate chain
// against the credentials' trust store, that the certificate may serve
// TLS servers (for a client session) or clients (for a server session),
// and, when hostname is not empty, that it is for hostname
// (gnutls_session_set_verify_cert2). A rejected peer fails the handshake
// with an *Error holding a *CertificateVerificationError.
func (s *Session) VerifyPeer(hostname string) error {
	if err := checkNUL("set verification", "host name", hostname); err != nil {
		return err
	}
	return s.call(func(p C.gnutls_session_t) error {
		var cs *C.char
		if hostname != "" {
			cs = C.CString(hostname)
			defer C.free(unsafe.Pointer(cs))
		}
		clientPurpose := C.int(0)
		if s.IsServer() {
			clientPurpose = 1
		}
		v := C.go_gnutls_set_verify(p, cs, clientPurpose)
		if v == nil {
			return &Error{Op: "set verification", Code: ErrorCode(C.GNUTLS_E_MEMORY_ERROR)}
		}
		C.free(s.verify)
		s.verify = unsafe.Pointer(v)
		return nil
	})
}

// verifyGivenClientCert makes a server verify a client's certificate as
// VerifyPeer does, but only when the client sends one
// (VerifyClientCertIfGiven).
func (s *Session) verifyGivenClientCert() error {
	return s.call(func(p C.gnutls_session_t) error {
		C.go_gnutls_set_verify_if_given(p)
		return nil
	})
}

// SetALPN sets the application protocols to offer (client) or accept (server).
func (s *Session) SetALPN(protos []string) error {
	if len(protos) == 0 {
		return nil
	}
	if len(protos) > 16 {
		return fmt.Errorf("gnutls: at most 16 ALPN protocols, got %d", len(protos))
	}
	packed := make([]byte, 0, 64)
	lens := make([]C.int, len(protos))
	for i, p := range protos {
		if len(p) == 0 || len(p) > 255 {
			return fmt.Errorf("gnutls: ALPN protocol %q must be 1 to 255 bytes", p)
		}
		packed = append(packed, p...)
		lens[i] = C.int(len(p))
	}
	return s.call(func(p C.gnutls_session_t) error {
		cp := C.CBytes(packed)
		defer C.free(cp)
		return check("set ALPN", C.go_gnutls_alpn_set(p, (*C.char)(cp), &lens[0], C.int(len(lens))))
	})
}

// ALPN returns the negotiated application protocol, or "".
func (s *Session) ALPN() string {
	var proto string
	s.call(func(p C.gnutls_session_t) error {
		var cp *C.char
		var n C.uint
		if C.go_gnutls_alpn_get(p, &cp, &n) == 0 {
			proto = C.GoStringN(cp, C.int(n))
		}
		return nil
	})
	return proto
}

// RequestClientCert makes a server ask for (require=false) or demand
// (require=true) a client certificate.
func (s *Session) RequestClientCert(require bool) error {
	return s.call(func(p C.gnutls_session_t) error {
		req := C.gnutls_certificate_request_t(C.GNUTLS_CERT_REQUEST)
		if require {
			req = C.GNUTLS_CERT_REQUIRE
		}
		C.gnutls_certificate_server_set_request(p, req)
		return nil
	})
}

// setTransport gives the session its one transport: GnuTLS allows one,
// and after SetFastOpen none at all. set makes the C calls; kind and fd
// (-1 when there is none) record what was set.
func (s *Session) setTransport(kind transportKind, fd int, set func(p C.gnutls_session_t) error) error {
	return s.call(func(p C.gnutls_session_t) error {
		if s.kind != noTransport {
			return fmt.Errorf("%w (to %s)", ErrTransportSet, s.kind)
		}
		if err := set(p); err != nil {
			return err
		}
		s.kind, s.fd = kind, fd
		return nil
	})
}

// SetTransportInt makes GnuTLS read and write the file descriptor itself
// (gnutls_transport_set_int). The caller keeps ownership of fd.
func (s *Session) SetTransportInt(fd int) error {
	return s.setTransport(intTransport, fd, func(p C.gnutls_session_t) error {
		C.gnutls_transport_set_int2(p, C.int(fd), C.int(fd))
		return nil
	})
}

// SetTransport makes GnuTLS read from and write to rw through Go callbacks.
// An error rw returns reaches the caller of Handshake, Read or Write
// intact; an error matching syscall.EAGAIN is GnuTLS's would-block.
func (s *Session) SetTransport(rw io.ReadWriter) error {
	if rw == nil {
		return errors.New("gnutls: SetTransport with a nil io.ReadWriter")
	}
	return s.setTransport(callbackTransport, -1, func(p C.gnutls_session_t) error {
		s.setCallbacks(p, rw)
		return nil
	})
}

// setCallbacks hands GnuTLS the callbacks that reach rw; the caller holds
// the session (call).
func (st *sessionState) setCallbacks(p C.gnutls_session_t, rw io.ReadWriter) {
	st.tr = &transport{rw: rw, session: p}
	st.handle = saveHandle(st.tr)
	C.go_gnutls_set_callbacks(p, st.handle)
}

// Handshake runs the TLS handshake once (gnutls_handshake). On a
// non-blocking transport it returns ErrAgain; Direction then tells what to
// wait for before calling it again.
func (s *Session) Handshake() error {
	return s.callIO(func(p C.gnutls_session_t) error {
		r, errno := C.go_gnutls_handshake(p)
		if r < 0 {
			return s.pskError(s.refusal(s.codeError("handshake", r, errno)))
		}
		return nil
	})
}

// Direction reports whether the last call that returned ErrAgain was
// blocked on writing (true) or reading (false): gnutls_record_get_direction.
// GnuTLS keeps it per session, set by reads and writes alike: while a Read
// and a Write run at once it can be the other call's.
func (s *Session) Direction() (write bool) {
	s.call(func(p C.gnutls_session_t) error {
		write = C.gnutls_record_get_direction(p) == 1
		return nil
	})
	return write
}

// Read reads application data (gnutls_record_recv). A clean close_notify
// from the peer is io.EOF. After handling a post-handshake message, such
// as a TLS 1.3 session ticket, GnuTLS returns ErrAgain even on a blocking
// transport: call Read again (Conn does).
func (s *Session) Read(b []byte) (int, error) {
	rr := s.recvRecord(b)
	return rr.n, rr.error("read")
}

// recordIO is how a record read or write ended. GNUTLS_E_AGAIN and
// GNUTLS_E_INTERRUPTED are left in again and errno, where Conn, which
// calls again, needs no *Error; err holds any other failure (and, for an
// operation of run, its own *Error for those two too).
type recordIO struct {
	n     int
	err   error
	again ErrorCode
	errno syscall.Errno
}

// error is err, or else the *Error of again.
func (r *recordIO) error(op string) error {
	if r.again != 0 && r.err == nil {
		return &Error{Op: op, Code: r.again, errno: r.errno}
	}
	return r.err
}

// recordRead is what recvRecord returns: the read, and what Conn counts
// records with (alerts.go).
type recordRead struct {
	recordIO
	// sendBlocked: the read returned GNUTLS_E_AGAIN with errno EAGAIN
	// while the read-ahead's recv did not find the socket empty, so a send
	// of its own blocked (a TLS 1.3 KeyUpdate answer).
	sendBlocked bool
	seq         uint64 // the read sequence number after the read
	// empty and bytes are recordsSeen after the read, when followed.
	empty, bytes uint64
	followed     bool
}

// recvRecord is Read in one C call under the session's lock
// (go_gnutls_conn_recv), with the read sequence number and the records
// followed after it.
func (s *Session) recvRecord(b []byte) (rr recordRead) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if rr.err = s.usable(true); rr.err != nil {
		return rr
	}
	recs := (*C.go_gnutls_records)(s.recs)
	var res C.go_gnutls_conn_read
	// &b[0] goes in the call itself: so cgo checks b alone for Go
	// pointers, not all of what holds it (an array in a struct).
	if len(b) == 0 {
		res = C.go_gnutls_conn_recv(s.ptr, s.raAgain, recs, nil, 0)
	} else {
		res = C.go_gnutls_conn_recv(s.ptr, s.raAgain, recs, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
	rr.seq, rr.empty, rr.bytes, rr.followed = uint64(res.seq), uint64(res.empty), uint64(res.bytes), recs != nil
	switch r := res.r; {
	case r > 0:
		rr.n = int(r)
	case r == 0:
		if len(b) > 0 {
			rr.err = io.EOF
		}
	default:
		errno := syscall.Errno(res.err)
		rr.sendBlocked = s.raAgain != nil && res.recv_blocked == 0 && errno == syscall.EAGAIN
		s.failed(&rr.recordIO, "read", C.int(r), errno)
	}
	return rr
}

// failed records in rr the failure code of a record read or write.
func (s *Session) failed(rr *recordIO, op string, code C.int, errno syscall.Errno) {
	if c := ErrorCode(code); c == ErrAgain || c == ErrInterrupted {
		rr.again, rr.errno = c, errno
		return
	}
	rr.err = s.codeError(op, code, errno)
}

// readSeq returns the read sequence number (go_gnutls_read_seq).
func (s *Session) readSeq() uint64 {
	return get(s, func(p C.gnutls_session_t) uint64 { return uint64(C.go_gnutls_read_seq(p)) })
}

// Write sends application data (gnutls_record_send): at most one record
// per call, so n may be less than len(b). After ErrAgain the same data must
// be offered again.
func (s *Session) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	err := s.callIO(func(p C.gnutls_session_t) error {
		r, errno := C.go_gnutls_send(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
		if r < 0 {
			return s.codeError("write", C.int(r), errno)
		}
		n = int(r)
		return nil
	})
	return n, err
}

// sendAll sends all of b for Conn, record after record, in one C call
// under the session's lock (go_gnutls_conn_send). It stops at the first
// failure; n counts the bytes of the records sent whole, and after
// GNUTLS_E_AGAIN b[n:] must be offered again.
func (s *Session) sendAll(b []byte) (w recordIO) {
	if len(b) == 0 {
		return w
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if w.err = s.usable(true); w.err != nil {
		return w
	}
	res := C.go_gnutls_conn_send(s.ptr, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	w.n = int(res.sent)
	if res.r < 0 {
		s.failed(&w, "write", C.int(res.r), syscall.Errno(res.err))
	}
	return w
}

// SendAlertFor sends the alert that tells the peer why the session failed
// with err (gnutls_alert_send_appropriate, which picks it with
// gnutls_error_to_alert). It does nothing for errors that have no alert:
// errors that are not fatal, transport failures (ErrPush, ErrPull) and an
// alert the peer sent.
func (s *Session) SendAlertFor(err error) error {
	var e *Error
	if !errors.As(err, &e) || !e.alerts() {
		return nil
	}
	return s.callIO(func(p C.gnutls_session_t) error {
		if r, errno := C.go_gnutls_alert_send_appropriate(p, C.int(e.Code)); r < 0 {
			return s.codeError("send alert", r, errno)
		}
		return nil
	})
}

// Bye sends close_notify (gnutls_bye). With closeWrite it returns once the
// alert is sent (GNUTLS_SHUT_WR); otherwise it also waits for the peer's.
func (s *Session) Bye(closeWrite bool) error {
	how := C.int(C.GNUTLS_SHUT_RDWR)
	if closeWrite {
		how = C.GNUTLS_SHUT_WR
	}
	return s.callIO(func(p C.gnutls_session_t) error {
		if r, errno := C.go_gnutls_bye(p, how); r < 0 {
			return s.codeError("bye", r, errno)
		}
		return nil
	})
}

// Pending returns how many decrypted bytes wait in GnuTLS's buffer.
func (s *Session) Pending() int {
	return get(s, func(p C.gnutls_session_t) int { return int(C.gnutls_record_check_pending(p)) })
}

// Info names of the negotiated parameters.
type Info struct {
	Version     string // "TLS1.3"
	Cipher      string // "AES-128-GCM"
	KeyExchange string // "ECDHE-RSA"; empty under TLS 1.3
	MAC         string
	Group       string // "X25519"
	Suite       string // GnuTLS's suite name, "TLS_AES_128_GCM_SHA256"
	SuiteID     uint16 // IANA id, 0x1301
	Description string // gnutls_session_get_desc: "(TLS1.3)-(ECDHE-X25519)-..."
}

// Info describes the negotiated session.
func (s *Session) Info() Info {
	var in Info
	s.call(func(p C.gnutls_session_t) error {
		v := C.gnutls_protocol_get_version(p)
		in.Version = cString(C.gnutls_protocol_get_name(v))
		in.Cipher = cString(C.gnutls_cipher_get_name(C.gnutls_cipher_get(p)))
		in.MAC = cString(C.gnutls_mac_get_name(C.gnutls_mac_get(p)))
		if v != C.GNUTLS_TLS1_3 {
			in.KeyExchange = cString(C.gnutls_kx_get_name(C.gnutls_kx_get(p)))
		}
		in.Group = cString(C.gnutls_group_get_name(C.gnutls_group_get(p)))
		in.Suite = cString(C.gnutls_ciphersuite_get(p))
		var id [2]C.uchar
		if C.go_gnutls_suite_id(p, &id[0]) == 0 {
			in.SuiteID = uint16(id[0])<<8 | uint16(id[1])
		}
		if d := C.gnutls_session_get_desc(p); d != nil {
			in.Description = C.GoString(d)
			C.go_gnutls_free(unsafe.Pointer(d))
		}
		return nil
	})
	return in
}

// Version returns the negotiated protocol as crypto/tls numbers it
// (tls.VersionTLS13 is 0x0304), or 0.
func (s *Session) Version() uint16 {
	var v uint16
	s.call(func(p C.gnutls_session_t) error {
		switch C.gnutls_protocol_get_version(p) {
		case C.GNUTLS_TLS1_0:
			v = 0x0301
		case C.GNUTLS_TLS1_1:
			v = 0x0302
		case C.GNUTLS_TLS1_2:
			v = 0x0303
		case C.GNUTLS_TLS1_3:
			v = 0x0304
		}
		return nil
	})
	return v
}

// Resumed reports whether the handshake resumed an earlier session.
func (s *Session) Resumed() bool {
	return get(s, func(p C.gnutls_session_t) bool { return C.gnutls_session_is_resumed(p) != 0 })
}

// SessionFlags returns gnutls_session_get_flags (GNUTLS_SFLAGS_*).
func (s *Session) sessionFlags() uint32 {
	return get(s, func(p C.gnutls_session_t) uint32 { return uint32(C.gnutls_session_get_flags(p)) })
}

// EarlyDataAccepted reports whether the server accepted the client's
// TLS 1.3 early data.
func (s *Session) EarlyDataAccepted() bool {
	return s.sessionFlags()&C.GNUTLS_SFLAGS_EARLY_DATA != 0
}

// TicketReceived reports whether a TLS 1.3 session ticket has arrived, so
// SessionData can resume.
func (s *Session) TicketReceived() bool {
	return s.sessionFlags()&C.GNUTLS_SFLAGS_SESSION_TICKET != 0
}

// SessionData returns what SetSessionData needs to resume this session
// (gnutls_session_get_data2). Under TLS 1.3 it resumes only after a ticket
// was received (TicketReceived).
func (s *Session) SessionData() ([]byte, error) {
	var data []byte
	err := s.call(func(p C.gnutls_session_t) error {
		var cp *C.uchar
		var n C.uint
		if err := check("get session data", C.go_gnutls_get_data(p, &cp, &n)); err != nil {
			return err
		}
		data = C.GoBytes(unsafe.Pointer(cp), C.int(n))
		C.go_gnutls_free(unsafe.Pointer(cp))
		return nil
	})
	return data, err
}

// SetSessionData offers an earlier session for resumption (client).
func (s *Session) SetSessionData(data []byte) error {
	if len(data) == 0 {
		return errors.New("gnutls: SetSessionData with no data")
	}
	return s.call(func(p C.gnutls_session_t) error {
		cp := C.CBytes(data)
		defer C.free(cp)
		return check("set session data", C.go_gnutls_set_data(p, cp, C.size_t(len(data))))
	})
}

// PeerCertificatesDER returns the peer's chain, leaf first, as DER.
func (s *Session) PeerCertificatesDER() [][]byte {
	var out [][]byte
	s.call(func(p C.gnutls_session_t) error {
		out = peerChain(p)
		return nil
	})
	return out
}

// peerChain is PeerCertificatesDER; the caller holds the session.
func peerChain(p C.gnutls_session_t) [][]byte {
	var out [][]byte
	var n C.uint
	d := C.go_gnutls_peers(p, &n)
	if d == nil {
		return nil
	}
	for _, c := range unsafe.Slice(d, int(n)) {
		out = append(out, C.GoBytes(unsafe.Pointer(c.data), C.int(c.size)))
	}
	return out
}

// PeerCertificates parses the peer's chain.
func (s *Session) PeerCertificates() ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, der := range s.PeerCertificatesDER() {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return certs, fmt.Errorf("gnutls: peer certificate: %w", err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// VerifyStatus returns the result of the handshake's certificate
// verification; zero means trusted, or that no verification ran (GnuTLS
// then reports every bit set, which is not passed on).
func (s *Session) VerifyStatus() CertStatus {
	st := get(s, func(p C.gnutls_session_t) CertStatus { return CertStatus(C.gnutls_session_get_verify_cert_status(p)) })
	if st == ^CertStatus(0) {
		return 0
	}
	return st
}

// CertificateRequested reports whether the server asked this client for a
// certificate (gnutls_certificate_client_get_request_status).
func (s *Session) CertificateRequested() bool {
	return get(s, func(p C.gnutls_session_t) bool { return C.gnutls_certificate_client_get_request_status(p) != 0 })
}

// CertificateSent reports whether this side sent a certificate to the
// peer (gnutls_certificate_get_ours).
func (s *Session) CertificateSent() bool {
	return get(s, func(p C.gnutls_session_t) bool { return C.gnutls_certificate_get_ours(p) != nil })
}
