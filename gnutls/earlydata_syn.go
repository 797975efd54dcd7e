//go:build cgo

package gnutls

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Early data in the SYN.
//
// GnuTLS's fast-open transport (gnutls_transport_set_fastopen) sends the
// ClientHello alone in the SYN: its early data records are a later write,
// made once the connection is up. When a fast-open connection's handshake
// starts with early data queued (DialEarly), Conn implements fast open on
// the session's transport callbacks instead, as gnutls_transport_set_fastopen(3) allows:
// what GnuTLS writes is held until it first reads, which it does only once
// its whole first flight is out; then that flight leaves in one
// sendmsg(MSG_FASTOPEN), so the ClientHello and the early data ride in the
// SYN together, and the connection continues on the netpoller.
//
// GnuTLS's own path cannot send early data at all on a non-blocking
// socket: its fast-open write of the ClientHello returns EAGAIN
// (EINPROGRESS), and when gnutls_handshake is called again it sets up the
// early data epoch a second time and fails with GNUTLS_E_INVALID_REQUEST
// (_gnutls_send_client_hello, 3.7.9). Holding the flight avoids that: every
// write GnuTLS makes before its first read succeeds.
//
// A SYN carries at most about one segment of data. A flight larger than
// synDataRoom leaves with its ClientHello in the SYN and its early data
// after the TCP handshake, still as early data; FastOpenState.Note says so.

// synDataRoom is how much data Linux puts in a SYN on a path with a
// 1500-byte MTU: the MSS less the room it keeps for TCP options
// (tcp_send_syn_data).
func synDataRoom(sa unix.Sockaddr) int {
	const mtu, tcpHeader, optionRoom = 1500, 20, 40
	ipHeader := 20
	if _, ok := sa.(*unix.SockaddrInet6); ok {
		ipHeader = 40
	}
	return mtu - ipHeader - tcpHeader - optionRoom
}

// startFastOpen sets the transport of a client connection Dial made
// unconnected, once the handshake starts and it is known whether early
// data goes with the first flight. It holds the socket meanwhile
// (RawConn.Control), so that a Close that came first is net.ErrClosed,
// not a check of a closed (or reused) fd.
func (c *Conn) startFastOpen() error {
	fc, ok := c.conn.(*fastOpenConn)
	if !ok || c.raw != nil {
		return nil
	}
	var err error
	if cerr := fc.raw.Control(func(uintptr) { err = c.setFastOpen(fc) }); cerr != nil {
		return c.opError(true, cerr)
	}
	return err
}

func (c *Conn) setFastOpen(fc *fastOpenConn) error {
	c.raw = fc.raw
	c.connecting = true
	if c.early.sent == 0 {
		return c.sess.SetFastOpen(fc.fd, fc.sa, 0)
	}
	if err := checkFastOpenSocket(fc.fd, sockaddrFamily(fc.sa)); err != nil {
		return err
	}
	sock := &synSocket{fd: fc.fd, sa: fc.sa, room: synDataRoom(fc.sa)}
	if err := c.sess.setFastOpenCallbacks(sock, fc.fd); err != nil {
		return err
	}
	c.useTransport()
	c.syn, c.layer = sock, sock
	return nil
}

func sockaddrFamily(sa unix.Sockaddr) int {
	if _, ok := sa.(*unix.SockaddrInet6); ok {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// complete adds to a fast-open report what became of the early data.
func (s *synSocket) complete(st FastOpenState) FastOpenState {
	if s == nil {
		return st
	}
	st.Note = s.note
	st.EarlyData = st.Used && s.early && s.inSYN == s.flight
	if st.Note == "" && st.Used && s.early && !st.EarlyData {
		st.Note = fmt.Sprintf("the kernel put %d of the first flight's %d bytes in the SYN", s.inSYN, s.flight)
	}
	return st
}

// holdsWrite reports whether the first flight is not all written yet: the
// connection must wait until the socket is writable, whatever GnuTLS
// last did.
func (s *synSocket) holdsWrite() bool { return len(s.rest) > 0 }

// The rest of synSocket's socketLayer: its reads are plain reads.
func (s *synSocket) buffered() bool { return false }

// synSocket is the transport behind early data in the SYN: a non-blocking
// TCP socket, not yet connected, that holds what GnuTLS writes until GnuTLS
// first reads. Reads and writes that would block return syscall.EAGAIN;
// Conn waits on the netpoller.
type synSocket struct {
	fd   int
	sa   unix.Sockaddr
	room int

	held    []byte // the first flight, until the first Read
	flushed bool   // the first flight was handed to the kernel
	rest    []byte // what of it is left to write once connected
	flight  int    // its length
	inSYN   int    // how much the kernel put in the SYN
	early   bool   // it holds early data
	note    string // why the early data did not go in the SYN
}

// recordApplicationData is the content type of TLS application data
// records, early data among them.
const recordApplicationData = 23

func (s *synSocket) Write(b []byte) (int, error) {
	if !s.flushed {
		s.held = append(s.held, b...)
		return len(b), nil
	}
	if err := s.writeRest(); err != nil {
		return 0, err
	}
	return s.send(b)
}

func (s *synSocket) Read(b []byte) (int, error) {
	if !s.flushed {
		if err := s.flush(); err != nil {
			return 0, err
		}
	}
	if err := s.writeRest(); err != nil {
		return 0, err
	}
	for {
		n, err := unix.Read(s.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// flush sends the first flight with MSG_FASTOPEN, which connects the
// socket. All of it goes when it fits in the SYN; otherwise only the
// records before the early data, the ClientHello.
func (s *synSocket) flush() error {
	flight := s.held
	s.held, s.flushed, s.flight = nil, true, len(flight)
	split := len(flight)
	if i := firstRecord(flight, recordApplicationData); i >= 0 {
		s.early = true
		if len(flight) > s.room && i > 0 {
			split = i
			s.note = fmt.Sprintf("the first flight of %d bytes exceeds the %d a SYN carries; the SYN carried the %d-byte ClientHello, the early data followed the TCP handshake", len(flight), s.room, i)
		}
	}
	n, err := unix.SendmsgN(s.fd, flight[:split], nil, s.sa, unix.MSG_FASTOPEN|unix.MSG_NOSIGNAL)
	switch {
	case err == nil:
	case errors.Is(err, unix.EINPROGRESS):
		n = 0 // no cookie yet: a plain SYN asking for one
	case errors.Is(err, unix.EOPNOTSUPP):
		// net.ipv4.tcp_fastopen has no client bit here: connect plainly.
		n = 0
		if err := unix.Connect(s.fd, s.sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return os.NewSyscallError("connect", err)
		}
	default:
		return os.NewSyscallError("sendmsg MSG_FASTOPEN", err)
	}
	s.inSYN = n
	s.rest = flight[n:]
	return nil
}

// writeRest writes what is left of the first flight; it returns EAGAIN
// while the socket cannot take it all.
func (s *synSocket) writeRest() error {
	for len(s.rest) > 0 {
		n, err := s.send(s.rest)
		s.rest = s.rest[n:]
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *synSocket) send(b []byte) (int, error) {
	for {
		n, err := unix.SendmsgN(s.fd, b, nil, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}

// firstRecord returns the offset of the first TLS record of type typ in
// b, or -1.
func firstRecord(b []byte, typ byte) int {
	for off := 0; off+5 <= len(b); off += 5 + (int(b[off+3])<<8 | int(b[off+4])) {
		if b[off] == typ {
			return off
		}
	}
	return -1
}

var _ io.ReadWriter = (*synSocket)(nil)
