package gnutls

import (
	"crypto/tls"
	"reflect"
	"testing"
)

// ConnectionState after Close is the state the handshake left, as in
// crypto/tls: the session it came from is freed by then.
func TestConnectionStateAfterClose(t *testing.T) {
	checkLeaks(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			sc := serverConfig()
			sc.NextProtos = []string{"h2"}
			addr := echoListener(t, sc)
			cfg := clientConfig()
			cfg.Priority = v.priority
			cfg.NextProtos = []string{"h2"}
			c, err := Dial("tcp", addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			echo(t, c, "ping")
			before := c.ConnectionState()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			after := c.ConnectionState()
			if after.Version != v.want || after.CipherSuite == 0 || tls.CipherSuiteName(after.CipherSuite) == "" ||
				len(after.PeerCertificates) == 0 || after.NegotiatedProtocol != "h2" || after.ServerName != "localhost" ||
				after.Info.Cipher == "" || !after.HandshakeComplete {
				t.Fatalf("state after Close: %+v", after)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("state changed by Close:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// A state asked for only after Close is the same.
func TestConnectionStateFirstAskedAfterClose(t *testing.T) {
	checkLeaks(t)
	c, err := Dial("tcp", echoListener(t, serverConfig()), clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c, "ping")
	c.Close()
	st := c.ConnectionState()
	if st.Version == 0 || st.CipherSuite == 0 || len(st.PeerCertificates) == 0 ||
		st.PeerCertificates[0].SerialNumber.Cmp(pki.leaf.Cert.SerialNumber) != 0 {
		t.Fatalf("state after Close: %+v", st)
	}
}
