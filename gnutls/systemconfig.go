package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"bufio"
	"os"
	"strings"
	"sync"
)

// The system's policy. GnuTLS reads a system-wide configuration file when
// the library loads: $GNUTLS_SYSTEM_PRIORITY_FILE, else the file named at
// its build (/etc/gnutls/config on Debian; Fedora and RHEL point it at
// crypto-policies' back-end). Its [priorities] section names strings a
// priority string can refer to with @NAME (@SYSTEM), and its [overrides]
// section disables versions, algorithms and curves for every session of
// the process, whatever the priority string says. An empty
// Config.Priority uses GnuTLS's default priorities, which that file may
// set too.

// SystemPriorityFile returns the system-wide configuration file GnuTLS
// reads (gnutls_get_system_config_file); it need not exist.
func SystemPriorityFile() string { return cString(C.gnutls_get_system_config_file()) }

// FIPSMode reports whether GnuTLS runs in FIPS 140 mode
// (gnutls_fips140_mode_enabled): then it refuses the algorithms FIPS 140
// does not approve. A GnuTLS built without FIPS support, as Debian's, is
// never in it.
func FIPSMode() bool { return C.gnutls_fips140_mode_enabled() != 0 }

// systemKTLS reports whether GnuTLS's system-wide configuration turns
// kernel TLS on ("ktls = true" in the [global] section of
// SystemPriorityFile). GnuTLS enables kernel TLS only for sessions that use
// its own socket functions, so then Conn leaves the read-ahead out.
var systemKTLS = sync.OnceValue(func() bool {
	f, err := os.Open(SystemPriorityFile())
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
