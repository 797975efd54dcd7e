package gnutls

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"golang.org/x/sys/unix"
)

// labFastOpen is the net.ipv4.tcp_fastopen value for the lab's
// namespaces: client, server, and fast open on every listener.
const labFastOpen = "1027"

// earlyFastOpenLab makes the lab with a 5 ms link and a listener in its
// server namespace that takes fast open and early data.
func earlyFastOpenLab(t *testing.T) (*netlab.Lab, net.Listener) {
	lab := fastOpenLab(t, 5*time.Millisecond)
	sc := earlyServerConfig()
	sc.FastOpen = true
	return lab, labListener(t, lab, lab.Server.Addr4, sc)
}

// A resumed fast-open connection with early data sends the ClientHello and
// the early data in the SYN; the server has the request before its
// handshake completes.
func TestEarlyDataInSYN(t *testing.T) {
	lab, l := earlyFastOpenLab(t)
	seen := serveEarly(t, l)
	addr := l.Addr().String()
	cfg := fastOpenConfig()
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	req := []byte("GET /in-the-syn HTTP/1.1\r\nHost: localhost\r\n\r\n")

	roundTrip := func() ConnectionState {
		t.Helper()
		c := labWriteFirst(t, lab, addr, cfg, req)
		defer c.Close()
		got := make([]byte, len(req))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, req) {
			t.Fatalf("echo of the early data: %q, %v", got, err)
		}
		st := c.ConnectionState()
		// The session reads the same socket's TCP_INFO.
		want := st.FastOpen
		want.EarlyData, want.Note = false, ""
		if got := c.Session().FastOpenReport(); got != want {
			t.Fatalf("Session.FastOpenReport %+v, Conn's %+v", got, st.FastOpen)
		}
		return st
	}

	// No cookie, no session: a plain SYN that asks for a cookie.
	st := roundTrip()
	rec := <-seen
	if st.FastOpen.Used || st.FastOpen.Fail != FastOpenFailNoCookie || st.EarlyData.Offered || len(rec.early) != 0 {
		t.Fatalf("first connection: fast open %+v, early data %v, server early %q", st.FastOpen, st.EarlyData, rec.early)
	}

	for i := 0; i < 3; i++ {
		active, passive := tcpExt(t, lab.Client, "TCPFastOpenActive"), tcpExt(t, lab.Server, "TCPFastOpenPassive")
		st = roundTrip()
		rec = <-seen
		if !st.DidResume || !st.EarlyData.Accepted {
			t.Fatalf("connection %d: resumed %v, early data %v", i, st.DidResume, st.EarlyData)
		}
		if !st.FastOpen.Used || !st.FastOpen.EarlyData || st.FastOpen.Note != "" {
			t.Fatalf("connection %d: fast open report %+v", i, st.FastOpen)
		}
		if d := tcpExt(t, lab.Client, "TCPFastOpenActive") - active; d != 1 {
			t.Fatalf("connection %d: client TCPFastOpenActive went up by %d", i, d)
		}
		if d := tcpExt(t, lab.Server, "TCPFastOpenPassive") - passive; d != 1 {
			t.Fatalf("connection %d: server TCPFastOpenPassive went up by %d", i, d)
		}
		if !bytes.Equal(rec.early, req) || !rec.beforeDone {
			t.Fatalf("connection %d: server read early data %q (before its handshake completed: %v)", i, rec.early, rec.beforeDone)
		}
		t.Logf("connection %d: %v", i, st.FastOpen)
	}

	// Early data too large for a SYN: the SYN carries the ClientHello; the
	// early data follows, still as 0-RTT.
	big := bytes.Repeat([]byte("x"), 1400)
	c := labWriteFirst(t, lab, addr, cfg, big)
	got := make([]byte, len(big))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("echo of large early data: %v", err)
	}
	st = c.ConnectionState()
	c.Close()
	rec = <-seen
	if !st.EarlyData.Accepted || !st.FastOpen.Used || st.FastOpen.EarlyData || st.FastOpen.Note == "" {
		t.Fatalf("large early data: early data %v, fast open %+v", st.EarlyData, st.FastOpen)
	}
	t.Logf("large early data: %v", st.FastOpen)

	// Early data that fits alone but not with the ClientHello.
	mid := bytes.Repeat([]byte("y"), synDataRoom(&unix.SockaddrInet4{})-300)
	c = labWriteFirst(t, lab, addr, cfg, mid)
	got = make([]byte, len(mid))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, mid) {
		t.Fatalf("echo of early data split from the SYN: %v", err)
	}
	st = c.ConnectionState()
	c.Close()
	<-seen
	if !st.EarlyData.Accepted || !st.FastOpen.Used || st.FastOpen.EarlyData || st.FastOpen.Note == "" {
		t.Fatalf("early data split from the SYN: early data %v, fast open %+v", st.EarlyData, st.FastOpen)
	}
	t.Logf("early data split from the SYN: %v", st.FastOpen)

	// Fast open off in the client's namespace: a plain connect, and the
	// early data still goes as 0-RTT once connected.
	if err := lab.Client.Sysctl("net.ipv4.tcp_fastopen", "0"); err != nil {
		t.Fatal(err)
	}
	st = roundTrip()
	<-seen
	if !st.EarlyData.Accepted || st.FastOpen.Used || !strings.Contains(st.FastOpen.Reason, "tcp_fastopen is 0") {
		t.Fatalf("fast open off: early data %v, fast open %+v", st.EarlyData, st.FastOpen)
	}
	t.Logf("fast open off: %v", st.FastOpen)
}

// The same against gnutls-serv --earlydata in the server namespace (fast
// open on its listener comes from the sysctl's 0x400 bit).
func TestEarlyDataInSYNGnutlsServ(t *testing.T) {
	lab := fastOpenLab(t, 5*time.Millisecond)
	addr := labGnutlsServ(t, lab, lab.Server.Addr4, 4433, "--earlydata")
	cfg := fastOpenConfig()
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	req := []byte("early\n")
	c := labWriteFirst(t, lab, addr, cfg, req)
	// No ticket yet: the data went after the handshake; gnutls-serv echoes it.
	if got := make([]byte, 6); func() error { _, err := io.ReadFull(c, got); return err }() != nil || string(got) != "early\n" {
		t.Fatalf("echo of the first write: %q", got)
	}
	echo(t, c, "ticket\n") // the ticket arrives with the answer
	c.Close()
	active := tcpExt(t, lab.Client, "TCPFastOpenActive")
	c = labWriteFirst(t, lab, addr, cfg, req)
	echo(t, c, "after\n")
	st := c.ConnectionState()
	c.Close()
	if !st.DidResume || !st.EarlyData.Accepted || !st.FastOpen.Used || !st.FastOpen.EarlyData {
		t.Fatalf("resumed: %v, early data %v, fast open %+v", st.DidResume, st.EarlyData, st.FastOpen)
	}
	if d := tcpExt(t, lab.Client, "TCPFastOpenActive") - active; d != 1 {
		t.Fatalf("client TCPFastOpenActive went up by %d", d)
	}
	if tcpExt(t, lab.Server, "TCPFastOpenPassive") < 1 {
		t.Fatal("server TCPFastOpenPassive is 0")
	}
}

// DialEarly with fast open picks the transport when the handshake starts:
// a Read first sends the ClientHello alone in the SYN (GnuTLS's fast-open
// path), a Write first the ClientHello and the early data.
func TestDialEarlyInSYNReadOrWriteFirst(t *testing.T) {
	lab, l := earlyFastOpenLab(t)
	// The server speaks first, then echoes.
	t.Cleanup(peers.Serve(l, func(c net.Conn) {
		io.WriteString(c, "hello\n")
		io.Copy(c, c)
	}))
	cfg := fastOpenConfig()
	cfg.ClientSessionCache = NewLRUClientSessionCache(4)
	dial := func() *Conn {
		t.Helper()
		var c *Conn
		if err := lab.Client.Do(func() (err error) {
			c, err = (&Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", l.Addr().String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	readHello := func(c *Conn) {
		t.Helper()
		if got := make([]byte, 6); func() error { _, err := io.ReadFull(c, got); return err }() != nil || string(got) != "hello\n" {
			t.Fatalf("greeting %q", got)
		}
	}
	for i, readFirst := range []bool{true, true, true, false} {
		active := tcpExt(t, lab.Client, "TCPFastOpenActive")
		c := dial()
		if readFirst {
			readHello(c)
			echo(t, c, "then a write\n")
		} else {
			if _, err := io.WriteString(c, "early\n"); err != nil {
				t.Fatal(err)
			}
			readHello(c)
			if got := make([]byte, 6); func() error { _, err := io.ReadFull(c, got); return err }() != nil || string(got) != "early\n" {
				t.Fatalf("echo of the early data %q", got)
			}
		}
		st := c.ConnectionState()
		c.Close()
		t.Logf("connection %d, read first %v: fast open %v; early data %v", i, readFirst, st.FastOpen, st.EarlyData)
		if i == 0 {
			continue // fetches the cookie and the ticket
		}
		if !st.FastOpen.Used || tcpExt(t, lab.Client, "TCPFastOpenActive")-active != 1 {
			t.Fatalf("connection %d: fast open %+v", i, st.FastOpen)
		}
		if !st.DidResume || st.FastOpen.EarlyData == readFirst || st.EarlyData.Accepted == readFirst || st.EarlyData.Limit == 0 {
			t.Fatalf("connection %d, read first %v: resumed %v, early data %+v, in the SYN %v", i, readFirst, st.DidResume, st.EarlyData, st.FastOpen.EarlyData)
		}
	}
}
