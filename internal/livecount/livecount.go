// Package livecount carries package gnutls's counts of what it has alive
// in C to the leak checks of other packages' tests (internal/live),
// without making them part of gnutls's API. It imports nothing, so a
// program linking gnutls links nothing more for it.
package livecount

// Counts is what package gnutls has alive: GnuTLS sessions, handles
// given to C, certificate and PSK credentials, and the sessions freed by
// their cleanup instead of Close.
type Counts struct {
	Sessions, Handles, Credentials, PSKCredentials, Collected int64
}

// Read returns the counts; package gnutls sets it when it is linked in.
var Read = func() Counts { return Counts{} }
