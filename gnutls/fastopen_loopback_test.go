package gnutls

import (
	"testing"
)

// Fast open asked for on loopback in this namespace: the connection works
// whatever the sysctl says, and the report says what happened.
func TestFastOpenDialLoopback(t *testing.T) {
	sc := serverConfig()
	sc.FastOpen = true
	addr := echoListener(t, sc)
	cc := clientConfig()
	cc.FastOpen = true
	for i := 0; i < 3; i++ {
		c, err := Dial("tcp", addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, c, "fast open")
		st := c.ConnectionState()
		if !st.FastOpen.Requested || (!st.FastOpen.Used && st.FastOpen.Reason == "") {
			t.Fatalf("fast open report: %+v", st.FastOpen)
		}
		t.Logf("dial %d: %v (local %v)", i, st.FastOpen, c.LocalAddr())
		c.Close()
	}
}
