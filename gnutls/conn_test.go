package gnutls

import (
	"crypto/tls"
	"testing"
)

func TestDialGoTLSServer(t *testing.T) {
	for _, v := range []struct {
		name string
		max  uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		t.Run(v.name, func(t *testing.T) {
			addr := goTLSServer(t, func(c *tls.Config) { c.MaxVersion = v.max })
			c, err := Dial("tcp", addr, clientConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "hello over "+v.name)
			st := c.ConnectionState()
			if st.Version != v.max || !st.HandshakeComplete || st.CipherSuite == 0 {
				t.Fatalf("state: %+v", st)
			}
			if tls.CipherSuiteName(st.CipherSuite) == "" {
				t.Fatalf("cipher suite %#x unknown to crypto/tls", st.CipherSuite)
			}
			t.Logf("%s %s %s", st.Info.Description, tls.CipherSuiteName(st.CipherSuite), st.Info.Group)
		})
	}
}

func TestServerWithGoTLSClient(t *testing.T) {
	l, err := Listen("tcp", "127.0.0.1:0", serverConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 5)
		if _, err := c.Read(buf); err != nil {
			done <- err
			return
		}
		_, err = c.Write(buf)
		done <- err
	}()
	pool := pki.ca.Cert
	roots := newPool(pool)
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{ServerName: "localhost", RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, "hello")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
