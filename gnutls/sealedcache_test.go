package gnutls

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// storeCache is a ServerSessionCache that keeps what it is given as is,
// for a test to read, and can alter what it returns.
type storeCache struct {
	mu      sync.Mutex
	entries map[string][]byte
	alter   func([]byte) []byte
}

func (c *storeCache) Put(id string, data []byte, _ time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string][]byte{}
	}
	c.entries[id] = bytes.Clone(data)
}

func (c *storeCache) Get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.entries[id]
	if ok && c.alter != nil {
		b = c.alter(bytes.Clone(b))
	}
	return bytes.Clone(b), ok
}

func (c *storeCache) Delete(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

func (c *storeCache) all() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all [][]byte
	for _, b := range c.entries {
		all = append(all, b)
	}
	return all
}

// tls12Client resumes by session ID only, whatever the server.
func tls12Client() *Config {
	cc := clientConfig()
	cc.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
	cc.SessionTicketsDisabled = true
	cc.ClientSessionCache = &oneSessionCache{}
	return cc
}

// cacheServer serves echo with cache, the given ticket keys (none: no
// keys set) and no tickets, reporting whether each connection resumed.
func cacheServer(t *testing.T, cache ServerSessionCache, keys ...[32]byte) (string, chan bool) {
	t.Helper()
	sc := serverConfig()
	sc.ServerSessionCache = cache
	if keys != nil {
		sc.SetSessionTicketKeys(keys)
	}
	return cachingServerWith(t, sc)
}

// Servers sharing ticket keys and a session cache resume one another's
// TLS 1.2 sessions by ID; the entries are sealed: an entry altered, or
// sealed under a key a server does not list, is not resumed, and the
// listed older key of a rotation still opens it.
func TestSealedServerSessionCache(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	cache := &storeCache{}
	first, firstResumed := cacheServer(t, cache, a)
	second, secondResumed := cacheServer(t, cache, a)
	rotated, rotatedResumed := cacheServer(t, cache, b, a)
	other, otherResumed := cacheServer(t, cache, b)

	for _, tc := range []struct {
		name   string
		addr   string
		ch     chan bool
		resume bool
	}{
		{"same keys", second, secondResumed, true},
		{"rotated keys", rotated, rotatedResumed, true},
		{"other keys", other, otherResumed, false},
	} {
		cc := tls12Client()
		dialResumed(t, first, cc, firstResumed)
		if got := dialResumed(t, tc.addr, cc, tc.ch); got != tc.resume {
			t.Errorf("%s: resumed %v, want %v", tc.name, got, tc.resume)
		}
	}
	for _, e := range cache.all() {
		if !bytes.HasPrefix(e, []byte(sealedMagic)) {
			t.Errorf("an entry is not sealed: %x", e[:min(len(e), 16)])
		}
	}

	cc := tls12Client()
	dialResumed(t, first, cc, firstResumed)
	for i := range sealedHeader + 12 + 40 {
		cache.alter = func(e []byte) []byte { e[i%len(e)] ^= 1; return e }
		if dialResumed(t, second, cc, secondResumed) {
			t.Fatalf("an entry with byte %d altered was resumed", i)
		}
	}
	cache.alter = func(e []byte) []byte { return e[:len(e)-1] }
	if dialResumed(t, second, cc, secondResumed) {
		t.Fatal("a truncated entry was resumed")
	}
}

// A sealed entry opens under its own session ID only, and not with keys
// that do not list its key.
func TestSealedCacheEntry(t *testing.T) {
	store := &storeCache{}
	a, b := newTicketKeys([][32]byte{newTicketKey32(t)}), newTicketKeys([][32]byte{newTicketKey32(t)})
	sa := sealedCache{store, a.seal}
	secret := []byte("GnuTLS session data with its master secret")
	sa.Put("id-1", secret, time.Now().Add(time.Hour))
	if got, ok := sa.Get("id-1"); !ok || !bytes.Equal(got, secret) {
		t.Fatalf("Get(id-1) = %q, %v", got, ok)
	}
	if bytes.Contains(store.entries["id-1"], secret) {
		t.Error("the store holds the data in clear")
	}
	store.entries["id-2"] = store.entries["id-1"]
	if got, ok := sa.Get("id-2"); ok {
		t.Errorf("an entry moved to another ID opened: %q", got)
	}
	if got, ok := (sealedCache{store, b.seal}).Get("id-1"); ok {
		t.Errorf("an entry opened under another key: %q", got)
	}
	for _, garbage := range []string{"", "GGC1", "GGC1" + strings.Repeat("x", 60), "plain session data"} {
		store.entries["id-3"] = []byte(garbage)
		if _, ok := sa.Get("id-3"); ok {
			t.Errorf("garbage %q opened", garbage)
		}
	}
}

// The sealed entries do not hold the session's master secret, which
// GnuTLS's own entries do: gnutls-cli -r, without tickets, logs its
// master secret (SSLKEYLOGFILE) and resumes by session ID.
func TestSealedServerSessionCacheSecret(t *testing.T) {
	checkLeaks(t)
	bin := testenv.LookPath(t, "gnutls-cli")
	caFile, _, _ := peers.Files(t, pki.ca, pki.leaf)
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "sealed"}[sealed], func(t *testing.T) {
			cache := &storeCache{}
			var keys [][32]byte
			if sealed {
				keys = [][32]byte{newTicketKey32(t)}
			}
			addr, resumed := cacheServer(t, cache, keys...)
			_, port, _ := net.SplitHostPort(addr)
			keylog := filepath.Join(t.TempDir(), "keylog")
			t.Setenv("SSLKEYLOGFILE", keylog)
			out, err := peers.Client(t, "", bin, "--noticket", "-r", "--priority", "NORMAL:-VERS-TLS1.3:%NO_TICKETS", "--x509cafile", caFile, "-p", port, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "*** This is a resumed session") {
				t.Fatal("gnutls-cli -r did not resume")
			}
			<-resumed
			<-resumed
			masters := keylogSecrets(t, keylog, "CLIENT_RANDOM")
			if len(masters) == 0 {
				t.Fatal("no master secret in the key log")
			}
			entries := cache.all()
			if len(entries) == 0 {
				t.Fatal("no entry in the cache")
			}
			holds := false
			for _, e := range entries {
				for _, m := range masters {
					holds = holds || bytes.Contains(e, m)
				}
			}
			if holds == sealed {
				t.Errorf("sealed %v: the cache holds the master secret: %v", sealed, holds)
			}
		})
	}
}

// keylogSecrets returns the secrets of the key log's lines with label.
func keylogSecrets(t *testing.T, file, label string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == label {
			s, err := hex.DecodeString(f[2])
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, s)
		}
	}
	return secrets
}
