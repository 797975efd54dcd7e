package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

// Version returns the version of the GnuTLS library linked at run time
// (gnutls_check_version), such as "3.7.9".
func Version() string { return C.GoString(C.gnutls_check_version(nil)) }

// HeaderVersion is the GnuTLS version the package was compiled against.
const HeaderVersion = C.GNUTLS_VERSION

// SetDebugLevel makes GnuTLS write its debug messages up to level (0:
// none, up to 9999: everything) to the process's stderr, each prefixed
// "|<level>| " as gnutls-cli -d prints them. It applies to the whole
// process (gnutls_global_set_log_level).
func SetDebugLevel(level int) {
	C.go_gnutls_set_log_level(C.int(level))
}
