//go:build cgo

package gnutls

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// blackholeCache remembers destinations where a SYN carrying data was lost,
// by IP address: a middlebox that drops such SYNs does so whatever the
// port, and the kernel keeps its fast-open state per address too. Each
// Config has one, shared by every Dial and Dialer using it; an entry lasts
// Config.FastOpenBlackhole, and expired entries are dropped as new ones are
// added.
type blackholeCache struct {
	mu    sync.Mutex
	until map[netip.Addr]time.Time
}

// blackholeKey is the address of a destination, or false.
func blackholeKey(addr net.Addr) (netip.Addr, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || ta == nil {
		return netip.Addr{}, false
	}
	return ta.AddrPort().Addr().Unmap(), true
}

func (b *blackholeCache) mark(addr net.Addr, d time.Duration) {
	key, ok := blackholeKey(addr)
	if d < 0 || !ok {
		return
	}
	if d == 0 {
		d = DefaultFastOpenBlackhole
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[netip.Addr]time.Time{}
	}
	now := time.Now()
	for k, until := range b.until {
		if now.After(until) {
			delete(b.until, k)
		}
	}
	b.until[key] = now.Add(d)
}

func (b *blackholeCache) blocked(addr net.Addr) (time.Time, bool) {
	key, ok := blackholeKey(addr)
	if !ok {
		return time.Time{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.until[key]
	if ok && time.Now().After(until) {
		delete(b.until, key)
		return time.Time{}, false
	}
	return until, ok
}

// len returns how many destinations the cache holds.
func (b *blackholeCache) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.until)
}
