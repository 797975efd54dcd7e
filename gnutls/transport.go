package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
// #include "go_gnutls_records.h"
import "C"

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// liveHandles counts Go values currently reachable from C.
var liveHandles atomic.Int64

// saveHandle hands v to C as an opaque key (a real C pointer, so the cgo
// pointer rules hold). Every key is released with dropHandle.
func saveHandle(v any) unsafe.Pointer {
	liveHandles.Add(1)
	return pointer.Save(v)
}

func dropHandle(p unsafe.Pointer) {
	if p != nil {
		pointer.Unref(p)
		liveHandles.Add(-1)
	}
}

func restoreTransport(p unsafe.Pointer) *transport { return pointer.Restore(p).(*transport) }

// transport is what the GnuTLS callbacks of a Session.SetTransport session
// reach: the Go reader/writer and what it last returned, kept for the
// caller of Handshake, Read or Write. Reading and writing keep their state
// apart, since one goroutine may read while another writes. It must not
// refer to the Session, so that a forgotten Session can still be collected.
type transport struct {
	rw   io.ReadWriter
	in   sideState
	out  sideState
	peek []byte // read by pullTimeout, handed out by the next pull

	// session is the C session, for its read sequence number; records,
	// set by a Conn after the handshake, is what the Conn has counted.
	// With both, a pull answers would-block once GnuTLS has taken in
	// records since, so that a read over a blocking rw returns for the
	// Conn to count them (GnuTLS skips empty TLS 1.2 records within one
	// read).
	session C.gnutls_session_t
	records *recordCounter
	// recs follows the records pulled, once set (records.go).
	recs *C.go_gnutls_records

	// deadlineMu guards deadline, the read deadline the caller set
	// through setReadDeadline, which pullTimeout puts back after its wait.
	deadlineMu sync.Mutex
	deadline   time.Time
}

// maxEmptyReads bounds how many times in a row rw may return (0, nil)
// before a pull fails with io.ErrNoProgress, as bufio.Reader does.
const maxEmptyReads = 100

// read reads from rw, calling again after (0, nil), which io.Reader says
// means nothing happened (it is not the end of the stream).
func (t *transport) read(p []byte) (int, error) {
	for range maxEmptyReads {
		n, err := t.rw.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// sideState is the outcome of the last pull (in) or push (out).
type sideState struct {
	err error // the last error of rw, for the caller
	// wouldBlock: the last GNUTLS_E_AGAIN came from rw, not from GnuTLS.
	wouldBlock bool
}

// take returns and clears the stored error.
func (d *sideState) take() error {
	err := d.err
	d.err = nil
	return err
}

// fail stores err for the caller and picks the errno GnuTLS sees: EAGAIN for
// would-block and timeouts (so the session stays usable), EINTR as is, the
// system errno behind err when there is one, EIO otherwise.
func (d *sideState) fail(err error) syscall.Errno {
	var en syscall.Errno
	switch {
	case errors.Is(err, syscall.EAGAIN):
		d.wouldBlock = true
		return syscall.EAGAIN
	case errors.Is(err, os.ErrDeadlineExceeded):
		d.err = err
		return syscall.EAGAIN
	case errors.As(err, &en) && en != 0:
		d.err = err
		if en == syscall.EINTR {
			return syscall.EINTR
		}
		return en
	}
	d.err = err
	return syscall.EIO
}

func (t *transport) pull(p []byte) (int, syscall.Errno) {
	if len(t.peek) > 0 {
		n := copy(p, t.peek)
		t.peek = t.peek[n:]
		t.feed(p[:n])
		return n, 0
	}
	if rc := t.records; rc != nil && uint64(C.go_gnutls_read_seq(t.session)) != rc.seq {
		return 0, syscall.EAGAIN // not wouldBlock: the read is called again
	}
	n, err := t.read(p)
	if n > 0 || err == io.EOF {
		t.feed(p[:n])
		return n, 0 // 0 bytes with io.EOF is the peer closing
	}
	return 0, t.in.fail(err)
}

func (t *transport) push(bufs [][]byte) (int, syscall.Errno) {
	var n int64
	var err error
	if _, ok := t.rw.(net.Conn); ok && len(bufs) > 1 {
		nb := net.Buffers(bufs)
		n, err = nb.WriteTo(t.rw)
	} else {
		for _, b := range bufs {
			var m int
			m, err = t.rw.Write(b)
			n += int64(m)
			if err != nil {
				break
			}
		}
	}
	if n > 0 || err == nil {
		t.out.err = err // reported on the next call if any
		return int(n), 0
	}
	return 0, t.out.fail(err)
}

// deadliner is a transport whose reads can be given a deadline.
type deadliner interface{ SetReadDeadline(time.Time) error }

// setReadDeadline sets rw's read deadline for the caller and remembers it
// for pullTimeout.
func (t *transport) setReadDeadline(d deadliner, tm time.Time) error {
	t.deadlineMu.Lock()
	defer t.deadlineMu.Unlock()
	t.deadline = tm
	return d.SetReadDeadline(tm)
}

// pullTimeout waits up to ms for data. GnuTLS calls it only when a GnuTLS
// timeout is set (none is by default); without a way to wait on rw with a
// deadline it reports data as ready and lets the next pull block. The wait
// ends by the caller's read deadline when that is earlier, and the
// caller's deadline is in force again afterwards.
func (t *transport) pullTimeout(ms uint) (bool, syscall.Errno) {
	if len(t.peek) > 0 {
		return true, 0
	}
	d, ok := t.rw.(deadliner)
	if !ok || ms == uint(C.GNUTLS_INDEFINITE_TIMEOUT) {
		return true, 0
	}
	t.deadlineMu.Lock()
	caller := t.deadline
	wait := time.Now().Add(time.Duration(ms) * time.Millisecond)
	own := caller.IsZero() || wait.Before(caller)
	if !own {
		wait = caller
	}
	err := d.SetReadDeadline(wait)
	t.deadlineMu.Unlock()
	if err != nil {
		return false, t.in.fail(err)
	}
	defer func() {
		t.deadlineMu.Lock()
		d.SetReadDeadline(t.deadline)
		t.deadlineMu.Unlock()
	}()
	buf := make([]byte, 4096)
	n, err := t.read(buf)
	t.peek = buf[:n]
	switch {
	case n > 0 || err == io.EOF:
		return true, 0
	case own && errors.Is(err, os.ErrDeadlineExceeded):
		return false, 0 // GnuTLS's timeout, not the caller's deadline
	case err != nil:
		return false, t.in.fail(err)
	}
	return false, 0
}

// side is the state of pushes (write) or of pulls.
func (t *transport) side(write bool) *sideState {
	if write {
		return &t.out
	}
	return &t.in
}

// takeErr returns and clears the error stored for a push or a pull; t may
// be nil (no callback transport).
func (t *transport) takeErr(write bool) error {
	if t == nil {
		return nil
	}
	return t.side(write).take()
}
