package gnutls

import (
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// A chain the client Config verified is not verified again on the next
// resumption, but only for the same name, the same chain and a session
// that was verified, and never past chainMemoTTL or any chain
// certificate's expiry.
func TestResumeChainMemo(t *testing.T) {
	checkLeaks(t)
	now := time.Now()
	ca := testpki.NewCA("memo CA")
	shortIM := ca.Issue(testpki.Options{IsCA: true, NotAfter: now.Add(40 * time.Second)}, "memo intermediate")
	im := &testpki.CA{Cert: shortIM.Cert, Key: shortIM.Key, PEM: shortIM.CertPEM}
	longIM := ca.Intermediate("memo intermediate 2")
	for _, tc := range []struct {
		name  string
		leaf  *testpki.Leaf
		until time.Duration // how long the memo may hold it
	}{
		{"intermediate expires first", im.Issue(testpki.Options{NotAfter: now.Add(2 * time.Hour)}, "localhost").WithChain(im), 40 * time.Second},
		{"leaf expires first", longIM.Issue(testpki.Options{NotAfter: now.Add(20 * time.Second)}, "localhost").WithChain(longIM), 20 * time.Second},
		{"the bound", longIM.Issue(testpki.Options{}, "localhost").WithChain(longIM), chainMemoTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{ServerName: "localhost", RootCAPEM: ca.PEM}
			e := cachedSession{verified: true, chain: tc.leaf.TLS.Certificate}
			unverified := cachedSession{chain: e.chain}
			if c.offerable(unverified, "localhost", now) {
				t.Fatal("a session made without verification was offerable")
			}
			if !c.offerable(e, "localhost", now) {
				t.Fatal("a verified session with a valid chain was not offerable")
			}
			key := chainKey(e.chain, "localhost")
			if !c.chains.verified(key, now.Add(tc.until-time.Second)) {
				t.Errorf("not remembered %v later", tc.until-time.Second)
			}
			if c.chains.verified(key, now.Add(tc.until)) {
				t.Errorf("remembered %v later, past its bound", tc.until)
			}
			c.offerable(e, "localhost", now) // remembered again
			if c.offerable(unverified, "localhost", now) {
				t.Error("a session made without verification was offerable once its chain was remembered")
			}
			if c.offerable(e, "other.example", now) {
				t.Error("the chain was offerable for a name it does not hold")
			}
			cut := cachedSession{verified: true, chain: e.chain[:1]}
			if c.offerable(cut, "localhost", now) {
				t.Error("the leaf without its intermediate was offerable")
			}
			if n := c.chains.len(); n != 1 {
				t.Errorf("%d chains remembered, want 1", n)
			}
		})
	}
}
