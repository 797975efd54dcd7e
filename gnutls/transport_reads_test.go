package gnutls

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// emptyReads is a socket whose Read returns (0, nil) on every other call,
// or on every call with always.
type emptyReads struct {
	net.Conn
	always bool
	calls  atomic.Int64
}

func (e *emptyReads) Read(p []byte) (int, error) {
	if e.always || e.calls.Add(1)%2 == 1 {
		return 0, nil
	}
	return e.Conn.Read(p)
}

// A Go transport's Read returning (0, nil) means nothing happened
// (io.Reader), not that the peer closed: the handshake and the echo go
// through. One that never returns anything else fails with
// io.ErrNoProgress, as bufio.Reader does.
func TestTransportEmptyReads(t *testing.T) {
	t.Run("sometimes", func(t *testing.T) {
		checkLeaks(t)
		nc := &emptyReads{Conn: dialTCP(t, goTLSServer(t, nil))}
		c := Client(nc, clientConfig())
		defer c.Close()
		echo(t, c, "through empty reads")
		if nc.calls.Load() < 4 {
			t.Fatalf("the transport was read %d times", nc.calls.Load())
		}
	})
	t.Run("always", func(t *testing.T) {
		checkLeaks(t)
		c := Client(&emptyReads{Conn: dialTCP(t, goTLSServer(t, nil)), always: true}, clientConfig())
		defer c.Close()
		err := c.Handshake()
		if !errors.Is(err, io.ErrNoProgress) {
			t.Fatalf("handshake: %v, want io.ErrNoProgress", err)
		}
	})
}

// GnuTLS's own wait for data (the pull timeout, used only when a GnuTLS
// timeout is set) puts back the read deadline the caller set, and ends at
// that deadline when it comes first.
func TestPullTimeoutKeepsReadDeadline(t *testing.T) {
	checkLeaks(t)
	newConn := func(t *testing.T) *Conn {
		c := Client(hideSocket(dialTCP(t, silentServer(t))), clientConfig())
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("GnuTLS timeout first", func(t *testing.T) {
		c := newConn(t)
		deadline := time.Now().Add(300 * time.Millisecond)
		if err := c.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		if ready, errno := c.sess.tr.pullTimeout(20); ready || errno != 0 {
			t.Fatalf("pullTimeout on a silent peer: ready %v errno %v, want a timeout", ready, errno)
		}
		// The caller's deadline is still set: a read of the socket ends.
		done := make(chan error, 1)
		go func() {
			_, err := c.NetConn().Read(make([]byte, 1))
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("read after pullTimeout: %v, want the caller's deadline", err)
			}
			if time.Now().Before(deadline) {
				t.Fatal("read ended before the caller's deadline")
			}
		case <-time.After(5 * time.Second):
			c.NetConn().Close()
			<-done
			t.Fatal("the caller's read deadline was cleared by pullTimeout")
		}
	})
	t.Run("caller's deadline first", func(t *testing.T) {
		c := newConn(t)
		if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var errno syscall.Errno
		within(t, "pullTimeout", func() { _, errno = c.sess.tr.pullTimeout(10000) })
		if errno != syscall.EAGAIN || !errors.Is(c.sess.tr.takeErr(false), os.ErrDeadlineExceeded) {
			t.Fatalf("pullTimeout past the caller's deadline: errno %v, want EAGAIN with the deadline error kept", errno)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("pullTimeout waited %v past the caller's deadline", d)
		}
	})
}
