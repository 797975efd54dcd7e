package gnutls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"golang.org/x/sys/unix"
)

// LocalAddr may be called from any goroutine, before and after the
// connection is made; under -race this fails when a caller that found the
// socket unbound reads the address another caller stores once it is.
func TestFastOpenConnLocalAddrConcurrent(t *testing.T) {
	addr := echoListener(t, serverConfig())
	for attempt := 0; ; attempt++ {
		nc, _, err := dialFastOpen(context.Background(), &net.Dialer{}, "tcp", addr, &Config{})
		if err != nil {
			t.Fatal(err)
		}
		// An early caller, not synchronized with the handshake below: it
		// sees the socket before connect, unless the scheduler runs it late.
		early := make(chan net.Addr, 1)
		go func() { early <- nc.LocalAddr() }()
		time.Sleep(20 * time.Millisecond)
		c := Client(nc, clientConfig())
		echo(t, c, "hello")
		got := c.LocalAddr().(*net.TCPAddr)
		before := (<-early).(*net.TCPAddr)
		c.Close()
		if got.Port == 0 || !got.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Fatalf("LocalAddr after the handshake = %v, want 127.0.0.1 and a port", got)
		}
		if before.Port == 0 {
			return // the early call saw the unbound socket, as intended
		}
		if attempt == 10 {
			t.Fatalf("the early LocalAddr call ran after connect in every attempt (last %v)", before)
		}
	}
}

// sockaddr is the one conversion of an address for the socket calls.
func TestSockaddr(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want unix.Sockaddr
	}{
		{"127.0.0.1:443", &unix.SockaddrInet4{Port: 443, Addr: [4]byte{127, 0, 0, 1}}},
		{"[::ffff:127.0.0.1]:443", &unix.SockaddrInet4{Port: 443, Addr: [4]byte{127, 0, 0, 1}}},
		{"[::1]:443", &unix.SockaddrInet6{Port: 443, Addr: netip.IPv6Loopback().As16()}},
		{"[fe80::1%lo]:443", &unix.SockaddrInet6{Port: 443, Addr: netip.MustParseAddr("fe80::1").As16(), ZoneId: uint32(lo.Index)}},
		{"[fe80::1%7]:443", &unix.SockaddrInet6{Port: 443, Addr: netip.MustParseAddr("fe80::1").As16(), ZoneId: 7}},
	} {
		got, err := sockaddr(netip.MustParseAddrPort(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		switch w := tc.want.(type) {
		case *unix.SockaddrInet4:
			if g, ok := got.(*unix.SockaddrInet4); !ok || g.Port != w.Port || g.Addr != w.Addr {
				t.Errorf("%s: got %#v, want %#v", tc.in, got, w)
			}
		case *unix.SockaddrInet6:
			if g, ok := got.(*unix.SockaddrInet6); !ok || g.Port != w.Port || g.Addr != w.Addr || g.ZoneId != w.ZoneId {
				t.Errorf("%s: got %#v, want %#v", tc.in, got, w)
			}
		}
	}
	if _, err := sockaddr(netip.MustParseAddrPort("[fe80::1%no-such-interface]:443")); err == nil {
		t.Error("an unknown zone was accepted")
	}
}

// A fast-open Dial binds the local address as net.Dialer does: an IPv4
// address in its 16-byte form (what net.ParseIP returns) and the wildcard.
func TestFastOpenDialLocalAddr(t *testing.T) {
	addr := echoListener(t, serverConfig())
	for _, la := range []*net.TCPAddr{
		{IP: net.ParseIP("127.0.0.1")},
		{IP: net.IPv4(127, 0, 0, 1).To4()},
		{},
	} {
		cfg := clientConfig()
		cfg.FastOpen = true
		c, err := DialWithDialer(&net.Dialer{LocalAddr: la}, "tcp", addr, cfg)
		if err != nil {
			t.Fatalf("local address %v: %v", la, err)
		}
		echo(t, c, "hello")
		if got := c.LocalAddr().(*net.TCPAddr); !got.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Errorf("local address %v: bound to %v", la, got)
		}
		c.Close()
	}
}

// A fast-open Dial to and from a link-local address applies the zone to
// both: the destination and the local address it binds.
func TestFastOpenDialZone(t *testing.T) {
	lab := netlab.NewForTest(t, netlab.LinkConfig{})
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"-6", "addr", "add", "fe80::99/64", "dev", "lo", "nodad"}} {
		cmd := lab.Client.Command("ip", args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := lab.Client.Start(cmd); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out.Bytes())
		}
	}
	var l net.Listener
	if err := lab.Client.Do(func() (err error) {
		l, err = Listen("tcp6", "[fe80::99%lo]:0", serverConfig())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))
	// Go names the listener's address without its zone here.
	addr := fmt.Sprintf("[fe80::99%%lo]:%d", l.Addr().(*net.TCPAddr).Port)
	// The address may not take connections yet when ip returns, even with
	// nodad: a connect then fails with ENETUNREACH.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := lab.Client.DialContext(context.Background(), nil, "tcp6", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fe80::99%%lo is not reachable: %v", err)
		}
	}
	cfg := clientConfig()
	cfg.FastOpen, cfg.InsecureSkipVerify = true, true // the certificate does not name fe80::99
	for _, nd := range []*net.Dialer{
		{},
		{LocalAddr: &net.TCPAddr{IP: net.ParseIP("fe80::99"), Zone: "lo"}},
	} {
		var c *Conn
		if err := lab.Client.Do(func() (err error) {
			c, err = DialWithDialer(nd, "tcp6", addr, cfg)
			return err
		}); err != nil {
			t.Fatalf("local address %v: %v", nd.LocalAddr, err)
		}
		echo(t, c, "hello")
		if got := c.RemoteAddr().String(); got != addr {
			t.Errorf("RemoteAddr %s, want %s", got, addr)
		}
		if got := c.LocalAddr().(*net.TCPAddr); got.Zone != "lo" || !got.IP.Equal(net.ParseIP("fe80::99")) {
			t.Errorf("local address %v: bound to %v, want fe80::99%%lo", nd.LocalAddr, got)
		}
		c.Close()
	}
}

// A Handshake after Close on a fast-open connection returns net.ErrClosed:
// fast open is set up with the socket held, never on a closed fd.
func TestFastOpenHandshakeAfterClose(t *testing.T) {
	checkLeaks(t)
	nc, _, err := dialFastOpen(context.Background(), &net.Dialer{}, "tcp", goTLSServer(t, nil), &Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := Client(nc, clientConfig())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Handshake(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Handshake after Close: %v, want net.ErrClosed", err)
	}
}

// SetReadDeadline from another goroutine while the first Write of a
// DialEarly connection installs the Go transport that carries early data
// in the SYN: the race detector sees no race, and the deadline set during
// the handshake is the one in force after it.
func TestSetReadDeadlineDuringEarlyHandshake(t *testing.T) {
	addr, seen := earlyServer(t, earlyServerConfig())
	cfg := fastOpenConfig()
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	dialEarly(t, addr, cfg, []byte("first\n"))
	<-seen

	c, err := (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	last := time.Now().Add(500 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			c.SetReadDeadline(time.Now().Add(time.Minute))
		}
		c.SetReadDeadline(last)
	}()
	data := []byte("second\n")
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	<-done
	if !c.ConnectionState().EarlyData.Offered {
		t.Fatalf("early data not offered: %+v", c.ConnectionState().EarlyData)
	}
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echo: %q, %v", got, err)
	}
	// The server sends nothing more: the last deadline ends the Read.
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline set during the handshake: %v, want os.ErrDeadlineExceeded", err)
	}
}

// A fast-open Dial tries each address the name resolves to, in order, as
// net.Dialer does: the first refuses, the second serves. Control sees
// each socket with its network and address, and keep-alive is set as
// net.Dialer sets it.
func TestFastOpenDialEachAddress(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// The first address refuses: nothing listens on ::1 at that port.
	r := peers.Resolver(peers.DNS(t, map[string][]netip.Addr{"two.test": {netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")}}))
	ips, err := r.LookupNetIP(context.Background(), "ip", "two.test.")
	if err != nil || len(ips) != 2 {
		t.Fatalf("the resolver gives %v, %v; want two addresses", ips, err)
	}
	first, second := netip.AddrPortFrom(ips[0].Unmap(), uint16(port)), netip.AddrPortFrom(ips[1].Unmap(), uint16(port))
	l, err := tls.Listen("tcp", second.String(), &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(c, c) }))

	family := func(ap netip.AddrPort) string {
		if ap.Addr().Is4() {
			return "tcp4"
		}
		return "tcp6"
	}
	for _, tc := range []struct {
		name      string
		nd        func(control func(network, address string)) *net.Dialer
		keepAlive [4]int // SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; -1: not looked at
	}{
		{"Control, default keep-alive", func(control func(network, address string)) *net.Dialer {
			return &net.Dialer{Resolver: r, Timeout: 10 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
				control(network, address)
				return nil
			}}
		}, [4]int{1, 15, 15, 9}},
		{"ControlContext, KeepAlive", func(control func(network, address string)) *net.Dialer {
			return &net.Dialer{Resolver: r, KeepAlive: 7 * time.Second, ControlContext: func(_ context.Context, network, address string, _ syscall.RawConn) error {
				control(network, address)
				return nil
			}, Control: func(string, string, syscall.RawConn) error { return errors.New("Control called beside ControlContext") }}
		}, [4]int{1, 7, 15, 9}},
		{"KeepAliveConfig", func(control func(network, address string)) *net.Dialer {
			return &net.Dialer{Resolver: r, KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 3 * time.Second, Interval: 2 * time.Second, Count: 4},
				Control: func(network, address string, _ syscall.RawConn) error {
					control(network, address)
					return nil
				}}
		}, [4]int{1, 3, 2, 4}},
		{"keep-alive off", func(control func(network, address string)) *net.Dialer {
			return &net.Dialer{Resolver: r, KeepAlive: -1, Control: func(network, address string, _ syscall.RawConn) error {
				control(network, address)
				return nil
			}}
		}, [4]int{0, -1, -1, -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			nd := tc.nd(func(network, address string) { calls = append(calls, network+" "+address) })
			c, err := DialWithDialer(nd, "tcp", net.JoinHostPort("two.test.", strconv.Itoa(port)), fastOpenConfig())
			if err != nil {
				t.Fatalf("Dial: %v (Control saw %q)", err, calls)
			}
			defer c.Close()
			want := []string{family(first) + " " + net.TCPAddrFromAddrPort(first).String(), family(second) + " " + net.TCPAddrFromAddrPort(second).String()}
			if !slices.Equal(calls, want) {
				t.Errorf("Control calls %q, want %q", calls, want)
			}
			if got := c.RemoteAddr().String(); got != net.TCPAddrFromAddrPort(second).String() {
				t.Errorf("connected to %s, want %s", got, second)
			}
			if !c.ConnectionState().FastOpen.Requested {
				t.Error("the connection was not dialled with fast open")
			}
			echo(t, c, "two addresses")
			raw, err := c.NetConn().(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got [4]int
			raw.Control(func(fd uintptr) {
				for i, o := range [][2]int{{unix.SOL_SOCKET, unix.SO_KEEPALIVE}, {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}, {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}, {unix.IPPROTO_TCP, unix.TCP_KEEPCNT}} {
					got[i], _ = unix.GetsockoptInt(int(fd), o[0], o[1])
				}
			})
			for i := range got {
				if tc.keepAlive[i] >= 0 && got[i] != tc.keepAlive[i] {
					t.Errorf("keep-alive options %v, want %v", got, tc.keepAlive)
					break
				}
			}
		})
	}
}
