//go:build !cgo

package gnutls

// This package binds the GnuTLS C library and needs cgo: build with
// CGO_ENABLED=1, a C compiler and libgnutls28-dev (pkg-config gnutls).
var _ = this_package_needs_cgo_CGO_ENABLED_1_and_libgnutls28_dev
