package gnutls

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// Fast open over a link of 25ms each way (a 50ms RTT) between two network
// namespaces, over IPv4 and IPv6, with this package or gnutls-serv as the
// server.

// labDelay is the one-way delay of the lab's link.
const labDelay = 25 * time.Millisecond

// eachFamily runs f as a subtest per address family, each with a lab of
// its own (fast-open cookies and TcpExt counters are per namespace).
func eachFamily(t *testing.T, f func(t *testing.T, lab *netlab.Lab, server netip.Addr)) {
	for _, family := range []string{"IPv4", "IPv6"} {
		t.Run(family, func(t *testing.T) {
			lab := fastOpenLab(t, labDelay)
			addr := lab.Server.Addr4
			if family == "IPv6" {
				addr = lab.Server.Addr6
			}
			f(t, lab, addr)
		})
	}
}

// labSilent listens with plain TCP on addr in the server namespace; it
// reads what arrives and never answers.
func labSilent(t *testing.T, lab *netlab.Lab, addr netip.Addr) string {
	t.Helper()
	l, err := lab.Server.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(l, func(c net.Conn) { io.Copy(io.Discard, c) }))
	return l.Addr().String()
}

// labFastOpenDial dials addr with cfg from the client namespace, echoes a
// message, and returns the fast-open report and how often the connection
// waited on the netpoller.
func labFastOpenDial(t *testing.T, lab *netlab.Lab, addr string, cfg *Config) (FastOpenState, int64) {
	t.Helper()
	c := labDial(t, lab, addr, cfg)
	defer c.Close()
	echo(t, c, "over the lab\n")
	return c.ConnectionState().FastOpen, c.waits.Load()
}

// counters reads TcpExt counters of both hosts.
type counters struct{ cookieReqd, active, activeFail, passive int64 }

func readCounters(t *testing.T, lab *netlab.Lab) counters {
	return counters{
		cookieReqd: tcpExt(t, lab.Server, "TCPFastOpenCookieReqd"),
		active:     tcpExt(t, lab.Client, "TCPFastOpenActive"),
		activeFail: tcpExt(t, lab.Client, "TCPFastOpenActiveFail"),
		passive:    tcpExt(t, lab.Server, "TCPFastOpenPassive"),
	}
}

// The first fast-open connection fetches a cookie, the second puts the
// ClientHello in the SYN. Both run on a non-blocking socket: GnuTLS
// returns GNUTLS_E_AGAIN and the Conn waits on the netpoller.
func TestFastOpenLab(t *testing.T) {
	servers := []struct {
		name  string
		start func(t *testing.T, lab *netlab.Lab, addr netip.Addr) string
	}{
		{"Listen", func(t *testing.T, lab *netlab.Lab, addr netip.Addr) string {
			sc := serverConfig()
			sc.FastOpen = true
			return labListen(t, lab, addr, sc)
		}},
		// gnutls-serv sets no TCP_FASTOPEN; bit 0x400 of the sysctl gives
		// fast open to every listener.
		{"gnutls-serv", func(t *testing.T, lab *netlab.Lab, addr netip.Addr) string {
			return labGnutlsServ(t, lab, addr, 4433)
		}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
				addr := srv.start(t, lab, server)
				cfg := fastOpenConfig()

				synData := func() uint64 { return lab.Link.Stats().ClientToServer.SYNDataPassed }
				before := readCounters(t, lab)
				st, waits := labFastOpenDial(t, lab, addr, cfg)
				after := readCounters(t, lab)
				if n := synData(); n != 0 {
					t.Errorf("first connection: %d SYNs with data crossed the link, want none", n)
				}
				if !st.Requested || st.Used || st.Fail != FastOpenFailNoCookie || st.Reason == "" {
					t.Errorf("first connection: %+v, want no cookie yet", st)
				}
				if after.cookieReqd != before.cookieReqd+1 {
					t.Errorf("server TCPFastOpenCookieReqd went from %d to %d, want one more", before.cookieReqd, after.cookieReqd)
				}
				if waits == 0 {
					t.Error("first connection never waited on the netpoller")
				}

				st, waits = labFastOpenDial(t, lab, addr, cfg)
				final := readCounters(t, lab)
				if !st.Used || st.Reason != "" {
					t.Errorf("second connection: %+v, want the ClientHello in the SYN", st)
				}
				if n := synData(); n != 1 {
					t.Errorf("second connection: %d SYNs with data crossed the link, want 1", n)
				}
				if final.active != after.active+1 || final.passive != after.passive+1 {
					t.Errorf("TCPFastOpenActive %d -> %d, TCPFastOpenPassive %d -> %d, want one more each",
						after.active, final.active, after.passive, final.passive)
				}
				if waits == 0 {
					t.Error("second connection never waited on the netpoller")
				}
				t.Logf("%s: %v", addr, st)
			})
		})
	}
}

// A middlebox drops SYNs that carry data: the connection still succeeds
// (the kernel sends the SYN again without data), the report says so, and
// for Config.FastOpenBlackhole Dial skips fast open to that destination.
func TestFastOpenLabSYNDataDropped(t *testing.T) {
	eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
		sc := serverConfig()
		sc.FastOpen = true
		addr := labListen(t, lab, server, sc)
		cfg := fastOpenConfig()
		if st, _ := labFastOpenDial(t, lab, addr, cfg); st.Fail != FastOpenFailNoCookie {
			t.Fatalf("first connection: %+v", st)
		}
		lc := lab.Link.Config()
		lc.DropSYNData = true
		if err := lab.Link.SetConfig(lc); err != nil {
			t.Fatal(err)
		}
		dropped := func() uint64 { return lab.Link.Stats().ClientToServer.SYNData }

		before := readCounters(t, lab)
		st, _ := labFastOpenDial(t, lab, addr, cfg)
		if st.Used || st.Fail != FastOpenFailSYNRetransmited || !strings.Contains(st.Reason, "lost or dropped") {
			t.Errorf("SYN with data dropped: %+v", st)
		}
		if dropped() != 1 {
			t.Errorf("the link dropped %d SYNs with data, want 1", dropped())
		}
		if after := readCounters(t, lab); after.activeFail != before.activeFail+1 {
			t.Errorf("client TCPFastOpenActiveFail %d -> %d, want one more", before.activeFail, after.activeFail)
		}
		t.Logf("dropped: %v", st)

		// The Config remembers the destination: no data in the SYN now.
		before = readCounters(t, lab)
		for range 2 {
			st, _ = labFastOpenDial(t, lab, addr, cfg)
			if st.Used || !strings.HasPrefix(st.Reason, "skipped") || !strings.Contains(st.Reason, " "+addr+" ") {
				t.Errorf("after the drop: %+v, want fast open skipped", st)
			}
		}
		// So does another port of the same address.
		other := labListen(t, lab, server, sc)
		if st, _ := labFastOpenDial(t, lab, other, cfg); st.Used || !strings.HasPrefix(st.Reason, "skipped") {
			t.Errorf("another port after the drop: %+v, want fast open skipped", st)
		}
		if after := readCounters(t, lab); after.active != before.active || dropped() != 1 {
			t.Errorf("SYNs with data sent after the drop: TCPFastOpenActive %d -> %d, dropped %d", before.active, after.active, dropped())
		}
		t.Logf("next: %v", st)

		// Another Config has its own memory; with the cache off it tries
		// fast open every time.
		off := fastOpenConfig()
		off.FastOpenBlackhole = -1
		for i := range 2 {
			st, _ = labFastOpenDial(t, lab, addr, off)
			if strings.HasPrefix(st.Reason, "skipped") || st.Used {
				t.Errorf("cache off, connection %d: %+v", i, st)
			}
		}
		t.Logf("cache off: %v", st)
	})
}

// The blackhole memory expires after Config.FastOpenBlackhole.
func TestFastOpenBlackholeLifetime(t *testing.T) {
	var b blackholeCache
	addr := &net.TCPAddr{IP: net.ParseIP("198.18.0.2"), Port: 443}
	b.mark(addr, time.Hour)
	if until, ok := b.blocked(addr); !ok || time.Until(until) < 59*time.Minute {
		t.Fatalf("after mark for an hour: blocked %v until %v", ok, until)
	}
	b.mark(addr, time.Nanosecond)
	time.Sleep(time.Millisecond)
	if _, ok := b.blocked(addr); ok {
		t.Fatal("entry still blocks after its lifetime")
	}
	b.mark(addr, -1)
	if _, ok := b.blocked(addr); ok {
		t.Fatal("a negative lifetime marked the destination")
	}
	// Any port of the address; the IPv4-mapped form is the same address.
	b.mark(addr, time.Hour)
	if _, ok := b.blocked(&net.TCPAddr{IP: net.ParseIP("::ffff:198.18.0.2"), Port: 8443}); !ok {
		t.Fatal("another port of a marked address is not blocked")
	}
	if _, ok := b.blocked(&net.TCPAddr{IP: net.ParseIP("198.18.0.3"), Port: 443}); ok {
		t.Fatal("another address is blocked")
	}
	// Expired entries do not pile up.
	for i := range 100 {
		b.mark(&net.TCPAddr{IP: net.IPv4(198, 18, 1, byte(i)), Port: 443}, time.Nanosecond)
	}
	time.Sleep(time.Millisecond)
	b.mark(addr, time.Hour)
	if n := b.len(); n != 1 {
		t.Fatalf("cache holds %d entries, want the one live entry", n)
	}
}

// Fast open requested but not possible: the connection works and the
// report says why.
func TestFastOpenLabNotUsed(t *testing.T) {
	t.Run("server without fast open", func(t *testing.T) {
		eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
			if err := lab.Server.Sysctl("net.ipv4.tcp_fastopen", "1"); err != nil {
				t.Fatal(err)
			}
			for _, addr := range []string{
				labListen(t, lab, server, serverConfig()),
				labGnutlsServ(t, lab, server, 4433),
			} {
				for i := range 2 {
					st, _ := labFastOpenDial(t, lab, addr, fastOpenConfig())
					if !st.Requested || st.Used || st.Fail != FastOpenFailNoCookie || !strings.Contains(st.Reason, "cookie") {
						t.Errorf("%s, connection %d: %+v", addr, i, st)
					}
				}
			}
		})
	})
	t.Run("server turned fast open off", func(t *testing.T) {
		eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
			sc := serverConfig()
			sc.FastOpen = true
			addr := labListen(t, lab, server, sc)
			cfg := fastOpenConfig()
			labFastOpenDial(t, lab, addr, cfg) // fetches the cookie
			if err := lab.Server.Sysctl("net.ipv4.tcp_fastopen", "1"); err != nil {
				t.Fatal(err)
			}
			st, _ := labFastOpenDial(t, lab, addr, cfg)
			if st.Used || st.Fail != FastOpenFailDataNotAcked || !strings.Contains(st.Reason, "did not acknowledge") {
				t.Errorf("cookie ignored by the server: %+v", st)
			}
			t.Logf("%v", st)
		})
	})
	t.Run("client net.ipv4.tcp_fastopen=0", func(t *testing.T) {
		eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
			sc := serverConfig()
			sc.FastOpen = true
			addr := labListen(t, lab, server, sc)
			if err := lab.Client.Sysctl("net.ipv4.tcp_fastopen", "0"); err != nil {
				t.Fatal(err)
			}
			before := readCounters(t, lab)
			for i := range 2 {
				st, _ := labFastOpenDial(t, lab, addr, fastOpenConfig())
				if !st.Requested || st.Used || !strings.Contains(st.Reason, "net.ipv4.tcp_fastopen is 0") {
					t.Errorf("connection %d: %+v", i, st)
				}
			}
			if after := readCounters(t, lab); after.cookieReqd != before.cookieReqd || after.active != before.active {
				t.Errorf("fast open happened although it is off: %+v -> %+v", before, after)
			}
		})
	})
}

// labFastOpenConn makes, in the client namespace, the unconnected
// fast-open connection Dial would, without running the handshake.
func labFastOpenConn(t *testing.T, lab *netlab.Lab, addr string) *Conn {
	t.Helper()
	cfg := fastOpenConfig()
	var c *Conn
	if err := lab.Client.Do(func() error {
		nc, _, err := dialFastOpen(context.Background(), new(net.Dialer), "tcp", addr, cfg)
		if err != nil {
			return err
		}
		c = newConn(nc, cfg, true, cfg.ServerName)
		return c.setupErr
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitForWait waits until c is parked on the netpoller: its handshake is
// under way and blocked.
func waitForWait(t *testing.T, c *Conn) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.waits.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the handshake never waited on the netpoller")
		}
	}
}

// Deadlines, Close and cancellation during a fast-open handshake that the
// server never answers, and a Read deadline after one that completed.
func TestFastOpenLabLifecycle(t *testing.T) {
	eachFamily(t, func(t *testing.T, lab *netlab.Lab, server netip.Addr) {
		silent := labSilent(t, lab, server)
		sc := serverConfig()
		sc.FastOpen = true
		echoAddr := labListen(t, lab, server, sc)
		// The server's credentials live as long as its Config: build them
		// now, before the subtests count what is alive.
		if _, err := sc.credentials(false); err != nil {
			t.Fatal(err)
		}

		t.Run("handshake deadline", func(t *testing.T) {
			checkLeaks(t)
			c := labFastOpenConn(t, lab, silent)
			defer c.Close()
			// Past the TCP handshake (one RTT), in the TLS one.
			deadline := time.Now().Add(4 * labDelay)
			c.SetDeadline(deadline)
			err := c.Handshake()
			if !isTimeout(err) {
				t.Fatalf("handshake: %v, want os.ErrDeadlineExceeded", err)
			}
			if now := time.Now(); now.Before(deadline) {
				t.Fatalf("deadline fired %v early", deadline.Sub(now))
			}
			if c.waits.Load() == 0 {
				t.Error("the handshake never waited on the netpoller")
			}
		})

		t.Run("read deadline", func(t *testing.T) {
			checkLeaks(t)
			c := labDial(t, lab, echoAddr, fastOpenConfig())
			defer c.Close()
			deadline := time.Now().Add(2 * labDelay)
			c.SetReadDeadline(deadline)
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || !isTimeout(err) {
				t.Fatalf("read: %v, want os.ErrDeadlineExceeded", err)
			}
			if now := time.Now(); now.Before(deadline) {
				t.Fatalf("deadline fired %v early", deadline.Sub(now))
			}
			c.SetReadDeadline(time.Time{})
			echo(t, c, "after the deadline")
		})

		t.Run("close during handshake", func(t *testing.T) {
			checkLeaks(t)
			c := labFastOpenConn(t, lab, silent)
			errc := make(chan error, 1)
			go func() { errc <- c.Handshake() }()
			waitForWait(t, c)
			within(t, "Close", func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			within(t, "Handshake", func() {
				if err := <-errc; !errors.Is(err, net.ErrClosed) {
					t.Errorf("handshake after Close: %v, want net.ErrClosed", err)
				}
			})
		})

		t.Run("HandshakeContext cancelled", func(t *testing.T) {
			checkLeaks(t)
			c := labFastOpenConn(t, lab, silent)
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			go func() { waitForWait(t, c); cancel() }()
			err := c.HandshakeContext(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled handshake: %v, want context.Canceled", err)
			}
			if err2 := c.Handshake(); err2 != err {
				t.Errorf("second Handshake: %v, want the first error again", err2)
			}
		})

		t.Run("Dialer timeout", func(t *testing.T) {
			checkLeaks(t)
			const timeout = 3 * labDelay
			start := time.Now()
			err := lab.Client.Do(func() error {
				d := &Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: fastOpenConfig()}
				c, err := d.DialContext(context.Background(), "tcp", silent)
				if err == nil {
					c.Close()
				}
				return err
			})
			// As crypto/tls's Dialer: the context's error, a net.Error
			// whose Timeout is true.
			var ne net.Error
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("dial past its timeout: %v, want a timeout", err)
			}
			if elapsed := time.Since(start); elapsed < timeout {
				t.Fatalf("timeout fired after %v, before %v", elapsed, timeout)
			}
		})

		t.Run("DialContext cancelled", func(t *testing.T) {
			checkLeaks(t)
			ctx, cancel := context.WithCancel(context.Background())
			// Once the SYN has crossed the link, the TLS handshake waits.
			time.AfterFunc(3*labDelay, cancel)
			err := lab.Client.Do(func() error {
				c, err := (&Dialer{Config: fastOpenConfig()}).DialContext(ctx, "tcp", silent)
				if err == nil {
					c.Close()
				}
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled dial: %v, want context.Canceled", err)
			}
		})
	})
}
