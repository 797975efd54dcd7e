package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// echoServer accepts connections on a listener made in h and echoes what it
// reads, until the test ends.
func echoServer(t testing.TB, h *Host, addr netip.Addr) netip.AddrPort {
	t.Helper()
	ln, err := h.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// roundTrip sends msg on c and reads it back.
func roundTrip(t testing.TB, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo returned %q, want %q", got, msg)
	}
}

func dial(t testing.TB, h *Host, d *net.Dialer, to netip.AddrPort) net.Conn {
	t.Helper()
	c, err := h.DialContext(context.Background(), d, "tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReachability(t *testing.T) {
	l := NewForTest(t, LinkConfig{Delay: time.Millisecond})
	for _, tc := range []struct {
		name     string
		from, to *Host
		addr     netip.Addr
	}{
		{"v4 client to server", l.Client, l.Server, l.Server.Addr4},
		{"v6 client to server", l.Client, l.Server, l.Server.Addr6},
		{"v4 server to client", l.Server, l.Client, l.Client.Addr4},
		{"v6 server to client", l.Server, l.Client, l.Client.Addr6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.Link.Stats()
			c := dial(t, tc.from, nil, echoServer(t, tc.to, tc.addr))
			roundTrip(t, c, bytes.Repeat([]byte("netlab "), 1000))
			after := l.Link.Stats()
			for _, d := range [][2]DirStats{
				{before.ClientToServer, after.ClientToServer},
				{before.ServerToClient, after.ServerToClient},
			} {
				if d[1].Packets <= d[0].Packets {
					t.Errorf("link counted no packets: before %+v, after %+v", d[0], d[1])
				}
			}
		})
	}
	// The hosts reach nothing but each other.
	if _, err := l.Client.DialContext(context.Background(), &net.Dialer{Timeout: time.Second}, "tcp", "192.0.2.1:9"); err == nil {
		t.Error("dial to an address outside the lab succeeded")
	}
	if err := l.Link.Err(); err != nil {
		t.Error(err)
	}
}

// tcpFastOpen is the value of net.ipv4.tcp_fastopen that enables TCP Fast
// Open for clients and for every listener (0x1 | 0x2 | 0x400).
const tcpFastOpen = "1027"

func TestSysctlIsolation(t *testing.T) {
	l := NewForTest(t, LinkConfig{})
	const key = "net.ipv4.tcp_fastopen"
	hostPath, _ := sysctlPath(key)
	hostBefore, err := os.ReadFile(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Client.Sysctl(key, tcpFastOpen); err != nil {
		t.Fatal(err)
	}
	if v, err := l.Client.ReadSysctl(key); err != nil || v != tcpFastOpen {
		t.Errorf("client %s = %q, %v; want %s", key, v, err, tcpFastOpen)
	}
	if v, err := l.Server.ReadSysctl(key); err != nil || v == tcpFastOpen {
		t.Errorf("server %s = %q, %v; want the default", key, v, err)
	}
	if hostAfter, err := os.ReadFile(hostPath); err != nil || !bytes.Equal(hostAfter, hostBefore) {
		t.Errorf("host %s went from %q to %q (%v)", key, hostBefore, hostAfter, err)
	}
	for _, bad := range []string{"kernel.hostname", "net/ipv4/tcp_fastopen", "net.ipv4..x"} {
		if err := l.Client.Sysctl(bad, "1"); err == nil {
			t.Errorf("Sysctl(%q) succeeded", bad)
		}
	}
}

// syncDial connects with TCP_FASTOPEN_CONNECT, so that the first Write
// goes in the SYN when the client holds a cookie.
var tfoDialer = &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT, 1)
	})
	return errors.Join(err, serr)
}}

// synDataAcked reports whether the server acknowledged data sent in c's SYN.
func synDataAcked(t testing.TB, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	if err := rc.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	const optSYNData = 0x20 // TCPI_OPT_SYN_DATA
	return info.Options&optSYNData != 0
}

func TestDropSYNData(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v6=%v", v6), func(t *testing.T) {
			var l *Lab
			var srv netip.AddrPort
			connect := func() bool {
				c := dial(t, l.Client, tfoDialer, srv)
				roundTrip(t, c, []byte("ClientHello"))
				defer c.Close()
				return synDataAcked(t, c)
			}
			counters := func(h *Host, names ...string) []int64 {
				m, err := h.TcpExt()
				if err != nil {
					t.Fatal(err)
				}
				var v []int64
				for _, n := range names {
					v = append(v, m[n])
				}
				return v
			}
			// A SYN retransmitted because the machine stalled the link for
			// over a second makes the kernel avoid fast open to that
			// destination: start again in a new lab (at most three times).
			for attempt := 1; ; attempt++ {
				l = NewForTest(t, LinkConfig{Delay: 5 * time.Millisecond})
				for _, h := range []*Host{l.Client, l.Server} {
					if err := h.Sysctl("net.ipv4.tcp_fastopen", tcpFastOpen); err != nil {
						t.Fatal(err)
					}
				}
				addr := l.Server.Addr4
				if v6 {
					addr = l.Server.Addr6
				}
				srv = echoServer(t, l.Server, addr)
				if connect() {
					t.Error("first connection had data in its SYN without a cookie")
				}
				if n := counters(l.Client, "TCPSynRetrans")[0]; n == 0 || attempt == 3 {
					break
				}
				t.Logf("attempt %d: the SYN was retransmitted; again in a new lab", attempt)
			}

			// The namespaces are new, so their counters count only this test.
			if got := counters(l.Server, "TCPFastOpenCookieReqd"); got[0] != 1 {
				t.Errorf("server TCPFastOpenCookieReqd = %d, want 1", got[0])
			}
			if !connect() {
				t.Error("with a cookie, the server did not acknowledge data in the SYN")
			}
			if n := l.Link.Stats().ClientToServer.SYNDataPassed; n != 1 {
				t.Errorf("link passed %d SYNs with data, want 1", n)
			}
			if got := counters(l.Client, "TCPFastOpenActive"); got[0] != 1 {
				t.Errorf("client TCPFastOpenActive = %d, want 1", got[0])
			}
			if got := counters(l.Server, "TCPFastOpenPassive"); got[0] != 1 {
				t.Errorf("server TCPFastOpenPassive = %d, want 1", got[0])
			}

			cfg := l.Link.Config()
			cfg.DropSYNData = true
			if err := l.Link.SetConfig(cfg); err != nil {
				t.Fatal(err)
			}
			if connect() {
				t.Error("data in the SYN arrived although the link drops such SYNs")
			}
			st := l.Link.Stats()
			if st.ClientToServer.SYNData != 1 || st.ServerToClient.SYNData != 0 {
				t.Errorf("SYN-with-data drops: %+v, want 1 client to server", st)
			}
			// The kernel sent the SYN again without data, and counts the failure.
			if got := counters(l.Client, "TCPFastOpenActive", "TCPFastOpenActiveFail"); got[0] != 1 || got[1] != 1 {
				t.Errorf("client TCPFastOpenActive, TCPFastOpenActiveFail = %v, want 1, 1", got)
			}
		})
	}
}

// connectTimes returns n TCP connect times from the client to srv.
func connectTimes(t testing.TB, l *Lab, srv netip.AddrPort, n int) []time.Duration {
	t.Helper()
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		c := dial(t, l.Client, nil, srv)
		times[i] = time.Since(start)
		c.Close()
	}
	slices.Sort(times)
	return times
}

// TestRTT is a sanity check of the delay; BenchmarkRTT measures it.
func TestRTT(t *testing.T) {
	const delay = 25 * time.Millisecond
	l := NewForTest(t, LinkConfig{Delay: delay})
	for _, addr := range []netip.Addr{l.Server.Addr4, l.Server.Addr6} {
		times := connectTimes(t, l, echoServer(t, l.Server, addr), 20)
		median := times[len(times)/2]
		t.Logf("%v: TCP connect time over %v one-way delay: median %v, min %v, max %v",
			addr, delay, median, times[0], times[len(times)-1])
		// A packet never leaves the link early, so connect takes at least
		// one RTT. The upper bound only catches a link that lost its delay
		// or doubled it: a loaded 2-core machine running the race detector
		// may add milliseconds to the programs at both ends.
		if times[0] < 2*delay || median > 2*delay+20*time.Millisecond {
			t.Errorf("connect times %v, want at least %v and a median within 20ms of it", times, 2*delay)
		}
	}
	if st := l.Link.Stats(); st.ClientToServer.Late < 0 || st.ServerToClient.Late < 0 {
		t.Errorf("packets left the link before they were due: %+v", st)
	}
}
