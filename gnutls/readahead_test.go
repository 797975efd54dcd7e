package gnutls

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A TLS 1.3 server's session ticket and the data after it arrive together
// and land in the read-ahead buffer at once. GnuTLS returns
// GNUTLS_E_AGAIN after handling the ticket, poll(2) then finds the socket
// empty, and the data must still be read from the buffer without a wait.
func TestReadaheadTicketThenData(t *testing.T) {
	checkLeaks(t)
	// Tickets are on: the server sends them at the end of its handshake.
	addr := serveOn(t, serverConfig(), func(c *Conn) {
		if c.Handshake() == nil {
			io.WriteString(c, "hello")
			io.Copy(io.Discard, c)
		}
	})
	c, err := Dial("tcp", addr, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("version %#x, want TLS 1.3", v)
	}
	time.Sleep(200 * time.Millisecond) // ticket and data are both queued
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	before := c.waits.Load()
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read: %q, %v", buf[:n], err)
	}
	if w := c.waits.Load() - before; w != 0 {
		t.Errorf("Read waited %d times for data already received", w)
	}
	if !c.sess.TicketReceived() {
		t.Error("the ticket was not read")
	}
}

// Records sent in a burst are read in full, and a connection blocked in
// Read holds no read-ahead buffer.
func TestReadaheadBurstAndIdle(t *testing.T) {
	checkLeaks(t)
	const records = 200
	addr := serveOn(t, serverConfig(), func(c *Conn) {
		for i := range records {
			if _, err := io.WriteString(c, strings.Repeat(string(rune('a'+i%26)), 100)+"\n"); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c)
	})
	c, err := Dial("tcp", addr, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 16)
	for i := range records {
		line, err := r.ReadString('\n')
		if want := strings.Repeat(string(rune('a'+i%26)), 100) + "\n"; err != nil || line != want {
			t.Fatalf("record %d: %q, %v", i, line, err)
		}
	}

	done := make(chan error, 1)
	waits := c.waits.Load()
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); c.waits.Load() == waits; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Read did not wait on an idle connection")
		}
	}
	if used, held := c.sess.readaheadHeld(); !used || held {
		t.Errorf("idle connection: read-ahead used %v, holding a buffer %v; want used and none held", used, held)
	}
	c.Close()
	if err := <-done; err == nil {
		t.Error("Read on a closed connection returned no error")
	}
}

// Socket connections read through the read-ahead buffer, unless GnuTLS's
// system configuration turns kernel TLS on: then they are handed to GnuTLS
// as they are, since GnuTLS enables kernel TLS only with its own socket
// functions. GnuTLS reads its configuration once, when the library loads,
// so each case runs this test again in a child process.
func TestReadaheadUsedOnSockets(t *testing.T) {
	if want := os.Getenv("GO_GNUTLS_TEST_KTLS_CONFIG"); want != "" {
		readaheadUsedOnSockets(t, want == "on")
		return
	}
	// Each case in a child process of its own, with a configuration of
	// its own, whatever the host's says.
	for _, ktls := range []string{"off", "on"} {
		config := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(config, []byte("[global]\nktls = "+map[string]string{"off": "false", "on": "true"}[ktls]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		inChild(t, t.Name(), "GNUTLS_SYSTEM_PRIORITY_FILE="+config, "GO_GNUTLS_TEST_KTLS_CONFIG="+ktls)
	}
}

// readaheadUsedOnSockets checks, in a process whose GnuTLS configuration
// turns kernel TLS on or not, that Conn uses the read-ahead only when not.
func readaheadUsedOnSockets(t *testing.T, ktls bool) {
	if systemKTLS() != ktls {
		t.Fatalf("GnuTLS's system configuration turns kernel TLS on: %v, want %v (GNUTLS_SYSTEM_PRIORITY_FILE=%q)",
			systemKTLS(), ktls, os.Getenv("GNUTLS_SYSTEM_PRIORITY_FILE"))
	}
	addr := echoListener(t, serverConfig())
	c, err := Dial("tcp", addr, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, strings.Repeat("ping", 10000))
	if used, _ := c.sess.readaheadHeld(); used == ktls {
		t.Errorf("read-ahead used: %v with kernel TLS configured: %v", used, ktls)
	}
}

// Session.Close may be called from any goroutine while a Read runs: the
// read-ahead's state is then read and freed under the session's lock, and
// the Read ends with net.ErrClosed.
func TestReadaheadSessionCloseDuringRead(t *testing.T) {
	checkLeaks(t)
	addr := serveOn(t, serverConfig(), func(c *Conn) {
		line := []byte(strings.Repeat("x", 99) + "\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	})
	for range 20 {
		c, err := Dial("tcp", addr, clientConfig())
		if err != nil {
			t.Fatal(err)
		}
		if used, _ := c.sess.readaheadHeld(); !used {
			c.Close()
			t.Fatal("the connection does not read through the read-ahead")
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		done := make(chan error, 1)
		go func() {
			buf := make([]byte, 64)
			for {
				if _, err := c.Read(buf); err != nil {
					done <- err
					return
				}
			}
		}()
		time.Sleep(5 * time.Millisecond)
		c.Session().Close()
		err = <-done
		c.Close()
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Session.Close: %v, want net.ErrClosed", err)
		}
	}
}
