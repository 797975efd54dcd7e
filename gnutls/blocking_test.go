package gnutls

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHandshakeDeadline(t *testing.T) {
	eachTransport(t, silentServer(t), func(t *testing.T, c *Conn) {
		deadline := time.Now().Add(100 * time.Millisecond)
		c.SetDeadline(deadline)
		err := c.Handshake()
		if !isTimeout(err) {
			t.Fatalf("handshake against a silent server: %v, want a timeout", err)
		}
		if time.Now().Before(deadline) {
			t.Fatal("deadline fired early")
		}
		// A failed handshake stays failed.
		if err2 := c.Handshake(); err2 != err {
			t.Fatalf("second Handshake: %v", err2)
		}
	})
}

func TestReadDeadline(t *testing.T) {
	eachTransport(t, goTLSServer(t, nil), func(t *testing.T, c *Conn) {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			t.Fatalf("read: %v, want a timeout", err)
		}
		// A timed-out Read can be retried.
		c.SetReadDeadline(time.Time{})
		echo(t, c, "still usable")
	})
}

func TestCloseUnblocks(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name+"/Read", func(t *testing.T) {
			checkLeaks(t)
			c := Client(tr.dial(t, goTLSServer(t, nil)), clientConfig())
			if err := c.Handshake(); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
			time.Sleep(50 * time.Millisecond)
			within(t, "Close", func() { c.Close() })
			within(t, "Read", func() {
				// The echo server answers close_notify with its own,
				// which may reach the Read before the socket closes:
				// still, Close ended the Read.
				if err := <-errc; !errors.Is(err, net.ErrClosed) {
					t.Errorf("blocked Read after Close: %v, want net.ErrClosed", err)
				}
			})
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read after Close: %v, want net.ErrClosed", err)
			}
			if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after Close: %v", err)
			}
			if err := c.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close: %v", err)
			}
		})
		t.Run(tr.name+"/Handshake", func(t *testing.T) {
			checkLeaks(t)
			c := Client(tr.dial(t, silentServer(t)), clientConfig())
			errc := make(chan error, 1)
			go func() { errc <- c.Handshake() }()
			time.Sleep(50 * time.Millisecond)
			within(t, "Close", func() { c.Close() })
			within(t, "Handshake", func() {
				if err := <-errc; !errors.Is(err, net.ErrClosed) {
					t.Errorf("blocked Handshake after Close: %v, want net.ErrClosed", err)
				}
			})
		})
	}
}

func TestHandshakeContext(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			checkLeaks(t)
			c := Client(tr.dial(t, silentServer(t)), clientConfig())
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			if err := c.HandshakeContext(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled handshake: %v, want context.Canceled", err)
			}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel2()
			c2 := Client(tr.dial(t, silentServer(t)), clientConfig())
			defer c2.Close()
			if err := c2.HandshakeContext(ctx2); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("handshake past the context's deadline: %v", err)
			}
		})
	}
	// A context that ends after the handshake changes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	c, err := (&Dialer{Config: clientConfig()}).DialContext(ctx, "tcp", goTLSServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	echo(t, c, "after cancel")
}

// One goroutine writes while another reads, on both transports, with
// records larger than the socket buffers.
func TestConcurrentReadWrite(t *testing.T) {
	eachTransport(t, goTLSServer(t, nil), func(t *testing.T, c *Conn) {
		data := make([]byte, 8<<20)
		rand.Read(data)
		if err := echoConcurrently(c, data); err != nil {
			t.Fatal(err)
		}
	})
}

// threads returns the process's OS thread count.
func threads(t testing.TB) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// Connections blocked in Read wait on the netpoller, not in OS threads.
func TestIdleConnectionsHoldNoThreads(t *testing.T) {
	const n = 1000
	addr := echoListener(t, serverConfig())
	before := threads(t)
	conns := make([]*Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	errc := make(chan error, n)
	for range n {
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
	}
	time.Sleep(200 * time.Millisecond)
	during := threads(t)
	t.Logf("OS threads: %d before, %d with %d client and %d server connections blocked in Read", before, during, n, n)
	if during > before+20 {
		t.Errorf("%d connections blocked in Read took %d more OS threads", 2*n, during-before)
	}
	for _, c := range conns {
		c.Close()
	}
	for range n {
		if err := <-errc; !isClosedOrEOF(err) {
			t.Fatalf("Read after Close: %v", err)
		}
	}
}

func (f failingConn) Read(b []byte) (int, error) {
	if f.read {
		return 0, f.err
	}
	return f.Conn.Read(b)
}

func (f failingConn) Write(b []byte) (int, error) {
	if f.write {
		return 0, f.err
	}
	return f.Conn.Write(b)
}

// A Read and a Write running together on a socket each wait in their own
// direction. GnuTLS keeps one direction per session
// (gnutls_record_get_direction), so a Read that asked it, here after
// handling the server's session ticket, could see the Write's and wait to
// write, holding the socket's write lock, while the peer, whose echoes
// nobody read, stopped reading: both ends stuck. Fresh connections give the
// race its chances; a deadline turns a hang into an error.
func TestConcurrentReadWriteDirections(t *testing.T) {
	checkLeaks(t)
	addr := goTLSServer(t, nil)
	data := make([]byte, 8<<20) // more than the socket buffers hold
	rand.Read(data)
	for round := range 12 {
		c := Client(dialTCP(t, addr), clientConfig())
		c.SetDeadline(time.Now().Add(20 * time.Second))
		err := echoConcurrently(c, data)
		c.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// finishCanceller is a connection that, once the client's Finished (the
// first TLS 1.3 record under the handshake keys) is written, ends the
// context and waits until HandshakeContext closed it in answer.
type finishCanceller struct {
	net.Conn
	cancel    context.CancelFunc
	once      sync.Once
	closed    chan struct{}
	closeOnce sync.Once
}

func (f *finishCanceller) Write(b []byte) (int, error) {
	n, err := f.Conn.Write(b)
	if err == nil && len(b) > 0 && b[0] == 23 {
		f.once.Do(func() {
			f.cancel()
			select {
			case <-f.closed:
			case <-time.After(5 * time.Second):
			}
		})
	}
	return n, err
}

func (f *finishCanceller) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return f.Conn.Close()
}

// A context that ends just as the handshake completes, after the
// connection was closed because of it, is the error HandshakeContext
// returns, as in crypto/tls: the caller must not take a closed
// connection for a usable one.
func TestHandshakeContextEndsAsHandshakeCompletes(t *testing.T) {
	checkLeaks(t)
	addr := goTLSServer(t, func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc := &finishCanceller{Conn: dialTCP(t, addr), cancel: cancel, closed: make(chan struct{})}
	c := Client(nc, clientConfig())
	defer c.Close()
	err := c.HandshakeContext(ctx)
	select {
	case <-nc.closed:
	default:
		t.Fatal("the context's end did not close the connection")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("HandshakeContext: %v, want context.Canceled", err)
	}
}
