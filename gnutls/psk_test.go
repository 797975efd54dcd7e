package gnutls

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// pskKey is a fresh random key for one test.
func pskKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// pskServerConfig accepts key under identity, and nothing else, with the
// priority string.
func pskServerConfig(identity string, key []byte, priority string) *Config {
	return &Config{Priority: priority, GetPSKKey: func(id string) ([]byte, error) {
		if id != identity {
			return nil, ErrUnknownPSKIdentity
		}
		return key, nil
	}}
}

// pskModes are the key exchanges a priority string can ask for, and what
// the session then reports.
var pskModes = []struct {
	name, priority string
	version        uint16
	kx             string // Info.KeyExchange; "" under TLS 1.3
	group          bool   // whether an (EC)DHE group was used
}{
	{"TLS1.3 psk_dhe_ke (default)", "", 0x0304, "", true},
	{"TLS1.3 psk_ke", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+PSK", 0x0304, "", false},
	{"TLS1.3 psk_dhe_ke with DHE", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+DHE-PSK:-GROUP-ALL:+GROUP-FFDHE2048", 0x0304, "", true},
	{"TLS1.2 PSK", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+PSK", 0x0303, "PSK", false},
	{"TLS1.2 ECDHE-PSK", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK", 0x0303, "ECDHE-PSK", true},
	{"TLS1.2 DHE-PSK", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+DHE-PSK", 0x0303, "DHE-PSK", true},
}

// Each key exchange between this package's client and server: both ends
// name the identity and the algorithms the priority string chose.
func TestPSKKeyExchanges(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	for _, m := range pskModes {
		t.Run(m.name, func(t *testing.T) {
			sc := pskServerConfig("alice", key, m.priority)
			states := make(chan ConnectionState, 1)
			addr := serveOn(t, sc, func(c *Conn) {
				if c.Handshake() == nil {
					states <- c.ConnectionState()
					io.Copy(c, c)
				}
			})
			c, err := Dial("tcp", addr, &Config{PSKIdentity: "alice", PSKKey: key, Priority: m.priority})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "psk")
			for side, st := range map[string]ConnectionState{"client": c.ConnectionState(), "server": <-states} {
				in := st.Info
				if st.PSKIdentity != "alice" || st.Version != m.version || in.KeyExchange != m.kx || (in.Group != "") != m.group {
					t.Errorf("%s: identity %q, version %#x, key exchange %q, group %q; want alice, %#x, %q, group %v",
						side, st.PSKIdentity, st.Version, in.KeyExchange, in.Group, m.version, m.kx, m.group)
				}
				if len(st.PeerCertificates) != 0 {
					t.Errorf("%s: a certificate was exchanged", side)
				}
			}
		})
	}
}

// A server with a certificate and GetPSKKey serves both kinds of client,
// under TLS 1.3 and 1.2.
func TestPSKBesideCertificate(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			sc := pskServerConfig("alice", key, v.priority+":+ECDHE-PSK:+DHE-PSK")
			sc.Certificates = serverConfig().Certificates
			addr := echoListener(t, sc)
			for name, cc := range map[string]*Config{"PSK": {PSKIdentity: "alice", PSKKey: key}, "certificate": clientConfig()} {
				c, err := Dial("tcp", addr, cc)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				echo(t, c, name)
				st := c.ConnectionState()
				if (st.PSKIdentity == "alice") != (name == "PSK") || (len(st.PeerCertificates) > 0) != (name == "certificate") || st.Version != v.want {
					t.Errorf("%s client: identity %q, %d certificates, version %#x", name, st.PSKIdentity, len(st.PeerCertificates), st.Version)
				}
				c.Close()
			}
		})
	}
}

// gnutlsServPSK starts gnutls-serv with a password file holding key under
// identity, plus extra arguments.
func gnutlsServPSK(t *testing.T, identity string, key []byte, priority string, extra ...string) *peers.Server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "psk.passwd")
	if err := os.WriteFile(file, []byte(identity+":"+hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return peers.GnutlsServ(t, pki.ca, pki.leaf, append([]string{"--pskpasswd", file, "--priority", priority}, extra...)...)
}

const pskPeerPriority = "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK"

// This package's client against gnutls-serv --pskpasswd and openssl
// s_server -psk -nocert, under TLS 1.3 and 1.2; a wrong key and an unknown
// identity fail with a PSKError naming the identity.
func TestPSKClientInterop(t *testing.T) {
	key := pskKey(t)
	for _, p := range []struct {
		name  string
		start func(t *testing.T) (addr string, answer func(string) string)
	}{
		{"gnutls-serv", func(t *testing.T) (string, func(string) string) {
			return gnutlsServPSK(t, "alice", key, pskPeerPriority).Addr, same
		}},
		{"openssl", func(t *testing.T) (string, func(string) string) {
			return peers.OpenSSLPSK(t, "alice", hex.EncodeToString(key)).Addr, peers.Reverse
		}},
	} {
		t.Run(p.name, func(t *testing.T) {
			addr, answer := p.start(t)
			for _, v := range versions {
				t.Run(v.name, func(t *testing.T) {
					checkLeaks(t)
					cfg := &Config{PSKIdentity: "alice", PSKKey: key, Priority: v.priority + ":+ECDHE-PSK:+PSK"}
					c, err := Dial("tcp", addr, cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					line := "psk " + p.name + " " + v.name
					if _, err := io.WriteString(c, line+"\n"); err != nil {
						t.Fatal(err)
					}
					got, err := bufio.NewReader(c).ReadString('\n')
					if err != nil || got != answer(line)+"\n" {
						t.Fatalf("answer %q, %v", got, err)
					}
					if st := c.ConnectionState(); st.Version != v.want || st.PSKIdentity != "alice" {
						t.Errorf("version %#x, identity %q", st.Version, st.PSKIdentity)
					}
				})
			}
			for _, bad := range []struct{ name, identity string }{{"wrong key", "alice"}, {"unknown identity", "mallory"}} {
				t.Run(bad.name, func(t *testing.T) {
					checkLeaks(t)
					c, err := Dial("tcp", addr, &Config{PSKIdentity: bad.identity, PSKKey: pskKey(t), Priority: pskPeerPriority})
					if err == nil {
						c.Close()
						t.Fatal("handshake succeeded")
					}
					var pe *PSKError
					if !errors.As(err, &pe) || pe.Failure != PSKRefused || pe.Identity != bad.identity {
						t.Fatalf("%v (%T), want a PSKError refusing %q", err, err, bad.identity)
					}
					if !strings.Contains(err.Error(), `PSK identity "`+bad.identity+`": the server refused it (unknown identity, wrong key`) {
						t.Errorf("error text: %v", err)
					}
				})
			}
		})
	}
}

// pskClients are programs that connect to this package's server with a
// pre-shared key: args gives their command line for a port, an identity
// and a hex key, and whether to use TLS 1.2.
var pskClients = []struct {
	name string
	bin  string
	args func(port, identity, keyHex string, tls12 bool) []string
	ok   string // in the output of a completed handshake
}{
	{"gnutls-cli", "gnutls-cli", func(port, id, key string, tls12 bool) []string {
		prio := pskPeerPriority
		if tls12 {
			// gnutls-cli 3.7.9 crashes (SIGSEGV) after a TLS 1.2
			// ECDHE-PSK handshake, against gnutls-serv too.
			prio = "NORMAL:-VERS-TLS1.3:-KX-ALL:+PSK"
		}
		return []string{"-p", port, "--pskusername", id, "--pskkey", key, "--priority", prio, "127.0.0.1"}
	}, "- Handshake was completed"},
	{"openssl s_client", "openssl", func(port, id, key string, tls12 bool) []string {
		args := []string{"s_client", "-connect", "127.0.0.1:" + port, "-psk_identity", id, "-psk", key}
		if tls12 {
			args = append(args, "-tls1_2")
		}
		return args
	}, ", TLSv1."}, // "New, TLSv1.3, Cipher is ..."; "New, (NONE), ..." when it failed
}

// gnutls-cli --pskusername --pskkey and openssl s_client -psk against this
// package's server; a wrong key and an unknown identity fail on the
// server with a PSKError saying which.
func TestPSKServerInterop(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	type result struct {
		st  ConnectionState
		err error
	}
	results := make(chan result, 1)
	sc := pskServerConfig("alice", key, pskPeerPriority)
	addr := serveOn(t, sc, func(c *Conn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		err := c.Handshake()
		results <- result{c.ConnectionState(), err}
		if err == nil {
			io.Copy(c, c)
		}
	})
	_, port, _ := net.SplitHostPort(addr)
	for _, cl := range pskClients {
		bin := testenv.LookPath(t, cl.bin)
		for _, tls12 := range []bool{false, true} {
			name := cl.name + map[bool]string{false: "/TLS1.3", true: "/TLS1.2"}[tls12]
			t.Run(name, func(t *testing.T) {
				out, err := peers.Client(t, "hello\n", bin, cl.args(port, "alice", hex.EncodeToString(key), tls12)...)
				r := <-results
				if err != nil || !strings.Contains(out, cl.ok) || r.err != nil {
					t.Fatalf("client: %v; server: %v", err, r.err)
				}
				if want := map[bool]uint16{false: 0x0304, true: 0x0303}[tls12]; r.st.PSKIdentity != "alice" || r.st.Version != want {
					t.Errorf("server: identity %q, version %#x", r.st.PSKIdentity, r.st.Version)
				}
			})
			for _, bad := range []struct {
				name, identity string
				failure        PSKFailure
			}{{"wrong key", "alice", PSKKeyMismatch}, {"unknown identity", "mallory", PSKUnknownIdentity}} {
				t.Run(name+"/"+bad.name, func(t *testing.T) {
					out, err := peers.Client(t, "", bin, cl.args(port, bad.identity, hex.EncodeToString(pskKey(t)), tls12)...)
					r := <-results
					if err == nil && strings.Contains(out, cl.ok) {
						t.Errorf("the client completed the handshake")
					}
					var pe *PSKError
					if !errors.As(r.err, &pe) || pe.Failure != bad.failure || pe.Identity != bad.identity {
						t.Fatalf("server: %v (%T), want a PSKError %v for %q", r.err, r.err, bad.failure, bad.identity)
					}
					if errors.Is(r.err, ErrUnknownPSKIdentity) != (bad.failure == PSKUnknownIdentity) {
						t.Errorf("errors.Is(%v, ErrUnknownPSKIdentity) is wrong", r.err)
					}
				})
			}
		}
	}
}

// A lookup that fails fails the handshake with its own error, intact.
func TestPSKLookupError(t *testing.T) {
	checkLeaks(t)
	errStore := errors.New("key store unreachable")
	errc := make(chan error, 1)
	sc := &Config{GetPSKKey: func(string) ([]byte, error) { return nil, errStore }}
	addr := serveOn(t, sc, func(c *Conn) { errc <- c.Handshake() })
	c, err := Dial("tcp", addr, &Config{PSKIdentity: "alice", PSKKey: pskKey(t)})
	if err == nil {
		c.Close()
		t.Fatal("handshake succeeded")
	}
	serr := <-errc
	var pe *PSKError
	var ge *Error
	if !errors.Is(serr, errStore) || !errors.As(serr, &pe) || pe.Failure != PSKLookupFailed || !errors.As(serr, &ge) || ge.Err != errStore {
		t.Fatalf("server: %v, want the lookup's error inside a PSKError", serr)
	}
	if !strings.Contains(serr.Error(), `PSK identity "alice": the key lookup failed`) || !strings.Contains(serr.Error(), errStore.Error()) {
		t.Errorf("server error text: %v", serr)
	}
}

// Keys never appear in error text.
func TestPSKKeyNotInErrors(t *testing.T) {
	checkLeaks(t)
	key := []byte("sekrit-key-material")
	addr := serveOn(t, pskServerConfig("alice", []byte("another key"), ""), func(c *Conn) { c.Handshake() })
	_, err := Dial("tcp", addr, &Config{PSKIdentity: "alice", PSKKey: key})
	if err == nil || strings.Contains(err.Error(), string(key)) || strings.Contains(err.Error(), hex.EncodeToString(key)) {
		t.Fatalf("error %v", err)
	}
}

// The Session API's rules for PSK credentials.
func TestPSKCredentialsRules(t *testing.T) {
	checkLeaks(t)
	long := strings.Repeat("x", maxPSKField+1)
	for _, tc := range []struct {
		name     string
		identity string
		key      []byte
		want     string
	}{
		{"empty identity", "", []byte("k"), "identity must be 1 to 65535 bytes, got 0"},
		{"identity too long", long, []byte("k"), "identity must be 1 to 65535 bytes, got 65536"},
		{"empty key", "alice", nil, "key must be 1 to 65535 bytes, got 0"},
		{"key too long", "alice", []byte(long), "key must be 1 to 65535 bytes, got 65536"},
	} {
		if _, err := NewPSKClientCredentials(tc.identity, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewPSKServerCredentials(nil); err == nil || !strings.Contains(err.Error(), "needs a key lookup function") {
		t.Errorf("NewPSKServerCredentials(nil): %v", err)
	}
	cc, err := NewPSKClientCredentials("alice", []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewPSKServerCredentials(func(string) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	client, _ := NewSession(InitClient)
	server, _ := NewSession(InitServer)
	if err := client.SetPSKCredentials(sc); err == nil || !strings.Contains(err.Error(), "server credentials on a client session") {
		t.Errorf("server credentials on a client: %v", err)
	}
	if err := server.SetPSKCredentials(cc); err == nil || !strings.Contains(err.Error(), "client credentials on a server session") {
		t.Errorf("client credentials on a server: %v", err)
	}
	if err := client.SetPSKCredentials(cc); err != nil {
		t.Fatal(err)
	}
	// Closed while a session holds them: freed with the session.
	cc.Close()
	cc.Close()
	if n := livePSKCredentials.Load(); n < 2 {
		t.Errorf("%d PSK credentials alive, want the client's and the server's", n)
	}
	if err := server.SetPSKCredentials(sc); err != nil {
		t.Fatal(err)
	}
	sc.Close()
	if err := server.SetPSKCredentials(sc); !errors.Is(err, net.ErrClosed) {
		t.Errorf("closed credentials: %v", err)
	}
	client.Close()
	server.Close()
}

// Between this package's client and server, a wrong key and an unknown
// identity fail on both ends, each saying what it can know.
func TestPSKFailuresBothEnds(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	errc := make(chan error, 1)
	addr := serveOn(t, pskServerConfig("alice", key, ""), func(c *Conn) { errc <- c.Handshake() })
	for _, v := range versions {
		for _, bad := range []struct {
			name, identity string
			failure        PSKFailure
		}{{"wrong key", "alice", PSKKeyMismatch}, {"unknown identity", "mallory", PSKUnknownIdentity}} {
			t.Run(v.name+"/"+bad.name, func(t *testing.T) {
				prio := v.priority + ":+ECDHE-PSK"
				_, err := Dial("tcp", addr, &Config{PSKIdentity: bad.identity, PSKKey: pskKey(t), Priority: prio})
				var ce, se *PSKError
				if !errors.As(err, &ce) || ce.Failure != PSKRefused || ce.Identity != bad.identity {
					t.Errorf("client: %v, want a PSKError refusing %q", err, bad.identity)
				}
				if serr := <-errc; !errors.As(serr, &se) || se.Failure != bad.failure || se.Identity != bad.identity {
					t.Errorf("server: %v, want a PSKError %v for %q", serr, bad.failure, bad.identity)
				} else {
					t.Logf("client: %v\nserver: %v", err, serr)
				}
			})
		}
	}
}

// A PSK session resumes by ticket (TLS 1.3) or session ID (TLS 1.2, from
// the server's cache) like any other.
func TestPSKResumption(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			sc := pskServerConfig("alice", key, "")
			sc.ServerSessionCache = NewLRUServerSessionCache(4)
			addr := echoListener(t, sc)
			cc := &Config{PSKIdentity: "alice", PSKKey: key, Priority: v.priority + ":+ECDHE-PSK", ClientSessionCache: NewLRUClientSessionCache(1)}
			for i, want := range []bool{false, true} {
				c, err := Dial("tcp", addr, cc)
				if err != nil {
					t.Fatal(err)
				}
				echo(t, c, "again")
				st := c.ConnectionState()
				c.Close()
				if st.DidResume != want {
					t.Errorf("connection %d: resumed %v, want %v", i, st.DidResume, want)
				}
				t.Logf("connection %d: identity %q, %s", i, st.PSKIdentity, st.Info.Description)
			}
		})
	}
}

// A client Config with only a server's GetPSKKey is a certificate client:
// it still needs a name to verify.
func TestPSKServerFieldOnClient(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := Client(a, &Config{GetPSKKey: func(string) ([]byte, error) { return nil, nil }})
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	err := c.Handshake()
	if err == nil || !strings.Contains(err.Error(), "either ServerName or InsecureSkipVerify must be set") {
		t.Fatalf("%v, want the missing ServerName refused", err)
	}
}

// A server's identity hint reaches TLS 1.2 clients: this package's from
// its own server and from gnutls-serv --pskhint. SetHint's rules.
func TestPSKIdentityHint(t *testing.T) {
	checkLeaks(t)
	key := pskKey(t)
	const prio = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+PSK:+ECDHE-PSK"
	sc := pskServerConfig("alice", key, prio)
	sc.PSKIdentityHint = "gateway keys"
	for name, addr := range map[string]string{
		"gnutls.Server": echoListener(t, sc),
		"gnutls-serv":   gnutlsServPSK(t, "alice", key, prio, "--pskhint", "gateway keys").Addr,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Dial("tcp", addr, &Config{PSKIdentity: "alice", PSKKey: key, Priority: prio})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			echo(t, c, "hint\n") // gnutls-serv --echo answers lines
			if st := c.ConnectionState(); st.PSKIdentityHint != "gateway keys" || st.PSKIdentity != "alice" {
				t.Errorf("hint %q, identity %q", st.PSKIdentityHint, st.PSKIdentity)
			}
		})
	}

	sv, _ := NewPSKServerCredentials(func(string) ([]byte, error) { return nil, nil })
	defer sv.Close()
	cl, _ := NewPSKClientCredentials("alice", key)
	defer cl.Close()
	for _, tc := range []struct {
		name string
		c    *PSKCredentials
		hint string
		want string
	}{
		{"client credentials", cl, "h", "SetHint is for server PSK credentials"},
		{"NUL", sv, "a\x00b", "contains a NUL byte"},
		{"empty", sv, "", "hint must be 1 to 65535 bytes"},
		{"first", sv, "h", ""},
		{"second", sv, "h2", "the hint is already set"},
	} {
		err := tc.c.SetHint(tc.hint)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
