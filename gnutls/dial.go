//go:build cgo

package gnutls

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Dialer dials TLS connections. Its DialContext fits
// http.Transport.DialTLSContext.
type Dialer struct {
	// NetDialer supplies the timeout, deadline, local address, keep-alive,
	// Control or ControlContext and resolver, also for fast open; nil
	// means a zero net.Dialer.
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
	c, err := dial(ctx, d.netDialer(), network, addr, d.Config)
	if err != nil {
		return nil, err // not a typed nil
	}
	return c, nil
}

func (d *Dialer) netDialer() *net.Dialer {
	if d.NetDialer == nil {
		return new(net.Dialer)
	}
	return d.NetDialer
}

// DialEarly returns a client connection to addr on which the first Write
// can travel as TLS 1.3 early data (0-RTT), in the handshake's first
// flight, instead of a round trip later; the returned Conn's handshake has
// not run yet.
//
// With Config.FastOpen it returns before the TCP connection exists: the
// first flight makes it, so the ClientHello and the early data travel in
// the SYN when they fit, to the first address addr resolves to (Dial, which
// completes the handshake, tries each in turn). Without, it connects first (nothing can go in the
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
	nd := d.netDialer()
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
	if config != nil && config.FastOpen && isTCP(network) {
		return dialFastOpenEach(ctx, nd, network, addr, config)
	}
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

func isTCP(network string) bool {
	return network == "tcp" || network == "tcp4" || network == "tcp6"
}

// dialFastOpenEach is dial with fast open, where the handshake's first
// flight makes the TCP connection: as net.Dialer does, it tries each
// address addr resolves to in order, each but the last within a share of
// the time left (at least 2 s, as in net), and goes on to the next while
// the connection could not be made. Once the server answered, the
// handshake's outcome is final.
func dialFastOpenEach(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (*Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	aps, err := resolveAll(ctx, nd, network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var firstErr error
	for i, ap := range aps {
		if ctx.Err() != nil {
			if firstErr == nil {
				firstErr = &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(ap), Err: ctx.Err()}
			}
			break
		}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if deadline, ok := ctx.Deadline(); ok && i < len(aps)-1 {
			actx, cancel = context.WithDeadline(ctx, partialDeadline(time.Now(), deadline, len(aps)-i))
		}
		c, err := dialFastOpenConn(actx, nd, network, host, ap, config)
		if err == nil {
			if err = c.HandshakeContext(actx); err == nil {
				cancel()
				return c, nil
			}
			c.Close()
		}
		partialEnded := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if firstErr == nil {
			firstErr = err
		}
		if !partialEnded && !connectFailed(err) {
			return nil, err
		}
	}
	return nil, firstErr
}

// dialFastOpenConn is dialConn with fast open to ap.
func dialFastOpenConn(ctx context.Context, nd *net.Dialer, network, host string, ap netip.AddrPort, config *Config) (*Conn, error) {
	nc, skipped, err := dialFastOpenTo(ctx, nd, network, ap, config)
	if err != nil {
		return nil, err
	}
	return clientOver(nc, config, host, skipped), nil
}

// connectFailed reports whether err says the TCP connection was not made:
// a dial error, which Conn reports for a connect that failed during the
// handshake.
func connectFailed(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// partialDeadline is the deadline for one of addrsRemaining addresses
// (net's rule): an equal share of the time left, at least 2 s.
func partialDeadline(now, deadline time.Time, addrsRemaining int) time.Time {
	left := deadline.Sub(now)
	share := left / time.Duration(addrsRemaining)
	const saneMinimum = 2 * time.Second
	if share < saneMinimum {
		share = min(left, saneMinimum)
	}
	return now.Add(share)
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
	var nc net.Conn
	skipped := "" // why fast open was not tried
	if config.FastOpen {
		nc, skipped, err = dialFastOpen(ctx, nd, network, addr, config)
	} else {
		nc, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	return clientOver(nc, config, host, skipped), nil
}

// clientOver is the client Conn over nc to host; skipped says why fast
// open was not tried, if it was asked for.
func clientOver(nc net.Conn, config *Config, host, skipped string) *Conn {
	serverName := config.ServerName
	if serverName == "" {
		serverName = host
	}
	c := newConn(nc, config, true, serverName)
	if skipped != "" {
		c.state.FastOpen = FastOpenState{Requested: true, Reason: skipped}
	}
	return c
}
