package main

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// labServ starts gnutls-serv --echo in the lab's server namespace with a
// certificate for its address, and returns the address.
func labServ(t *testing.T, lab *netlab.Lab) netip.AddrPort {
	t.Helper()
	bin := testenv.LookPath(t, "gnutls-serv")
	leaf := pki.ca.Issue(testpki.Options{}, lab.Server.Addr4.String())
	_, certFile, keyFile := peers.Files(t, pki.ca, leaf)
	addr := netip.AddrPortFrom(lab.Server.Addr4, 5556)
	cmd := lab.Server.Command(bin, "--echo", "--disable-client-cert", "-p", strconv.Itoa(int(addr.Port())),
		"--x509certfile", certFile, "--x509keyfile", keyFile)
	if err := lab.Server.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := lab.Client.DialContext(context.Background(), nil, "tcp", addr.String())
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnutls-serv does not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFastOpenInNamespace runs gnutls-cli-go --fastopen against
// gnutls-serv across a delaying link, with fast open on in both
// namespaces (for every listener on the server side, since gnutls-serv
// does not ask for it).
func TestFastOpenInNamespace(t *testing.T) {
	lab := netlab.NewForTest(t, netlab.LinkConfig{Delay: 2 * time.Millisecond})
	for h, v := range map[*netlab.Host]string{lab.Server: "1027", lab.Client: "1"} { // 0x403: client, server, server without setsockopt
		if err := h.Sysctl("net.ipv4.tcp_fastopen", v); err != nil {
			t.Fatal(err)
		}
	}
	addr := labServ(t, lab)
	ca := caFile(t, pki.ca)
	run := func(t *testing.T, args ...string) result {
		args = append(append([]string{"--x509cafile", ca, "-p", strconv.Itoa(int(addr.Port()))}, args...), addr.Addr().String())
		r := runCmd(t, lab.Client.Command(bin, args...), "through the lab\n", lab.Client.Start)
		if r.stdout != "through the lab\n" {
			t.Errorf("stdout %q", r.stdout)
		}
		return r
	}
	run(t, "--fastopen").ok(t, "- TCP Fast Open: requested, not used: the kernel had no fast open cookie for this server yet")
	run(t, "--fastopen").ok(t, "- TCP Fast Open: used, the ClientHello travelled in the SYN\n")
	r := run(t, "--fastopen", "-r")
	r.ok(t, "*** This is a resumed session")
	if n := countLines(r.stderr, "- TCP Fast Open: used, the ClientHello travelled in the SYN"); n != 2 {
		t.Errorf("-r --fastopen: fast open used on %d connections, want 2", n)
	}
	run(t).ok(t, "- TCP Fast Open: not requested")

	if err := lab.Client.Sysctl("net.ipv4.tcp_fastopen", "0"); err != nil {
		t.Fatal(err)
	}
	run(t, "--fastopen").ok(t, "- TCP Fast Open: requested, not used: net.ipv4.tcp_fastopen is 0 in this network namespace; bit 0 (client) is needed")
}

// TestResolveFailure looks up a name in a namespace that reaches no DNS
// server, so that nothing leaves the machine.
func TestResolveFailure(t *testing.T) {
	lab := netlab.NewForTest(t, netlab.LinkConfig{})
	r := runCmd(t, lab.Client.Command(bin, "no-such-host.invalid"), "", lab.Client.Start)
	r.fails(t, "*** Fatal error: ", "cannot resolve no-such-host.invalid: ")
}

func countLines(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
