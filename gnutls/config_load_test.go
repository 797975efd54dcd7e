package gnutls

import (
	"errors"
	"net"
	"path/filepath"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// badServerConfigs are server Configs that cannot load: each must fail
// Listen, not every handshake after it.
func badServerConfigs(t *testing.T) map[string]*Config {
	t.Helper()
	_, certFile, keyFile, err := testpki.Files(t.TempDir(), pki.ca, pki.leaf)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Config{
		"missing CertFile":   {CertFile: filepath.Join(t.TempDir(), "missing.pem"), KeyFile: keyFile},
		"key as certificate": {CertFile: keyFile, KeyFile: keyFile},
		"bogus priority":     {CertFile: certFile, KeyFile: keyFile, Priority: "BOGUS"},
		"missing ClientCAFile": {CertFile: certFile, KeyFile: keyFile, ClientAuth: RequireAndVerifyClientCert,
			ClientCAFile: filepath.Join(t.TempDir(), "missing-ca.pem")},
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Listen loads the Config and returns its error, listening on nothing.
func TestListenChecksConfig(t *testing.T) {
	checkLeaks(t)
	for name, cfg := range badServerConfigs(t) {
		t.Run(name, func(t *testing.T) {
			addr := freePort(t)
			l, err := Listen("tcp", addr, cfg)
			if err == nil {
				l.Close()
				t.Fatal("Listen accepted a Config that cannot load")
			}
			var pe *PriorityError
			if name == "bogus priority" && !errors.As(err, &pe) {
				t.Errorf("got %v, want a *PriorityError", err)
			}
			t.Log(err)
			free, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("after the failed Listen, %s is still taken: %v", addr, err)
			}
			free.Close()
		})
	}
}

// A Config whose first use failed to load is loaded again once corrected.
func TestConfigCorrectedAfterFailure(t *testing.T) {
	checkLeaks(t)
	addr := echoListener(t, serverConfig())
	caFile, _, _, err := testpki.Files(t.TempDir(), pki.ca, pki.leaf)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{ServerName: "localhost", RootCAFile: caFile + ".missing"}
	if c, err := Dial("tcp", addr, cfg); err == nil {
		c.Close()
		t.Fatal("Dial succeeded with a missing RootCAFile")
	}
	cfg.RootCAFile = caFile
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("after correcting RootCAFile: %v", err)
	}
	defer c.Close()
	echo(t, c, "corrected")

	sc := &Config{Certificates: serverConfig().Certificates, Priority: "BOGUS"}
	if err := sc.CheckServer(); err == nil {
		t.Fatal("CheckServer accepted a bogus priority string")
	}
	sc.Priority = ""
	if err := sc.CheckServer(); err != nil {
		t.Fatalf("after correcting Priority: %v", err)
	}
}
