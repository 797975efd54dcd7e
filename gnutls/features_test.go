package gnutls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

func TestALPN(t *testing.T) {
	// The client offers protos to the server at addr and expects want.
	negotiate := func(t *testing.T, addr string, protos []string, want string) {
		cfg := clientConfig()
		cfg.NextProtos = protos
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := c.ConnectionState().NegotiatedProtocol; got != want {
			t.Fatalf("ALPN %q, want %q", got, want)
		}
	}
	t.Run("crypto/tls server", func(t *testing.T) {
		addr := goTLSServer(t, func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} })
		negotiate(t, addr, []string{"spdy/1", "http/1.1"}, "http/1.1")
	})
	t.Run("gnutls-serv", func(t *testing.T) {
		negotiate(t, peers.GnutlsServ(t, pki.ca, pki.leaf, "--alpn", "h2").Addr, []string{"h2"}, "h2")
	})
	t.Run("gnutls.Server with crypto/tls client", func(t *testing.T) {
		sc := serverConfig()
		sc.NextProtos = []string{"h2", "http/1.1"}
		addr, accepted := listenOnce(t, sc)
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sst := (<-accepted).ConnectionState()
		if c.ConnectionState().NegotiatedProtocol != "http/1.1" || sst.NegotiatedProtocol != "http/1.1" {
			t.Fatalf("ALPN client %q server %q", c.ConnectionState().NegotiatedProtocol, sst.NegotiatedProtocol)
		}
	})
}

// listenOnce starts a gnutls.Server that accepts one connection, completes
// its handshake and hands it over; it is closed when the test ends.
func listenOnce(t *testing.T, sc *Config) (string, <-chan *Conn) {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *Conn, 1)
	go func() {
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			close(ch)
			return
		}
		tc := c.(*Conn)
		t.Cleanup(func() { tc.Close() })
		if err := tc.Handshake(); err != nil {
			t.Logf("server handshake: %v", err)
		}
		ch <- tc
	}()
	return l.Addr().String(), ch
}

func TestSNI(t *testing.T) {
	addr, accepted := listenOnce(t, serverConfig())
	cfg := clientConfig()
	cfg.ServerName = "localhost"
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := (<-accepted).ConnectionState().ServerName; got != "localhost" {
		t.Fatalf("server saw SNI %q", got)
	}

	// No SNI for an IP address, as RFC 6066 says; verification still
	// checks the certificate's IP address.
	var sni = make(chan string, 1)
	addr = goTLSServer(t, func(c *tls.Config) {
		c.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) { sni <- h.ServerName; return nil, nil }
	})
	c2, err := Dial("tcp", addr, &Config{RootCAPEM: pki.ca.PEM})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := <-sni; got != "" {
		t.Fatalf("SNI %q sent for an IP address", got)
	}
}

// requireClientCert is a server Config that requires a client certificate
// issued by the test CA.
func requireClientCert() *Config {
	sc := serverConfig()
	sc.ClientAuth = RequireAndVerifyClientCert
	sc.ClientCAPEM = pki.ca.PEM
	return sc
}

func TestClientCertificates(t *testing.T) {
	client := pki.ca.Issue(testpki.Options{}, "client.example")
	t.Run("to crypto/tls", func(t *testing.T) {
		got := make(chan int, 1)
		addr := goTLSServer(t, func(c *tls.Config) {
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.ClientCAs = newPool(pki.ca.Cert)
			c.VerifyConnection = func(cs tls.ConnectionState) error { got <- len(cs.PeerCertificates); return nil }
		})
		cfg := clientConfig()
		cfg.Certificates = []tls.Certificate{client.TLS}
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echo(t, c, "with a client certificate")
		if n := <-got; n != 1 {
			t.Fatalf("server saw %d client certificates", n)
		}
	})
	t.Run("to gnutls.Server", func(t *testing.T) {
		addr, accepted := listenOnce(t, requireClientCert())
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost", Certificates: []tls.Certificate{client.TLS}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st := (<-accepted).ConnectionState()
		if len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "client.example" {
			t.Fatalf("server state: %+v", st)
		}
	})
	t.Run("missing, to gnutls.Server", func(t *testing.T) {
		addr, accepted := listenOnce(t, requireClientCert())
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: newPool(pki.ca.Cert), ServerName: "localhost"})
		if err == nil {
			// Under TLS 1.3 the client learns of the refusal on its first read.
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Fatal("server accepted a client without a certificate")
		}
		sc2 := <-accepted
		if sc2.ConnectionState().HandshakeComplete {
			t.Fatal("server handshake completed without a client certificate")
		}
	})
}

func TestResumption(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			for _, p := range []peer{servers[0], servers[2], servers[3]} {
				t.Run(p.name, func(t *testing.T) {
					addr, _ := p.start(t)
					cfg := clientConfig()
					cfg.Priority = v.priority
					cfg.ClientSessionCache = NewLRUClientSessionCache(4)
					for i, wantResumed := range []bool{false, true} {
						c, err := Dial("tcp", addr, cfg)
						if err != nil {
							t.Fatal(err)
						}
						echo(t, c, "resume me\n") // under TLS 1.3 the ticket arrives with this read; gnutls-serv echoes whole lines
						if got := c.ConnectionState().DidResume; got != wantResumed {
							t.Fatalf("connection %d: resumed %v, want %v", i, got, wantResumed)
						}
						c.Close()
					}
				})
			}
		})
	}
}

func TestVerificationFailure(t *testing.T) {
	other := testpki.NewCA("another CA")
	addr := goTLSServer(t, nil)
	_, err := Dial("tcp", addr, &Config{ServerName: "localhost", RootCAPEM: other.PEM})
	var ve *CertificateVerificationError
	if !errors.As(err, &ve) || !ve.Status.Has(CertSignerNotFound) || !errors.Is(err, ErrCertificateVerification) {
		t.Fatalf("got %v", err)
	}
	// The rejected chain comes with the error, as crypto/tls's
	// UnverifiedCertificates.
	if len(ve.Certificates) != 1 || !bytes.Equal(ve.Certificates[0], pki.leaf.Cert.Raw) {
		t.Fatalf("the error carries %d certificates, want the server's leaf", len(ve.Certificates))
	}
	_, err = Dial("tcp", addr, &Config{ServerName: "wrong.example", RootCAPEM: pki.ca.PEM})
	if !errors.As(err, &ve) || !ve.Status.Has(CertUnexpectedOwner) {
		t.Fatalf("got %v", err)
	}
	c, err := Dial("tcp", addr, &Config{ServerName: "wrong.example", InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("InsecureSkipVerify: %v", err)
	}
	c.Close()
}

func TestAlertReceived(t *testing.T) {
	// crypto/tls refuses a client offering only TLS 1.2 when it requires 1.3.
	addr := goTLSServer(t, func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })
	cfg := clientConfig()
	cfg.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
	_, err := Dial("tcp", addr, cfg)
	var ae *AlertError
	if !errors.As(err, &ae) || !ae.Fatal || !errors.Is(err, ErrFatalAlertReceived) {
		t.Fatalf("got %v", err)
	}
	t.Log(err)
}

func TestCloseNotifyIsEOF(t *testing.T) {
	addr, accepted := listenOnce(t, serverConfig())
	c, err := Dial("tcp", addr, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-accepted
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after close_notify: %v, want io.EOF", err)
	}
	// A peer that goes away without close_notify is not EOF.
	addr2, accepted2 := listenOnce(t, serverConfig())
	c2, err := Dial("tcp", addr2, clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	(<-accepted2).NetConn().Close()
	if _, err := c2.Read(make([]byte, 10)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read after a bare close: %v, want io.ErrUnexpectedEOF", err)
	}
}

var _ net.Conn = (*Conn)(nil)
