package gnutls

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
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
// 1.3 and TLS 1.2 tickets; a server with other keys, its own random key,
// or another SessionLifetime (so other rotation periods) does not.
func TestSessionTicketKeysShared(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			issuer, issued := ticketServer(t, [][32]byte{a}, nil)
			sharing, sharingResumed := ticketServer(t, [][32]byte{a}, nil)
			other, otherResumed := ticketServer(t, [][32]byte{b}, nil)
			random, randomResumed := ticketServer(t, nil, nil)
			otherLifetime, otherLifetimeResumed := ticketServer(t, [][32]byte{a}, func(sc *Config) { sc.SessionLifetime = time.Hour })
			for _, tc := range []struct {
				name   string
				addr   string
				ch     <-chan bool
				resume bool
			}{
				{"same keys", sharing, sharingResumed, true},
				{"other keys", other, otherResumed, false},
				{"random key", random, randomResumed, false},
				{"same keys, another SessionLifetime", otherLifetime, otherLifetimeResumed, false},
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

// crypto/tls, which keys its session cache by server name, resumes its
// sessions across servers sharing ticket keys, and only those.
func TestSessionTicketKeysCryptoTLSClient(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			issuer, issued := ticketServer(t, [][32]byte{a}, nil)
			sharing, sharingResumed := ticketServer(t, [][32]byte{b, a}, nil)
			other, otherResumed := ticketServer(t, [][32]byte{b}, nil)
			tc := &tls.Config{ServerName: "localhost", RootCAs: newPool(pki.ca.Cert), MinVersion: v.want, MaxVersion: v.want,
				ClientSessionCache: tls.NewLRUClientSessionCache(4)}
			dial := func(addr string, server <-chan bool) bool {
				t.Helper()
				c, err := tls.Dial("tcp", addr, tc)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				echo(t, c, "x")
				if s := <-server; s != c.ConnectionState().DidResume {
					t.Fatalf("server resumed %v, client %v", s, !s)
				}
				return c.ConnectionState().DidResume
			}
			dial(issuer, issued)
			if !dial(sharing, sharingResumed) {
				t.Error("a server listing the key did not resume crypto/tls's ticket")
			}
			dial(issuer, issued)
			if dial(other, otherResumed) {
				t.Error("a server without the key resumed crypto/tls's ticket")
			}
		})
	}
}

// A server whose keys are [A, B] accepts tickets issued under either and
// issues new sessions' tickets under A; one whose keys no longer list B
// makes a full handshake for a ticket under B.
// The key names depend on the session lifetime: the test runs with
// GnuTLS's default and with another.
func TestSessionTicketKeysRotation(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
	}{{"default lifetime", 0}, {"lifetime 1h", time.Hour}} {
		lifetime := func(sc *Config) { sc.SessionLifetime = tc.lifetime }
		for _, v := range versions {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				old, oldResumed := ticketServer(t, [][32]byte{b}, lifetime)
				rotated, rotatedResumed := ticketServer(t, [][32]byte{a, b}, lifetime)
				fresh, freshResumed := ticketServer(t, [][32]byte{a}, lifetime)
				dropped, droppedResumed := ticketServer(t, [][32]byte{a, newTicketKey32(t)}, lifetime)
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
}

// clientHello builds a ClientHello body with the given extensions.
func clientHello(exts ...[]byte) []byte {
	b := make([]byte, 2+32)
	b = append(b, 0) // session ID
	b = append(b, 0, 2, 0x13, 0x01, 1, 0)
	var all []byte
	for _, e := range exts {
		all = append(all, e...)
	}
	return append(append(b, byte(len(all)>>8), byte(len(all))), all...)
}

// ext builds an extension.
func ext(typ uint16, body []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
}

// pskExt builds a pre_shared_key extension offering ids, with a binder.
func pskExt(ids ...[]byte) []byte {
	var list []byte
	for _, id := range ids {
		list = append(list, byte(len(id)>>8), byte(len(id)))
		list = append(list, id...)
		list = append(list, 0, 0, 0, 7) // obfuscated_ticket_age
	}
	b := append([]byte{byte(len(list) >> 8), byte(len(list))}, list...)
	return ext(41, append(b, append([]byte{0, 33, 32}, bytes.Repeat([]byte{9}, 32)...)...))
}

// The key names are the first 16 bytes of the session_ticket extension's
// ticket and of each PSK identity; what is malformed ends the list.
func TestTicketKeyNames(t *testing.T) {
	t1, t2, t3 := bytes.Repeat([]byte{1}, 40), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 90)
	short := []byte("short")
	for _, tc := range []struct {
		name string
		msg  []byte
		want [][]byte
	}{
		{"none", clientHello(ext(0, []byte("sni"))), nil},
		{"TLS 1.2 ticket", clientHello(ext(0, nil), ext(35, t1)), [][]byte{t1[:16]}},
		{"empty ticket", clientHello(ext(35, nil)), nil},
		{"PSK identities", clientHello(ext(43, []byte{2, 3, 4}), pskExt(t2, short, t3)), [][]byte{t2, t3[:16]}},
		{"both", clientHello(ext(35, t1), pskExt(t3)), [][]byte{t1[:16], t3[:16]}},
		{"truncated", clientHello(ext(35, t1), pskExt(t3))[:60], nil},
		{"empty", nil, nil},
	} {
		got := ticketKeyNames(tc.msg)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d names, want %d", tc.name, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], tc.want[i]) {
				t.Errorf("%s: name %d is %x, want %x", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

// The ClientHello reader takes peer bytes: whatever they are, it returns
// 16-byte names found inside them.
func FuzzTicketKeyNames(f *testing.F) {
	f.Add(clientHello(ext(35, bytes.Repeat([]byte{1}, 40)), pskExt(bytes.Repeat([]byte{2}, 16))))
	f.Add(clientHello(pskExt([]byte("x"), bytes.Repeat([]byte{3}, 20))))
	f.Add([]byte{3, 3})
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, n := range ticketKeyNames(msg) {
			if len(n) != ticketKeyNameSize || !bytes.Contains(msg, n) {
				t.Fatalf("name %x is not 16 bytes of the message", n)
			}
		}
	})
}

// SetSessionTicketKeys panics on an empty list, as crypto/tls does, and
// Clone keeps the keys.
func TestSetSessionTicketKeysRules(t *testing.T) {
	func() {
		defer func() {
			if recover() == nil {
				t.Error("SetSessionTicketKeys(nil) did not panic")
			}
		}()
		(&Config{}).SetSessionTicketKeys(nil)
	}()
	c := serverConfig()
	c.SetSessionTicketKeys([][32]byte{newTicketKey32(t)})
	if c.Clone().sessionTicketKeys() != c.sessionTicketKeys() {
		t.Error("Clone dropped the ticket keys")
	}
}

// After a HelloRetryRequest the second ClientHello offers the ticket
// again; the master chosen for the first stays (GnuTLS takes no other
// once it has decrypted a ticket) and the session resumes.
func TestSessionTicketKeysHelloRetry(t *testing.T) {
	checkLeaks(t)
	a, b := newTicketKey32(t), newTicketKey32(t)
	old, oldResumed := ticketServer(t, [][32]byte{b}, nil)
	rotated, rotatedResumed := ticketServer(t, [][32]byte{a, b}, func(sc *Config) {
		sc.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1"
	})
	cc := clientConfig()
	// A key share for P-256 only: the server asks again for P-384.
	cc.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1:+GROUP-SECP384R1"
	cc.ClientSessionCache = &oneSessionCache{}
	dialResumed(t, old, cc, oldResumed)
	c, err := Dial("tcp", rotated, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, "x")
	<-rotatedResumed
	st := c.ConnectionState()
	if st.Info.Group != "SECP384R1" || !st.DidResume {
		t.Errorf("group %s, resumed %v; want SECP384R1 after a HelloRetryRequest, resumed", st.Info.Group, st.DidResume)
	}
}
