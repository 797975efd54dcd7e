package main

import (
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
)

// TestFleetResumesGnutlsClient: this module's client going round three
// gnutls-serv-go sharing ticket keys and Redis resumes at each after its
// first connection: its session cache is keyed by the server's name.
func TestFleetResumesGnutlsClient(t *testing.T) {
	rs := peers.Redis(t, 0)
	fleet := startFleet(t, "--ticket-key-file", ticketKeyFile(t, newKey()), "--redis", rs.Addr, "--redis-timeout", redisTimeout.String())
	cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, ClientSessionCache: gnutls.NewLRUClientSessionCache(4)}
	for i := 0; i < 6; i++ {
		s := fleet[i%3]
		c, err := gnutls.Dial("tcp", s.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /round/"+strconv.Itoa(i)+" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if want := "resumed=" + yesNo(i > 0); !strings.Contains(string(b), want) {
			t.Errorf("connection %d, to %s: %q, want %s", i+1, s.addr, b, want)
		}
	}
}

// TestGnutlsClientCryptoTLSFleet: this module's client resumes across
// crypto/tls servers that share their session ticket keys.
func TestGnutlsClientCryptoTLSFleet(t *testing.T) {
	key := newKey()
	var addrs []string
	for _, a := range fleetAddrs {
		cfg := &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
		cfg.SetSessionTicketKeys([][32]byte{key})
		ln, err := tls.Listen("tcp", net.JoinHostPort(a, "0"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(peers.Serve(ln, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.Copy(c, c)
		}))
		addrs = append(addrs, ln.Addr().String())
	}
	cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, ClientSessionCache: gnutls.NewLRUClientSessionCache(4)}
	for i := 0; i < 6; i++ {
		c, err := gnutls.Dial("tcp", addrs[i%3], cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "hi\n")
		io.ReadFull(c, make([]byte, 3))
		st := c.ConnectionState()
		c.Close()
		if st.DidResume != (i > 0) {
			t.Errorf("connection %d, to %s: resumed %v", i+1, addrs[i%3], st.DidResume)
		}
	}
}
