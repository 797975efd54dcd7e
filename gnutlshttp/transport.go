package gnutlshttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http2"
	"golang.org/x/net/idna"
	"golang.org/x/sys/unix"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// Transport is an http.RoundTripper that speaks HTTPS over GnuTLS:
// HTTP/2 when the server selects "h2" by ALPN, HTTP/1.1 with keep-alive
// otherwise. Plain "http" URLs go over TCP. Response.TLS is filled. Its
// connections share one session cache, so a new connection to a server
// seen before resumes a session; with Config.FastOpen its ClientHello
// rides in the SYN. A Transport is safe for concurrent use and, like
// http.Transport, should be reused rather than made per request.
// Requests go through a proxy when Proxy says so (see Proxy).
type Transport struct {
	// Config is the TLS configuration of every connection (trust,
	// client certificate, Priority, FastOpen, ...). An empty ServerName
	// means each request's host. The Transport sets NextProtos and
	// EarlyDataNoResend. A nil ClientSessionCache means one made by the
	// Transport for its connections. Neither Config nor the Transport's
	// fields may be modified after the first request.
	Config *gnutls.Config
	// NetDialer bounds connecting and the handshake (Timeout) and sets
	// keep-alive and the local address; nil means a 30 s timeout.
	NetDialer *net.Dialer
	// DisableHTTP2 offers only "http/1.1" by ALPN.
	DisableHTTP2 bool
	// DisableEarlyData never sends a request as TLS early data.
	DisableEarlyData bool

	// Proxy, as in http.Transport, returns the URL of a request's proxy,
	// nil to go direct; a nil Proxy sends every request direct.
	// http.ProxyFromEnvironment reads HTTPS_PROXY, HTTP_PROXY and
	// NO_PROXY. Only http:// proxies are supported: an https request goes
	// through a CONNECT tunnel, with Proxy-Authorization from the URL's
	// user info, a plain http one to the proxy. Early data goes through
	// the tunnel too; with Config.FastOpen the CONNECT request rides the
	// SYN to the proxy. A proxy that refuses or fails gives a *ProxyError.
	Proxy func(*http.Request) (*url.URL, error)
	// ProxyConnectHeader holds headers sent with each CONNECT request.
	ProxyConnectHeader http.Header

	// MaxIdleConnsPerHost and IdleConnTimeout are http.Transport's, for
	// HTTP/1.1 connections; zero values mean its defaults
	// (IdleConnTimeout 90 s). ResponseHeaderTimeout, when set, bounds
	// the wait for an HTTP/1.1 response's header after the request is
	// written.
	MaxIdleConnsPerHost   int
	IdleConnTimeout       time.Duration
	ResponseHeaderTimeout time.Duration
	// HTTP2 holds HTTP/2 settings (ReadIdleTimeout, PingTimeout,
	// MaxHeaderListSize, ...); nil means x/net/http2's defaults. Only its
	// settings are used: connections are made by this Transport.
	HTTP2 *http2.Transport

	once  sync.Once
	h1    *http.Transport
	h2    *http2.Transport
	cfgH1 *gnutls.Config // ALPN "http/1.1"
	cfgH2 *gnutls.Config // ALPN "h2", "http/1.1"
	// cfgH2Early is cfgH2 without resending rejected early data.
	cfgH2Early *gnutls.Config

	// h1proxied are the HTTP/1.1 transports for https through each proxy
	// (h1For), tunnelConfigs the Configs naming each server (tunnelConfig).
	h1proxied     map[string]*http.Transport
	tunnelConfigs map[tunnelConfigKey]*gnutls.Config

	mu sync.Mutex
	// The maps below are keyed by connKey: host:port and proxy.

	// h2conns are the HTTP/2 connections per host:port.
	h2conns map[string][]*http2.ClientConn
	// h2early maps the HTTP/2 connections made for early data to the
	// connection under each, whose state x/net/http2 took too early.
	h2early map[*http2.ClientConn]*stateConn
	// proto is what each server's last connection offering "h2" spoke:
	// http2.NextProtoTLS, or h1Proto when the server selected "http/1.1"
	// or nothing, after which its requests go to h1.
	proto map[string]string
	// dialing is the HTTP/2 dial in flight per host:port, which the other
	// requests to that server wait for instead of dialing too.
	dialing map[string]*h2Dial
	// spare holds the HTTP/1.1 connections waiting for h1, which takes
	// them before dialing: made for a request that went elsewhere, or by
	// an early-data request once its response was read.
	spare map[string][]*stateConn
	// live counts HTTP/1.1 connections per host:port that are open.
	live map[string]int
}

type h2Dial struct {
	done chan struct{}
	err  error
}

const (
	h1Proto            = "http/1.1"
	defaultDialTimeout = 30 * time.Second
	defaultIdleTimeout = 90 * time.Second
)

func (t *Transport) init() {
	t.once.Do(func() {
		base := t.Config.Clone()
		if base == nil {
			base = &gnutls.Config{}
		}
		base.EarlyDataNoResend = false // a rejected request is sent again
		if base.ClientSessionCache == nil {
			base.ClientSessionCache = gnutls.NewLRUClientSessionCache(0)
		}
		t.cfgH1 = base.Clone()
		t.cfgH1.NextProtos = []string{h1Proto}
		t.cfgH2 = base.Clone()
		t.cfgH2.NextProtos = []string{http2.NextProtoTLS, h1Proto}
		t.cfgH2Early = t.cfgH2.Clone()
		t.cfgH2Early.EarlyDataNoResend = true
		idle := t.IdleConnTimeout
		if idle == 0 {
			idle = defaultIdleTimeout
		}
		t.h1 = &http.Transport{
			DialContext:           t.netDialer().DialContext,
			Proxy:                 t.plainProxy,
			DialTLSContext:        t.dialH1,
			TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
			MaxIdleConnsPerHost:   t.MaxIdleConnsPerHost,
			IdleConnTimeout:       idle,
			ResponseHeaderTimeout: t.ResponseHeaderTimeout,
			ExpectContinueTimeout: time.Second,
		}
		t.h2 = t.HTTP2
		if t.h2 == nil {
			t.h2 = &http2.Transport{}
		}
		t.h2conns = map[string][]*http2.ClientConn{}
		t.proto = map[string]string{}
		t.h2early = map[*http2.ClientConn]*stateConn{}
		t.dialing = map[string]*h2Dial{}
		t.spare = map[string][]*stateConn{}
		t.live = map[string]int{}
	})
}

func (t *Transport) netDialer() *net.Dialer {
	if t.NetDialer != nil {
		return t.NetDialer
	}
	return &net.Dialer{Timeout: defaultDialTimeout, KeepAlive: 30 * time.Second}
}

// RoundTrip sends one request and returns its response.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.init()
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("gnutlshttp: nil Request.URL")
	}
	switch req.URL.Scheme {
	case "http":
		return t.h1.RoundTrip(req)
	case "https":
	default:
		closeBody(req)
		return nil, fmt.Errorf("gnutlshttp: unsupported protocol scheme %q", req.URL.Scheme)
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("gnutlshttp: no Host in request URL")
	}
	proxy, err := t.proxyFor(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	addr := connKey(hostPort(req.URL), proxy)
	var cc *http2.ClientConn
	if !t.DisableHTTP2 {
		t.mu.Lock()
		cc = t.reserveFirstH2(addr)
		t.mu.Unlock()
	}
	if cc == nil {
		// No connection is open, or the first one is full or closing.
		if resp, err, ok := t.roundTripEarly(req, addr); ok {
			return resp, err
		}
	}
	if !t.DisableHTTP2 {
		resp, err, h1req := t.roundTripH2(req, addr, cc)
		if h1req == nil {
			return resp, err
		}
		req = h1req
	}
	return t.roundTripH1(req, addr)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// hostPort is the URL's host and port, 443 by default, as http.Transport
// names the address it dials and pools its connections under: an
// international host name in its ASCII form (IDNA lookup profile).
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	host := u.Hostname()
	if !isASCII(host) {
		if ascii, err := idna.Lookup.ToASCII(host); err == nil {
			host = ascii
		}
	}
	// u.Host is often that string already: no new one per request.
	if h := u.Host; strings.IndexByte(host, ':') < 0 && len(h) == len(host)+1+len(port) &&
		h[:len(host)] == host && h[len(host)] == ':' && h[len(host)+1:] == port {
		return h
	}
	return net.JoinHostPort(host, port)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// roundTripH1 sends req, an https request to addr, through net/http's
// HTTP/1.1 transport, which dials with dialH1, and fills Response.TLS
// from the connection it used.
func (t *Transport) roundTripH1(req *http.Request, addr string) (*http.Response, error) {
	if req.URL.Scheme == "https" {
		if err := t.connect(req.Context(), addr); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	ct := newConnTrace()
	resp, err := t.h1For(addr).RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), &ct.ClientTrace)))
	if err != nil {
		return nil, err
	}
	resp.Request = req
	if resp.TLS == nil && ct.used != nil {
		resp.TLS = ct.used.tlsState()
	}
	return resp, nil
}

// connTrace is a request's trace that records the connection net/http's
// HTTP/1.1 transport gave it, whose state goes into Response.TLS: the
// hook and what it records share one allocation.
type connTrace struct {
	httptrace.ClientTrace
	used *stateConn
}

func newConnTrace() *connTrace {
	ct := &connTrace{}
	ct.GotConn = func(info httptrace.GotConnInfo) { ct.used, _ = info.Conn.(*stateConn) }
	return ct
}

// connect dials a spare connection to addr when none is open, so that a
// request finding no connection dials in its own goroutine and under its
// own context (net/http's dials run in goroutines of their own).
func (t *Transport) connect(ctx context.Context, addr string) error {
	t.mu.Lock()
	have := t.live[addr] > 0
	if !have {
		t.live[addr]++ // the connection dialed below
	}
	t.mu.Unlock()
	if have {
		return nil
	}
	c, err := t.dial(ctx, addr, t.cfgH1)
	if err != nil {
		t.releaseLive(addr)
		return err
	}
	c.onClose = func() { t.releaseLive(addr) }
	t.putSpare(addr, c)
	return nil
}

// dialH1 is the HTTP/1.1 transport's DialTLSContext: a spare connection
// to addr if there is one, or a new one offering only "http/1.1".
func (t *Transport) dialH1(ctx context.Context, _, addr string) (net.Conn, error) {
	if c := t.takeSpare(addr); c != nil {
		return c, nil
	}
	c, err := t.dial(ctx, addr, t.cfgH1)
	if err != nil {
		return nil, err
	}
	return t.countLive(addr, c), nil
}

// dial connects to addr, a connKey, and completes the handshake.
func (t *Transport) dial(ctx context.Context, addr string, cfg *gnutls.Config) (*stateConn, error) {
	c, err := t.dialTLS(ctx, &gnutls.Dialer{NetDialer: t.netDialer(), Config: cfg}, addr, false)
	if err != nil {
		return nil, err
	}
	return newStateConn(c), nil
}

// countLive counts c among addr's HTTP/1.1 connections until it closes.
func (t *Transport) countLive(addr string, c *stateConn) *stateConn {
	t.mu.Lock()
	t.live[addr]++
	t.mu.Unlock()
	c.onClose = func() { t.releaseLive(addr) }
	return c
}

// takeSpare returns a spare connection to addr that the server has not
// closed, closing those it finds closed.
func (t *Transport) takeSpare(addr string) *stateConn {
	for {
		t.mu.Lock()
		cs := t.spare[addr]
		if len(cs) == 0 {
			t.mu.Unlock()
			return nil
		}
		c := cs[len(cs)-1]
		if t.spare[addr] = cs[:len(cs)-1]; len(t.spare[addr]) == 0 {
			delete(t.spare, addr)
		}
		t.mu.Unlock()
		if open(c) {
			return c
		}
		c.Close()
	}
}

// open reports whether c, an idle connection, is still open, as net/http
// checks its idle connections: nothing waits in its socket, or what waits
// is TLS's own (a session ticket, which a short Read takes in), not a
// close_notify, an EOF or data nobody asked for.
func open(c *stateConn) bool {
	switch waiting(c) {
	case socketEmpty:
		return true
	case socketClosed:
		return false
	}
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	n, err := c.Read(make([]byte, 1))
	c.SetReadDeadline(time.Time{})
	return n == 0 && errors.Is(err, os.ErrDeadlineExceeded)
}

const (
	socketEmpty = iota
	socketClosed
	socketData
)

// waiting peeks at c's socket without reading from it.
func waiting(c *stateConn) int {
	s, ok := c.NetConn().(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return socketData
	}
	raw, err := s.SyscallConn()
	if err != nil {
		return socketClosed
	}
	state := socketClosed
	raw.Control(func(fd uintptr) {
		var b [1]byte
		switch n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT); {
		case err == unix.EAGAIN:
			state = socketEmpty
		case err == nil && n > 0:
			state = socketData
		}
	})
	return state
}

func (t *Transport) putSpare(addr string, c *stateConn) {
	t.mu.Lock()
	t.spare[addr] = append(t.spare[addr], c)
	t.mu.Unlock()
}

// roundTripH2 sends req over an HTTP/2 connection to addr: reserved, a
// connection that took a stream reservation for it, or else one that
// can take it, dialed when none can. When the server speaks only
// HTTP/1.1, h1req is the request to send over it: req, or the copy with a
// fresh body that an attempt which failed left to send again.
func (t *Transport) roundTripH2(req *http.Request, addr string, reserved *http2.ClientConn) (resp *http.Response, err error, h1req *http.Request) {
	for attempt := 0; ; attempt++ {
		cc := reserved
		reserved = nil
		if cc == nil {
			var h1 bool
			cc, h1, err = t.h2Conn(req.Context(), addr)
			if err != nil {
				closeBody(req)
				return nil, err, nil
			}
			if h1 {
				return nil, nil, req
			}
		}
		resp, err := cc.RoundTrip(req)
		if err == nil {
			t.fixState(cc, resp)
		}
		if err != nil && attempt < maxH2Attempts-1 && notProcessed(err) {
			if r, rerr := rewind(req); rerr == nil {
				req = r
				continue
			}
		}
		return resp, err, nil
	}
}

// maxH2Attempts bounds how many times an HTTP/2 request the server did
// not process is sent.
const maxH2Attempts = 3

// x/net/http2's errors for a request its connection did not send, or
// sent after the last stream a graceful GOAWAY names. They are
// unexported, so they are told by their text.
const (
	errTextGoAway   = "http2: Transport received Server's graceful shutdown GOAWAY"
	errTextUnusable = "http2: client conn not usable"
)

// notProcessed reports an HTTP/2 error after which the server has not
// acted on the request, which x/net/http2's own pool sends again: the
// server refused the stream (RFC 9113, section 8.7), its GOAWAY left the
// stream out (section 6.8), or the connection could no longer take it.
func notProcessed(err error) bool {
	var se http2.StreamError
	if errors.As(err, &se) {
		return se.Code == http2.ErrCodeRefusedStream
	}
	switch err.Error() {
	case errTextGoAway, errTextUnusable:
		return true
	}
	return false
}

// rewind returns req ready to be sent again, with a fresh body.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("gnutlshttp: request body cannot be sent again (no GetBody)")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// h2Conn returns an HTTP/2 connection to addr for one request: one with
// a stream reserved for it, or a new one, dialed when none could take the
// request; one dial per server at a time, which the other callers wait
// for. h1 is true when the server does not speak HTTP/2.
func (t *Transport) h2Conn(ctx context.Context, addr string) (cc *http2.ClientConn, h1 bool, err error) {
	for {
		t.mu.Lock()
		if t.proto[addr] == h1Proto {
			t.mu.Unlock()
			return nil, true, nil
		}
		if cc := t.reserveH2(addr); cc != nil {
			t.mu.Unlock()
			return cc, false, nil
		}
		d := t.dialing[addr]
		if d == nil {
			d = &h2Dial{done: make(chan struct{})}
			t.dialing[addr] = d
			t.mu.Unlock()
			// The new connection serves this request even if it was
			// lost already: its RoundTrip then says why.
			cc, err := t.dialH2(ctx, addr, d)
			if cc == nil && err == nil {
				return nil, true, nil
			}
			return cc, false, err
		}
		t.mu.Unlock()
		select {
		case <-d.done:
			// The dialer's own cancellation is not this caller's: try again.
			if d.err != nil && !errors.Is(d.err, context.Canceled) && !errors.Is(d.err, context.DeadlineExceeded) {
				return nil, false, d.err
			}
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// reserveH2 returns a connection to addr that took a stream reservation:
// the first if it does, else one of those left once the closed and
// closing ones are dropped. The caller holds t.mu.
func (t *Transport) reserveH2(addr string) *http2.ClientConn {
	if cc := t.reserveFirstH2(addr); cc != nil {
		return cc
	}
	for _, cc := range t.pruneH2(addr) {
		if cc.ReserveNewRequest() {
			return cc
		}
	}
	return nil
}

// reserveFirstH2 returns addr's first HTTP/2 connection if it took a
// stream reservation, nil otherwise. It is a request's steady path: it
// asks no connection for its State, which waits for the connection's
// writes in progress. The caller holds t.mu.
func (t *Transport) reserveFirstH2(addr string) *http2.ClientConn {
	if conns := t.h2conns[addr]; len(conns) > 0 && conns[0].ReserveNewRequest() {
		return conns[0]
	}
	return nil
}

// pruneH2 drops addr's HTTP/2 connections that closed or are closing and
// returns the others. The caller holds t.mu.
func (t *Transport) pruneH2(addr string) []*http2.ClientConn {
	kept := t.h2conns[addr][:0]
	for _, cc := range t.h2conns[addr] {
		if st := cc.State(); st.Closed || st.Closing {
			delete(t.h2early, cc)
			continue
		}
		kept = append(kept, cc)
	}
	if len(kept) == 0 {
		delete(t.h2conns, addr)
		return nil
	}
	t.h2conns[addr] = kept
	return kept
}

// dialH2 dials addr offering "h2" and "http/1.1". An HTTP/2 connection
// joins the pool and is returned; an HTTP/1.1 one is kept for h1, addr is
// marked as speaking only HTTP/1.1, and cc is nil.
func (t *Transport) dialH2(ctx context.Context, addr string, d *h2Dial) (cc *http2.ClientConn, err error) {
	c, err := t.dial(ctx, addr, t.cfgH2)
	if err == nil {
		if c.ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
			cc, err = t.h2.NewClientConn(c)
			if err != nil {
				c.Close()
			}
		} else {
			t.putSpare(addr, t.countLive(addr, c))
		}
	}
	t.mu.Lock()
	switch {
	case cc != nil:
		t.h2conns[addr] = append(t.h2conns[addr], cc)
		t.proto[addr] = http2.NextProtoTLS
	case err == nil:
		t.proto[addr] = h1Proto
	}
	delete(t.dialing, addr)
	d.err = err
	close(d.done)
	t.mu.Unlock()
	return cc, err
}

// CloseIdleConnections closes the connections that carry no request.
func (t *Transport) CloseIdleConnections() {
	t.init()
	t.h1.CloseIdleConnections()
	t.closeIdleProxied()
	t.mu.Lock()
	var idle []*http2.ClientConn
	for addr, ccs := range t.h2conns {
		kept := ccs[:0]
		for _, cc := range ccs {
			st := cc.State()
			if st.Closed || st.StreamsActive+st.StreamsReserved+st.StreamsPending == 0 {
				idle = append(idle, cc)
				delete(t.h2early, cc)
			} else {
				kept = append(kept, cc)
			}
		}
		if len(kept) == 0 {
			delete(t.h2conns, addr)
		} else {
			t.h2conns[addr] = kept
		}
	}
	var spare []*stateConn
	for addr, cs := range t.spare {
		spare = append(spare, cs...)
		delete(t.spare, addr)
	}
	t.mu.Unlock()
	for _, cc := range idle {
		cc.Close()
	}
	for _, c := range spare {
		c.Close()
	}
}
