package gnutlshttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// Requests through a proxy.
//
// Transport.Proxy names each request's proxy, as http.Transport's does;
// only http:// proxies are supported. An https request goes through a
// tunnel made here: a TCP connection to the proxy, a CONNECT request
// carrying Proxy-Authorization (Basic, from the proxy URL's user info)
// and ProxyConnectHeader, the proxy's 200, then TLS with the server over
// the tunnel, early data included. A plain http request is net/http's,
// which sends it to the proxy with its absolute URL.
//
// With Config.FastOpen the connection to the proxy uses TCP Fast Open
// (TCP_FASTOPEN_CONNECT), so the CONNECT request rides the SYN once the
// kernel holds a cookie for the proxy. The ClientHello cannot: it waits
// for the proxy's answer. A request sent as early data still saves the
// round trip to the server, through the tunnel.
//
// Connections are keyed by server and proxy (connKey), so a request
// reuses only a connection through the proxy it names.

// ProxyError is returned when a request's proxy could not be reached or
// did not open a tunnel: it refused the CONNECT request (StatusCode is
// the proxy's answer), or the connection failed or closed before an
// answer (Err says why).
type ProxyError struct {
	Proxy      string // the proxy's URL, its password redacted
	Target     string // host:port the tunnel was for
	StatusCode int    // the proxy's answer to CONNECT, or 0
	Status     string // such as "407 Proxy Authentication Required"
	Err        error
}

func (e *ProxyError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("gnutlshttp: proxy %s refused CONNECT %s: %s", e.Proxy, e.Target, e.Status)
	}
	return fmt.Sprintf("gnutlshttp: proxy %s, CONNECT %s: %v", e.Proxy, e.Target, e.Err)
}

func (e *ProxyError) Unwrap() error { return e.Err }

// errProxyClosed is a ProxyError's Err when the proxy closed the
// connection without answering CONNECT.
var errProxyClosed = errors.New("the proxy closed the connection without an answer")

// proxyFor returns req's proxy, nil for none.
func (t *Transport) proxyFor(req *http.Request) (*url.URL, error) {
	if t.Proxy == nil {
		return nil, nil
	}
	u, err := t.Proxy(req)
	if err != nil || u == nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("gnutlshttp: proxy %s: scheme %q not supported (only http)", u.Redacted(), u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("gnutlshttp: proxy %s: no host", u.Redacted())
	}
	return u, nil
}

// plainProxy is net/http's Proxy: the https requests that transport sees
// go direct or through a tunnel h1For dials, so it names a proxy for
// plain http requests alone.
func (t *Transport) plainProxy(req *http.Request) (*url.URL, error) {
	if req.URL.Scheme != "http" {
		return nil, nil
	}
	return t.proxyFor(req)
}

const viaProxy = " via "

// connKey names the connections to addr (host:port) through proxy, or
// direct when proxy is nil: the key of the Transport's pools.
func connKey(addr string, proxy *url.URL) string {
	if proxy == nil {
		return addr
	}
	return addr + viaProxy + proxy.String()
}

// splitKey returns the server address and the proxy of a connKey.
func splitKey(key string) (addr string, proxy *url.URL) {
	addr, p, ok := strings.Cut(key, viaProxy)
	if !ok {
		return key, nil
	}
	proxy, _ = url.Parse(p) // made by connKey from a URL
	return addr, proxy
}

// dialTLS dials as d does, to the server of key and through its proxy if
// it has one: the connection is returned with its handshake complete
// (d.DialContext), or, when early, not started, for its first Write to go
// as early data (d.DialEarly).
func (t *Transport) dialTLS(ctx context.Context, d *gnutls.Dialer, key string, early bool) (*gnutls.Conn, error) {
	addr, proxy := splitKey(key)
	if proxy == nil {
		if early {
			return d.DialEarly(ctx, "tcp", addr)
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return c.(*gnutls.Conn), nil
	}
	ctx, cancel := t.dialContext(ctx)
	defer cancel()
	nc, err := t.tunnel(ctx, proxy, addr, d.Config.FastOpen)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(addr)
	cfg := t.tunnelConfig(d.Config, host)
	if early {
		return gnutls.ClientEarly(nc, cfg), nil
	}
	c := gnutls.Client(nc, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dialContext is ctx bounded by NetDialer's Timeout and Deadline, which
// bound a dial through a proxy as they bound a direct one.
func (t *Transport) dialContext(ctx context.Context) (context.Context, context.CancelFunc) {
	nd := t.netDialer()
	cancel := func() {}
	if nd.Timeout != 0 {
		ctx, cancel = context.WithTimeout(ctx, nd.Timeout)
	}
	if !nd.Deadline.IsZero() {
		c1 := cancel
		var c2 context.CancelFunc
		ctx, c2 = context.WithDeadline(ctx, nd.Deadline)
		cancel = func() { c2(); c1() }
	}
	return ctx, cancel
}

// tunnelConfig is cfg with ServerName host, for a connection whose
// address is the proxy's. One copy per Config and host is kept, so that
// its credentials are loaded once.
func (t *Transport) tunnelConfig(cfg *gnutls.Config, host string) *gnutls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	k := tunnelConfigKey{cfg, host}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.tunnelConfigs[k]; c != nil {
		return c
	}
	c := cfg.Clone()
	c.ServerName = host
	if t.tunnelConfigs == nil {
		t.tunnelConfigs = map[tunnelConfigKey]*gnutls.Config{}
	}
	t.tunnelConfigs[k] = c
	return c
}

type tunnelConfigKey struct {
	cfg  *gnutls.Config
	host string
}

// tunnel connects to proxy and has it open a tunnel to addr with CONNECT.
// ctx bounds all of it; without a deadline, a minute does (as in
// net/http), so that a proxy that never answers cannot hold a request.
func (t *Transport) tunnel(ctx context.Context, proxy *url.URL, addr string, fastOpen bool) (net.Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	fail := func(status string, code int, err error) error {
		return &ProxyError{Proxy: proxy.Redacted(), Target: addr, StatusCode: code, Status: status, Err: err}
	}
	paddr := proxy.Host
	if proxy.Port() == "" {
		paddr = net.JoinHostPort(proxy.Hostname(), "80")
	}
	nd := t.netDialer()
	if fastOpen {
		nd = fastOpenDialer(nd)
	}
	nc, err := nd.DialContext(ctx, "tcp", paddr)
	if err != nil {
		return nil, fail("", 0, err)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	hdr := t.ProxyConnectHeader.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		hdr.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: hdr}
	// One Write, so that the request goes whole in the SYN with fast open.
	var b bytes.Buffer
	req.Write(&b)
	resp, br, err := func() (*http.Response, *bufio.Reader, error) {
		if _, err := nc.Write(b.Bytes()); err != nil {
			return nil, nil, err
		}
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, req)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errProxyClosed
		}
		return resp, br, err
	}()
	if !stop() || ctx.Err() != nil {
		nc.Close()
		return nil, fail("", 0, context.Cause(ctx))
	}
	if err != nil {
		nc.Close()
		return nil, fail("", 0, err)
	}
	// The body is left unread: after a 200 the connection is the tunnel,
	// after a refusal it is closed.
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fail(resp.Status, resp.StatusCode, nil)
	}
	if br.Buffered() > 0 {
		// The server speaks after the ClientHello: these bytes are the proxy's.
		nc.Close()
		return nil, fail("", 0, errors.New("the proxy sent data after its 200 answer"))
	}
	return nc, nil
}

// fastOpenDialer is nd connecting with TCP_FASTOPEN_CONNECT: the first
// Write travels in the SYN when the kernel has a cookie for the address.
func fastOpenDialer(nd *net.Dialer) *net.Dialer {
	d := *nd
	prev, prevCtx := nd.Control, nd.ControlContext
	d.Control = nil
	d.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		var err error
		switch {
		case prevCtx != nil:
			err = prevCtx(ctx, network, address, c)
		case prev != nil:
			err = prev(network, address, c)
		}
		if err != nil {
			return err
		}
		if cerr := c.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT, 1)
		}); cerr != nil {
			return cerr
		}
		if err != nil {
			return fmt.Errorf("setsockopt TCP_FASTOPEN_CONNECT: %w", err)
		}
		return nil
	}
	return &d
}

// h1For returns the HTTP/1.1 transport for https requests through the
// proxy of key: net/http keys its connections by address alone, so each
// proxy has its own, which dials through it.
func (t *Transport) h1For(key string) *http.Transport {
	_, proxy := splitKey(key)
	if proxy == nil {
		return t.h1
	}
	p := proxy.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.h1proxied[p]; h != nil {
		return h
	}
	h := t.h1.Clone()
	h.Proxy = nil
	h.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return t.dialH1(ctx, network, connKey(addr, proxy))
	}
	if t.h1proxied == nil {
		t.h1proxied = map[string]*http.Transport{}
	}
	t.h1proxied[p] = h
	return h
}

// closeIdleProxied closes the idle connections of the transports h1For
// made.
func (t *Transport) closeIdleProxied() {
	t.mu.Lock()
	hs := make([]*http.Transport, 0, len(t.h1proxied))
	for _, h := range t.h1proxied {
		hs = append(hs, h)
	}
	t.mu.Unlock()
	for _, h := range hs {
		h.CloseIdleConnections()
	}
}
