package gnutls

import (
	"context"
	"fmt"
	"net"
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

func dial(ctx context.Context, nd *net.Dialer, network, addr string, config *Config) (*Conn, error) {
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
	if nd.Timeout != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, nd.Timeout)
		defer cancel()
	}
	if !nd.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, nd.Deadline)
		defer cancel()
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
	skipped := "" // why fast open was not tried
	if config.FastOpen {
		nc, skipped, err = dialFastOpen(ctx, nd, network, addr, config)
	} else {
		nc, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	c := newConn(nc, config, true, serverName)
	if skipped != "" {
		c.fastOpen = FastOpenState{Requested: true, Reason: skipped}
	}
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if c.fastOpen.Fail == FastOpenFailSYNRetransmited {
		config.blackhole.mark(c.conn.RemoteAddr(), config.FastOpenBlackhole)
	}
	return c, nil
}
