package gnutls

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Dialer dials TLS connections. Its DialContext fits
// http.Transport.DialTLSContext.
type Dialer struct {
	// NetDialer supplies the timeout, deadline, local address, keep-alive
	// and resolver; nil means a zero net.Dialer.
	NetDialer *net.Dialer
	// Config is the TLS configuration; nil means the zero Config.
	Config *Config
}

// Dial connects to addr on the named network ("tcp", "tcp4", "tcp6") and
// completes the handshake.
func Dial(network, addr string, config *Config) (*Conn, error) {
	return DialWithDialer(new(net.Dialer), network, addr, config)
}

// DialWithDialer is Dial with a net.Dialer's timeout, deadline and local
// address.
func DialWithDialer(nd *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	return dial(context.Background(), nd, network, addr, config)
}

// Dial is DialContext with a background context.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects and completes the handshake; the returned
// net.Conn is a *Conn. ctx bounds the whole of it.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := d.NetDialer
	if nd == nil {
		nd = new(net.Dialer)
	}
	c, err := dial(ctx, nd, network, addr, d.Config)
	if err != nil {
		return nil, err // not a typed nil
	}
	return c, nil
}

// DialEarly returns a client connection to addr on which the first Write
// can travel as TLS 1.3 early data (0-RTT), in the handshake's first
// flight, instead of a round trip later; the returned Conn's handshake has
// not run yet.
//
// With Config.FastOpen it returns before the TCP connection exists: the
// first flight makes it, so the ClientHello and the early data travel in
// the SYN when they fit. Without, it connects first (nothing can go in the
// SYN then) and connect errors are returned here. ctx, and NetDialer's
// Timeout and Deadline, bound what DialEarly does: resolving addr and
// connecting. The handshake is bound by the Conn's deadlines, or by
// HandshakeContext.
//
// The handshake runs on the first Read, Write or Handshake, as with
// Client. When that is a Write and the connection resumes a session from
// Config.ClientSessionCache whose ticket allows early data, the start of
// that Write's bytes, up to the ticket's max_early_data_size, goes as
// early data and the rest right after the handshake; the Write returns
// once the handshake is complete and all of its bytes are sent. If the
// server rejects the early data they are sent again after the handshake,
// so they arrive once, in order; with Config.EarlyDataNoResend the Write
// returns ErrEarlyDataRejected instead and sends none of them. A Read or
// Handshake before any Write runs the handshake without early data, so a
// protocol where the server speaks first works as over Dial; a reader in
// another goroutine that starts before the first Write (as in
// http.Transport) must wait for it to get the Write sent as early data.
// ConnectionState().EarlyData reports what happened.
//
// Early data can be replayed by an attacker (see Config.MaxEarlyData): the
// first Write must be safe for the server to process twice, such as an
// idempotent request.
func (d *Dialer) DialEarly(ctx context.Context, network, addr string) (*Conn, error) {
	nd := d.NetDialer
	if nd == nil {
		nd = new(net.Dialer)
	}
	ctx, cancel := dialContext(ctx, nd)
	defer cancel()
	c, err := dialConn(ctx, nd, network, addr, d.Config)
	if err != nil {
		return nil, err
	}
	c.early.enabled = true
	return c, nil
}

// ClientEarly is Client for a connection whose first Write may go as TLS
// 1.3 early data, as described at DialEarly.
func ClientEarly(conn net.Conn, config *Config) *Conn {
	c := Client(conn, config)
	c.early.enabled = true
	return c
}

func dial(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	ctx, cancel := dialContext(ctx, nd)
	defer cancel()
	c, err := dialConn(ctx, nd, network, addr, config)
	if err != nil {
		return nil, err
	}
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dialContext is ctx bounded by nd's Timeout and Deadline.
func dialContext(ctx context.Context, nd *net.Dialer) (context.Context, context.CancelFunc) {
	cancel := func() {}
	if nd.Timeout != 0 {
		ctx, cancel = context.WithTimeout(ctx, nd.Timeout)
	}
	if !nd.Deadline.IsZero() {
		var cancel2 context.CancelFunc
		ctx, cancel2 = context.WithDeadline(ctx, nd.Deadline)
		c1 := cancel
		cancel = func() { cancel2(); c1() }
	}
	return ctx, cancel
}

// dialConn connects to addr (or, for fast open, makes the socket) and
// returns the client Conn before its handshake.
func dialConn(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	if config == nil {
		config = &Config{}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		if config.FastOpen {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("gnutls: fast open needs a tcp network, not %q", network)}
		}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	serverName := config.ServerName
	if serverName == "" {
		serverName = host
	}
	var nc net.Conn
	if config.FastOpen {
		nc, err = dialFastOpen(ctx, nd, network, addr, config)
	} else {
		nc, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	skipped := ""
	if sc, ok := nc.(*skippedConn); ok {
		nc, skipped = sc.Conn, sc.why
	}
	c := newConn(nc, config, true, serverName)
	if skipped != "" {
		c.fastOpen = FastOpenState{Requested: true, Reason: skipped}
	}
	return c, nil
}

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

	laddrOnce sync.Once
	laddr     net.Addr
}

// dialFastOpen makes the socket for the first address addr resolves to.
// When the blackhole cache holds that address, it connects without fast
// open and says why.
func dialFastOpen(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (net.Conn, error) {
	ap, err := resolve(ctx, nd, network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	raddr := net.TCPAddrFromAddrPort(ap)
	if until, ok := config.blackhole.blocked(raddr); ok {
		nc, err := nd.DialContext(ctx, network, ap.String())
		if err != nil {
			return nil, err
		}
		// A plain connection: the report says fast open was skipped.
		return &skippedConn{Conn: nc, why: fmt.Sprintf("skipped: a SYN with data to %s was lost recently; fast open to %s is off until %s", ap, ap.Addr(), until.Format(time.TimeOnly))}, nil
	}
	family := unix.AF_INET6
	var sa unix.Sockaddr
	if ap.Addr().Is4() || ap.Addr().Is4In6() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	} else {
		sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			}
		}
		sa = sa6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: os.NewSyscallError("socket", err)}
	}
	if err := setupDialSocket(fd, nd); err != nil {
		unix.Close(fd)
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
	}
	f := os.NewFile(uintptr(fd), "tcp:"+ap.String())
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &fastOpenConn{f: f, fd: fd, sa: sa, raddr: raddr}
	c.raw = closedRawConn{raw, &c.closed}
	return c, nil
}

// setupDialSocket applies what net.Dialer would: TCP_NODELAY (Go's
// default), keep-alive, and the local address.
func setupDialSocket(fd int, nd *net.Dialer) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	if nd.KeepAlive >= 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
			return os.NewSyscallError("setsockopt SO_KEEPALIVE", err)
		}
	}
	if la, ok := nd.LocalAddr.(*net.TCPAddr); ok && la != nil {
		ap := la.AddrPort()
		var sa unix.Sockaddr
		if ap.Addr().Is4() {
			sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
		} else {
			sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return os.NewSyscallError("bind", err)
		}
	}
	return nil
}

// resolve returns the first address of host for the network.
func resolve(ctx context.Context, nd *net.Dialer, network, addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	pn, err := net.LookupPort("tcp", port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	r := nd.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	want := map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}[network]
	ips, err := r.LookupNetIP(ctx, want, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	// The resolver gives IPv4 addresses in their IPv6-mapped form.
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(pn)), nil
}

func (c *fastOpenConn) Read(b []byte) (int, error)  { return c.f.Read(b) }
func (c *fastOpenConn) Write(b []byte) (int, error) { return c.f.Write(b) }
func (c *fastOpenConn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}
func (c *fastOpenConn) RemoteAddr() net.Addr { return c.raddr }

// LocalAddr is known once the connection is made.
func (c *fastOpenConn) LocalAddr() net.Addr {
	var sa unix.Sockaddr
	c.raw.Control(func(fd uintptr) { sa, _ = unix.Getsockname(int(fd)) })
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if a.Port != 0 {
			c.laddrOnce.Do(func() { c.laddr = &net.TCPAddr{IP: a.Addr[:], Port: a.Port} })
		}
	case *unix.SockaddrInet6:
		if a.Port != 0 {
			c.laddrOnce.Do(func() { c.laddr = &net.TCPAddr{IP: a.Addr[:], Port: a.Port} })
		}
	}
	if c.laddr == nil {
		return &net.TCPAddr{}
	}
	return c.laddr
}
func (c *fastOpenConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *fastOpenConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *fastOpenConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// SyscallConn gives access to the socket.
func (c *fastOpenConn) SyscallConn() (syscall.RawConn, error) { return c.raw, nil }

// closedRawConn is an *os.File's RawConn whose waits, once the file is
// closed, fail with net.ErrClosed, as a net.Conn's do: the file's own
// RawConn returns an unexported "use of closed file" error.
type closedRawConn struct {
	syscall.RawConn
	closed *atomic.Bool
}

func (r closedRawConn) Read(f func(uintptr) bool) error { return r.closedErr(r.RawConn.Read(f)) }

func (r closedRawConn) Write(f func(uintptr) bool) error { return r.closedErr(r.RawConn.Write(f)) }

func (r closedRawConn) closedErr(err error) error {
	if err != nil && r.closed.Load() {
		return net.ErrClosed
	}
	return err
}

// skippedConn is a plain connection made instead of a fast-open one.
type skippedConn struct {
	net.Conn
	why string
}

// blackholeCache remembers destinations where a SYN carrying data was lost,
// by IP address: a middlebox that drops such SYNs does so whatever the
// port, and the kernel keeps its fast-open state per address too. Each
// Config has one, shared by every Dial and Dialer using it; an entry lasts
// Config.FastOpenBlackhole, and expired entries are dropped as new ones are
// added.
type blackholeCache struct {
	mu    sync.Mutex
	until map[netip.Addr]time.Time
}

// blackholeKey is the address of a destination, or false.
func blackholeKey(addr net.Addr) (netip.Addr, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || ta == nil {
		return netip.Addr{}, false
	}
	return ta.AddrPort().Addr().Unmap(), true
}

func (b *blackholeCache) mark(addr net.Addr, d time.Duration) {
	key, ok := blackholeKey(addr)
	if d < 0 || !ok {
		return
	}
	if d == 0 {
		d = DefaultFastOpenBlackhole
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[netip.Addr]time.Time{}
	}
	now := time.Now()
	for k, until := range b.until {
		if now.After(until) {
			delete(b.until, k)
		}
	}
	b.until[key] = now.Add(d)
}

func (b *blackholeCache) blocked(addr net.Addr) (time.Time, bool) {
	key, ok := blackholeKey(addr)
	if !ok {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.until[key]
	if ok && time.Now().After(until) {
		delete(b.until, key)
		return time.Time{}, false
	}
	return until, ok
}

// len returns how many destinations the cache holds.
func (b *blackholeCache) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.until)
}
