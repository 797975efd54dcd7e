package gnutls

import (
	"bufio"
	"os"
	"strings"
	"sync"
)

// GnuTLS's system-wide configuration file, as far as Conn needs it.

// systemKTLS reports whether GnuTLS's system-wide configuration turns
// kernel TLS on ("ktls = true" in the [global] section of
// $GNUTLS_SYSTEM_PRIORITY_FILE, else /etc/gnutls/config). GnuTLS enables
// kernel TLS only for sessions that use its own socket functions, so then
// Conn leaves the read-ahead out.
var systemKTLS = sync.OnceValue(func() bool {
	name := os.Getenv("GNUTLS_SYSTEM_PRIORITY_FILE")
	if name == "" {
		name = "/etc/gnutls/config"
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	return configEnablesKTLS(bufio.NewScanner(f))
})

// configEnablesKTLS reads GnuTLS's configuration file format (INI: [section],
// name = value, # and ; comments) for ktls = true in [global].
func configEnablesKTLS(sc *bufio.Scanner) bool {
	section := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section, _, _ = strings.Cut(line[1:], "]")
			section = strings.TrimSpace(section)
		default:
			name, value, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(section, "global") && strings.EqualFold(strings.TrimSpace(name), "ktls") &&
				strings.EqualFold(strings.TrimSpace(value), "true") {
				return true
			}
		}
	}
	return false
}
