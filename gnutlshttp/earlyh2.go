package gnutlshttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// errNotH2 is a first flight's error when the server, resuming a session
// that had HTTP/2, selected another protocol: its request was not sent.
var errNotH2 = errors.New("gnutlshttp: the server no longer selects h2")

// roundTripEarlyH2 opens an HTTP/2 connection whose first flight carries
// req, as early data. x/net/http2 writes its preface and settings when the
// connection is made and the request's HEADERS when it is sent;
// firstFlight holds the former back and writes both at once. The
// connection joins addr's pool once that Write is done, so that no other
// request gets into the first flight. A server that no longer selects
// HTTP/2 gets nothing of it: the request then goes over HTTP/1.1.
func (t *Transport) roundTripEarlyH2(req *http.Request, addr string, d *h2Dial) (*http.Response, error) {
	// finish ends the dial others wait for: with the connection, or with
	// nothing, so that they make their own (over HTTP/1.1 when the server
	// no longer selects h2).
	finish := func(cc *http2.ClientConn, c *stateConn, err error) {
		t.mu.Lock()
		switch {
		case cc != nil:
			t.h2conns[addr] = append(t.h2conns[addr], cc)
			t.h2early[cc] = c
		case errors.Is(err, errNotH2):
			t.proto[addr] = h1Proto
		}
		delete(t.dialing, addr)
		close(d.done)
		t.mu.Unlock()
	}
	deadline := t.handshakeDeadline()
	gc, err := t.dialTLS(req.Context(), &gnutls.Dialer{NetDialer: t.netDialer(), Config: t.cfgH2Early}, addr, true)
	if err != nil {
		finish(nil, nil, err)
		closeBody(req)
		return nil, err
	}
	f := newFirstFlight(newStateConn(gc))
	// The handshake runs in the first flight's Write, which must be done
	// by deadline.
	var timedOut atomic.Pointer[net.OpError]
	if !deadline.IsZero() {
		bound := time.AfterFunc(time.Until(deadline), func() {
			timedOut.Store(&net.OpError{Op: "handshake", Net: "tcp", Addr: f.RemoteAddr(), Err: context.DeadlineExceeded})
			f.Close()
		})
		go func() { <-f.sent; bound.Stop() }()
	}
	cc, err := t.h2.NewClientConn(f)
	if err != nil {
		f.Close()
		finish(nil, nil, err)
		closeBody(req)
		return nil, err
	}
	go func() {
		<-f.sent
		if f.err != nil {
			cc.Close()
			finish(nil, nil, f.err)
			return
		}
		finish(cc, f.stateConn, nil)
	}()
	resp, err := cc.RoundTrip(req)
	if err != nil {
		cc.Close()
		if e := timedOut.Load(); e != nil {
			return nil, e
		}
		if !errors.Is(f.err, errNotH2) {
			return nil, err
		}
		// Nothing was sent: the request goes over HTTP/1.1.
		again, rerr := rewind(req)
		if rerr != nil {
			return nil, err
		}
		resp, err = t.roundTripH1(again, addr)
		return resp, err
	}
	// From the connection itself: it joins the pool (h2early) only when
	// finish runs, which may be after the response.
	setState(f.stateConn, resp)
	if !tooEarly(resp, nil, f.stateConn) {
		return resp, nil
	}
	again, err := rewind(req)
	if err != nil {
		return nil, err
	}
	resp, err = cc.RoundTrip(again)
	if err == nil {
		setState(f.stateConn, resp)
	}
	return resp, err
}

// fixState puts the connection's state into resp.TLS when cc was made by
// roundTripEarlyH2 and has joined the pool. Other connections' responses
// carry a complete state already and take no lock here.
func (t *Transport) fixState(cc *http2.ClientConn, resp *http.Response) {
	if resp.TLS == nil || resp.TLS.HandshakeComplete {
		return
	}
	t.mu.Lock()
	c := t.h2early[cc]
	t.mu.Unlock()
	setState(c, resp)
}

// setState puts c's state into resp.TLS: x/net/http2 took its state when
// the connection was made, before the handshake.
func setState(c *stateConn, resp *http.Response) {
	if c == nil || resp.TLS == nil || resp.TLS.HandshakeComplete {
		return
	}
	resp.TLS = c.tlsState()
}

// firstFlight is the connection under an HTTP/2 client connection made
// for early data: it holds the first Write (x/net/http2's preface and
// settings) and sends it with the second (the request) as one Write,
// which goes as early data. Reads wait until that Write is done: a Read
// before it would run the handshake without early data.
type firstFlight struct {
	*stateConn
	mu     sync.Mutex
	held   []byte
	writes int
	sent   chan struct{} // closed when the first flight is done or the connection closed
	once   sync.Once
	err    error // the first flight's, set before sent is closed
}

func newFirstFlight(c *stateConn) *firstFlight {
	return &firstFlight{stateConn: c, sent: make(chan struct{})}
}

func (f *firstFlight) Write(b []byte) (int, error) {
	f.mu.Lock()
	f.writes++
	switch f.writes {
	case 1:
		f.held = append(f.held, b...)
		f.mu.Unlock()
		return len(b), nil
	case 2:
		data := append(f.held, b...)
		f.held = nil
		f.mu.Unlock()
		err := f.send(data)
		f.done(err)
		if err != nil {
			return 0, err
		}
		return len(b), nil
	}
	f.mu.Unlock()
	return f.stateConn.Write(b)
}

// send writes the first flight. The Config does not resend rejected early
// data: if the server rejected it, the bytes are written again here only
// when the server still selected HTTP/2.
func (f *firstFlight) send(data []byte) error {
	_, err := f.stateConn.Write(data)
	if !errors.Is(err, gnutls.ErrEarlyDataRejected) {
		return err
	}
	if f.Conn.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
		return errNotH2
	}
	_, err = f.stateConn.Write(data)
	return err
}

func (f *firstFlight) done(err error) {
	f.once.Do(func() {
		f.err = err
		close(f.sent)
	})
}

func (f *firstFlight) Read(b []byte) (int, error) {
	<-f.sent
	return f.stateConn.Read(b)
}

func (f *firstFlight) Close() error {
	f.done(net.ErrClosed)
	return f.stateConn.Close()
}
