package gnutls

import (
	"crypto/tls"
	"testing"
)

// Kernel TLS is trusted only for what GnuTLS gives the kernel keys for:
// TLS 1.2 and 1.3 with AES-GCM, named as GnuTLS names the ciphers.
func TestKTLSKeyed(t *testing.T) {
	for _, tc := range []struct {
		version uint16
		cipher  string
		want    bool
	}{
		{tls.VersionTLS13, "AES-128-GCM", true},
		{tls.VersionTLS13, "AES-256-GCM", true},
		{tls.VersionTLS12, "AES-128-GCM", true},
		{tls.VersionTLS13, "CHACHA20-POLY1305", false},
		{tls.VersionTLS12, "AES-128-CCM", false},
		{tls.VersionTLS12, "AES-256-CBC", false},
		{tls.VersionTLS11, "AES-128-GCM", false},
	} {
		if got := ktlsKeyed(tc.version, tc.cipher); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tls.VersionName(tc.version), tc.cipher, got, tc.want)
		}
	}
	// The names are GnuTLS's own: a session of each cipher reports it so.
	for _, tc := range []struct{ priority, cipher string }{
		{"NORMAL:-CIPHER-ALL:+AES-128-GCM", "AES-128-GCM"},
		{"NORMAL:-CIPHER-ALL:+AES-256-GCM", "AES-256-GCM"},
		{"NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305", "CHACHA20-POLY1305"},
	} {
		cc := clientConfig()
		cc.Priority = tc.priority
		c, err := Dial("tcp", echoListener(t, serverConfig()), cc)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Handshake(); err != nil {
			t.Fatalf("%s: %v", tc.priority, err)
		}
		if got := c.sess.Info().Cipher; got != tc.cipher {
			t.Errorf("%s: cipher %q, want %q", tc.priority, got, tc.cipher)
		}
		c.Close()
	}
}
