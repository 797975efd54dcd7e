package tlsrecord

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

var (
	ca   = testpki.NewCA("tlsrecord test CA")
	leaf = ca.Issue(testpki.Options{}, "localhost")
)

// suites are what a test can ask crypto/tls for; zero is TLS 1.3.
var suites = []struct {
	name string
	id   uint16
}{
	{"TLS1.3", 0},
	{"TLS1.2 AES-128-GCM", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	{"TLS1.2 AES-256-GCM", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
	{"TLS1.2 AES-128-CBC-SHA1", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	{"TLS1.2 AES-256-CBC-SHA1", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
}

func configs(id uint16) (client, server *tls.Config) {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	client = &tls.Config{ServerName: "localhost", RootCAs: pool}
	server = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	if id != 0 {
		client.MaxVersion = tls.VersionTLS12
		client.CipherSuites = []uint16{id}
	}
	return client, server
}

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (a, b net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// handshakePair returns both ends of a loopback connection, the server's
// recorded with its key log when recordServer, else the client's.
func handshakePair(t *testing.T, id uint16, recordServer bool) (tc, ts *tls.Conn, rec *Recorder, kl *KeyLog) {
	cc, sc := configs(id)
	a, b := pair(t)
	kl = &KeyLog{}
	if recordServer {
		sc.KeyLogWriter, rec = kl, NewRecorder(b)
		return tls.Client(a, cc), tls.Server(rec, sc), rec, kl
	}
	cc.KeyLogWriter, rec = kl, NewRecorder(a)
	return tls.Client(rec, cc), tls.Server(b, sc), rec, kl
}

// handshake runs side's handshake and returns a Conn over it.
func handshake(t *testing.T, side *tls.Conn, rec *Recorder, kl *KeyLog) *Conn {
	t.Helper()
	if err := side.Handshake(); err != nil {
		t.Fatal(err)
	}
	c, err := New(side, rec, kl)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextData returns the payload of the next application data record,
// passing over post-handshake messages.
func nextData(t *testing.T, c *Conn) []byte {
	t.Helper()
	for {
		r, err := c.ReadRecord()
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != Handshake {
			if r.Type != ApplicationData {
				t.Fatalf("record of type %d: % x", r.Type, r.Payload)
			}
			return r.Payload
		}
	}
}

// As a client, Conn's records are read by crypto/tls's server, which
// answers under keys Conn opens, and refuses a record that does not
// decrypt with the alert Conn then reads.
func TestClientSideAgainstCryptoTLS(t *testing.T) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			tc, ts, rec, kl := handshakePair(t, s.id, false)
			served := make(chan error, 1)
			go func() {
				buf := make([]byte, 100)
				n, err := ts.Read(buf)
				if err == nil {
					_, err = ts.Write(buf[:n])
				}
				if err == nil {
					_, err = ts.Read(buf) // the garbage: crypto/tls sends its alert
				}
				served <- err
			}()
			c := handshake(t, tc, rec, kl)
			if err := c.WriteRecord(ApplicationData, []byte("ping")); err != nil {
				t.Fatal(err)
			}
			if got := nextData(t, c); string(got) != "ping" {
				t.Fatalf("echo %q", got)
			}
			garbage := make([]byte, 64)
			rand.Read(garbage)
			if err := c.WriteRaw(append(Header(ApplicationData, len(garbage)), garbage...)); err != nil {
				t.Fatal(err)
			}
			r, err := c.ReadRecord()
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != Alert || !bytes.Equal(r.Payload, []byte{2, 20}) {
				t.Fatalf("after a garbage record: type %d % x, want a fatal bad_record_mac alert", r.Type, r.Payload)
			}
			if err := <-served; err == nil {
				t.Fatal("crypto/tls read the garbage record")
			}
		})
	}
}

// As a server, Conn's records reach crypto/tls's client and the client's
// reach Conn.
func TestServerSideAgainstCryptoTLS(t *testing.T) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			tc, ts, rec, kl := handshakePair(t, s.id, true)
			got := make(chan string, 1)
			go func() {
				buf := make([]byte, 100)
				n, err := io.ReadFull(tc, buf[:4])
				if err == nil {
					_, err = tc.Write([]byte("back"))
				}
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(buf[:n])
			}()
			c := handshake(t, ts, rec, kl)
			if err := c.WriteRecord(ApplicationData, []byte("pong")); err != nil {
				t.Fatal(err)
			}
			if g := <-got; g != "pong" {
				t.Fatalf("client read %q", g)
			}
			if data := nextData(t, c); string(data) != "back" {
				t.Fatalf("server read %q", data)
			}
		})
	}
}
