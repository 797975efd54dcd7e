// Package live lets tests outside package gnutls check that nothing it
// made in C outlived them, from the counters package gnutls reports in
// internal/livecount. Only tests import it: it imports testing.
package live

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/livecount"
)

// Counts is what package gnutls has alive (see internal/livecount).
type Counts = livecount.Counts

// Read returns the counts package gnutls reports.
func Read() Counts { return livecount.Read() }

// state is the counts with the process's open fds and goroutines.
type state struct {
	Counts
	FDs, Goroutines int
}

func now() state {
	fds, _ := os.ReadDir("/proc/self/fd")
	return state{Read(), len(fds), runtime.NumGoroutine()}
}

// above reports whether s holds more than base. Within a run (process),
// credentials and handles are left out: a Config holds its credentials
// and, on a server accepting early data, the handle of its anti-replay
// store until the garbage collector frees it, which a test's own cleanup
// closures delay, and golang.org/x/net/http2 keeps a closed connection
// it never reused (and so its Config) for 5 s.
func (s state) above(base state, process bool) bool {
	c, b := s.Counts, base.Counts
	if c.Sessions > b.Sessions || c.Collected > b.Collected {
		return true
	}
	if !process {
		return c.Credentials > b.Credentials || c.PSKCredentials > b.PSKCredentials || c.Handles > b.Handles
	}
	return s.FDs > base.FDs || s.Goroutines > base.Goroutines
}

// Poll collects garbage and calls ok every 20 ms until it reports true,
// or timeout passes; it returns ok's last answer. Cleanups that free C
// objects run only after a collection finds their owner unreachable.
func Poll(timeout time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		runtime.GC()
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// settle waits until nothing is above base, or timeout passes.
func settle(base state, process bool, timeout time.Duration) error {
	if Poll(timeout, func() bool { return !now().above(base, process) }) {
		return nil
	}
	return fmt.Errorf("not given back: now %+v, at the start %+v", now(), base)
}

// Main runs the tests and fails the run when a session, handle or
// credentials object is still alive at the end (allowing 10 s for the
// garbage collector), or a session was freed by its cleanup rather than
// Close.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := settle(state{}, false, 10*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "leak check:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Check fails t unless the sessions, fds and goroutines alive at its
// start are all that is alive once its cleanups have run.
func Check(t testing.TB) {
	t.Helper()
	base := now()
	t.Cleanup(func() {
		if err := settle(base, true, 5*time.Second); err != nil {
			buf := make([]byte, 1<<16)
			t.Errorf("leak check: %v\n%s", err, buf[:runtime.Stack(buf, true)])
		}
	})
}
