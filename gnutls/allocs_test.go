package gnutls

import (
	"bytes"
	"crypto/tls"
	"io"
	"strconv"
	"testing"
)

// A Write and the Read of its echo on socket connections allocate
// nothing, also when an end has to wait: a wait builds no *Error, and the
// netpoller callback and the operation are made once per connection. Both
// ends are in this process, so both ends count. The 64 KiB round trip
// spans several records each way.
func TestSteadyStateAllocs(t *testing.T) {
	for _, size := range []int{4, 64 << 10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			accepted := make(chan *Conn, 1)
			addr := serveOn(t, serverConfig(), func(c *Conn) {
				accepted <- c
				io.Copy(c, c)
			})
			c, err := Dial("tcp", addr, clientConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "warm-up")
			s := <-accepted
			msg, buf := bytes.Repeat([]byte("p"), size), make([]byte, size)
			waits := c.waits.Load() + s.waits.Load()
			const runs = 200
			allocs := testing.AllocsPerRun(runs, func() {
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					t.Fatal(err)
				}
			})
			perTrip := float64(c.waits.Load()+s.waits.Load()-waits) / (runs + 1) // AllocsPerRun runs once more to warm up
			t.Logf("%.2f allocations and %.2f waits per round trip", allocs, perTrip)
			if perTrip == 0 {
				t.Fatal("no end waited: the test did not reach the wait path")
			}
			if allocs != 0 {
				t.Errorf("%.2f allocations per round trip (%.2f waits); want none", allocs, perTrip)
			}
			if !bytes.Equal(buf, msg) {
				t.Error("the echo differs from what was written")
			}
		})
	}
}

// Reads into and Writes from an array inside a struct that also holds Go
// pointers, as HTTP/2's frame reader reads into its Framer: cgo's pointer
// check must look at the array alone.
func TestReadWriteStructArray(t *testing.T) {
	c, err := Dial("tcp", echoListener(t, serverConfig()), clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type holder struct {
		buf  [4096]byte
		next *holder
	}
	out, in := &holder{}, &holder{}
	out.next, in.next = in, out
	copy(out.buf[:], "through the struct")
	if _, err := c.Write(out.buf[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, in.buf[:]); err != nil {
		t.Fatal(err)
	}
	if in.buf != out.buf {
		t.Error("the echo differs from what was written")
	}
}

// A client's handshake on a socket waits for the server's flights on the
// netpoller alone: it starts in the read direction, so sending its first
// flight and then waiting to read takes no poll(2) (a switch of direction
// takes two). TLS 1.3 and 1.2, against crypto/tls.
func TestClientHandshakePolls(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			addr := goTLSServer(t, func(c *tls.Config) { c.MinVersion, c.MaxVersion = v, v })
			c, err := Dial("tcp", addr, clientConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.ConnectionState().Version; got != v {
				t.Fatalf("version %#x, want %#x", got, v)
			}
			if n := c.polls.Load(); n != 0 {
				t.Errorf("%d poll(2) calls in the handshake (%d netpoller waits); want none", n, c.waits.Load())
			}
			echo(t, c, "after the handshake")
		})
	}
}
