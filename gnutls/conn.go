//go:build cgo

package gnutls

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a TLS connection over GnuTLS; it implements net.Conn. One
// goroutine may Read while another Writes; Close may be called from any
// goroutine and ends a blocked Read, Write or Handshake promptly.
//
// When the underlying connection is a socket (a *net.TCPConn, a
// *net.UnixConn, or the socket Dial makes for fast open), GnuTLS reads and
// writes its file descriptor itself and every wait happens on the Go
// netpoller, so a blocked Read holds no OS thread. Any other net.Conn is
// driven through Go callbacks; it must buffer what is written to it, as
// sockets do: over net.Pipe both ends can block writing at once.
type Conn struct {
	conn     net.Conn
	raw      syscall.RawConn // set when GnuTLS uses the socket directly
	sess     *Session
	config   *Config
	isClient bool
	// serverName is the client's SNI and verified name.
	serverName string
	setupErr   error // from building the session, reported by Handshake

	handshakeMu   sync.Mutex
	handshakeErr  error
	handshakeDone atomic.Bool
	connecting    bool // fast open: the TCP connection is not yet made

	in  sync.Mutex
	out sync.Mutex
	// writeErr is permanent (endWrites, alerts.go): after a failed or
	// timed-out write the record stream is in an unknown state, as in
	// crypto/tls; after a fatal error nothing more may be sent.
	writeErr error
	// readErr is a fatal error Read returned, returned again (c.in).
	readErr error
	// plain is the data of a record a small Read took in that the caller
	// has not read yet, in plainBuf (c.in; readSmall).
	plain    []byte
	plainBuf *[maxPlaintext]byte
	// records counts records that carried no data (c.in), from the
	// handshake's end.
	records *recordCounter

	// activeCall: bit 0 is set by Close; the rest counts Writes in flight.
	activeCall atomic.Int32
	closeErr   error
	closeOnce  sync.Once

	cacheKey     string
	sessionSaved bool
	// resumeOffered is set when a cached session was offered; resumeChain
	// is its server chain, checked before (resumption.go).
	resumeOffered bool
	resumeChain   [][]byte
	// state is taken when the handshake completes and kept after Close;
	// peerDER waits there to be parsed into it (handshakeMu). Before,
	// only its FastOpen is set.
	state   ConnectionState
	peerDER [][]byte
	early   earlyState
	syn     *synSocket
	layer   socketLayer  // between GnuTLS and a socket (netpoll.go)
	waits   atomic.Int64 // netpoller waits, for tests
	polls   atomic.Int64 // poll(2) calls before an operation (ready), for tests
	runs    [2]runState

	// deadlineMu orders SetReadDeadline against useTransport, which
	// installs a Go transport during the handshake (fast open with early
	// data); readDeadline is the caller's last read deadline and tr the Go
	// transport once installed.
	deadlineMu   sync.Mutex
	readDeadline time.Time
	tr           *transport
}

// Client returns a client-side TLS connection over conn. The handshake runs
// on the first Read or Write, or with Handshake. config must set ServerName
// or InsecureSkipVerify.
func Client(conn net.Conn, config *Config) *Conn {
	name := ""
	if config != nil {
		name = config.ServerName
	}
	return newConn(conn, config, true, name)
}

// Server returns a server-side TLS connection over conn. config must hold
// at least one certificate.
func Server(conn net.Conn, config *Config) *Conn {
	return newConn(conn, config, false, "")
}

// newConn makes the session at once; an error is kept for Handshake.
// serverName is what a client sends and verifies.
func newConn(conn net.Conn, config *Config, isClient bool, serverName string) *Conn {
	if config == nil {
		config = &Config{}
	}
	c := &Conn{conn: conn, config: config, isClient: isClient, serverName: serverName, layer: plainSocket{}}
	c.initRuns()
	c.setupErr = c.setup()
	return c
}

// setup makes the session and gives it its transport: a socket's fd,
// through the read-ahead unless kernel TLS may be on; for any other
// net.Conn, the Go callbacks.
func (c *Conn) setup() error {
	s, err := c.config.newSession(c.isClient, c.serverName)
	if err != nil {
		return err
	}
	c.sess = s
	if c.isClient && c.config.ClientSessionCache != nil {
		c.cacheKey = c.config.sessionCacheKey(c.serverName, c.conn.RemoteAddr())
		c.early.limit, c.resumeChain, c.resumeOffered = c.config.resume(s, c.cacheKey, c.serverName)
		if err := s.watchTickets(); err != nil {
			return err
		}
	}
	switch c.conn.(type) {
	case *fastOpenConn:
		return nil // startFastOpen sets the transport when the handshake starts
	case *net.TCPConn, *net.UnixConn:
		raw, err := c.conn.(syscall.Conn).SyscallConn()
		if err != nil {
			return err
		}
		var fd int
		if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
			return err
		}
		c.raw = raw
		if systemKTLS() {
			return s.SetTransportInt(fd)
		}
		if err := s.setReadahead(fd); err != nil {
			return err
		}
		c.layer = readaheadLayer{s.sessionState}
		return nil
	}
	if err := s.SetTransport(c.conn); err != nil {
		return err
	}
	c.useTransport()
	return nil
}

// useTransport tells the session's Go transport the read deadline the
// caller set so far (already in force on c.conn) and routes later
// SetReadDeadline calls through it.
func (c *Conn) useTransport() {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.tr = c.sess.tr
	c.tr.deadlineMu.Lock()
	c.tr.deadline = c.readDeadline
	c.tr.deadlineMu.Unlock()
}

// Handshake runs the TLS handshake if it has not run yet.
func (c *Conn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext runs the handshake if it has not run yet. If ctx ends
// first, the connection is closed and ctx's error returned, as in crypto/tls.
func (c *Conn) HandshakeContext(ctx context.Context) error {
	if c.handshakeDone.Load() {
		return nil
	}
	_, err := c.handshake(ctx, nil, nil)
	return err
}

// handshake is HandshakeContext. With in non-nil (a server's
// ReadEarlyData) it returns as soon as early data was copied there, before
// the handshake completes. With out non-nil (a client's first Write) its
// start goes as early data where the connection allows it; n is then how
// many bytes of out were delivered, and a non-nil error with the handshake
// complete is the write's (ErrEarlyDataRejected, or a failed resend).
func (c *Conn) handshake(ctx context.Context, in, out []byte) (n int, err error) {
	if c.handshakeDone.Load() {
		return 0, nil
	}
	c.handshakeMu.Lock()
	defer c.handshakeMu.Unlock()
	if c.handshakeDone.Load() {
		return 0, nil
	}
	if c.handshakeErr != nil {
		return 0, c.handshakeErr
	}
	if c.setupErr != nil {
		return 0, c.setupErr
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Done() != nil {
		// Once ctx's end closed the connection, its error is the answer,
		// even when the handshake completed meanwhile (as in crypto/tls).
		stop := context.AfterFunc(ctx, func() { c.conn.Close() })
		defer func() {
			if !stop() {
				err = &net.OpError{Op: "handshake", Net: c.conn.LocalAddr().Network(), Addr: c.conn.RemoteAddr(), Err: ctx.Err()}
				c.handshakeErr = err
			}
		}()
	}
	c.in.Lock()
	defer c.in.Unlock()
	c.out.Lock()
	defer c.out.Unlock()

	c.offerEarly(out)
	if err := c.startFastOpen(); err != nil {
		c.handshakeErr = err
		return 0, err
	}
	// A client's first flight fits in a new socket's send buffer, and the
	// next step is to wait for the server's: starting in the read
	// direction spares the poll(2) calls that a switch of direction takes
	// (nextWait). A fast-open connection is still being made: its first
	// send must wait until the socket is writable.
	err = c.run(c.connecting, func() error { return c.handshakeStep(in, &n) })
	if err == errEarlyDataReady {
		return n, nil
	}
	if c.connecting {
		c.state.FastOpen = c.fastOpenReport()
		if err == nil && c.state.FastOpen.Fail == FastOpenFailSYNRetransmited {
			c.config.blackhole.mark(c.conn.RemoteAddr(), c.config.FastOpenBlackhole)
		}
	}
	c.connecting = false
	if err == nil {
		err = c.checkStaple()
	}
	if err == nil {
		err = c.checkResumed()
	}
	if err == nil {
		err = c.checkKTLS()
	}
	if err != nil {
		c.handshakeErr = err
		c.endWrites(err)
		return 0, err
	}
	c.countRecords()
	n, err = c.afterHandshake(out)
	c.takeState() // after afterHandshake: the early data state is final
	c.handshakeDone.Store(true)
	c.saveSession()
	return n, err
}

// handshakeStep runs the handshake once. With early non-nil (a server's
// ReadEarlyData), it stops with errEarlyDataReady as soon as early data
// waits, storing how much was copied into early in *n.
func (c *Conn) handshakeStep(early []byte, n *int) error {
	err := c.sess.Handshake()
	if early != nil && isAgain(err) {
		if m, ok := c.sess.RecvEarlyData(early); ok {
			*n = m
			return errEarlyDataReady
		}
	}
	return err
}

// afterHandshake completes early data once the handshake is done: a
// server notes that accepted early data waits for Read; a client learns
// whether the server took the bytes offerEarly queued from out, and
// writes them again if not (unless Config.EarlyDataNoResend). It returns
// how many bytes of out were delivered. It runs with the handshake, input
// and output locks held.
func (c *Conn) afterHandshake(out []byte) (int, error) {
	if !c.isClient {
		c.early.buffered = c.sess.EarlyDataAccepted()
		return 0, nil
	}
	if c.early.sent == 0 {
		return 0, nil
	}
	if c.sess.EarlyDataAccepted() {
		return c.early.sent, nil
	}
	c.early.rejected = true
	if c.config.EarlyDataNoResend {
		return 0, errNotResent
	}
	n, err := c.writeLocked(out[:c.early.sent])
	c.early.resent = err == nil
	return n, err
}

// fastOpenReport is the session's report, made while the socket is held
// open, with what became of early data in the SYN.
func (c *Conn) fastOpenReport() FastOpenState {
	st := FastOpenState{Requested: true}
	if err := c.raw.Control(func(uintptr) { st = c.sess.FastOpenReport() }); err != nil {
		st.Reason = "TCP_INFO unavailable: " + err.Error()
	}
	return c.syn.complete(st)
}

// saveSession stores the session for resumption, once it can resume:
// under TLS 1.3 after a ticket arrived, which Read notices.
func (c *Conn) saveSession() {
	if !c.isClient || c.sessionSaved || c.config.ClientSessionCache == nil {
		return
	}
	if c.state.Version == 0x0304 && !c.sess.TicketReceived() {
		return
	}
	if data, err := c.sessionEntry(); err == nil {
		c.config.ClientSessionCache.Put(c.cacheKey, data)
		c.sessionSaved = true
	}
}

// Read reads application data; a clean close_notify is io.EOF. A Read
// that Close ends, or that runs after it, returns net.ErrClosed.
//
// A peer that closes the transport without close_notify ends Read with an
// *Error: GNUTLS_E_PREMATURE_TERMINATION (ErrPremature, which errors.Is
// also matches to io.ErrUnexpectedEOF) when the close fell between
// records or inside a record's header, GNUTLS_E_UNEXPECTED_PACKET_LENGTH
// inside a record's body. It is never io.EOF: crypto/tls returns io.EOF
// for a close between records, but GnuTLS does not tell that from a close
// inside a header, and an attacker can cut a connection at either point.
// A protocol that delimits its own messages may take ErrPremature as the
// end of the stream, as gnutlshttp does for HTTP.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.in.Lock()
	defer c.in.Unlock()
	if c.readErr != nil {
		return 0, c.readErr
	}
	if len(c.plain) > 0 {
		return c.takePlain(b), nil
	}
	if n, ok := c.readEarly(b); ok {
		return n, nil
	}
	var n int
	var err error
	if len(b) < smallRead {
		n, err = c.readSmall(b)
	} else {
		n, err = c.readRecord(b)
	}
	if !c.sessionSaved && c.isClient {
		c.saveSession()
	}
	if err != nil {
		err = c.closedUnder(false, err)
		c.readFailed(err)
	}
	return n, err
}

// smallRead is the size under which Read takes a whole record into the
// Conn (plain) and serves the Reads after it from there, as crypto/tls
// does: a reader of small pieces, such as HTTP/2's frame reader (a 9-byte
// header, then the payload), then costs one call into GnuTLS per record,
// not one per piece. Larger Reads take from GnuTLS directly.
const smallRead = 1024

// maxPlaintext is the most application data a record carries.
const maxPlaintext = 1 << 14

// plainBufs holds the record buffers of Conns that have no data waiting in
// theirs, so that an idle connection holds none.
var plainBufs = sync.Pool{New: func() any { return new([maxPlaintext]byte) }}

// readSmall reads a record into the Conn's buffer and returns the start
// of it in b; the caller holds c.in.
func (c *Conn) readSmall(b []byte) (int, error) {
	if c.plainBuf == nil {
		c.plainBuf = plainBufs.Get().(*[maxPlaintext]byte)
	}
	n, err := c.readRecord(c.plainBuf[:])
	c.plain = c.plainBuf[:n]
	return c.takePlain(b), err
}

// takePlain copies into b what it can of the data waiting in the Conn,
// and gives the buffer back once it is empty; the caller holds c.in.
func (c *Conn) takePlain(b []byte) int {
	n := copy(b, c.plain)
	c.plain = c.plain[n:]
	if len(c.plain) == 0 {
		c.dropPlain()
	}
	return n
}

// dropPlain gives the record buffer back; the caller holds c.in.
func (c *Conn) dropPlain() {
	if c.plainBuf != nil {
		plainBufs.Put(c.plainBuf)
	}
	c.plainBuf, c.plain = nil, nil
}

// Write writes application data, as many records as b needs. Before the
// handshake it runs the handshake first; on a connection from DialEarly or
// ClientEarly the start of b then goes as early data (see DialEarly).
func (c *Conn) Write(b []byte) (int, error) {
	for {
		x := c.activeCall.Load()
		if x&1 != 0 {
			return 0, net.ErrClosed
		}
		if c.activeCall.CompareAndSwap(x, x+2) {
			break
		}
	}
	defer c.activeCall.Add(-2)
	n := 0
	if !c.handshakeDone.Load() {
		var err error
		if n, err = c.handshake(nil, nil, b); err != nil {
			return n, err
		}
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.writeErr != nil {
		return n, c.writeErr
	}
	m, err := c.writeLocked(b[n:])
	return n + m, c.closedUnder(true, err)
}

// closedUnder is the error of a Read or Write that Close overtook,
// reported as net.ErrClosed: closing the transport under one call can make
// GnuTLS refuse the other's with GNUTLS_E_INVALID_SESSION, and the peer's
// answer to the close_notify Close sends can reach a waiting Read first,
// as io.EOF.
func (c *Conn) closedUnder(write bool, err error) error {
	if err == nil || c.activeCall.Load()&1 == 0 || errors.Is(err, net.ErrClosed) {
		return err
	}
	if _, ok := err.(*Error); !ok && err != io.EOF {
		return err
	}
	return c.opError(write, net.ErrClosed)
}

// writeLocked writes all of b; the caller holds c.out. A failure is
// permanent (endWrites).
func (c *Conn) writeLocked(b []byte) (int, error) {
	n, err := c.writeAll(b)
	if err != nil {
		c.endWrites(err)
	}
	return n, err
}

// CloseWrite sends close_notify; the connection can still be read. As in
// crypto/tls, the underlying connection's write side stays open.
func (c *Conn) CloseWrite() error {
	if !c.handshakeDone.Load() {
		return errors.New("gnutls: CloseWrite before the handshake completed")
	}
	c.out.Lock()
	defer c.out.Unlock()
	return c.bye()
}

func (c *Conn) bye() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	err := c.run(true, func() error { return c.sess.Bye(true) })
	if err == nil {
		c.writeErr = errors.New("gnutls: write after CloseWrite")
	}
	return err
}

// closeNotifyTimeout bounds the close_notify that Close sends.
const closeNotifyTimeout = 5 * time.Second

// Close sends close_notify (when the handshake is done and no Write is in
// flight), closes the underlying connection and frees the GnuTLS session.
// A second Close returns net.ErrClosed.
func (c *Conn) Close() error {
	var x int32
	for {
		x = c.activeCall.Load()
		if x&1 != 0 {
			return net.ErrClosed
		}
		if c.activeCall.CompareAndSwap(x, x|1) {
			break
		}
	}
	var alertErr error
	if x == 0 && c.handshakeDone.Load() && c.out.TryLock() {
		c.conn.SetWriteDeadline(time.Now().Add(closeNotifyTimeout))
		if c.writeErr == nil {
			alertErr = c.bye()
		}
		c.out.Unlock()
	}
	err := c.conn.Close()
	// Closing the transport woke every wait; take the locks so that no C
	// call runs on the session while it is freed.
	c.handshakeMu.Lock()
	c.in.Lock()
	c.out.Lock()
	c.dropPlain()
	if c.sess != nil {
		c.sess.Close()
	}
	c.out.Unlock()
	c.in.Unlock()
	c.handshakeMu.Unlock()
	if err != nil {
		return err
	}
	if alertErr != nil {
		return errors.Join(errors.New("gnutls: close_notify not sent (the connection was closed anyway)"), alertErr)
	}
	return nil
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines of the underlying connection.
// A Write that times out leaves the connection unable to write.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.conn.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; a timed-out Read can be retried.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	c.readDeadline = t
	if c.tr != nil {
		// A Go transport keeps it, to restore it after a GnuTLS timeout.
		return c.tr.setReadDeadline(c.conn, t)
	}
	return c.conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// Session returns the GnuTLS session, for what Conn does not wrap. It must
// not be used for I/O, and it is freed by Close.
func (c *Conn) Session() *Session { return c.sess }
