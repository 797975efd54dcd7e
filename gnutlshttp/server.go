package gnutlshttp

import (
	"context"
	"errors"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// Server serves HTTP over GnuTLS: HTTP/2 on connections whose client
// selects "h2" by ALPN, HTTP/1.1 on the others. Request.TLS is filled.
// When Config.MaxEarlyData accepts TLS 1.3 early data, a request that
// arrived wholly or partly in early data carries the header
// "Early-Data: 1" (RFC 8470): a handler that must not act on a request
// an attacker could replay answers it with 425 Too Early, and the client
// sends it again once the handshake is complete. A request that came
// with an Early-Data header (added by a proxy that got it in early data)
// keeps it, as "1".
type Server struct {
	// Addr is the address ListenAndServe listens on; empty means ":https".
	Addr string
	// Handler serves the requests; nil means http.DefaultServeMux.
	Handler http.Handler
	// Config is the TLS configuration: the certificate, client
	// authentication, FastOpen for the listening socket, MaxEarlyData.
	// The Server sets NextProtos.
	Config *gnutls.Config
	// DisableHTTP2 offers only "http/1.1" by ALPN.
	DisableHTTP2 bool

	// HandshakeTimeout bounds the TLS handshake; zero means 10 s.
	HandshakeTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout,
	// MaxHeaderBytes and ErrorLog are http.Server's.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	ErrorLog          *log.Logger
	// HTTP2 holds HTTP/2 settings (MaxConcurrentStreams, ...); nil means
	// x/net/http2's defaults.
	HTTP2 *http2.Server

	once sync.Once
	hs   *http.Server
	h2   *http2.Server
	cfg  *gnutls.Config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	// open holds the connections Close must close itself: those in their
	// handshake and the HTTP/2 ones (http.Server has the HTTP/1.1 ones).
	open     map[net.Conn]struct{}
	h1       *connQueue
	h1Once   sync.Once
	h1Done   chan struct{}
	shutdown bool
	// conns counts the goroutines of Serve: handshakes and HTTP/2 connections.
	conns sync.WaitGroup
}

const defaultHandshakeTimeout = 10 * time.Second

// errPlainHTTP is why a connection whose client sent plain HTTP was closed.
var errPlainHTTP = errors.New("client sent an HTTP request to an HTTPS server")

func (s *Server) init() {
	s.once.Do(func() {
		s.cfg = s.Config.Clone()
		if s.cfg == nil {
			s.cfg = &gnutls.Config{}
		}
		s.cfg.NextProtos = []string{"http/1.1"}
		if !s.DisableHTTP2 {
			s.cfg.NextProtos = []string{http2.NextProtoTLS, "http/1.1"}
		}
		s.hs = &http.Server{
			Handler:           earlyHandler{s.handler()},
			ReadHeaderTimeout: s.ReadHeaderTimeout,
			ReadTimeout:       s.ReadTimeout,
			WriteTimeout:      s.WriteTimeout,
			IdleTimeout:       s.IdleTimeout,
			MaxHeaderBytes:    s.MaxHeaderBytes,
			ErrorLog:          s.ErrorLog,
			ConnContext:       withEarlyRequests,
		}
		s.h2 = s.HTTP2
		if s.h2 == nil {
			s.h2 = &http2.Server{}
		}
		// Registers the HTTP/2 connections' graceful close (GOAWAY) with
		// hs.Shutdown.
		http2.ConfigureServer(s.hs, s.h2)
		s.listeners = map[net.Listener]struct{}{}
		s.open = map[net.Conn]struct{}{}
		s.h1 = newConnQueue()
	})
}

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

// ListenAndServe listens on s.Addr (TCP, with fast open when
// Config.FastOpen) and serves; it returns http.ErrServerClosed after
// Shutdown or Close. A Config that does not load (a missing certificate,
// a bad priority string) is an error before anything listens.
func (s *Server) ListenAndServe() error {
	s.init()
	addr := s.Addr
	if addr == "" {
		addr = ":https"
	}
	l, err := gnutls.Listen("tcp", addr, s.cfg)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l and serves them; it returns
// http.ErrServerClosed after Shutdown or Close. l may return *gnutls.Conn
// (a listener from gnutls.Listen, whose Config must offer "h2" by ALPN
// for HTTP/2) or plain connections, which are wrapped with s.Config.
// When s.Config is set and does not load (gnutls.Config.CheckServer),
// Serve closes l and returns the error.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if s.Config != nil {
		if err := s.cfg.CheckServer(); err != nil {
			l.Close()
			return err
		}
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		l.Close()
		return http.ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	s.h1Once.Do(func() {
		s.h1Done = make(chan struct{})
		go func() { s.hs.Serve(s.h1); close(s.h1Done) }()
	})
	err := s.acceptLoop(l)
	s.mu.Lock()
	delete(s.listeners, l)
	closed := s.shutdown
	s.mu.Unlock()
	if closed {
		<-s.h1Done
		return http.ErrServerClosed
	}
	return err
}

func (s *Server) acceptLoop(l net.Listener) error {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// As http.Server does for EMFILE and the like.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		gc, ok := c.(*gnutls.Conn)
		if !ok {
			gc = gnutls.Server(c, s.cfg)
		}
		s.conns.Add(1)
		go s.serveConn(gc)
	}
}

// serveConn completes the handshake, then hands the connection to HTTP/2
// or to the HTTP/1.1 server.
func (s *Server) serveConn(gc *gnutls.Conn) {
	defer s.conns.Done()
	if !s.track(gc, true) {
		gc.Close()
		return
	}
	c, err := s.handshake(gc)
	s.track(gc, false)
	if err != nil {
		if !errors.Is(err, errPlainHTTP) { // answered, as net/http does, without a log line
			s.logf("gnutlshttp: TLS handshake error from %s: %v", gc.RemoteAddr(), err)
		}
		gc.Close()
		return
	}
	if c.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
		if !s.h1.put(c) {
			c.Close()
		}
		return
	}
	if !s.track(c, true) {
		c.Close()
		return
	}
	defer s.track(c, false)
	s.h2.ServeConn(c, &http2.ServeConnOpts{
		BaseConfig: s.hs,
		Handler:    earlyHandler{s.handler()},
		Context:    withEarlyRequests(context.Background(), c),
	})
}

// handshake runs the handshake within HandshakeTimeout, first reading the
// early data the client sent, if any. It does so whatever s.Config says:
// a connection from a listener of the caller's may accept early data. A
// client that sent plain HTTP gets net/http's 400 answer in plain text.
func (s *Server) handshake(gc *gnutls.Conn) (*serverConn, error) {
	to := s.HandshakeTimeout
	if to == 0 {
		to = defaultHandshakeTimeout
	}
	deadline := time.Now().Add(to)
	gc.SetDeadline(deadline)
	if nc := gc.NetConn(); looksLikeHTTP(nc, deadline) {
		answerPlainHTTP(nc)
		return nil, errPlainHTTP
	}
	c := &serverConn{stateConn: newStateConn(gc)}
	if err := c.readEarly(); err != nil {
		return nil, err
	}
	if err := gc.Handshake(); err != nil {
		return nil, err
	}
	gc.SetDeadline(time.Time{})
	return c, nil
}

// track adds c to the connections Close closes, or removes it; adding
// fails once the server is shutting down.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.open, c)
		return true
	}
	if s.shutdown {
		return false
	}
	s.open[c] = struct{}{}
	return true
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// Shutdown stops accepting connections and waits for the open ones to
// finish their requests: HTTP/1.1 connections close once idle, HTTP/2
// connections get a GOAWAY and close once their streams end. If ctx ends
// first, Shutdown returns its error; Close then ends what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.closeListeners()
	err := s.hs.Shutdown(ctx) // also sends GOAWAY on HTTP/2 connections
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.init()
	s.closeListeners()
	err := s.hs.Close()
	s.mu.Lock()
	conns := slices.Collect(maps.Keys(s.open))
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return err
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	s.shutdown = true
	ls := slices.Collect(maps.Keys(s.listeners))
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	s.h1.Close()
}

// connQueue is the listener the HTTP/1.1 server serves: the connections
// whose handshake selected HTTP/1.1.
type connQueue struct {
	ch        chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), closed: make(chan struct{})}
}

// put hands c to Accept; false once the queue is closed.
func (q *connQueue) put(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.closed:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.closeOnce.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return queueAddr{} }

type queueAddr struct{}

func (queueAddr) Network() string { return "gnutls" }
func (queueAddr) String() string  { return "gnutls" }
