package main

import (
	"io"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// TestFastOpenListener: with --fastopen the listening socket accepts TCP
// Fast Open, so that a client's second connection carries its ClientHello
// in the SYN; without it the server does not (the server namespace allows
// fast open only on listeners that ask for it: net.ipv4.tcp_fastopen=3).
func TestFastOpenListener(t *testing.T) {
	for _, fastOpen := range []bool{false, true} {
		t.Run(map[bool]string{false: "without --fastopen", true: "--fastopen"}[fastOpen], func(t *testing.T) {
			lab := netlab.NewForTest(t, netlab.LinkConfig{Delay: time.Millisecond})
			for _, h := range []*netlab.Host{lab.Server, lab.Client} {
				if err := h.Sysctl("net.ipv4.tcp_fastopen", "3"); err != nil {
					t.Fatal(err)
				}
			}
			leaf := pki.ca.Issue(testpki.Options{}, lab.Server.Addr4.String())
			dir := t.TempDir()
			_, certFile, keyFile, err := testpki.Files(dir, pki.ca, leaf)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"-p", "0", "--echo", "--listen", lab.Server.Addr4.String(), "--x509certfile", certFile, "--x509keyfile", keyFile}
			if fastOpen {
				args = append(args, "--fastopen")
			}
			s := startServerWith(t, lab.Server.Command(bin, args...), lab.Server.Start)
			cfg := &gnutls.Config{ServerName: lab.Server.Addr4.String(), RootCAPEM: pki.ca.PEM, FastOpen: true}
			for i, want := range []bool{false, fastOpen} {
				var st gnutls.FastOpenState
				err := lab.Client.Do(func() error {
					c, err := gnutls.Dial("tcp", s.addr, cfg)
					if err != nil {
						return err
					}
					defer c.Close()
					c.SetDeadline(time.Now().Add(10 * time.Second))
					if _, err := io.WriteString(c, "hi\n"); err != nil {
						return err
					}
					if _, err := io.ReadFull(c, make([]byte, 3)); err != nil {
						return err
					}
					st = c.ConnectionState().FastOpen
					return nil
				})
				if err != nil {
					t.Fatalf("connection %d: %v", i+1, err)
				}
				if st.Used != want {
					t.Errorf("connection %d: fast open %v, want used %v", i+1, st, want)
				}
			}
		})
	}
}
