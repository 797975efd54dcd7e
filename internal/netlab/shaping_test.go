package netlab

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// udpPair opens a UDP socket in the server, with a receive buffer of
// rcvbuf bytes, and one in the client connected to it; both close when
// the test ends.
func udpPair(tb testing.TB, l *Lab, rcvbuf int) (server *net.UDPConn, client net.Conn) {
	tb.Helper()
	pc, err := l.Server.ListenPacket("udp", netip.AddrPortFrom(l.Server.Addr4, 0).String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	server = pc.(*net.UDPConn)
	server.SetReadBuffer(rcvbuf)
	client, err = l.Client.DialContext(context.Background(), nil, "udp", pc.LocalAddr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	return server, client
}

// sendSeq sends n numbered datagrams from the client to a socket in the
// server and returns the numbers received, in arrival order, once nothing
// more arrives.
func sendSeq(t *testing.T, l *Lab, n int) []uint32 {
	t.Helper()
	pc, c := udpPair(t, l, 1<<20)
	msg := make([]byte, 32)
	for i := range n {
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	var got []uint32
	buf := make([]byte, 64)
	quiet := l.Link.Config().Delay + l.Link.Config().Jitter + 500*time.Millisecond
	for {
		pc.SetReadDeadline(time.Now().Add(quiet))
		m, _, err := pc.ReadFrom(buf)
		if err != nil {
			return got
		}
		if m == len(msg) {
			got = append(got, binary.BigEndian.Uint32(buf))
		}
	}
}

func TestLinkShaping(t *testing.T) {
	t.Run("jitter keeps order", func(t *testing.T) {
		l := NewForTest(t, LinkConfig{Delay: 5 * time.Millisecond, Jitter: 4 * time.Millisecond, Seed: 1})
		got := sendSeq(t, l, 300)
		if len(got) != 300 {
			t.Fatalf("received %d of 300", len(got))
		}
		for i, v := range got {
			if v != uint32(i) {
				t.Fatalf("datagram %d arrived in place %d", v, i)
			}
		}
	})
	t.Run("jitter with Reorder", func(t *testing.T) {
		l := NewForTest(t, LinkConfig{Delay: 5 * time.Millisecond, Jitter: 4 * time.Millisecond, Reorder: true, Seed: 1})
		got := sendSeq(t, l, 300)
		moved := 0
		for i, v := range got {
			if v != uint32(i) {
				moved++
			}
		}
		if len(got) != 300 || moved == 0 {
			t.Fatalf("received %d of 300, %d out of place; want all, some reordered", len(got), moved)
		}
	})
	t.Run("loss", func(t *testing.T) {
		l := NewForTest(t, LinkConfig{Delay: time.Millisecond, Loss: 0.3, Seed: 1})
		got := sendSeq(t, l, 300)
		lost := l.Link.Stats().ClientToServer.Lost
		if lost == 0 || len(got)+int(lost) != 300 {
			t.Fatalf("received %d, link lost %d, of 300", len(got), lost)
		}
	})
	t.Run("queue limit", func(t *testing.T) {
		l := NewForTest(t, LinkConfig{Delay: 50 * time.Millisecond, QueueLimit: 20})
		got := sendSeq(t, l, 100)
		over := l.Link.Stats().ClientToServer.Overflow
		if over == 0 || len(got)+int(over) != 100 {
			t.Fatalf("received %d, link overflowed %d, of 100", len(got), over)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		l := NewForTest(t, LinkConfig{})
		for _, cfg := range []LinkConfig{{Delay: -1}, {Jitter: -1}, {Loss: 1.5}, {QueueLimit: -1}} {
			if err := l.Link.SetConfig(cfg); err == nil {
				t.Errorf("SetConfig(%+v) succeeded", cfg)
			}
		}
		if _, err := New(LinkConfig{MTU: 100}); err == nil {
			t.Error("New with MTU 100 succeeded")
		}
	})
}
