package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// handshakeTimeout bounds an echo connection's handshake, early data
// included.
const handshakeTimeout = 10 * time.Second

// echoServer is --echo: it prints a line on stdout when early data
// arrives and one when the handshake completes, then sends back what the
// client sends until it closes.
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
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	early, err := e.readEarly(c)
	if err == nil {
		err = c.Handshake()
	}
	if err != nil {
		e.out.printf("* Handshake with %s failed: %v", c.RemoteAddr(), err)
		return
	}
	c.SetDeadline(time.Time{})
	st := c.ConnectionState()
	e.out.printf("* Accepted connection from %s: %s resumed=%s early-data=%s", c.RemoteAddr(), st.Info.Version, yesNo(st.DidResume), yesNo(st.EarlyData.Accepted))
	if _, err := c.Write(early); err != nil {
		return
	}
	io.Copy(c, c)
}

// earlyShown is how much of the early data its line on stdout quotes.
const earlyShown = 64

// readEarly reads the client's TLS 1.3 early data, if the server accepted
// any, printing a line for each piece as it arrives, before the handshake
// completes: the server acts on early data at once, which is what makes a
// replayed first flight dangerous (and what anti-replay prevents).
func (e *echoServer) readEarly(c *gnutls.Conn) ([]byte, error) {
	var early []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := c.ReadEarlyData(buf)
		if n > 0 {
			e.out.printf("* Early data from %s: %d bytes %q", c.RemoteAddr(), n, buf[:min(n, earlyShown)])
			early = append(early, buf[:n]...)
		}
		switch {
		case err == io.EOF:
			return early, nil
		case err != nil:
			return nil, err
		}
	}
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
