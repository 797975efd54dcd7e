package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import "sync"

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

// earlyDataLimitTrusted reports whether a client session's
// gnutls_record_get_max_early_data_size tells a ticket that allows no early
// data apart from one that allows any amount. From GnuTLS 3.8.9 a client
// session starts at 0 and only a ticket's early_data extension raises it.
// Before, it starts at UINT32_MAX, which a ticket without the extension
// leaves in place: UINT32_MAX then says nothing. Decided once, from what the
// library linked at run time reports for a new client session.
var earlyDataLimitTrusted = sync.OnceValue(func() bool {
	return C.go_gnutls_client_early_data_default() == 0
})
