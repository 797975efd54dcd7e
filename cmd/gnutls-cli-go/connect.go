package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

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
		conn, err := (&gnutls.Dialer{Config: cfg}).DialEarly(ctx, "tcp", ap.String())
		if err != nil {
			return nil, err
		}
		if err := c.handshake(ctx, conn); err != nil {
			conn.Close()
			return nil, err
		}
		c.timing.handshakeEnd = time.Now()
		c.timing.handshake = c.timing.handshakeEnd.Sub(start)
		return conn, nil
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return nil, err
	}
	if c.o.starttls != "" {
		deadline, _ := ctx.Deadline()
		if err := starttls(nc, c.o.starttls, helloName(), cfg.ServerName, deadline); err != nil {
			nc.Close()
			return nil, err
		}
		fmt.Fprintf(c.report, "- STARTTLS (%s): the server agreed to start TLS\n", c.o.starttls)
	}
	connected := time.Now()
	conn := gnutls.ClientEarly(nc, cfg)
	if err := c.handshake(ctx, conn); err != nil {
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

// ticketWait bounds how long -r waits for a TLS 1.3 session ticket.
const ticketWait = 2 * time.Second

// awaitTicket reads until a TLS 1.3 session ticket has arrived, so that
// the next connection can resume (with --noticket none is taken). Data
// the server sends meanwhile is
// dropped, as gnutls-cli does on the first connection of -r.
func (c *client) awaitTicket(conn *gnutls.Conn) {
	if conn.ConnectionState().Version != tls.VersionTLS13 || c.o.noTicket {
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
