package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// rsaPair writes a certificate for localhost with an RSA key, issued by
// pki.ca, and its key; it returns their paths.
func rsaPair(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pki.ca.Cert, &key.PublicKey, pki.ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "rsa-cert.pem"), filepath.Join(dir, "rsa-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestSeveralPairs: with an ECDSA and an RSA pair, a client that accepts
// only RSA (TLS 1.2 ECDHE-RSA) gets the RSA certificate and one that
// accepts only ECDSA gets the ECDSA one, from gnutls-serv-go as from
// gnutls-serv.
func TestSeveralPairs(t *testing.T) {
	rsaCert, rsaKey := rsaPair(t)
	eachEchoServer(t, func(t *testing.T, start func(*testing.T, ...string) string) {
		// start adds pki's ECDSA pair first.
		addr := start(t, "--x509certfile", rsaCert, "--x509keyfile", rsaKey)
		for _, c := range []struct {
			suite uint16
			want  x509.PublicKeyAlgorithm
		}{
			{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, x509.RSA},
			{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, x509.ECDSA},
		} {
			cfg := tlsConfig()
			cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, []uint16{c.suite}
			_, st, err := echoLine(t, addr, cfg, "hi")
			if err != nil {
				t.Errorf("%s: %v", tls.CipherSuiteName(c.suite), err)
				continue
			}
			if got := st.PeerCertificates[0].PublicKeyAlgorithm; got != c.want {
				t.Errorf("%s: the server presented a %v certificate", tls.CipherSuiteName(c.suite), got)
			}
		}
	})
}
