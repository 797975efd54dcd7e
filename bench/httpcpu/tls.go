package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
	"github.com/go-gnutls/go-gnutls/gnutls"
)

// pingSize is the size of a ping-pong request and of its reply.
const pingSize = 64

// bulkChunk is the size of a bulk transfer's writes and reads: a record.
const bulkChunk = 16 << 10

// echo starts the TLS echo server and prints its address.
func echo() error {
	return serveTLS(func(c net.Conn) {
		buf := make([]byte, pingSize)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
}

// sink starts the TLS bulk server and prints its address: on each
// connection it reads a transfer, an 8-byte length and that many bytes
// in bulkChunk reads, answers one byte, and waits for the close.
func sink() error {
	return serveTLS(func(c net.Conn) {
		buf := make([]byte, bulkChunk)
		if _, err := io.ReadFull(c, buf[:8]); err != nil {
			return
		}
		for left := binary.BigEndian.Uint64(buf); left > 0; {
			n, err := c.Read(buf[:min(left, bulkChunk)])
			if err != nil {
				return
			}
			left -= uint64(n)
		}
		if _, err := c.Write(buf[:1]); err != nil {
			return
		}
		io.Copy(io.Discard, c)
	})
}

// serveTLS starts the stack's TLS server, which runs handle on each
// connection and closes it after, and prints its address.
func serveTLS(handle func(net.Conn)) error {
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	// No TCP keep-alive, on either stack's sockets: the C program sets
	// none, and Go's net would make four setsockopt calls per connection.
	inner, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var l net.Listener
	switch *stack {
	case "ours":
		cfg := benchcfg.Server(cert)
		cfg.SessionTicketsDisabled = true
		if err := cfg.CheckServer(); err != nil {
			return err
		}
		l = gnutls.NewListener(countingListener{inner}, cfg)
	default:
		cfg := benchcfg.GoServer(cert)
		cfg.SessionTicketsDisabled = true
		l = tls.NewListener(countingListener{inner}, cfg)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				fatal(err)
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	fmt.Printf("listening %s\n", inner.Addr())
	return nil
}

// tlsClient dials the echo server with the stack's client: no session
// cache, so that every handshake is a full one.
type tlsClient struct {
	dial func() (net.Conn, error)
}

func newTLSClient() (*tlsClient, error) {
	ca, err := os.ReadFile(*caFile)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{KeepAlive: -1, ControlContext: func(context.Context, string, string, syscall.RawConn) error {
		conns.Add(1)
		return nil
	}}
	switch *stack {
	case "ours":
		d := &gnutls.Dialer{NetDialer: dialer, Config: benchcfg.Client(ca)}
		return &tlsClient{func() (net.Conn, error) { return d.Dial("tcp", *addr) }}, nil
	default:
		d := &tls.Dialer{NetDialer: dialer, Config: benchcfg.GoClient(ca)}
		return &tlsClient{func() (net.Conn, error) { return d.Dial("tcp", *addr) }}, nil
	}
}

// pingPong makes n round trips on one new connection.
func (c *tlsClient) pingPong(n int) error {
	conn, err := c.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, pingSize)
	for range n {
		if _, err := conn.Write(buf); err != nil {
			return err
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			return err
		}
	}
	return nil
}

// bulk sends n chunks of bulkChunk bytes to the sink server on one new
// connection, after their total length, and waits for its answer.
func (c *tlsClient) bulk(n int) error {
	conn, err := c.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, bulkChunk)
	binary.BigEndian.PutUint64(buf, uint64(n)*bulkChunk)
	if _, err := conn.Write(buf[:8]); err != nil {
		return err
	}
	for range n {
		if _, err := conn.Write(buf); err != nil {
			return err
		}
	}
	_, err = io.ReadFull(conn, buf[:1])
	return err
}

// handshakes makes n connections, one after the other, each closed once
// its handshake is complete (Dial completes it, for both stacks).
func (c *tlsClient) handshakes(n int) error {
	for range n {
		conn, err := c.dial()
		if err != nil {
			return err
		}
		if err := conn.Close(); err != nil {
			return err
		}
	}
	return nil
}
