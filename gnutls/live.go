package gnutls

import "github.com/go-gnutls/go-gnutls/internal/live"

// The counters reach other packages' tests through internal/live.
func init() {
	live.Read = func() live.Counts {
		return live.Counts{
			Sessions:       liveSessions.Load(),
			Handles:        liveHandles.Load(),
			Credentials:    liveCredentials.Load(),
			PSKCredentials: livePSKCredentials.Load(),
			Collected:      leakedSessions.Load(),
		}
	}
}
