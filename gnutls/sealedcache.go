//go:build cgo

package gnutls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"time"
)

// A server's session cache entries sealed under keys derived from the
// session ticket keys (SetSessionTicketKeys), so that whoever reads the
// store (a shared Redis, a backup) learns no session secret, and an entry
// altered or moved to another session ID is refused.
//
// A sealed entry is sealedMagic, the 8-byte ID of the sealing key, a
// 12-byte nonce and GnuTLS's session data sealed with AES-256-GCM, whose
// additional data is the entry's header and the session ID.

const sealedMagic = "GGC1"

// errSealedEntry is why an entry is not opened: it is malformed, sealed
// under a key not listed, for another ID, or altered.
var errSealedEntry = errors.New("gnutls: session cache entry not sealed by this Config's ticket keys")

const (
	sealKeyIDSize = 8
	sealedHeader  = len(sealedMagic) + sealKeyIDSize
)

// sealKey seals and opens session cache entries.
type sealKey struct {
	id   [sealKeyIDSize]byte
	aead cipher.AEAD
}

func newSealKey(key []byte) sealKey {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // the key is 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	var k sealKey
	sum := sha256.Sum256(append([]byte("go-gnutls session cache key id"), key...))
	copy(k.id[:], sum[:])
	k.aead = aead
	return k
}

// sealedCache seals the entries it passes to cache with the first of
// keys, and opens those sealed with any.
type sealedCache struct {
	cache ServerSessionCache
	keys  []sealKey
}

func (c sealedCache) Put(id string, data []byte, expires time.Time) {
	k := c.keys[0]
	b := make([]byte, sealedHeader, sealedHeader+k.aead.NonceSize()+len(data)+k.aead.Overhead())
	copy(b, sealedMagic)
	copy(b[len(sealedMagic):], k.id[:])
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	b = append(b, nonce...)
	b = k.aead.Seal(b, nonce, data, sealedAD(b[:sealedHeader], id))
	c.cache.Put(id, b, expires)
}

// Get returns the entry opened, or nothing when it is not one this
// Config's keys sealed for id.
func (c sealedCache) Get(id string) ([]byte, bool) {
	b, ok := c.cache.Get(id)
	if !ok {
		return nil, false
	}
	data, err := c.open(id, b)
	return data, err == nil
}

func (c sealedCache) Delete(id string) { c.cache.Delete(id) }

// open returns the session data sealed in b for id.
func (c sealedCache) open(id string, b []byte) ([]byte, error) {
	if len(b) < sealedHeader || string(b[:len(sealedMagic)]) != sealedMagic {
		return nil, errSealedEntry
	}
	for _, k := range c.keys {
		if string(k.id[:]) != string(b[len(sealedMagic):sealedHeader]) {
			continue
		}
		rest := b[sealedHeader:]
		if len(rest) < k.aead.NonceSize() {
			return nil, errSealedEntry
		}
		data, err := k.aead.Open(nil, rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():], sealedAD(b[:sealedHeader], id))
		if err != nil {
			return nil, errSealedEntry
		}
		return data, nil
	}
	return nil, errSealedEntry
}

func sealedAD(header []byte, id string) []byte {
	return append(append([]byte(nil), header...), id...)
}
