package main

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// handshakeTimeout bounds an echo connection's handshake.
const handshakeTimeout = 10 * time.Second

// echoServer is --echo: after the handshake it prints one line for the
// connection on stdout and sends back what the client sends until it
// closes.
type echoServer struct {
	cfg  *gnutls.Config
	out  *lines
	mu   sync.Mutex
	open map[net.Conn]struct{}
	done bool
	wg   sync.WaitGroup
}

func newEchoServer(cfg *gnutls.Config, out *lines) *echoServer {
	return &echoServer{cfg: cfg, out: out, open: map[net.Conn]struct{}{}}
}

func (e *echoServer) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if e.closed() {
				return nil
			}
			return err
		}
		if !e.track(c, true) {
			c.Close()
			continue
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer e.track(c, false)
			defer c.Close()
			e.handle(c.(*gnutls.Conn))
		}()
	}
}

func (e *echoServer) handle(c *gnutls.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err := c.HandshakeContext(ctx)
	cancel()
	if err != nil {
		e.out.printf("* Handshake with %s failed: %v", c.RemoteAddr(), err)
		return
	}
	st := c.ConnectionState()
	e.out.printf("* Accepted connection from %s: %s resumed=%s early-data=%s", c.RemoteAddr(), st.Info.Version, yesNo(st.DidResume), yesNo(st.EarlyData.Accepted))
	io.Copy(c, c)
}

func (e *echoServer) closed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done
}

// track adds or removes an open connection; it refuses to add one after
// close.
func (e *echoServer) track(c net.Conn, add bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !add {
		delete(e.open, c)
		return true
	}
	if e.done {
		return false
	}
	e.open[c] = struct{}{}
	return true
}

// close ends every open connection and waits for their goroutines.
func (e *echoServer) close() {
	e.mu.Lock()
	e.done = true
	for c := range e.open {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}
