package gnutls

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var loop4 = &unix.SockaddrInet4{Port: 9, Addr: [4]byte{127, 0, 0, 1}}

// Each rule of gnutls_transport_set_fastopen(3), broken once.
func TestSetFastOpenContract(t *testing.T) {
	tcp4 := func(t *testing.T) int { return socket(t, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP) }
	cases := []struct {
		name string
		run  func(t *testing.T) error
		want error
	}{
		{"flags not zero", func(t *testing.T) error {
			return newClient(t).SetFastOpen(tcp4(t), loop4, 1)
		}, ErrFastOpenFlags},
		{"server session", func(t *testing.T) error {
			s, err := NewSession(InitServer)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			return s.SetFastOpen(tcp4(t), loop4, 0)
		}, ErrFastOpenServer},
		{"unix address", func(t *testing.T) error {
			return newClient(t).SetFastOpen(tcp4(t), &unix.SockaddrUnix{Name: "/tmp/x"}, 0)
		}, ErrFastOpenFamily},
		{"nil address", func(t *testing.T) error {
			return newClient(t).SetFastOpen(tcp4(t), nil, 0)
		}, ErrFastOpenFamily},
		{"IPv6 address on an IPv4 socket", func(t *testing.T) error {
			return newClient(t).SetFastOpen(tcp4(t), &unix.SockaddrInet6{Port: 9, Addr: [16]byte{15: 1}}, 0)
		}, ErrFastOpenFamily},
		{"AF_UNIX stream socket", func(t *testing.T) error {
			return newClient(t).SetFastOpen(socket(t, unix.AF_UNIX, unix.SOCK_STREAM, 0), loop4, 0)
		}, ErrFastOpenSocket},
		{"UDP socket", func(t *testing.T) error {
			return newClient(t).SetFastOpen(socket(t, unix.AF_INET, unix.SOCK_DGRAM, 0), loop4, 0)
		}, ErrFastOpenSocket},
		{"not a socket", func(t *testing.T) error {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			return newClient(t).SetFastOpen(p[0], loop4, 0)
		}, ErrFastOpenSocket},
		{"closed fd", func(t *testing.T) error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
			if err != nil {
				t.Fatal(err)
			}
			unix.Close(fd)
			err = newClient(t).SetFastOpen(fd, loop4, 0)
			if !errors.Is(err, unix.EBADF) {
				t.Errorf("SetFastOpen on a closed fd: %v, want EBADF", err)
			}
			return err
		}, ErrFastOpenSocket},
		{"listening socket", func(t *testing.T) error {
			fd := tcp4(t)
			if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
				t.Fatal(err)
			}
			if err := unix.Listen(fd, 1); err != nil {
				t.Fatal(err)
			}
			return newClient(t).SetFastOpen(fd, loop4, 0)
		}, ErrFastOpenSocket},
		{"connected socket", func(t *testing.T) error {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			fd := tcp4(t)
			port := l.Addr().(*net.TCPAddr).Port
			if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
				t.Fatal(err)
			}
			return newClient(t).SetFastOpen(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}, 0)
		}, ErrFastOpenConnected},
		{"transport fd set before", func(t *testing.T) error {
			s, fd := newClient(t), tcp4(t)
			if err := s.SetTransportInt(fd); err != nil {
				t.Fatal(err)
			}
			return s.SetFastOpen(fd, loop4, 0)
		}, ErrTransportSet},
		{"callbacks set before", func(t *testing.T) error {
			s := newClient(t)
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			if err := s.SetTransport(a); err != nil {
				t.Fatal(err)
			}
			return s.SetFastOpen(tcp4(t), loop4, 0)
		}, ErrTransportSet},
		{"called twice", func(t *testing.T) error {
			s, fd := newClient(t), tcp4(t)
			if err := s.SetFastOpen(fd, loop4, 0); err != nil {
				t.Fatal(err)
			}
			return s.SetFastOpen(fd, loop4, 0)
		}, ErrTransportSet},
		{"fd set after", func(t *testing.T) error {
			s, fd := newClient(t), tcp4(t)
			if err := s.SetFastOpen(fd, loop4, 0); err != nil {
				t.Fatal(err)
			}
			return s.SetTransportInt(fd)
		}, ErrTransportSet},
		{"callbacks set after", func(t *testing.T) error {
			s := newClient(t)
			if err := s.SetFastOpen(tcp4(t), loop4, 0); err != nil {
				t.Fatal(err)
			}
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			return s.SetTransport(a)
		}, ErrTransportSet},
		{"closed session", func(t *testing.T) error {
			s := newClient(t)
			s.Close()
			return s.SetFastOpen(tcp4(t), loop4, 0)
		}, net.ErrClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// The good case is accepted for both families.
func TestSetFastOpenAccepts(t *testing.T) {
	s := newClient(t)
	if err := s.SetFastOpen(socket(t, unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP), loop4, 0); err != nil {
		t.Fatal(err)
	}
	if !s.FastOpenReport().Requested {
		t.Fatal("report does not say fast open was requested")
	}
	s6 := newClient(t)
	if err := s6.SetFastOpen(socket(t, unix.AF_INET6, unix.SOCK_STREAM, 0), &unix.SockaddrInet6{Port: 9, Addr: [16]byte{15: 1}}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestFastOpenSupported(t *testing.T) {
	client, server, v, err := FastOpenSupported()
	if err != nil {
		t.Fatal(err)
	}
	if client != (v&1 != 0) || server != (v&2 != 0) {
		t.Fatalf("client %v server %v from %d", client, server, v)
	}
}

// GnuTLS before 3.8.11 reads errno after a successful
// sendmsg(MSG_FASTOPEN) (tfo_writev); a stale EAGAIN there keeps it
// connecting, and its next write is a second sendmsg(MSG_FASTOPEN), which
// fails with EALREADY while the SYN is unanswered. The shims clear errno
// before entering GnuTLS (as cgo does for calls that return errno; without
// both, this fails). Here the thread's errno is EAGAIN from another
// session's read; the ClientHello is too large for the SYN, so the first
// Handshake sends part of it with fast open and returns ErrAgain, and the
// second, at once, must send the rest with a plain write (ErrAgain until
// the SYN is answered), not fail.
func TestSetFastOpenStaleErrno(t *testing.T) {
	lab := fastOpenLab(t, 25*time.Millisecond)
	addr := netip.MustParseAddrPort(labListen(t, lab, lab.Server.Addr4, serverConfig()))
	// A first connection fetches the server's cookie.
	cfg := fastOpenConfig()
	c := labDial(t, lab, addr.String(), cfg)
	echo(t, c, "cookie")
	c.Close()

	creds := trustingCredentials(t)
	// An FFDHE key share of 1024 bytes and a long SNI name: more than a
	// SYN carries.
	sni := strings.Repeat(strings.Repeat("a", 60)+".", 4) + "example"
	var fd int
	var s *Session
	var first, second error
	if err := lab.Client.Do(func() error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var err error
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP); err != nil {
			return err
		}
		if s, err = NewSession(InitClient | InitNonBlock); err != nil {
			return err
		}
		for _, err := range []error{s.SetPriority("NORMAL:-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519"),
			s.SetCredentials(creds), s.SetServerName(sni), s.VerifyPeer("localhost"),
			s.SetFastOpen(fd, &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}, 0)} {
			if err != nil {
				return err
			}
		}
		// A server session's handshake on an empty non-blocking socket
		// leaves errno EAGAIN on this thread.
		var pair [2]int
		if pair, err = unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		defer unix.Close(pair[0])
		defer unix.Close(pair[1])
		other, err := NewSession(InitServer)
		if err != nil {
			return err
		}
		defer other.Close()
		if err := other.SetTransportInt(pair[0]); err != nil {
			return err
		}
		if err := other.Handshake(); !errors.Is(err, ErrAgain) {
			return fmt.Errorf("server handshake on an empty socket: %v", err)
		}
		first = s.Handshake()
		second = s.Handshake()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	defer s.Close()
	if !errors.Is(first, ErrAgain) || !errors.Is(second, ErrAgain) {
		t.Fatalf("handshake while the SYN is unanswered: %v, then %v; want ErrAgain twice", first, second)
	}
	deadline := time.Now().Add(10 * time.Second)
	err := s.Handshake()
	for ; errors.Is(err, ErrAgain) && time.Now().Before(deadline); err = s.Handshake() {
		ev := int16(unix.POLLIN)
		if s.Direction() {
			ev = unix.POLLOUT
		}
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: ev}}, 100)
	}
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if st := s.FastOpenReport(); !st.Used {
		t.Fatalf("the ClientHello did not start in the SYN: %v", st)
	}
}
