// Package benchcfg is what the benchmarks of bench/ and the programs they
// start configure their stacks with, so that every process of a benchmark
// runs the same TLS parameters and serves the same response.
package benchcfg

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// Priority is the GnuTLS priority string of the benchmarks: TLS 1.3,
// AES-128-GCM, X25519. crypto/tls picks the same on a machine with AES-NI.
const Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519"

// ServerName is the name the clients ask for and the certificates carry.
const ServerName = "localhost"

// Server is this package's server configuration, presenting cert.
func Server(cert tls.Certificate) *gnutls.Config {
	return &gnutls.Config{Certificates: []tls.Certificate{cert}, Priority: Priority}
}

// Client is this package's client configuration, trusting the CAs in caPEM.
func Client(caPEM []byte) *gnutls.Config {
	return &gnutls.Config{ServerName: ServerName, RootCAPEM: caPEM, Priority: Priority}
}

// GoServer is crypto/tls's server configuration, presenting cert.
func GoServer(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519}}
}

// GoClient is crypto/tls's client configuration, trusting the CAs in caPEM.
func GoClient(caPEM []byte) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &tls.Config{ServerName: ServerName, RootCAs: pool, MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519}}
}

// SmallResponse answers every request with "hello\n", as nginx's / does
// (internal/peers.Nginx).
var SmallResponse = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello\n")
})
