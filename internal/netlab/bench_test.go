package netlab

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// udpEcho answers every datagram on a socket made in h.
func udpEcho(t testing.TB, h *Host, addr netip.Addr) netip.AddrPort {
	t.Helper()
	pc, err := h.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// pingTimes sends n ICMP echo requests from the client to addr, one at a
// time, and returns their round-trip times, sorted. The server's kernel
// answers, and the reply's arrival is the kernel's receive timestamp
// (SO_TIMESTAMPNS), as ping(8) measures: no program's scheduling is in
// the figures, only the link and the two network stacks.
func pingTimes(t testing.TB, l *Lab, addr netip.Addr, n int) []time.Duration {
	t.Helper()
	if err := l.Client.Sysctl("net.ipv4.ping_group_range", "0 0"); err != nil {
		t.Fatal(err)
	}
	times := make([]time.Duration, n)
	err := l.Client.Do(func() error {
		family, proto, reqType, replyType := unix.AF_INET, unix.IPPROTO_ICMP, byte(8), byte(0)
		var sa unix.Sockaddr
		if addr.Is4() {
			sa = &unix.SockaddrInet4{Addr: addr.As4()}
		} else {
			family, proto, reqType, replyType = unix.AF_INET6, unix.IPPROTO_ICMPV6, 128, 129
			sa = &unix.SockaddrInet6{Addr: addr.As16()}
		}
		fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return fmt.Errorf("ping socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return err
		}
		tv := unix.NsecToTimeval(int64(5 * time.Second))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		req := make([]byte, 64)
		buf, oob := make([]byte, 2048), make([]byte, 512)
		for i := range times {
			req[0] = reqType
			binary.BigEndian.PutUint16(req[6:], uint16(i))
			var sent unix.Timespec
			unix.ClockGettime(unix.CLOCK_REALTIME, &sent)
			if err := unix.Sendto(fd, req, 0, sa); err != nil && err != unix.EINTR {
				return fmt.Errorf("ping send: %w", err)
			}
			for {
				m, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					return fmt.Errorf("ping %d: %w", i, err)
				}
				if m < 8 || buf[0] != replyType || binary.BigEndian.Uint16(buf[6:]) != uint16(i) {
					continue
				}
				got, err := rxTimestamp(oob[:oobn])
				if err != nil {
					return err
				}
				times[i] = time.Duration(got.Nano() - sent.Nano())
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(times)
	return times
}

// rxTimestamp finds SO_TIMESTAMPNS in a received message's control data.
func rxTimestamp(oob []byte) (unix.Timespec, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return unix.Timespec{}, err
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
			ne := binary.NativeEndian
			return unix.Timespec{Sec: int64(ne.Uint64(m.Data)), Nsec: int64(ne.Uint64(m.Data[8:]))}, nil
		}
	}
	return unix.Timespec{}, fmt.Errorf("no receive timestamp")
}

// udpRTTs returns n round-trip times of a 64-byte datagram to srv, sorted.
func udpRTTs(t testing.TB, l *Lab, srv netip.AddrPort, n int) []time.Duration {
	t.Helper()
	c, err := l.Client.DialContext(context.Background(), nil, "udp", srv.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times
}

// percentile returns the p-th percentile of sorted times.
func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100]
}

// reportTimes reports the median, 10th and 90th percentiles and maximum of
// times, in milliseconds.
func reportTimes(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(times, 50)), "median-ms")
	b.ReportMetric(ms(percentile(times, 10)), "p10-ms")
	b.ReportMetric(ms(percentile(times, 90)), "p90-ms")
	b.ReportMetric(ms(times[len(times)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRTT measures the round-trip time across a link set to 25ms each
// way (a 50ms RTT): ping is ICMP echo answered by the server's kernel and
// timed by the client's kernel, so it shows the link alone; connect is a
// TCP connect from Go, which adds the scheduling of the programs at both
// ends. link-late-us is the mean time a packet left the link after it was
// due.
func BenchmarkRTT(b *testing.B) {
	const delay = 25 * time.Millisecond
	l := NewForTest(b, LinkConfig{Delay: delay})
	for _, addr := range []netip.Addr{l.Server.Addr4, l.Server.Addr6} {
		name := "v4"
		if addr.Is6() {
			name = "v6"
		}
		b.Run(name+"/ping", func(b *testing.B) {
			before := l.Link.Stats()
			reportTimes(b, pingTimes(b, l, addr, b.N))
			reportLate(b, before, l.Link.Stats())
		})
		srv := echoServer(b, l.Server, addr)
		b.Run(name+"/connect", func(b *testing.B) {
			reportTimes(b, connectTimes(b, l, srv, b.N))
		})
	}
}

// reportLate reports how late, on average, packets left the link between
// two readings of its counters.
func reportLate(b *testing.B, before, after Stats) {
	n := after.ClientToServer.Packets + after.ServerToClient.Packets - before.ClientToServer.Packets - before.ServerToClient.Packets
	late := after.ClientToServer.Late + after.ServerToClient.Late - before.ClientToServer.Late - before.ServerToClient.Late
	if n > 0 {
		b.ReportMetric(float64(late/time.Duration(n))/float64(time.Microsecond), "link-late-us")
	}
}

// BenchmarkPacketRate measures how many packets a second the link carries
// from client to server: 64-byte UDP datagrams sent as fast as the client
// can, counted as they arrive. drop-% is the share lost on the way (in the
// client's TUN queue, mostly, when the forwarder falls behind).
func BenchmarkPacketRate(b *testing.B) {
	for _, delay := range []time.Duration{0, 25 * time.Millisecond} {
		b.Run(fmt.Sprintf("delay=%v", delay), func(b *testing.B) {
			l := NewForTest(b, LinkConfig{Delay: delay})
			pc, c := udpPair(b, l, 8<<20)
			var got atomic.Int64
			var last atomic.Int64 // arrival of the latest datagram, ns since start
			start := time.Now()
			go func() {
				buf := make([]byte, 2048)
				for {
					if _, _, err := pc.ReadFrom(buf); err != nil {
						return
					}
					got.Add(1)
					last.Store(int64(time.Since(start)))
				}
			}()
			b.ResetTimer()
			start = time.Now()
			msg := make([]byte, 64)
			sent := 0
			for range b.N {
				if _, err := c.Write(msg); err == nil {
					sent++
				}
			}
			// Wait until nothing more arrives.
			for n := int64(-1); n != got.Load(); time.Sleep(delay + 100*time.Millisecond) {
				n = got.Load()
			}
			b.StopTimer()
			elapsed := time.Duration(last.Load()) - delay
			b.ReportMetric(float64(got.Load())/elapsed.Seconds(), "pkt/s")
			b.ReportMetric(100*float64(int64(b.N)-got.Load())/float64(b.N), "drop-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}
