package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/redis/go-redis/v9"
)

// writeFile writes content to a new file of t and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fleetKeys returns the fleet's keys in Redis as client sees it.
func fleetKeys(t *testing.T, client *redis.Client) []string {
	t.Helper()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := client.Keys(ctx, redisPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// checkFleetShares checks that a client resumes with early data accepted
// at the second server of fleet after a connection to the first.
func checkFleetShares(t *testing.T, fleet []*proc) {
	t.Helper()
	g := newGnutlsClient(t, newSwitchProxy(t, fleet[0].addr), nil)
	g.get(t, fleet[0], "/first")
	if line, _ := g.get(t, fleet[1], "/second"); !strings.Contains(line, "resumed=yes early-data=yes") {
		t.Errorf("at the second server: %q, want resumed with early data", line)
	}
}

// TestFleetRedisAuth: --redis as a URL naming a user and a database, the
// user's password in --redis-password-file: the fleet shares a Redis
// that lets in no one else, its keys in that database. A user Redis
// refuses gets a warning that does not show the password.
func TestFleetRedisAuth(t *testing.T) {
	b := make([]byte, 12)
	rand.Read(b)
	password := "pass:" + hex.EncodeToString(b)
	rs := peers.Redis(t, 0, "--user", "default", "off", "--user", "fleet", "on", ">"+password, "~*", "+@all")
	addr := "redis://fleet@" + rs.Addr + "/3"
	keys := ticketKeyFile(t, newKey())
	fleet := startFleet(t, "--ticket-key-file", keys, "--redis", addr,
		"--redis-password-file", writeFile(t, "password", password+"\n"), "--redis-timeout", redisTimeout.String())
	checkFleetShares(t, fleet)
	for i, s := range fleet {
		if strings.Contains(s.stderr.String(), "Warning: --redis") {
			t.Errorf("server %d warned: %s", i, s.stderr.String())
		}
	}
	in := func(db int) []string {
		return fleetKeys(t, redis.NewClient(&redis.Options{Addr: rs.Addr, Username: "fleet", Password: password, DB: db}))
	}
	if got := in(3); len(got) == 0 {
		t.Error("no key of the fleet in database 3")
	}
	if got := in(0); len(got) != 0 {
		t.Errorf("keys of the fleet in database 0: %q", got)
	}

	// The password, given for a user Redis does not know: refused, and
	// the warning does not show it.
	f := pkiFiles(t)
	other := "redis://nobody@" + rs.Addr + "/3"
	s := serve(t, "--listen", "127.0.0.4", "--earlydata", "--x509certfile", f.cert, "--x509keyfile", f.key,
		"--ticket-key-file", keys, "--redis", other, "--redis-password-file", writeFile(t, "password", password+"\n"),
		"--redis-timeout", redisTimeout.String())
	if want := "Warning: --redis " + other + " failed (WRONGPASS"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("another user: stderr lacks %q: %s", want, s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), password) {
		t.Error("the password was written to stderr")
	}
}

// TestFleetRedisTLS: rediss:// with --redis-ca-file: the fleet shares a
// Redis that serves TLS only. A Redis whose certificate does not chain to
// --redis-ca-file is a failure the server warns of.
func TestFleetRedisTLS(t *testing.T) {
	f := pkiFiles(t)
	rs := peers.RedisTLS(t, f.cert, f.key)
	addr := "rediss://" + rs.Addr
	keys := ticketKeyFile(t, newKey())
	fleet := startFleet(t, "--ticket-key-file", keys, "--redis", addr, "--redis-ca-file", f.ca,
		"--redis-timeout", redisTimeout.String())
	checkFleetShares(t, fleet)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.ca.PEM)
	host, _, _ := net.SplitHostPort(rs.Addr)
	if got := fleetKeys(t, redis.NewClient(&redis.Options{Addr: rs.Addr, TLSConfig: &tls.Config{RootCAs: roots, ServerName: host}})); len(got) == 0 {
		t.Error("no key of the fleet in Redis")
	}

	s := serve(t, "--listen", "127.0.0.4", "--earlydata", "--x509certfile", f.cert, "--x509keyfile", f.key,
		"--ticket-key-file", keys, "--redis", addr, "--redis-ca-file", writeFile(t, "other-ca.pem", string(pki.other.PEM)),
		"--redis-timeout", redisTimeout.String())
	if want := "Warning: --redis " + addr + " failed (tls: failed to verify certificate"; !strings.Contains(s.stderr.String(), want) {
		t.Errorf("a CA that did not issue Redis's certificate: stderr lacks %q: %s", want, s.stderr.String())
	}
}
