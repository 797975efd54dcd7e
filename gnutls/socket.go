package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The rules of gnutls_transport_set_fastopen(3). GnuTLS itself ignores a
// server session or an oversized address without a word; SetFastOpen
// returns one of these (wrapped with the details) before calling it.
var (
	ErrFastOpenFlags     = errors.New("gnutls: fast open flags must be zero")
	ErrFastOpenServer    = errors.New("gnutls: fast open is for client sessions only")
	ErrFastOpenFamily    = errors.New("gnutls: fast open needs an AF_INET or AF_INET6 address of the socket's own family")
	ErrFastOpenSocket    = errors.New("gnutls: fast open needs a TCP stream socket")
	ErrFastOpenConnected = errors.New("gnutls: fast open needs an unconnected socket")
)

// SetFastOpen enables TCP Fast Open for this client session
// (gnutls_transport_set_fastopen): the ClientHello travels in the SYN that
// connects fd to addr, once the kernel holds a cookie for that server. fd
// must be an unconnected AF_INET or AF_INET6 TCP socket of addr's family,
// flags must be zero, and no transport may be set before or after. The
// caller keeps ownership of fd.
//
// With TFO off in the kernel, GnuTLS falls back to connect(2) during the
// first write. On a non-blocking fd the handshake returns ErrAgain until
// the connection is made; wait for the direction Direction names before
// calling it again (Conn does this on the Go netpoller).
func (s *Session) SetFastOpen(fd int, addr unix.Sockaddr, flags uint) error {
	if flags != 0 {
		return fmt.Errorf("%w (got %#x)", ErrFastOpenFlags, flags)
	}
	if s.IsServer() {
		return ErrFastOpenServer
	}
	var family int
	switch addr.(type) {
	case *unix.SockaddrInet4:
		family = unix.AF_INET
	case *unix.SockaddrInet6:
		family = unix.AF_INET6
	default:
		return fmt.Errorf("%w (address is %T)", ErrFastOpenFamily, addr)
	}
	if err := checkFastOpenSocket(fd, family); err != nil {
		return err
	}
	return s.call(func(p C.gnutls_session_t) error {
		if s.kind != noTransport {
			return s.transportSet()
		}
		switch a := addr.(type) {
		case *unix.SockaddrInet4:
			C.go_gnutls_set_fastopen4(p, C.int(fd), (*C.uchar)(unsafe.Pointer(&a.Addr[0])), C.int(a.Port))
		case *unix.SockaddrInet6:
			C.go_gnutls_set_fastopen6(p, C.int(fd), (*C.uchar)(unsafe.Pointer(&a.Addr[0])), C.int(a.Port), C.uint(a.ZoneId))
		}
		s.kind, s.fd, s.tfo = fastOpenTransport, fd, true
		// The sysctl is per network namespace: read it now, from the
		// thread that set fast open up, for FastOpenReport.
		_, _, s.tfoSysctl, _ = FastOpenSupported()
		return nil
	})
}

// checkFastOpenSocket checks that fd is an unconnected TCP socket of family.
func checkFastOpenSocket(fd, family int) error {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fmt.Errorf("%w (fd %d: %v)", ErrFastOpenSocket, fd, err)
	}
	proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err != nil || typ != unix.SOCK_STREAM || proto != unix.IPPROTO_TCP {
		return fmt.Errorf("%w (fd %d has type %d, protocol %d)", ErrFastOpenSocket, fd, typ, proto)
	}
	dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil || dom != family {
		return fmt.Errorf("%w (socket is %s, address is %s)", ErrFastOpenFamily, familyName(dom), familyName(family))
	}
	ti, err := tcpInfo(fd)
	if err != nil {
		return fmt.Errorf("%w (fd %d: TCP_INFO: %v)", ErrFastOpenSocket, fd, err)
	}
	switch ti.state {
	case tcpClose:
	case tcpListen:
		return fmt.Errorf("%w (fd %d is listening)", ErrFastOpenSocket, fd)
	default:
		return fmt.Errorf("%w (fd %d is in TCP state %d)", ErrFastOpenConnected, fd, ti.state)
	}
	return nil
}

func familyName(f int) string {
	switch f {
	case unix.AF_INET:
		return "AF_INET"
	case unix.AF_INET6:
		return "AF_INET6"
	case unix.AF_UNIX:
		return "AF_UNIX"
	}
	return "family " + strconv.Itoa(f)
}

// TCP states of interest (include/net/tcp_states.h).
const (
	tcpEstablished = 1
	tcpClose       = 7
	tcpListen      = 10
)

type tcpInfoFields struct {
	state, options, fastOpenFail uint
}

func tcpInfo(fd int) (tcpInfoFields, error) {
	var st, opt, fail C.uint
	if r := C.go_gnutls_tcp_info(C.int(fd), &st, &opt, &fail); r < 0 {
		return tcpInfoFields{}, unix.Errno(-r)
	}
	return tcpInfoFields{uint(st), uint(opt), uint(fail)}, nil
}

// FastOpenSysctl is the path of the kernel's TCP Fast Open setting for the
// caller's network namespace.
const FastOpenSysctl = "/proc/sys/net/ipv4/tcp_fastopen"

// FastOpenSupported reads net.ipv4.tcp_fastopen: bit 0 enables the client
// side, bit 1 the server side (Documentation/networking/ip-sysctl.rst).
func FastOpenSupported() (client, server bool, value int, err error) {
	b, err := os.ReadFile(FastOpenSysctl)
	if err != nil {
		return false, false, 0, fmt.Errorf("gnutls: reading net.ipv4.tcp_fastopen: %w", err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 0, 32)
	if err != nil {
		return false, false, 0, fmt.Errorf("gnutls: net.ipv4.tcp_fastopen is %q: %w", b, err)
	}
	return v&1 != 0, v&2 != 0, int(v), nil
}

// FastOpenFail is the kernel's reason a fast-open attempt sent no data in
// the SYN or the server did not take it (tcpi_fastopen_client_fail).
type FastOpenFail int

// Values of tcpi_fastopen_client_fail (include/uapi/linux/tcp.h).
const (
	FastOpenFailUnspec          FastOpenFail = 0 // no reason given
	FastOpenFailNoCookie        FastOpenFail = 1 // no cookie for this server yet
	FastOpenFailDataNotAcked    FastOpenFail = 2 // the server did not acknowledge the SYN's data
	FastOpenFailSYNRetransmited FastOpenFail = 3 // the SYN with data was lost or dropped, sent again without
)

func (f FastOpenFail) String() string {
	switch f {
	case FastOpenFailNoCookie:
		return "the kernel had no fast open cookie for this server yet (it asked for one; the next connection can use it)"
	case FastOpenFailDataNotAcked:
		return "the server did not acknowledge the data in the SYN (it does not accept fast open, or rejected the cookie)"
	case FastOpenFailSYNRetransmited:
		return "the SYN carrying data was lost or dropped on the way and was sent again without data"
	}
	return "the kernel gave no reason"
}

// FastOpenState tells what became of TCP Fast Open on a connection.
type FastOpenState struct {
	Requested bool // fast open was asked for
	// Used: the SYN carried the ClientHello and the server acknowledged it
	// (TCP_INFO has TCPI_OPT_SYN_DATA).
	Used bool
	// Fail is the kernel's reason when it was requested but not used.
	Fail FastOpenFail
	// Reason explains in words why it was not used; empty when used.
	Reason string
	// EarlyData: the SYN carried TLS early data along with the ClientHello:
	// a fast-open Dial that resumed a session with Config.EarlyData sends
	// both in one sendmsg(MSG_FASTOPEN) when they fit in about one segment.
	EarlyData bool
	// Note says why early data that was offered did not travel in the SYN.
	Note string
}

func (f FastOpenState) String() string {
	switch {
	case !f.Requested:
		return "not requested"
	case f.Used && f.EarlyData:
		return "used, the ClientHello and the early data travelled in the SYN"
	case f.Used && f.Note != "":
		return "used, the ClientHello travelled in the SYN; " + f.Note
	case f.Used:
		return "used, the ClientHello travelled in the SYN"
	}
	return "requested, not used: " + f.Reason
}

// FastOpenReport tells, after the handshake, whether fast open was used on
// the session's socket, and if not, why.
func (s *Session) FastOpenReport() FastOpenState {
	st := FastOpenState{Requested: s.tfo}
	if !s.tfo {
		return st
	}
	return fastOpenReport(s.fd, s.tfoSysctl, st)
}

// fastOpenReport completes st from the socket's TCP_INFO and the sysctl.
func fastOpenReport(fd, sysctl int, st FastOpenState) FastOpenState {
	ti, err := tcpInfo(fd)
	if err != nil {
		st.Reason = "TCP_INFO unavailable: " + err.Error()
		return st
	}
	if ti.options&C.TCPI_OPT_SYN_DATA != 0 {
		st.Used = true
		return st
	}
	st.Fail = FastOpenFail(ti.fastOpenFail)
	if sysctl&1 == 0 {
		st.Reason = fmt.Sprintf("net.ipv4.tcp_fastopen is %d in this network namespace; bit 0 (client) is needed", sysctl)
		return st
	}
	st.Reason = st.Fail.String()
	return st
}
