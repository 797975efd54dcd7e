package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// TestBadOptions: a bad option or file exits 1 before listening, with a
// line that names what was wrong; where gnutls-serv refuses the same
// command line, it exits 1 too.
func TestBadOptions(t *testing.T) {
	f := pkiFiles(t)
	otherKey := writeFile(t, "other-key.pem", string(pki.other.Issue(testpki.Options{}, "localhost").KeyPEM))
	badPSK := writeFile(t, "psk.txt", "alice:not-hex\n")
	shortKey := writeFile(t, "short-key", "c2hvcnQ=\n")
	noKey := writeFile(t, "no-key", "# nothing\n\n")
	goodKey := ticketKeyFile(t, newKey())
	emptyPassword := writeFile(t, "empty-password", "\nsecond line\n")
	pair := []string{"--x509certfile", f.cert, "--x509keyfile", f.key}
	port := strconv.Itoa(peers.FreePort(t))
	for _, c := range []struct {
		args []string
		want string
		// gnutlsServ: gnutls-serv refuses this command line too.
		gnutlsServ bool
	}{
		{[]string{"--bogus"}, "unknown option --bogus", true},
		{[]string{"-p"}, "-p needs a value (PORT)", true},
		{[]string{"-p", "abc"}, `-p: "abc" is not a recognizable number`, true},
		{[]string{"-p", "70000"}, "-p: 70000 is not in the range 0 to 65535", false},
		{append([]string{"foo"}, pair...), `"foo" is not an option`, true},
		{append([]string{"-a", "-r"}, pair...), "--disable-client-cert cannot go with --require-client-cert", true},
		{append([]string{"--maxearlydata", "0"}, pair...), "--maxearlydata: 0 is not in the range 1 to 2147483648", true},
		{[]string{"--x509certfile", "/nonexistent.pem", "--x509keyfile", f.key}, "--x509certfile: cannot read /nonexistent.pem: no such file or directory", true},
		{[]string{"--x509certfile", f.cert, "--x509keyfile", otherKey}, "--x509certfile " + f.cert + " with --x509keyfile " + otherKey + ": private key does not match public key", true},
		{[]string{"--x509certfile", f.cert}, "1 --x509certfile but 0 --x509keyfile", true},
		{append([]string{"--x509cafile", "/nonexistent.pem"}, pair...), "--x509cafile: cannot read /nonexistent.pem", true},
		{append([]string{"--x509cafile", f.key}, pair...), "--x509cafile " + f.key + ": No certificate was found", false},
		{append([]string{"--ocsp-response", "/nonexistent.der"}, pair...), "--ocsp-response: cannot read /nonexistent.der", true},
		{append([]string{"--ocsp-response", f.cert}, pair...), "--ocsp-response " + f.cert + ":", true},
		{append([]string{"--priority", "NORMAL:+BOGUS"}, pair...), "bad --priority:", false},
		{append([]string{"--verify-client-cert"}, pair...), "--verify-client-cert needs --x509cafile", false},
		{append([]string{"--maxearlydata", "100"}, pair...), "--maxearlydata needs --earlydata", false},
		{[]string{"--pskpasswd", "/nonexistent.txt"}, "--pskpasswd: cannot read /nonexistent.txt", false},
		{[]string{"--pskpasswd", badPSK}, `--pskpasswd ` + badPSK + `: line 1: the key of "alice" is not hex`, false},
		{append([]string{"--ticket-key-file", "/nonexistent"}, pair...), "--ticket-key-file: cannot read /nonexistent", false},
		{append([]string{"--ticket-key-file", shortKey}, pair...), "--ticket-key-file " + shortKey + ": line 1 is not base64 of 32 bytes", false},
		{append([]string{"--ticket-key-file", noKey}, pair...), "--ticket-key-file " + noKey + ": no key in the file", false},
		{append([]string{"--redis", "127.0.0.1:6379"}, pair...), "--redis needs --ticket-key-file", false},
		{append([]string{"--redis", "localhost"}, pair...), `--redis: "localhost" is not HOST:PORT`, false},
		{append([]string{"--redis-timeout", "1s"}, pair...), "--redis-timeout needs --redis", false},
		{append([]string{"--redis", "redis://fleet:s3cret@127.0.0.1:6379/1"}, pair...), "--redis: redis://fleet:xxxxx@127.0.0.1:6379/1 holds a password: give it in --redis-password-file", false},
		{append([]string{"--redis", "rediss://127.0.0.1:6379?skip_verify=true"}, pair...), `--redis: "rediss://127.0.0.1:6379?skip_verify=true": skip_verify would take Redis's certificate unchecked: give its CA in --redis-ca-file`, false},
		{append([]string{"--redis", "http://127.0.0.1:6379"}, pair...), `--redis: "http://127.0.0.1:6379" is neither HOST:PORT nor a redis:// or rediss:// URL`, false},
		{append([]string{"--redis", "redis://127.0.0.1"}, pair...), `--redis: "redis://127.0.0.1": "127.0.0.1" is not HOST:PORT`, false},
		{append([]string{"--redis", "redis://127.0.0.1:6379/db"}, pair...), `--redis: "redis://127.0.0.1:6379/db": redis: invalid database number: "db"`, false},
		{append([]string{"--redis-password-file", emptyPassword}, pair...), "--redis-password-file needs --redis", false},
		{append([]string{"--redis-ca-file", f.ca, "--redis", "127.0.0.1:6379", "--ticket-key-file", goodKey}, pair...), "--redis-ca-file needs a rediss:// --redis", false},
		{append([]string{"--redis", "127.0.0.1:6379", "--ticket-key-file", goodKey, "--redis-password-file", "/nonexistent"}, pair...), "--redis-password-file: cannot read /nonexistent", false},
		{append([]string{"--redis", "127.0.0.1:6379", "--ticket-key-file", goodKey, "--redis-password-file", emptyPassword}, pair...), "--redis-password-file " + emptyPassword + ": the first line is empty", false},
		{append([]string{"--redis", "rediss://127.0.0.1:6379", "--ticket-key-file", goodKey, "--redis-ca-file", f.key}, pair...), "--redis-ca-file " + f.key + ": no PEM certificate in the file", false},
		{append([]string{"--redis-timeout", "0.5us", "--redis", "127.0.0.1:6379"}, pair...), `--redis-timeout: "0.5us" is not a duration from 1ms to 1m`, false},
		{[]string{"--listen", "localhost"}, `--listen: "localhost" is not an IP address`, false},
		// gnutls-serv only warns, then fails every handshake.
		{nil, "no certificate: give --x509certfile and --x509keyfile, or --pskpasswd", false},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := c.args
			if len(args) == 0 || (args[0] != "-p" && args[0] != "--listen") {
				args = append([]string{"-p", port}, args...)
			}
			r := runCmd(t, bin, args...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, c.want) || !strings.HasPrefix(r.stderr, "gnutls-serv-go: ") {
				t.Errorf("stderr %q does not say %q", r.stderr, c.want)
			}
			if strings.Contains(r.stderr, "listening") {
				t.Errorf("listened despite the error")
			}
			if c.gnutlsServ {
				g := runCmd(t, testenv.LookPath(t, "gnutls-serv"), args...)
				if g.code != 1 {
					t.Errorf("gnutls-serv exit status %d, want 1", g.code)
				}
			}
		})
	}
}

// TestHelp: --help lists every option and exits 0, as gnutls-serv's does.
func TestHelp(t *testing.T) {
	r := runCmd(t, bin, "--help")
	if r.code != 0 {
		t.Fatalf("exit status %d", r.code)
	}
	for _, o := range optionTable {
		if !strings.Contains(r.stdout, "--"+o.Long) {
			t.Errorf("--help lacks --%s", o.Long)
		}
	}
	if g := runCmd(t, testenv.LookPath(t, "gnutls-serv"), "--help"); g.code != 0 {
		t.Errorf("gnutls-serv --help: exit status %d", g.code)
	}
	if r := runCmd(t, bin, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "gnutls-serv-go ") || !strings.Contains(r.stdout, "GnuTLS ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}
