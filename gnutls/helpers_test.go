package gnutls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// pki is one CA and a certificate for localhost, 127.0.0.1 and ::1,
// shared by the tests of this package.
var pki = func() struct {
	ca   *testpki.CA
	leaf *testpki.Leaf
} {
	ca := testpki.NewCA("go-gnutls test CA")
	return struct {
		ca   *testpki.CA
		leaf *testpki.Leaf
	}{ca, ca.Issue(testpki.Options{}, "localhost", "127.0.0.1", "::1")}
}()

func clientConfig() *Config {
	return &Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM}
}

func serverConfig() *Config {
	return &Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
}

// goTLSServer starts a crypto/tls echo server; cfg may adjust its config.
func goTLSServer(t testing.TB, cfg func(*tls.Config)) string {
	t.Helper()
	tc := &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
	if cfg != nil {
		cfg(tc)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	serveEcho(l)
	return l.Addr().String()
}

// echo writes msg and expects it back.
func echo(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo: got %q, want %q", buf, msg)
	}
}

// isClosedOrEOF reports an error a closed peer may give.
func isClosedOrEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed)
}

func newPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// serveEcho accepts until l is closed and echoes on each connection.
func serveEcho(l net.Listener) {
	peers.Serve(l, func(c net.Conn) { io.Copy(c, c) })
}

// echoListener listens on loopback with sc and echoes on every connection
// until the test ends; it returns the address.
func echoListener(t testing.TB, sc *Config) string {
	return serveOn(t, sc, func(c *Conn) { io.Copy(c, c) })
}

// serveOn listens on loopback with sc and runs handle on every connection
// (closed afterwards) until the test ends; it returns the address.
func serveOn(t testing.TB, sc *Config, handle func(c *Conn)) string {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	stop := peers.Serve(l, func(c net.Conn) { handle(c.(*Conn)) })
	// Dropped once run, so that sc, and the credentials it holds, can be
	// collected before a leak check that runs after this cleanup.
	t.Cleanup(func() { stop(); stop = nil })
	return l.Addr().String()
}

// echoConcurrently writes data from another goroutine while it reads the
// echo back, and checks it. After a failed read it returns at once; closing
// c ends the writer.
func echoConcurrently(c net.Conn, data []byte) error {
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		errc <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, data) {
		return errors.New("echo came back changed")
	}
	return nil
}
