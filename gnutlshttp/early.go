package gnutlshttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// Requests as TLS 1.3 early data.
//
// A request that is safe to replay (GET, HEAD or OPTIONS without a body,
// or one whose context went through MarkReplaySafe) and that finds no
// connection open to its server goes out in a new connection's first
// flight: as early data when the session the connection resumes has a
// ticket allowing it, in the SYN with Config.FastOpen. The connection is
// made here, not by net/http or the HTTP/2 pool, so that no other request
// is written to it first; it joins its pool afterwards. A server that
// rejects the early data gets the request again after the handshake, and
// one that answers 425 Too Early (RFC 8470) gets it once more, after the
// handshake. An HTTP/1.1 request whose connection broke during that
// handshake (a server that answered in 0.5-RTT data and closed) goes once
// more on a new connection, after its handshake. Other requests never go
// as early data.
//
// A resumed connection has the protocol its session had, so the request
// goes over HTTP/2 to a server an earlier connection found speaking it,
// over HTTP/1.1 to one found speaking only that (or with DisableHTTP2);
// before any connection to a server, none goes as early data.

// errResponseHeaderTimeout is what a request on an early-data connection
// returns when Transport.ResponseHeaderTimeout passed without a response.
var errResponseHeaderTimeout = errors.New("gnutlshttp: timeout awaiting response headers")

type replaySafeKey struct{}

// MarkReplaySafe returns a context that marks a request as safe to
// replay: one the server may process twice without harm, which the
// Transport may then send as TLS 1.3 early data even with a method or
// body it would otherwise not. An attacker who records the connection's
// first flight can send it again.
func MarkReplaySafe(ctx context.Context) context.Context {
	return context.WithValue(ctx, replaySafeKey{}, true)
}

// replaySafe reports whether req may go as early data.
func replaySafe(req *http.Request) bool {
	if safe, _ := req.Context().Value(replaySafeKey{}).(bool); safe {
		return true
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return (req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0
	}
	return false
}

// roundTripEarly sends req as TLS early data on a new connection when it
// may: the request is safe to replay and no connection to the server is
// open, for HTTP/2 to a server an earlier connection found speaking it,
// for HTTP/1.1 to one found speaking only that (or with DisableHTTP2). ok
// is false when it may not.
func (t *Transport) roundTripEarly(req *http.Request, addr string) (resp *http.Response, err error, ok bool) {
	if t.DisableEarlyData || !replaySafe(req) {
		return nil, nil, false
	}
	t.mu.Lock()
	h2 := !t.DisableHTTP2 && t.proto[addr] == http2.NextProtoTLS && len(t.pruneH2(addr)) == 0 && t.dialing[addr] == nil
	h1 := (t.DisableHTTP2 || t.proto[addr] == h1Proto) && t.live[addr] == 0 && len(t.spare[addr]) == 0
	var d *h2Dial
	switch {
	case h2:
		// Other requests to addr wait for this connection, as for dialH2.
		d = &h2Dial{done: make(chan struct{})}
		t.dialing[addr] = d
	case h1:
		t.live[addr]++ // the connection about to be made
	}
	t.mu.Unlock()
	switch {
	case h2:
		resp, err := t.roundTripEarlyH2(req, addr, d)
		return resp, err, true
	case h1:
		resp, err := t.roundTripEarlyH1(req, addr)
		return resp, err, true
	}
	return nil, nil, false
}

// roundTripEarlyH1 sends req as the first Write of a new HTTP/1.1
// connection, for which roundTripEarly counted addr a live connection.
func (t *Transport) roundTripEarlyH1(req *http.Request, addr string) (*http.Response, error) {
	deadline := t.handshakeDeadline()
	gc, err := t.dialTLS(req.Context(), &gnutls.Dialer{NetDialer: t.netDialer(), Config: t.cfgH1}, addr, true)
	if err != nil {
		t.releaseLive(addr)
		closeBody(req)
		return nil, err
	}
	c := newStateConn(gc)
	c.onClose = func() { t.releaseLive(addr) }
	resp, err := t.sendEarly(c, req, addr, deadline)
	if lost := (*lostEarlyError)(nil); errors.As(err, &lost) {
		// The server may have answered already, but what it sent is
		// lost with the handshake. The request is safe to replay: it
		// goes once more, on a new connection, after its handshake.
		again, rerr := rewind(req)
		if rerr != nil {
			return nil, lost.err
		}
		return t.roundTripH1(again, addr)
	}
	if !tooEarly(resp, err, c) {
		return resp, err
	}
	// Now that the handshake is complete, send it again, once, on this
	// connection (it is the spare one h1 takes first) or another.
	again, err := rewind(req)
	if err != nil {
		return nil, err
	}
	return t.roundTripH1(again, addr)
}

// tooEarly reports whether resp is a 425 Too Early answer to a request
// the server took in early data on c (RFC 8470, section 5.2), which the
// client should send again after the handshake. It then discards resp.
func tooEarly(resp *http.Response, err error, c *stateConn) bool {
	if err != nil || resp.StatusCode != http.StatusTooEarly || !c.Conn.ConnectionState().EarlyData.Accepted {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return true
}

func (t *Transport) releaseLive(addr string) {
	t.mu.Lock()
	if t.live[addr]--; t.live[addr] <= 0 {
		delete(t.live, addr)
	}
	t.mu.Unlock()
}

// sendEarly writes req as the connection's first Write, so that it goes
// as early data, and reads the response. The handshake, which that Write
// runs, must be complete by deadline (none when zero). Once the response
// body is read to its end the connection becomes a spare for h1; closed
// early, it is closed.
func (t *Transport) sendEarly(c *stateConn, req *http.Request, addr string, deadline time.Time) (*http.Response, error) {
	// ctx is the exchange's: the request's context, the handshake's
	// deadline and ResponseHeaderTimeout end it with their cause, and
	// its own end releases it from the request's context.
	ctx, cancel := context.WithCancelCause(req.Context())
	if d := t.ResponseHeaderTimeout; d > 0 {
		timer := time.AfterFunc(d, func() { cancel(errResponseHeaderTimeout) })
		defer timer.Stop()
	}
	hs := &handshakeWriter{c: c}
	if !deadline.IsZero() {
		hs.timer = time.AfterFunc(time.Until(deadline), func() {
			cancel(&net.OpError{Op: "handshake", Net: "tcp", Addr: c.RemoteAddr(), Err: context.DeadlineExceeded})
		})
		defer hs.timer.Stop()
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.Close()
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		cancel(nil)
		return nil, err
	}
	bw := bufio.NewWriterSize(hs, 16<<10)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if ctx.Err() == nil && !c.Conn.ConnectionState().HandshakeComplete && lostConnection(err) {
			err = &lostEarlyError{err}
		}
		return fail(err)
	}
	head := &headReader{r: c, n: maxResponseHeaderBytes}
	br := bufio.NewReader(head)
	resp, err := readFinalResponse(br, req, head)
	if err != nil {
		return fail(err)
	}
	head.n = -1
	resp.TLS = c.tlsState()
	body := &earlyBody{ReadCloser: resp.Body}
	body.done = func(reuse bool) {
		open := stop()
		cancel(nil)
		if open && reuse && !resp.Close && br.Buffered() == 0 {
			t.putSpare(addr, c)
			return
		}
		c.Close()
	}
	if resp.Body == http.NoBody {
		body.done(true)
		return resp, nil
	}
	resp.Body = body
	return resp, nil
}

// handshakeDeadline is when a connection dialed now must have completed
// its handshake: NetDialer's Timeout and Deadline bound the dial and the
// handshake together, for connections made for early data as for the
// others (gnutls.Dialer.DialContext).
func (t *Transport) handshakeDeadline() time.Time {
	nd := t.netDialer()
	var d time.Time
	if nd.Timeout > 0 {
		d = time.Now().Add(nd.Timeout)
	}
	if !nd.Deadline.IsZero() && (d.IsZero() || nd.Deadline.Before(d)) {
		d = nd.Deadline
	}
	return d
}

// handshakeWriter writes to c, the Write that runs its handshake first,
// and stops timer, the handshake's bound, once the handshake is complete.
type handshakeWriter struct {
	c     *stateConn
	timer *time.Timer
}

func (w *handshakeWriter) Write(b []byte) (int, error) {
	n, err := w.c.Write(b)
	if w.timer != nil && w.c.ConnectionState().HandshakeComplete {
		w.timer.Stop()
	}
	return n, err
}

// maxResponseHeaderBytes bounds the response header, and the 1xx
// responses before it that no Got1xxResponse hook looked at, as
// http.Transport's default MaxResponseHeaderBytes does.
const maxResponseHeaderBytes = 10 << 20

// readFinalResponse reads req's response from br as http.Transport does:
// each 1xx informational response (but 101, which is final) goes to the
// request's httptrace hooks (Got100Continue, Got1xxResponse) and the next
// response is read, until the final one.
func readFinalResponse(br *bufio.Reader, req *http.Request, head *headReader) (*http.Response, error) {
	trace := httptrace.ContextClientTrace(req.Context())
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if head.n == 0 {
				err = errors.New("gnutlshttp: server response headers exceeded 10 MB")
			}
			return nil, err
		}
		code := resp.StatusCode
		if code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			return resp, nil
		}
		if code == http.StatusContinue && trace != nil && trace.Got100Continue != nil {
			trace.Got100Continue()
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(code, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
			head.n = maxResponseHeaderBytes // the hook bounds what it takes
		}
	}
}

// headReader reads at most n bytes while n >= 0, as a bound on a
// response's header; n < 0 means no bound (the body).
type headReader struct {
	r io.Reader
	n int64
}

func (h *headReader) Read(p []byte) (int, error) {
	if h.n < 0 {
		return h.r.Read(p)
	}
	if h.n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	p = p[:min(int64(len(p)), h.n)]
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}

// lostEarlyError is sendEarly's error when the connection broke during
// the handshake that carried the request as early data: a server that
// answers in 0.5-RTT data and closes at once (an HTTP/1.0 request, or
// "Connection: close") makes sending the client's Finished fail.
type lostEarlyError struct{ err error }

func (e *lostEarlyError) Error() string { return e.err.Error() }
func (e *lostEarlyError) Unwrap() error { return e.err }

// lostConnection reports an error of a connection the peer closed or
// reset.
func lostConnection(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, gnutls.ErrPremature)
}

// earlyBody is the body of a response read on an early-data connection:
// done runs once, when it is read to its end (reuse) or closed.
type earlyBody struct {
	io.ReadCloser
	once sync.Once
	done func(reuse bool)
}

func (b *earlyBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { b.done(true) })
	} else if err != nil {
		b.once.Do(func() { b.done(false) })
	}
	return n, err
}

func (b *earlyBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done(false) })
	return err
}
