package gnutls

import (
	"io"
	"testing"
)

// A Write and the Read of its echo on socket connections allocate only the
// *Error that GnuTLS's would-block becomes when an end has to wait: nothing
// per call for the netpoller callback or the operation. Both ends are in
// this process, so both ends' waits count.
func TestSteadyStateAllocs(t *testing.T) {
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
	msg, buf := []byte("ping"), make([]byte, 4)
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
	if allocs > perTrip+0.5 {
		t.Errorf("%.2f allocations per round trip for %.2f waits; want at most one per wait", allocs, perTrip)
	}
}
