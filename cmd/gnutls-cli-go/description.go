package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// printSessionLines writes what gnutls-cli prints of every session:
// its description, its session ID and how a pre-shared key authenticated
// (the server's hint, the identity).
func printSessionLines(w io.Writer, conn *gnutls.Conn, st gnutls.ConnectionState) {
	fmt.Fprintf(w, "- Description: %s\n", cliDescription(st.Info.Description))
	if id := conn.Session().SessionID(); len(id) > 0 {
		fmt.Fprintf(w, "- Session ID: %s\n", hexColons(id))
	}
	if st.PSKIdentityHint != "" {
		fmt.Fprintf(w, "- PSK authentication. PSK hint '%s'\n", st.PSKIdentityHint)
	}
	if st.PSKIdentity != "" {
		fmt.Fprintf(w, "- PSK authentication. Connected as '%s'\n", st.PSKIdentity)
	}
}

// cliDescription is gnutls_session_get_desc's text as gnutls-cli shows
// it. gnutls-cli enables raw public keys (GNUTLS_ENABLE_RAWPK), and then
// GnuTLS names the certificate type after the version:
// "(TLS1.3-X.509)-(ECDHE-SECP256R1)-...". This client negotiates X.509
// certificates only, so that is the type on both sides.
func cliDescription(desc string) string {
	if i := strings.IndexByte(desc, ')'); strings.HasPrefix(desc, "(") && i > 0 {
		return desc[:i] + "-X.509" + desc[i:]
	}
	return desc
}

// hexColons writes b as gnutls-cli does: upper-case hex, bytes apart by colons.
func hexColons(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}
