//go:build cgo

package gnutls

import (
	"context"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// FastOpenQueue is the TCP_FASTOPEN queue length Listen gives a listening
// socket when Config.FastOpen is set: how many fast-open connections may
// wait for Accept before the kernel falls back to the plain handshake.
const FastOpenQueue = 256

// Listen listens on the network address and returns a listener whose
// Accept returns server *Conns. It first loads the Config
// (Config.CheckServer) and returns its error, listening on nothing, when
// the certificate, a CA file or the priority string is wrong. With config.FastOpen the listening socket
// accepts TCP Fast Open (TCP_FASTOPEN); the kernel must allow it too
// (net.ipv4.tcp_fastopen bit 1).
func Listen(network, laddr string, config *Config) (net.Listener, error) {
	if config == nil || !config.hasCertificate() && !config.hasPSK(false) {
		return nil, &net.OpError{Op: "listen", Net: network, Err: errNoCertificate}
	}
	if err := config.CheckServer(); err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	lc := net.ListenConfig{}
	if config.FastOpen {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN, FastOpenQueue)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	l, err := lc.Listen(context.Background(), network, laddr)
	if err != nil {
		return nil, err
	}
	return NewListener(l, config), nil
}

// NewListener returns a listener whose Accept wraps inner's connections
// with Server.
func NewListener(inner net.Listener, config *Config) net.Listener {
	return &listener{Listener: inner, config: config}
}

type listener struct {
	net.Listener
	config *Config
}

// Accept waits for a connection and returns it as a server *Conn; the
// handshake runs on its first Read or Write.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Server(c, l.config), nil
}
