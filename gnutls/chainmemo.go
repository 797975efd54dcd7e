//go:build cgo

package gnutls

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// chainMemo remembers, for a client Config, which server chains its
// credentials verified for which name, so that resuming a cached session
// does not verify its chain again on every connection (offerable). Only
// success is kept, and only until the first chain certificate expires or
// chainMemoTTL passes, whichever comes first: the Config's roots and CRLs
// do not change once built, and the bound keeps any other time-dependent
// outcome (a CRL's next update, an anchor's expiry) at most that stale.
type chainMemo struct {
	mu sync.Mutex
	ok map[[sha256.Size]byte]time.Time // chain and name -> valid until
}

// chainMemoTTL bounds how long a verification is reused; chainMemoMax
// bounds the entries held (past it, the memo starts over).
const (
	chainMemoTTL = time.Minute
	chainMemoMax = 1024
)

// chainKey digests the name and every certificate, each with its length.
func chainKey(chain [][]byte, name string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	for _, der := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(der)))
		h.Write(n[:])
		h.Write(der)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verified reports whether the chain verified for name and is still
// within its memo's validity at now.
func (m *chainMemo) verified(key [sha256.Size]byte, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.ok[key]
	if ok && !now.Before(until) {
		delete(m.ok, key)
		return false
	}
	return ok
}

// remember records that the chain of leaf and rest verified at now. A
// chain with a certificate crypto/x509 cannot parse, so whose expiry is
// unknown here, is not remembered.
func (m *chainMemo) remember(key [sha256.Size]byte, leaf *x509.Certificate, rest [][]byte, now time.Time) {
	until := now.Add(chainMemoTTL)
	if leaf.NotAfter.Before(until) {
		until = leaf.NotAfter
	}
	for _, der := range rest {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ok == nil || len(m.ok) >= chainMemoMax {
		m.ok = make(map[[sha256.Size]byte]time.Time)
	}
	m.ok[key] = until
}

// len is how many chains the memo holds, for tests.
func (m *chainMemo) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ok)
}
