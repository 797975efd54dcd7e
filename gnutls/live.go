//go:build cgo

package gnutls

import "github.com/go-gnutls/go-gnutls/internal/livecount"

// The counters reach other packages' tests (internal/live) through
// internal/livecount, which imports nothing test-only.
func init() {
	livecount.Read = func() livecount.Counts {
		return livecount.Counts{
			Sessions:       liveSessions.Load(),
			Handles:        liveHandles.Load(),
			Credentials:    liveCredentials.Load(),
			PSKCredentials: livePSKCredentials.Load(),
			Collected:      leakedSessions.Load(),
		}
	}
}
