package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

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
		_, err := io.Copy(&firstWriter{conn: conn, t: &c.timing}, stdinReader{c.stdin})
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
	// Standard input ended: as gnutls-cli does, a close without
	// close_notify ends the session as a clean one.
	closedAfterInput := func(err error) error {
		if errors.Is(err, gnutls.ErrPremature) {
			err = io.EOF
		}
		return c.peerClosed(err)
	}
	if err := conn.CloseWrite(); err != nil {
		// A server that closed first leaves no one to send close_notify
		// to; the reader says whether it closed as it may.
		select {
		case rerr := <-readDone:
			return closedAfterInput(rerr)
		case <-time.After(time.Second):
		}
		return err
	}
	idle := time.NewTimer(c.o.closeWait)
	defer idle.Stop()
	for {
		select {
		case err := <-readDone:
			return closedAfterInput(err)
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

// stdinReader names stdin in its errors.
type stdinReader struct{ r io.Reader }

func (s stdinReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading stdin: %w", err)
	}
	return n, err
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
