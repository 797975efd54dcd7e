//go:build cgo

package gnutls

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fastOpenConn is a TCP socket that Dial made unconnected for
// SetFastOpen: GnuTLS connects it with the first flight. It implements
// net.Conn over the socket.
type fastOpenConn struct {
	f      *os.File
	raw    syscall.RawConn // closedRawConn over f's
	closed atomic.Bool
	fd     int
	sa     unix.Sockaddr
	raddr  *net.TCPAddr

	laddr atomic.Pointer[net.TCPAddr] // set once connected
}

// dialFastOpen makes the socket for the first address addr resolves to
// (DialEarly: the connection is made later, by the first flight).
func dialFastOpen(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (nc net.Conn, skipped string, err error) {
	aps, err := resolveAll(ctx, nd, network, addr)
	if err != nil {
		return nil, "", &net.OpError{Op: "dial", Net: network, Err: err}
	}
	return dialFastOpenTo(ctx, nd, network, aps[0], config)
}

// dialFastOpenTo makes the socket for ap, as net.Dialer would make it
// (setupDialSocket). When the blackhole cache holds that address, it
// connects without fast open and returns why in skipped.
func dialFastOpenTo(ctx context.Context, nd *net.Dialer, network string, ap netip.AddrPort, config *Config) (nc net.Conn, skipped string, err error) {
	raddr := net.TCPAddrFromAddrPort(ap)
	if until, ok := config.blackhole.blocked(raddr); ok {
		nc, err := nd.DialContext(ctx, network, ap.String())
		if err != nil {
			return nil, "", err
		}
		return nc, fmt.Sprintf("skipped: a SYN with data to %s was lost recently; fast open to %s is off until %s", ap, ap.Addr(), until.Format(time.TimeOnly)), nil
	}
	sa, err := sockaddr(ap)
	if err != nil {
		return nil, "", &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	family := sockaddrFamily(sa)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, "", &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: os.NewSyscallError("socket", err)}
	}
	f := os.NewFile(uintptr(fd), "tcp:"+ap.String())
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, "", err
	}
	c := &fastOpenConn{f: f, fd: fd, sa: sa, raddr: raddr}
	c.raw = closedRawConn{raw, &c.closed}
	if err := setupDialSocket(ctx, c.raw, fd, family, network, raddr, nd); err != nil {
		c.Close()
		return nil, "", &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	return c, "", nil
}

// setupDialSocket does to the socket what net.Dialer does before and
// after it connects: ControlContext or Control with the network
// ("tcp4" or "tcp6") and the address, the local address (one without an
// IP is the wildcard of the socket's family), TCP_NODELAY (Go's default)
// and keep-alive (setKeepAlive).
func setupDialSocket(ctx context.Context, raw syscall.RawConn, fd, family int, network string, raddr *net.TCPAddr, nd *net.Dialer) error {
	ctrlNetwork := network
	if network == "tcp" {
		ctrlNetwork = "tcp4"
		if family == unix.AF_INET6 {
			ctrlNetwork = "tcp6"
		}
	}
	switch {
	case nd.ControlContext != nil:
		if err := nd.ControlContext(ctx, ctrlNetwork, raddr.String(), raw); err != nil {
			return err
		}
	case nd.Control != nil:
		if err := nd.Control(ctrlNetwork, raddr.String(), raw); err != nil {
			return err
		}
	}
	if la, ok := nd.LocalAddr.(*net.TCPAddr); ok && la != nil {
		ap := la.AddrPort()
		if !ap.Addr().IsValid() {
			unspec := netip.IPv4Unspecified()
			if family == unix.AF_INET6 {
				unspec = netip.IPv6Unspecified()
			}
			ap = netip.AddrPortFrom(unspec, ap.Port())
		}
		sa, err := sockaddr(ap)
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, sa); err != nil {
			return os.NewSyscallError("bind", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	return setKeepAlive(fd, nd)
}

// setKeepAlive sets keep-alive as net.Dialer does: KeepAliveConfig when
// enabled, otherwise on with KeepAlive as the idle time unless it is
// negative; a zero idle time, interval or count is Go's default (15 s,
// 15 s, 9), a negative one leaves the system's.
func setKeepAlive(fd int, nd *net.Dialer) error {
	cfg := nd.KeepAliveConfig
	if !cfg.Enable && nd.KeepAlive >= 0 {
		cfg = net.KeepAliveConfig{Enable: true, Idle: nd.KeepAlive}
	}
	if !cfg.Enable {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return os.NewSyscallError("setsockopt SO_KEEPALIVE", err)
	}
	seconds := func(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }
	for _, o := range []struct {
		name string
		opt  int
		v    int // < 0: leave it
	}{
		{"TCP_KEEPIDLE", unix.TCP_KEEPIDLE, orDefault(seconds(cfg.Idle), 15)},
		{"TCP_KEEPINTVL", unix.TCP_KEEPINTVL, orDefault(seconds(cfg.Interval), 15)},
		{"TCP_KEEPCNT", unix.TCP_KEEPCNT, orDefault(cfg.Count, 9)},
	} {
		if o.v < 0 {
			continue
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, o.opt, o.v); err != nil {
			return os.NewSyscallError("setsockopt "+o.name, err)
		}
	}
	return nil
}

// orDefault is v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// sockaddr converts ap for the socket calls: an IPv4 address, also in its
// IPv4-mapped IPv6 form, is AF_INET; an IPv6 address keeps its zone (an
// interface name or index) as the scope id.
func sockaddr(ap netip.AddrPort) (unix.Sockaddr, error) {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if n, perr := strconv.ParseUint(z, 10, 32); perr == nil {
			sa.ZoneId = uint32(n)
		} else {
			return nil, fmt.Errorf("gnutls: address %s: zone %q: %w", ap, z, err)
		}
	}
	return sa, nil
}

// resolveAll returns the addresses of host for the network, in the
// resolver's order.
func resolveAll(ctx context.Context, nd *net.Dialer, network, addr string) ([]netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	pn, err := net.LookupPort("tcp", port)
	if err != nil {
		return nil, err
	}
	noAddr := &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	if a, err := netip.ParseAddr(host); err == nil {
		// A literal keeps its zone, which the resolver drops.
		a = a.Unmap()
		if network == "tcp4" && !a.Is4() || network == "tcp6" && a.Is4() {
			return nil, noAddr
		}
		return []netip.AddrPort{netip.AddrPortFrom(a, uint16(pn))}, nil
	}
	r := nd.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	want := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
	ips, err := r.LookupNetIP(ctx, want, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, noAddr
	}
	aps := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		// The resolver gives IPv4 addresses in their IPv6-mapped form.
		aps[i] = netip.AddrPortFrom(ip.Unmap(), uint16(pn))
	}
	return aps, nil
}

func (c *fastOpenConn) Read(b []byte) (int, error)  { return c.f.Read(b) }
func (c *fastOpenConn) Write(b []byte) (int, error) { return c.f.Write(b) }
func (c *fastOpenConn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}
func (c *fastOpenConn) RemoteAddr() net.Addr { return c.raddr }

// LocalAddr is known once the connection is made; before, it is the zero
// TCPAddr.
func (c *fastOpenConn) LocalAddr() net.Addr {
	if a := c.laddr.Load(); a != nil {
		return a
	}
	var sa unix.Sockaddr
	c.raw.Control(func(fd uintptr) { sa, _ = unix.Getsockname(int(fd)) })
	var a *net.TCPAddr
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		if sa.Port != 0 {
			a = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		}
	case *unix.SockaddrInet6:
		if sa.Port != 0 {
			a = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); sa.ZoneId != 0 && err == nil {
				a.Zone = ifi.Name
			}
		}
	}
	if a == nil {
		return &net.TCPAddr{}
	}
	c.laddr.CompareAndSwap(nil, a)
	return c.laddr.Load()
}

func (c *fastOpenConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *fastOpenConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *fastOpenConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// SyscallConn gives access to the socket.
func (c *fastOpenConn) SyscallConn() (syscall.RawConn, error) { return c.raw, nil }

// closedRawConn is an *os.File's RawConn whose calls, once the file is
// closed, fail with net.ErrClosed, as a net.Conn's do: the file's own
// RawConn returns an unexported "use of closed file" error.
type closedRawConn struct {
	syscall.RawConn
	closed *atomic.Bool
}

func (r closedRawConn) Read(f func(uintptr) bool) error { return r.closedErr(r.RawConn.Read(f)) }

func (r closedRawConn) Write(f func(uintptr) bool) error { return r.closedErr(r.RawConn.Write(f)) }

func (r closedRawConn) Control(f func(uintptr)) error { return r.closedErr(r.RawConn.Control(f)) }

func (r closedRawConn) closedErr(err error) error {
	if err != nil && r.closed.Load() {
		return net.ErrClosed
	}
	return err
}
