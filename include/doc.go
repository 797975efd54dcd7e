// Package include holds the C headers of the binding (go_gnutls*.h). It
// has no Go API: package gnutls imports it so that the headers travel
// with the module, as go mod vendor copies only the directories of
// packages that are imported.
package include
