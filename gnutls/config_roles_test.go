package gnutls

import (
	"crypto/tls"
	"fmt"
	"sync"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// One Config serves as client and server, as in crypto/tls: each role has
// its own credentials, whichever is built first. The Config trusts pki.ca
// for servers (RootCAPEM) and another CA for client certificates
// (ClientCAPEM), so credentials built for the wrong role fail either side.
func TestConfigServesBothRoles(t *testing.T) {
	clientCA := testpki.NewCA("go-gnutls client CA")
	clientLeaf := clientCA.Issue(testpki.Options{}, "client")
	both := func() *Config {
		return &Config{
			ServerName:   "localhost",
			Certificates: []tls.Certificate{pki.leaf.TLS},
			RootCAPEM:    pki.ca.PEM,
			ClientCAPEM:  clientCA.PEM,
			ClientAuth:   VerifyClientCertIfGiven,
		}
	}
	// asServer has a client with a certificate of clientCA connect to a
	// listener of the Config at addr.
	asServer := func(addr string) error {
		cc := clientConfig()
		cc.Certificates = []tls.Certificate{clientLeaf.TLS}
		c, err := Dial("tcp", addr, cc)
		if err != nil {
			return fmt.Errorf("client of the server role: %w", err)
		}
		defer c.Close()
		if err := echoConcurrently(c, []byte("ping")); err != nil {
			return fmt.Errorf("server role refused the client certificate: %w", err)
		}
		return nil
	}
	// asClient dials a server at addr with cfg.
	asClient := func(addr string, cfg *Config) error {
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			return fmt.Errorf("client role: %w", err)
		}
		defer c.Close()
		return echoConcurrently(c, []byte("ping"))
	}
	t.Run("server first", func(t *testing.T) {
		checkLeaks(t)
		cfg := both()
		if err := asServer(echoListener(t, cfg)); err != nil {
			t.Fatal(err)
		}
		if err := asClient(goTLSServer(t, nil), cfg); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("client first", func(t *testing.T) {
		checkLeaks(t)
		cfg := both()
		if err := asClient(goTLSServer(t, nil), cfg); err != nil {
			t.Fatal(err)
		}
		if err := asServer(echoListener(t, cfg)); err != nil {
			t.Fatal(err)
		}
	})
	// Both roles build their credentials at once.
	t.Run("concurrent", func(t *testing.T) {
		checkLeaks(t)
		target := goTLSServer(t, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 10 {
			cfg := both()
			addr := echoListener(t, cfg)
			wg.Go(func() { errs <- asServer(addr) })
			wg.Go(func() { errs <- asClient(target, cfg) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}
