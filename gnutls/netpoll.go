//go:build cgo

package gnutls

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// How a Conn waits. On a socket, GnuTLS reads and writes the fd itself
// and an operation that cannot go on returns GNUTLS_E_AGAIN; the Conn then
// waits on the Go netpoller (RawConn.Read or RawConn.Write) and calls the
// operation again. nextWait alone decides which way to wait and whether to
// poll(2) the socket first; it asks the layer between GnuTLS and the socket
// (socketLayer) what poll(2) cannot see. Over any other net.Conn the
// operation blocks in the Go callbacks instead (runCallbacks).

// socketLayer is what sits between GnuTLS and a socket Conn's fd: the
// read-ahead buffer (readahead.go), the socket that holds the first flight
// for the SYN (earlydata_syn.go), or nothing (plainSocket). Whether a
// read's own send blocked, which poll(2) cannot see either, comes back
// with the read (Session.recvRecord).
type socketLayer interface {
	// buffered reports whether received bytes wait in user space, where
	// poll(2) on the socket cannot see them.
	buffered() bool
	// holdsWrite reports whether bytes of its own wait to be written: the
	// connection must wait to write, whatever GnuTLS last did.
	holdsWrite() bool
}

// plainSocket is the socketLayer of a socket GnuTLS uses as it is.
type plainSocket struct{}

func (plainSocket) buffered() bool   { return false }
func (plainSocket) holdsWrite() bool { return false }

// isAgain reports whether err asks to call again (GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED).
func isAgain(err error) bool {
	e, ok := err.(*Error)
	return ok && (e.Code == ErrAgain || e.Code == ErrInterrupted)
}

// run calls op until it completes; write names the direction expected
// first.
func (c *Conn) run(write bool, op func() error) error {
	st := c.runFor(write)
	st.kind, st.fn = opFunc, op
	_, err := c.runWith(st, write)
	return err
}

// readRecord and writeAll run a record read or a write of all of b;
// unlike a closure passed to run, they allocate nothing, and a wait
// builds no *Error.
func (c *Conn) readRecord(b []byte) (int, error) {
	st := c.runFor(false)
	st.kind, st.buf = opRead, b
	return c.runWith(st, false)
}

func (c *Conn) writeAll(b []byte) (int, error) {
	st := c.runFor(true)
	st.kind, st.buf = opWrite, b
	return c.runWith(st, true)
}

// runState is one run in progress, kept in the Conn so that the callback
// handed to the netpoller is made once per connection, not once per call.
// runs[0] serves runs that start by reading, runs[1] those that start by
// writing: a Read holds c.in, a Write or close_notify c.out, and the
// handshake both, so no two runs share one.
type runState struct {
	c     *Conn
	write bool // the direction waited in
	// pollFirst: poll(2) the socket before running the operation again.
	pollFirst bool
	done      bool
	// io is how the last try ended: io.again set asks to try again.
	io   recordIO
	kind opKind
	buf  []byte // opRead, opWrite
	// sendBlocked: the last read's own send blocked (recordRead).
	sendBlocked bool
	n           int
	fn          func() error // opFunc
	pollFn      func(fd uintptr) bool
	doFn        func() error
}

// opKind is the operation a run drives.
type opKind int

const (
	opFunc opKind = iota
	opRead
	opWrite
)

func (c *Conn) initRuns() {
	for i := range c.runs {
		st := &c.runs[i]
		st.c, st.pollFn, st.doFn = c, st.poll, st.result
	}
}

func (c *Conn) runFor(write bool) *runState {
	if write {
		return &c.runs[1]
	}
	return &c.runs[0]
}

// do runs the operation once: opRead reads a record, opWrite writes
// what is left of buf.
func (st *runState) do() {
	switch st.kind {
	case opRead:
		st.n, st.io, st.sendBlocked = st.c.recv(st.buf)
	case opWrite:
		w := st.c.sess.sendAll(st.buf[st.n:])
		st.n += w.n
		st.io = w
	default:
		err := st.fn()
		st.io = recordIO{err: err}
		if e, ok := err.(*Error); ok && isAgain(err) {
			st.io.again, st.io.errno = e.Code, e.errno
		}
	}
}

// result is the operation's error once it ended; doFn returns it too.
func (st *runState) result() error {
	st.do()
	return st.io.error(st.op())
}

// op names the operation in an error.
func (st *runState) op() string {
	if st.kind == opRead {
		return "read"
	}
	return "write"
}

// pollWhen says whether poll(2) looks at the socket's level before the
// operation runs again.
type pollWhen int

const (
	pollNever     pollWhen = iota // wait for the poller's edge, then run
	pollAfterWait                 // wait for the edge, then poll before running
	pollNow                       // poll now; wait only if the socket is not ready
)

// nextWait answers, after the operation returned GNUTLS_E_AGAIN (st.io),
// which way to wait and whether to poll first.
//
// The poller is edge-triggered, so a wait is safe only when a system call
// of the operation itself found the socket empty (errno EAGAIN): GnuTLS
// also returns GNUTLS_E_AGAIN after handling a post-handshake message, with
// more data possibly queued already. Then, and after switching direction,
// poll(2) looks at the socket's level first. It does too after a wait for
// writing: on the fast-open path GnuTLS's retry is a second
// sendmsg(MSG_FASTOPEN), which fails for good (EALREADY) while the SYN is
// unanswered.
//
// The direction: during the handshake, which holds both, GnuTLS says
// (gnutls_record_get_direction), unless the layer still holds bytes to
// write. After it, that answer belongs to the session, not the call: a
// Write running beside a Read can set it between the Read's return and the
// question, and a Read waiting to write takes the socket's write lock from
// the Write and nobody reads. So then an operation that only writes waits
// to write, and a Read waits to write only when its own send blocked.
func (st *runState) nextWait() (write bool, when pollWhen) {
	c := st.c
	errno := st.io.errno
	switch {
	case !c.handshakeDone.Load():
		write = c.layer.holdsWrite() || c.sess.Direction()
	case st.kind != opRead:
		write = true
	default:
		write = st.sendBlocked
	}
	switch {
	case write != st.write || errno != syscall.EAGAIN:
		return write, pollNow
	case write || c.connecting:
		return write, pollAfterWait
	}
	return write, pollNever
}

// poll is the netpoller callback: it runs the operation until it completes
// or must wait, and reports whether the wait in this direction is over.
func (st *runState) poll(fd uintptr) bool {
	c := st.c
	for {
		if st.pollFirst {
			ok, err := c.ready(int(fd), st.write)
			if err != nil {
				st.io, st.done = recordIO{err: err}, true
				return true
			}
			if !ok {
				c.waits.Add(1)
				return false
			}
			st.pollFirst = false
		}
		st.do()
		if st.io.again == 0 {
			st.done = true
			return true
		}
		write, when := st.nextWait()
		st.pollFirst = when != pollNever
		if write != st.write {
			st.write = write
			return true
		}
		if when == pollNow {
			continue
		}
		c.waits.Add(1)
		return false
	}
}

// runWith drives st to completion and returns what the operation returned.
func (c *Conn) runWith(st *runState, write bool) (n int, err error) {
	st.n = 0
	defer func() { st.buf, st.fn, st.io = nil, nil, recordIO{} }()
	if c.raw == nil {
		err = c.runCallbacks(write, st.doFn)
		return st.n, err
	}
	st.write, st.pollFirst, st.done = write, false, false
	for {
		if st.write {
			err = c.raw.Write(st.pollFn)
		} else {
			err = c.raw.Read(st.pollFn)
		}
		if st.done {
			return st.n, st.io.err
		}
		if err != nil {
			return st.n, c.opError(st.write, err)
		}
	}
}

// runCallbacks is run for a Go callback transport, where op blocks in the
// transport itself. GNUTLS_E_AGAIN reaches the caller only when the
// transport reported would-block; a deadline is the transport's error.
// Read and Write look at their own side; the handshake, which holds
// both, at both.
func (c *Conn) runCallbacks(write bool, op func() error) error {
	t := c.sess.tr
	sides := []bool{write}
	if !c.handshakeDone.Load() {
		sides = append(sides, !write)
	}
	for {
		for _, w := range sides {
			t.side(w).wouldBlock = false
		}
		err := op()
		if !isAgain(err) {
			return err
		}
		for _, w := range sides {
			if terr := t.takeErr(w); terr != nil {
				return c.opError(w, terr)
			}
		}
		for _, w := range sides {
			if t.side(w).wouldBlock {
				return err
			}
		}
	}
}

// ready polls fd without blocking; for reading, bytes the layer holds
// count too. While a fast-open connection is being made, a failed connect
// shows here as SO_ERROR, returned as a dial error.
func (c *Conn) ready(fd int, write bool) (bool, error) {
	if !write && c.layer.buffered() {
		return true, nil
	}
	ev := int16(unix.POLLIN)
	if write {
		ev = unix.POLLOUT
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: ev}}
	c.polls.Add(1)
	if _, err := unix.Poll(pfd, 0); err != nil && err != unix.EINTR {
		return false, os.NewSyscallError("poll", err)
	}
	if c.connecting && pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLOUT) != 0 {
		if soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && soerr != 0 {
			return false, &net.OpError{Op: "dial", Net: "tcp", Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("connect", unix.Errno(soerr))}
		}
	}
	return pfd[0].Revents != 0, nil
}

// opError wraps a transport error as net does, so that errors.Is matches
// os.ErrDeadlineExceeded and net.ErrClosed and net.Error's Timeout works.
func (c *Conn) opError(write bool, err error) error {
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	op := "read"
	if write {
		op = "write"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		if strings.HasPrefix(oe.Op, "raw-") {
			// RawConn's own name for the wait says nothing to the caller.
			renamed := *oe
			renamed.Op = op
			return &renamed
		}
		return err
	}
	return &net.OpError{Op: op, Net: c.conn.LocalAddr().Network(), Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: err}
}
