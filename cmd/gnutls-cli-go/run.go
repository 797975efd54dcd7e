package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// run is the whole program: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "gnutls-cli-go: %v (see --help)\n", err)
		return 1
	}
	switch {
	case o.help:
		printUsage(stdout)
		return 0
	case o.version:
		printVersion(stdout)
		return 0
	case o.list:
		if err := printList(stdout, o.priority); err != nil {
			fmt.Fprintf(stderr, "*** Fatal error: %s\n", describe(err))
			return 1
		}
		return 0
	}
	if o.debug > 0 {
		gnutls.SetDebugLevel(o.debug)
	}
	if o.crlf {
		stdin = &crlfReader{r: stdin}
	}
	c := &client{o: o, stdin: stdin, stdout: stdout, report: stderr}
	if err := c.run(); err != nil {
		fmt.Fprintf(stderr, "*** Fatal error: %s\n", describe(err))
		return 1
	}
	return 0
}

// client is one run of the program.
type client struct {
	o      *options
	stdin  io.Reader
	stdout io.Writer
	report io.Writer // the session report: stderr
	// trust holds the CAs and CRLs that --insecure verifies with.
	trust *gnutls.Credentials
	// saveCert is the --save-cert file, made before connecting and
	// removed again if no chain was written to it.
	saveCert *os.File
	saved    bool

	timing timing
}

// timing holds what --timing reports.
type timing struct {
	connect, handshake  time.Duration // with fast open, handshake holds both
	start, handshakeEnd time.Time
	firstWrite          atomic.Int64 // unix nanoseconds of the first write, 0 before
}

// ticketWait bounds how long -r waits for a TLS 1.3 session ticket.
const ticketWait = 2 * time.Second

func (c *client) run() error {
	cfg, trust, err := buildConfig(c.o, c.report)
	if err != nil {
		return err
	}
	c.trust = trust
	defer trust.Close()
	var early []byte
	if c.o.earlyData != "" {
		if early, err = readFile("--earlydata", c.o.earlyData); err != nil {
			return err
		}
		if err := checkEarlyData(early); err != nil {
			return err
		}
	}
	if c.o.saveCert != "" {
		if c.saveCert, err = os.Create(c.o.saveCert); err != nil {
			return failf("--save-cert: cannot write %s: %v", c.o.saveCert, unwrapPath(err))
		}
		defer func() {
			c.saveCert.Close()
			if !c.saved {
				os.Remove(c.o.saveCert)
			}
		}()
	}
	if c.o.insecure {
		fmt.Fprintln(c.report, "*** WARNING: --insecure: the connection goes on even when the server's certificate")
		fmt.Fprintln(c.report, "*** is not trusted; then anyone on the path can read and change what it carries.")
	}
	if c.o.resume {
		cfg.ClientSessionCache = gnutls.NewLRUClientSessionCache(1)
	}
	addrs, port, err := c.resolve()
	if err != nil {
		return err
	}
	conn, err := c.connect(cfg, addrs, port)
	if err != nil {
		return err
	}
	if err := c.printReport(conn, false); err != nil {
		conn.Close()
		return err
	}
	if c.o.resume {
		c.awaitTicket(conn)
		fmt.Fprintln(c.report, "- Disconnecting")
		conn.Close()
		fmt.Fprintln(c.report, "\n\n- Connecting again- trying to resume previous session")
		cfg = cfg.Clone()
		if early != nil {
			setEarlyData(cfg, early)
		}
		if conn, err = c.connect(cfg, addrs, port); err != nil {
			return err
		}
		if err := c.printReport(conn, true); err != nil {
			conn.Close()
			return err
		}
	}
	defer conn.Close()
	return c.session(conn)
}

// resolve finds the addresses of the host, as gnutls-cli reports it.
func (c *client) resolve() ([]netip.Addr, uint16, error) {
	port, err := net.LookupPort("tcp", c.o.port)
	if err != nil {
		return nil, 0, failf("bad --port %q: not a port number or a known service", c.o.port)
	}
	fmt.Fprintf(c.report, "Resolving '%s'...\n", net.JoinHostPort(c.o.host, c.o.port))
	if a, err := netip.ParseAddr(c.o.host); err == nil {
		return []netip.Addr{a}, uint16(port), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.connectTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", c.o.host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no address found", Name: c.o.host, IsNotFound: true}
	}
	if err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) {
			return nil, 0, failf("cannot resolve %s: %s", c.o.host, dns.Err)
		}
		return nil, 0, failf("cannot resolve %s: %v", c.o.host, err)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, uint16(port), nil
}

// connect connects to the first address that accepts, and completes the
// handshake there.
func (c *client) connect(cfg *gnutls.Config, addrs []netip.Addr, port uint16) (*gnutls.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.connectTimeout)
	defer cancel()
	var last error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, port)
		fmt.Fprintf(c.report, "Connecting to '%s'...\n", ap)
		conn, err := c.dial(ctx, cfg, ap)
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, failf("timed out: connecting to %s and completing the handshake took longer than %s (--connect-timeout)", ap, c.o.connectTimeout)
		}
		if !isConnectError(err) {
			return nil, err
		}
		last = failf("could not connect to %s: %s", ap, connectReason(err))
	}
	return nil, last
}

// dial makes one connection and runs the handshake, timing both.
func (c *client) dial(ctx context.Context, cfg *gnutls.Config, ap netip.AddrPort) (*gnutls.Conn, error) {
	start := time.Now()
	c.timing.start = start
	if cfg.FastOpen {
		// The connect happens with the handshake's first flight.
		nc, err := (&gnutls.Dialer{Config: cfg}).DialContext(ctx, "tcp", ap.String())
		if err != nil {
			return nil, err
		}
		c.timing.handshakeEnd = time.Now()
		c.timing.handshake = c.timing.handshakeEnd.Sub(start)
		return nc.(*gnutls.Conn), nil
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, err
	}
	connected := time.Now()
	conn := gnutls.Client(nc, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	c.timing.handshakeEnd = time.Now()
	c.timing.connect, c.timing.handshake = connected.Sub(start), c.timing.handshakeEnd.Sub(connected)
	return conn, nil
}

// isConnectError reports whether err is about making the TCP connection,
// so another address may be tried.
func isConnectError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	for _, e := range []syscall.Errno{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT, syscall.EADDRNOTAVAIL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func connectReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// awaitTicket reads until a TLS 1.3 session ticket has arrived, so that
// the next connection can resume. Data the server sends meanwhile is
// dropped, as gnutls-cli does on the first connection of -r.
func (c *client) awaitTicket(conn *gnutls.Conn) {
	if conn.ConnectionState().Version != tls.VersionTLS13 {
		return
	}
	deadline := time.Now().Add(ticketWait)
	buf := make([]byte, 16<<10)
	dropped := 0
	for !conn.Session().TicketReceived() && time.Now().Before(deadline) {
		conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := conn.Read(buf)
		dropped += n
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
	}
	conn.SetReadDeadline(time.Time{})
	if !conn.Session().TicketReceived() {
		fmt.Fprintf(c.report, "- The server sent no session ticket within %s: the next connection cannot resume\n", ticketWait)
	}
	if dropped > 0 && c.o.verbose {
		fmt.Fprintf(c.report, "- %d bytes the server sent on the first connection were not shown\n", dropped)
	}
}

// session copies stdin to the server and the server's data to stdout.
// The end of stdin sends close_notify; then it returns once the server
// closes, or once it has sent nothing for --close-wait.
func (c *client) session(conn *gnutls.Conn) error {
	fmt.Fprint(c.report, "\n- Simple Client Mode:\n\n")
	readDone := make(chan error, 1)
	received := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 16<<10)
		first := true
		for {
			n, err := conn.Read(buf)
			if n > 0 {
				if first && c.o.timing {
					c.printFirstByte()
				}
				first = false
				if _, werr := c.stdout.Write(buf[:n]); werr != nil {
					readDone <- fmt.Errorf("writing to stdout: %w", werr)
					return
				}
				select {
				case received <- struct{}{}:
				default:
				}
			}
			if err != nil {
				readDone <- err
				return
			}
		}
	}()
	stdinDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(&firstWriter{conn: conn, t: &c.timing}, c.stdin)
		stdinDone <- err
	}()

	// When writing fails, the reason is usually what the server sent:
	// an alert or its closing, which the reader gets.
	writeFailed := func(err error) error {
		select {
		case rerr := <-readDone:
			if cerr := c.peerClosed(rerr); cerr != nil {
				return cerr
			}
		case <-time.After(time.Second):
		}
		return err
	}
	select {
	case err := <-readDone:
		return c.peerClosed(err)
	case err := <-stdinDone:
		if err != nil {
			return writeFailed(err)
		}
	}
	if err := conn.CloseWrite(); err != nil {
		return writeFailed(err)
	}
	idle := time.NewTimer(c.o.closeWait)
	defer idle.Stop()
	for {
		select {
		case err := <-readDone:
			return c.peerClosed(err)
		case <-received:
			idle.Reset(c.o.closeWait)
		case <-idle.C:
			return nil
		}
	}
}

// peerClosed reports how the server ended the connection.
func (c *client) peerClosed(err error) error {
	if errors.Is(err, io.EOF) {
		fmt.Fprintln(c.report, "- Peer has closed the GnuTLS connection")
		return nil
	}
	return err
}

func (c *client) printFirstByte() {
	from, what := c.timing.handshakeEnd, "the end of the handshake"
	if w := c.timing.firstWrite.Load(); w != 0 {
		from, what = time.Unix(0, w), "the first write"
	}
	now := time.Now()
	fmt.Fprintf(c.report, "- Timing: first response byte %s after %s, %s after the connect began\n", ms(now.Sub(from)), what, ms(now.Sub(c.timing.start)))
}

// firstWriter writes to the connection and notes when it first did.
type firstWriter struct {
	conn *gnutls.Conn
	t    *timing
}

func (w *firstWriter) Write(b []byte) (int, error) {
	w.t.firstWrite.CompareAndSwap(0, time.Now().UnixNano())
	return w.conn.Write(b)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// crlfReader turns each LF not preceded by CR into CR LF (--crlf).
type crlfReader struct {
	r       io.Reader
	pending []byte
	prevCR  bool
	err     error
	buf     [4096]byte
}

func (c *crlfReader) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		var n int
		n, c.err = c.r.Read(c.buf[:])
		for _, b := range c.buf[:n] {
			if b == '\n' && !c.prevCR {
				c.pending = append(c.pending, '\r')
			}
			c.pending = append(c.pending, b)
			c.prevCR = b == '\r'
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}
