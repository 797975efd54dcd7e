package gnutlshttp

import (
	"crypto/tls"
	"errors"
	"io"
	"sync"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// stateConn is a *gnutls.Conn whose ConnectionState is crypto/tls's, the
// method net/http's server and golang.org/x/net/http2 look for to fill
// Request.TLS and Response.TLS. The state is kept once the handshake is
// complete: it does not change afterwards, and every request reads it.
type stateConn struct {
	*gnutls.Conn
	mu    sync.Mutex
	state *tls.ConnectionState
	// onClose, when set, runs once when the connection is closed.
	onClose   func()
	closeOnce sync.Once
}

// Close closes the connection.
func (c *stateConn) Close() error {
	err := c.Conn.Close()
	if c.onClose != nil {
		c.closeOnce.Do(c.onClose)
	}
	return err
}

// Read reads from the connection; a close without close_notify is io.EOF,
// as crypto/tls reports a close at a record boundary. HTTP's own framing
// (Content-Length, chunked, HTTP/2 frames) tells a truncated message; a
// body delimited by the close is read as net/http on crypto/tls reads it.
// A close inside a record's body stays an error.
func (c *stateConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if errors.Is(err, gnutls.ErrPremature) {
		err = io.EOF
	}
	return n, err
}

func newStateConn(c *gnutls.Conn) *stateConn { return &stateConn{Conn: c} }

// ConnectionState returns the crypto/tls form of the connection's state.
func (c *stateConn) ConnectionState() tls.ConnectionState { return *c.tlsState() }

// tlsState returns the crypto/tls form of the connection's state; once
// the handshake is complete, the same value each time, which the
// responses read on the connection share as net/http's share theirs.
// Callers must not modify it.
func (c *stateConn) tlsState() *tls.ConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != nil {
		return c.state
	}
	st := c.Conn.ConnectionState().TLS()
	if st.HandshakeComplete {
		c.state = &st
	}
	return &st
}
