package gnutls

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/live"
)

// TestMain fails the run when a GnuTLS session, a handle given to C or a
// credentials object (certificate or PSK) is still alive once every test has finished, or when
// a session was freed by its cleanup instead of Close.
func TestMain(m *testing.M) {
	code := m.Run()
	removeTestToken()
	if code == 0 {
		if err := waitForBaseline(resources{}, 5*time.Second, false); err != nil {
			fmt.Fprintln(os.Stderr, "leak check:", err)
			code = 1
		}
		if n := leakedSessions.Load() - expectedLeaks.Load(); n != 0 {
			fmt.Fprintf(os.Stderr, "leak check: %d sessions were freed by the garbage collector, not Close\n", n)
			code = 1
		}
	}
	os.Exit(code)
}

// expectedLeaks counts sessions tests drop on purpose.
var expectedLeaks atomic.Int64

// resources is what a test must give back.
type resources struct {
	sessions, handles, credentials, pskCredentials int64
	fds, goroutines                                int
}

func snapshot() resources {
	fds, _ := os.ReadDir("/proc/self/fd")
	return resources{
		sessions:       liveSessions.Load(),
		handles:        liveHandles.Load(),
		credentials:    liveCredentials.Load(),
		pskCredentials: livePSKCredentials.Load(),
		fds:            len(fds),
		goroutines:     runtime.NumGoroutine(),
	}
}

func (r resources) exceeds(base resources, withProcess bool) bool {
	if r.sessions > base.sessions || r.handles > base.handles || r.credentials > base.credentials || r.pskCredentials > base.pskCredentials {
		return true
	}
	return withProcess && (r.fds > base.fds || r.goroutines > base.goroutines)
}

// waitForBaseline collects garbage until the counters are back at base, or
// timeout passes. withProcess also compares open fds and goroutines.
func waitForBaseline(base resources, timeout time.Duration, withProcess bool) error {
	if live.Poll(timeout, func() bool { return !snapshot().exceeds(base, withProcess) }) {
		return nil
	}
	return fmt.Errorf("resources not given back: now %+v, baseline %+v", snapshot(), base)
}

// checkLeaks makes t fail unless the sessions, handles, credentials, fds
// and goroutines alive at its start are all that is alive at its end
// (after its own cleanups).
func checkLeaks(t testing.TB) {
	t.Helper()
	base := snapshot()
	t.Cleanup(func() {
		if err := waitForBaseline(base, 5*time.Second, true); err != nil {
			buf := make([]byte, 1<<16)
			t.Errorf("%v\n%s", err, buf[:runtime.Stack(buf, true)])
		}
	})
}

// A Session or a Conn nobody closed is freed by the session's cleanup once
// it is unreachable.
func TestForgottenSessionFreed(t *testing.T) {
	checkLeaks(t)
	leaked := leakedSessions.Load()
	func() {
		s, err := NewSession(InitClient)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetPriority("NORMAL"); err != nil {
			t.Fatal(err)
		}
	}()
	expectedLeaks.Add(1)
	nc := dialTCP(t, goTLSServer(t, nil))
	func() {
		c := Client(hideSocket(nc), clientConfig())
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
	}()
	expectedLeaks.Add(1)
	deadline := time.Now().Add(10 * time.Second)
	for leakedSessions.Load() < leaked+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 forgotten sessions freed by their cleanup", leakedSessions.Load()-leaked)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
