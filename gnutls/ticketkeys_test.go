package gnutls

import (
	"crypto/rand"
	"testing"
	"time"
)

func newTicketKey32(t testing.TB) [32]byte {
	var k [32]byte
	rand.Read(k[:])
	return k
}

// ticketServer serves echo with the given ticket keys (none: the
// Config's own random key) and reports whether each connection resumed.
func ticketServer(t *testing.T, keys [][32]byte, adjust func(*Config)) (addr string, resumed <-chan bool) {
	t.Helper()
	sc := serverConfig()
	if keys != nil {
		sc.SetSessionTicketKeys(keys)
	}
	if adjust != nil {
		adjust(sc)
	}
	addr, ch := cachingServerWith(t, sc)
	return addr, ch
}

// cachingServerWith is cachingServer with a Config of the test's own.
func cachingServerWith(t *testing.T, sc *Config) (string, chan bool) {
	t.Helper()
	resumed := make(chan bool, 16)
	addr := serveOn(t, sc, func(c *Conn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if c.Handshake() == nil {
			resumed <- c.ConnectionState().DidResume
			buf := make([]byte, 1024)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				c.Write(buf[:n])
			}
		}
	})
	return addr, resumed
}

// dialResumed connects to addr with cc, echoes, and reports whether the
// connection resumed, checking that the server agrees.
func dialResumed(t *testing.T, addr string, cc *Config, server <-chan bool) bool {
	t.Helper()
	c, err := Dial("tcp", addr, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, "x")
	got := c.ConnectionState().DidResume
	select {
	case s := <-server:
		if s != got {
			t.Fatalf("server resumed %v, client %v", s, got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server reported no connection")
	}
	return got
}

// Servers sharing ticket keys resume one another's sessions, under TLS
// 1.3 and TLS 1.2 tickets; a server with other keys, or its own random
// key, does not.
func TestSessionTicketKeysShared(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			issuer, issued := ticketServer(t, [][32]byte{a}, nil)
			sharing, sharingResumed := ticketServer(t, [][32]byte{a}, nil)
			other, otherResumed := ticketServer(t, [][32]byte{b}, nil)
			random, randomResumed := ticketServer(t, nil, nil)
			for _, tc := range []struct {
				name   string
				addr   string
				ch     <-chan bool
				resume bool
			}{
				{"same keys", sharing, sharingResumed, true},
				{"other keys", other, otherResumed, false},
				{"random key", random, randomResumed, false},
			} {
				cc := clientConfig()
				cc.Priority = v.priority
				cc.ClientSessionCache = &oneSessionCache{}
				if dialResumed(t, issuer, cc, issued) {
					t.Fatal("the first connection resumed")
				}
				if got := dialResumed(t, tc.addr, cc, tc.ch); got != tc.resume {
					t.Errorf("%s: resumed %v, want %v", tc.name, got, tc.resume)
				}
			}
		})
	}
}

// A server whose keys are [A, B] accepts tickets issued under either and
// issues new sessions' tickets under A; one whose keys no longer list B
// makes a full handshake for a ticket under B.
func TestSessionTicketKeysRotation(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			old, oldResumed := ticketServer(t, [][32]byte{b}, nil)
			rotated, rotatedResumed := ticketServer(t, [][32]byte{a, b}, nil)
			fresh, freshResumed := ticketServer(t, [][32]byte{a}, nil)
			dropped, droppedResumed := ticketServer(t, [][32]byte{a, newTicketKey32(t)}, nil)
			client := func() *Config {
				cc := clientConfig()
				cc.Priority = v.priority
				cc.ClientSessionCache = &oneSessionCache{}
				return cc
			}

			cc := client()
			dialResumed(t, old, cc, oldResumed) // a ticket under B
			if !dialResumed(t, rotated, cc, rotatedResumed) {
				t.Error("[A, B] did not accept a ticket issued under B")
			}
			if !dialResumed(t, rotated, cc, rotatedResumed) {
				t.Error("[A, B] did not accept the ticket of a session it resumed")
			}

			cc = client()
			dialResumed(t, rotated, cc, rotatedResumed) // a ticket under A
			if !dialResumed(t, fresh, cc, freshResumed) {
				t.Error("[A] did not accept a ticket [A, B] issued")
			}

			cc = client()
			dialResumed(t, old, cc, oldResumed)
			if dialResumed(t, dropped, cc, droppedResumed) {
				t.Error("a server resumed a ticket under a key it does not list")
			}
		})
	}
}
