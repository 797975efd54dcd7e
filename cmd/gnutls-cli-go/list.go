package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// printList writes, as gnutls-cli --list does, what GnuTLS supports or,
// given a priority string, what that string enables.
func printList(w io.Writer, priority string) error {
	if priority == "" {
		printSupported(w)
		return nil
	}
	p, err := gnutls.ParsePriority(priority)
	if err != nil {
		return badPriority(err)
	}
	fmt.Fprintf(w, "Cipher suites for %s\n", priority)
	printSuites(w, p.Suites)
	listLine(w, "Certificate types", "CTYPE-", p.CertificateTypes)
	listLine(w, "Protocols", "VERS-", p.Protocols)
	listLine(w, "Ciphers", "", p.Ciphers)
	listLine(w, "MACs", "", p.MACs)
	listLine(w, "Key Exchange Algorithms", "", p.KeyExchanges)
	listLine(w, "Groups", "GROUP-", p.Groups)
	listLine(w, "PK-signatures", "SIGN-", p.Signatures)
	return nil
}

// printSupported is gnutls-cli --list without a priority string.
func printSupported(w io.Writer) {
	s := gnutls.SupportedAlgorithms()
	fmt.Fprintln(w, "Cipher suites:")
	printSuites(w, s.Suites)
	listLine(w, "Certificate types", "CTYPE-", s.CertificateTypes)
	listLine(w, "Protocols", "VERS-", s.Protocols)
	listLine(w, "Ciphers", "", s.Ciphers)
	listLine(w, "MACs", "", s.MACs)
	listLine(w, "Digests", "", s.Digests)
	listLine(w, "Key exchange algorithms", "", s.KeyExchanges)
	listLine(w, "Compression", "COMP-", s.Compression)
	listLine(w, "Groups", "GROUP-", s.Groups)
	listLine(w, "Public Key Systems", "", s.PublicKeys)
	listLine(w, "PK-signatures", "SIGN-", s.Signatures)
}

func printSuites(w io.Writer, suites []gnutls.CipherSuite) {
	for _, s := range suites {
		fmt.Fprintf(w, "%-50s\t0x%02x, 0x%02x\t%s\n", s.Name, s.ID>>8, s.ID&0xff, s.MinVersion)
	}
	fmt.Fprintln(w)
}

// listLine writes "title: prefixNAME, prefixNAME".
func listLine(w io.Writer, title, prefix string, names []string) {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	fmt.Fprintf(w, "%s: %s\n", title, strings.Join(out, ", "))
}

// printVersion writes the program's version and the GnuTLS it uses.
func printVersion(w io.Writer) {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintf(w, "gnutls-cli-go %s (github.com/go-gnutls/go-gnutls, %s)\n", v, runtime.Version())
	fmt.Fprintf(w, "GnuTLS %s (compiled against %s)\n", gnutls.Version(), gnutls.HeaderVersion)
}
