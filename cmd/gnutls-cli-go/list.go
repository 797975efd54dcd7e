package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// printList writes what the priority string enables, as gnutls-cli --list
// does for a priority string.
func printList(w io.Writer, priority string) error {
	p, err := gnutls.ParsePriority(priority)
	if err != nil {
		return badPriority(err)
	}
	name := priority
	if name == "" {
		name = "the default priorities"
	}
	fmt.Fprintf(w, "Cipher suites for %s\n", name)
	for _, s := range p.Suites {
		fmt.Fprintf(w, "%-50s\t0x%02x, 0x%02x\t%s\n", s.Name, s.ID>>8, s.ID&0xff, s.MinVersion)
	}
	fmt.Fprintln(w)
	line := func(title, prefix string, names []string) {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = prefix + n
		}
		fmt.Fprintf(w, "%s: %s\n", title, strings.Join(out, ", "))
	}
	line("Certificate types", "CTYPE-", p.CertificateTypes)
	line("Protocols", "VERS-", p.Protocols)
	line("Ciphers", "", p.Ciphers)
	line("MACs", "", p.MACs)
	line("Key Exchange Algorithms", "", p.KeyExchanges)
	line("Groups", "GROUP-", p.Groups)
	line("PK-signatures", "SIGN-", p.Signatures)
	return nil
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
