package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// pskHex is a fresh random key, in hex.
func pskHex(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(k)
}

// gnutlsServPSK starts gnutls-serv --echo accepting keyHex under identity.
func gnutlsServPSK(t *testing.T, identity, keyHex string, extra ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "psk.passwd")
	if err := os.WriteFile(file, []byte(identity+":"+keyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--pskpasswd", file, "--priority", pskPriority}, extra...)
	return port(peers.GnutlsServ(t, pki.ca, pki.leaf, args...).Addr)
}

const pskPriority = "NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK"

// --pskusername and --pskkey against gnutls-serv --pskpasswd and openssl
// s_server -psk -nocert: the report names the identity and no
// certificate; a wrong key and an unknown identity fail saying so, and
// the key appears nowhere.
func TestPSK(t *testing.T) {
	key := pskHex(t)
	servers := []struct {
		name  string
		start func(t *testing.T) string
		reply func(string) string
	}{
		{"gnutls-serv", func(t *testing.T) string { return gnutlsServPSK(t, "alice", key) }, func(l string) string { return l }},
		{"openssl s_server", func(t *testing.T) string {
			return port(peers.OpenSSLPSK(t, "alice", key, "-quiet").Addr)
		}, peers.Reverse},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			pt := s.start(t)
			for _, v := range []struct{ name, priority, desc string }{
				{"TLS1.3", pskPriority, "- Description: (TLS1.3-X.509)-"},
				{"TLS1.2", "NORMAL:-VERS-TLS1.3:-KX-ALL:+PSK", "- Description: (TLS1.2-X.509)-(PSK)-"},
				// gnutls-cli 3.7.9 crashes after this handshake.
				{"TLS1.2 ECDHE-PSK", "NORMAL:-VERS-TLS1.3:-KX-ALL:+ECDHE-PSK", "- Description: (TLS1.2-X.509)-(ECDHE-"},
			} {
				t.Run(v.name, func(t *testing.T) {
					r := cli(t, "psk line\n", "-p", pt, "--pskusername", "alice", "--pskkey", key, "--priority", v.priority, "localhost")
					r.ok(t, v.desc, "- PSK authentication. Connected as 'alice'\n", "- Handshake was completed")
					if strings.Contains(r.stderr, "- Status:") || strings.Contains(r.stderr, "- Certificate type") {
						t.Error("a certificate is reported on a PSK session")
					}
					if want := s.reply("psk line") + "\n"; r.stdout != want {
						t.Errorf("stdout %q, want %q", r.stdout, want)
					}
				})
			}
			for _, bad := range []struct{ name, identity, key string }{{"wrong key", "alice", pskHex(t)}, {"unknown identity", "mallory", key}} {
				t.Run(bad.name, func(t *testing.T) {
					r := cli(t, "", "-p", pt, "--pskusername", bad.identity, "--pskkey", bad.key, "--priority", pskPriority, "localhost")
					r.fails(t, "*** Fatal error: ", `PSK identity "`+bad.identity+`": the server refused it`, "the server sent the fatal alert")
					if strings.Contains(r.stdout+r.stderr, bad.key) {
						t.Error("the key is in the output")
					}
				})
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		secret := "abcdef0123456789xy"
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--pskusername", "alice", "localhost"}, "--pskusername needs --pskkey"},
			{[]string{"--pskkey", key, "localhost"}, "--pskkey needs --pskusername"},
			{[]string{"--pskusername", "alice", "--pskkey", secret, "localhost"}, "--pskkey: the key is not hex"},
			{[]string{"--pskusername", "alice", "--pskkey", "abc", "localhost"}, "--pskkey: the key must be an even number of hex digits, got 3 characters"},
			{[]string{"--pskusername=", "--pskkey", key, "localhost"}, "--pskusername: the identity must be 1 to 65535 bytes, got 0"},
		} {
			r := cli(t, "", tc.args...)
			r.fails(t, "gnutls-cli-go: ", tc.want)
			if strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, key) {
				t.Errorf("%q: the key is in the output", tc.args)
			}
		}
	})
}

// The lines gnutls-cli prints of a PSK session are the same from this
// client, for the same server and options: the description (with the
// certificate type as gnutls-cli shows it), the session ID's form, and the
// identity.
func TestPSKReportLikeGnutlsCli(t *testing.T) {
	ref := testenv.LookPath(t, "gnutls-cli")
	key := pskHex(t)
	pt := gnutlsServPSK(t, "alice", key)
	// TLS 1.2 with ECDHE-PSK crashes gnutls-cli 3.7.9 after its handshake.
	for _, prio := range []string{pskPriority, "NORMAL:-VERS-TLS1.3:-KX-ALL:+PSK"} {
		args := []string{"-p", pt, "--pskusername", "alice", "--pskkey", key, "--priority", prio, "localhost"}
		compareReports(t, ref, args, []string{"- Description:", "- Session ID:", "- PSK authentication.", "- Handshake was completed"}, 4)
	}
	// A TLS 1.2 server's identity hint.
	pt = gnutlsServPSK(t, "alice", key, "--pskhint", "gateway keys")
	args := []string{"-p", pt, "--pskusername", "alice", "--pskkey", key, "--priority", "NORMAL:-VERS-TLS1.3:-KX-ALL:+PSK", "localhost"}
	compareReports(t, ref, args, []string{"- Description:", "- PSK authentication."}, 3)
}

// compareReports runs gnutls-cli (ref) and this client with args and
// checks that the report lines starting with one of shared are the same,
// session IDs aside, and that there are at least min of them.
func compareReports(t *testing.T, ref string, args, shared []string, min int) {
	t.Helper()
	cmd := exec.Command(ref, args...)
	cmd.Stdin = strings.NewReader("")
	want, err := cmd.Output() // gnutls-cli prints its report on stdout
	if err != nil {
		t.Fatalf("gnutls-cli: %v\n%s", err, want)
	}
	got := cli(t, "", args...)
	got.ok(t)
	sessionID := regexp.MustCompile(`^- Session ID: ([0-9A-F]{2}:)*[0-9A-F]{2}$`)
	pick := func(out string) []string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimRight(l, " ")
			if sessionID.MatchString(l) {
				l = "- Session ID: (hex)"
			}
			for _, p := range shared {
				if strings.HasPrefix(l, p) {
					lines = append(lines, l)
				}
			}
		}
		return lines
	}
	w, g := pick(string(want)), pick(got.stderr)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("report lines differ from gnutls-cli's:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	if len(w) < min {
		t.Errorf("only %d shared lines: %q", len(w), w)
	}
}
