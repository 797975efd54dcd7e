package gnutls

import (
	"crypto/tls"
	"testing"
)

func TestCertificateRequestedAndSent(t *testing.T) {
	for _, tc := range []struct {
		name            string
		auth            ClientAuthType
		withCert        bool
		requested, sent bool
	}{
		{"not requested", NoClientCert, true, false, false},
		{"requested, none given", RequestClientCert, false, true, false},
		{"requested and given", RequestClientCert, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := serverConfig()
			sc.ClientAuth = tc.auth
			addr := echoListener(t, sc)
			cc := clientConfig()
			if tc.withCert {
				cc.Certificates = []tls.Certificate{pki.leaf.TLS}
			}
			c, err := Dial("tcp", addr, cc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "ping")
			if got := c.Session().CertificateRequested(); got != tc.requested {
				t.Errorf("CertificateRequested %v, want %v", got, tc.requested)
			}
			if got := c.Session().CertificateSent(); got != tc.sent {
				t.Errorf("CertificateSent %v, want %v", got, tc.sent)
			}
		})
	}
}
