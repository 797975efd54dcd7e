package gnutls

// #cgo pkg-config: gnutls
// #cgo CFLAGS: -I${SRCDIR}/../include
// #include "go_gnutls.h"
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	_ "github.com/go-gnutls/go-gnutls/include" // the headers travel with the package (go mod vendor)
)

// Version returns the version of the GnuTLS library linked at run time
// (gnutls_check_version), such as "3.7.9".
func Version() string { return C.GoString(C.gnutls_check_version(nil)) }

// HeaderVersion is the GnuTLS version the package was compiled against.
const HeaderVersion = C.GNUTLS_VERSION

// MinVersion is the oldest GnuTLS the package supports: an older one stops
// the build (include/go_gnutls.h) and, linked at run time, makes NewSession
// fail with ErrLibraryVersion.
const MinVersion = "3.7.3"

// minVersionNumber is MinVersion as the header's #error compares it.
const minVersionNumber = C.GO_GNUTLS_MIN_VERSION_NUMBER

// ErrLibraryVersion is returned by NewSession when the GnuTLS linked at run
// time is older than MinVersion.
var ErrLibraryVersion = errors.New("gnutls: the GnuTLS linked at run time is too old")

// checkVersion returns an error wrapping ErrLibraryVersion unless the GnuTLS
// linked at run time is min or newer (gnutls_check_version).
func checkVersion(min string) error {
	cs := C.CString(min)
	defer C.free(unsafe.Pointer(cs))
	if C.gnutls_check_version(cs) == nil {
		return fmt.Errorf("%w: GnuTLS %s, the package needs %s or newer", ErrLibraryVersion, Version(), min)
	}
	return nil
}

// libraryVersionError is checkVersion(MinVersion), asked once.
var libraryVersionError = sync.OnceValue(func() error { return checkVersion(MinVersion) })

// SetDebugLevel makes GnuTLS write its debug messages up to level (0:
// none, up to 9999: everything) to the process's stderr, each prefixed
// "|<level>| " as gnutls-cli -d prints them. It applies to the whole
// process (gnutls_global_set_log_level).
func SetDebugLevel(level int) {
	C.go_gnutls_set_log_level(C.int(level))
}
