//go:build !cgo

package gnutls

// Without cgo only this file is built: it fails to compile, and the
// message in its error is the build's first and only one.
const _ int = "gnutls needs cgo: CGO_ENABLED=1, gcc, pkg-config and libgnutls28-dev"
