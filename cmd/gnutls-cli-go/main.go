// Command gnutls-cli-go is a TLS client in the manner of GnuTLS's
// gnutls-cli, built on the go-gnutls package: it connects, reports the
// session (including what became of TCP Fast Open) on stderr, and then
// copies stdin to the server and the server's data to stdout.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
