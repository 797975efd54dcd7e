package gnutls

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// runParallel runs f(i) for i in [0, n) in n goroutines and fails t with
// the first error.
func runParallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i); err != nil {
				errc <- fmt.Errorf("%d: %w", i, err)
			}
		}()
	}
	// Thousands of handshakes under -race on two busy cores take minutes.
	withinFor(t, "parallel work", 5*time.Minute, wg.Wait)
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// echoServerAndClient starts an echo server of this package and returns
// its address and a client Config; one connection has been made, so the
// credentials both Configs keep for their lifetime exist before a leak
// check's baseline is taken.
func echoServerAndClient(t *testing.T) (string, *Config) {
	t.Helper()
	addr := echoListener(t, serverConfig())
	cfg := clientConfig()
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c, "warm-up")
	c.Close()
	return addr, cfg
}

// 200 clients dial at once; on each, one goroutine writes while another
// reads the echo back.
func TestParallelDials(t *testing.T) {
	addr, cfg := echoServerAndClient(t)
	checkLeaks(t)
	runParallel(t, 200, func(i int) error {
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		msg := []byte(fmt.Sprintf("connection %d ", i))
		msg = append(msg, make([]byte, 64<<10)...)
		return echoConcurrently(c, msg)
	})
}

// closedErr reports an error a call racing Close may give: the connection
// was closed under it, or the peer saw the close first.
func closedErr(err error) bool {
	var ge *Error
	return err == nil || isClosedOrEOF(err) || errors.As(err, &ge)
}

// Close runs at random moments while other goroutines handshake, read and
// write; every call returns, and nothing is left behind.
func TestCloseRacesCalls(t *testing.T) {
	addr, cfg := echoServerAndClient(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			checkLeaks(t)
			var done int
			defer func() { t.Logf("handshake completed before Close in %d of 100 runs", done) }()
			for range 100 {
				nc := tr.dial(t, addr)
				c := Client(nc, cfg)
				var wg sync.WaitGroup
				errs := make(chan error, 4)
				call := func(f func() error) {
					wg.Add(1)
					go func() { defer wg.Done(); errs <- f() }()
				}
				call(c.Handshake)
				call(func() error { _, err := c.Read(make([]byte, 16)); return err })
				call(func() error { _, err := c.Write([]byte("racing Close")); return err })
				// Before, during or after the handshake (about a millisecond).
				time.Sleep(rand.N(3 * time.Millisecond))
				call(c.Close)
				within(t, "calls racing Close", wg.Wait)
				close(errs)
				if c.ConnectionState().HandshakeComplete {
					done++
				}
				for err := range errs {
					if !closedErr(err) {
						t.Fatalf("call racing Close: %v (%T)", err, err)
					}
				}
				if err := c.Close(); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Close after Close: %v", err)
				}
				nc.Close()
			}
		})
	}
}

// Many dial/close cycles, on sockets and on Go callbacks, give back every
// session, go-pointer handle, credentials object, fd and goroutine
// (checkLeaks counts them before and after).
func TestDialCloseCycles(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	addr, cfg := echoServerAndClient(t)
	checkLeaks(t)
	const workers = 4
	start := time.Now()
	runParallel(t, workers, func(w int) error {
		for i := w; i < n; i += workers {
			// Every other cycle hides the socket: GnuTLS then calls Go
			// through a go-pointer handle, which Close must drop.
			var c *Conn
			if i%2 == 0 {
				var err error
				if c, err = Dial("tcp", addr, cfg); err != nil {
					return err
				}
			} else {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					return err
				}
				c = Client(struct{ net.Conn }{nc}, cfg)
				if err := c.Handshake(); err != nil {
					c.Close()
					return err
				}
			}
			if err := c.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("%d dial/close cycles in %v", n, time.Since(start).Round(time.Millisecond))
}
