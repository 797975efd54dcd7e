package main

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// switchProxy forwards each TCP connection it accepts on loopback to its
// current target, which a test may change between connections (as a load
// balancer would), and records each client's first flight: what it sent
// before the server's first byte came back (a TLS ClientHello and any
// early data).
type switchProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  []*recorded
	wg     sync.WaitGroup
}

// recorded is a client's first flight on one connection; done is closed
// once the client closed or the connection broke.
type recorded struct {
	mu      sync.Mutex
	sent    bytes.Buffer
	replied bool // the server's first byte came: the flight is complete
	done    chan struct{}
}

func (r *recorded) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.replied {
		r.sent.Write(p)
	}
	return len(p), nil
}

// reply passes on what the server sends, marking the end of the flight.
type reply struct {
	w   io.Writer
	rec *recorded
}

func (r reply) Write(p []byte) (int, error) {
	r.rec.mu.Lock()
	r.rec.replied = true
	r.rec.mu.Unlock()
	return r.w.Write(p)
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *switchProxy) addr() string { return p.ln.Addr().String() }

func (p *switchProxy) setTarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
}

func (p *switchProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		rec := &recorded{done: make(chan struct{})}
		p.conns = append(p.conns, rec)
		target := p.target
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer close(rec.done)
			defer c.Close()
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			go func() {
				io.Copy(reply{c, rec}, up)
				c.Close()
			}()
			io.Copy(io.MultiWriter(rec, up), c)
			up.(*net.TCPConn).CloseWrite()
		}()
	}
}

// flight returns the first flight of connection i (from 0), once the
// connection ended.
func (p *switchProxy) flight(t *testing.T, i int) []byte {
	t.Helper()
	p.mu.Lock()
	if i >= len(p.conns) {
		p.mu.Unlock()
		t.Fatalf("the proxy saw %d connections, not %d", len(p.conns), i+1)
	}
	rec := p.conns[i]
	p.mu.Unlock()
	select {
	case <-rec.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("connection %d did not end", i)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return bytes.Clone(rec.sent.Bytes())
}

// replay sends b to addr as a new connection and reads what comes back
// until the server closes or a second passes.
func replay(t *testing.T, addr string, b []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(b); err != nil {
		t.Logf("replay to %s: %v", addr, err)
	}
	n, err := io.Copy(io.Discard, c)
	t.Logf("replay of %d bytes to %s: %d bytes back, %v", len(b), addr, n, err)
}
