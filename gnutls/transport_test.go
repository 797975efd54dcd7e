package gnutls

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// failingConn is a connection whose reads or writes fail with err.
type failingConn struct {
	net.Conn
	err         error
	read, write bool
}

// The error a Go transport returns reaches the caller intact.
func TestTransportErrorIntact(t *testing.T) {
	checkLeaks(t)
	errBoom := errors.New("boom")
	addr := goTLSServer(t, nil)
	for _, f := range []failingConn{{err: errBoom, write: true}, {err: errBoom, read: true}} {
		f.Conn = dialTCP(t, addr)
		c := Client(f, clientConfig())
		err := c.Handshake()
		var ge *Error
		if !errors.Is(err, errBoom) || !errors.As(err, &ge) || (ge.Code != ErrPush && ge.Code != ErrPull) {
			t.Errorf("handshake over a failing transport (read %v): %v", f.read, err)
		}
		c.Close()
	}
}

// Both ends on Go callbacks: the sockets are hidden behind wrappers.
func TestCallbacksBothEnds(t *testing.T) {
	checkLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		srv := Server(struct{ net.Conn }{nc}, serverConfig())
		defer srv.Close()
		io.Copy(srv, srv)
	}()
	c := Client(transports[1].dial(t, l.Addr().String()), clientConfig())
	defer c.Close()
	for i := range 10 {
		echo(t, c, strings.Repeat("callbacks ", i*1000+1))
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read past the deadline: %v", err)
	}
}
