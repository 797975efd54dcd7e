// Command gnutls-serv-go is a TLS server in the manner of GnuTLS's
// gnutls-serv, built on the go-gnutls packages: an HTTPS server
// (gnutlshttp.Server) or an echo server (gnutls.Listen) that can share its
// session ticket keys, session cache and 0-RTT anti-replay with other
// instances, so that several of them serve one name as a fleet.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
