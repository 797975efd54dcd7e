package gnutls

import (
	"fmt"
	"strings"
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
	client, server, sysctl, err := FastOpenSupported()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c, err := Dial("tcp", addr, cc)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, c, "fast open")
		st := c.ConnectionState().FastOpen
		// What the report must say, given the sysctl: the first connection
		// may fetch the cookie (unless an earlier test did).
		var ok bool
		switch {
		case !client:
			ok = !st.Used && strings.Contains(st.Reason, fmt.Sprintf("net.ipv4.tcp_fastopen is %d", sysctl))
		case server && i > 0:
			ok = st.Used && st.Reason == ""
		case server:
			ok = st.Used && st.Reason == "" || !st.Used && st.Fail == FastOpenFailNoCookie && st.Reason == st.Fail.String()
		default:
			ok = !st.Used && st.Fail == FastOpenFailNoCookie && st.Reason == st.Fail.String()
		}
		if !st.Requested || !ok {
			t.Fatalf("dial %d, net.ipv4.tcp_fastopen %d: fast open report %+v", i, sysctl, st)
		}
		t.Logf("dial %d: %v (local %v)", i, st, c.LocalAddr())
		c.Close()
	}
}
