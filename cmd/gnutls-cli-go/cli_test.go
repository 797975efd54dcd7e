package main

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
	"github.com/go-gnutls/go-gnutls/internal/testpki"
)

// peer is a server the tests run against, and what it answers to a line.
type peer struct {
	name  string
	start func(t *testing.T, extra ...string) (port string)
	reply func(line string) string
}

var allPeers = []peer{
	{"gnutls-serv", func(t *testing.T, extra ...string) string {
		return port(peers.GnutlsServ(t, pki.ca, pki.leaf, append([]string{"--disable-client-cert"}, extra...)...).Addr)
	}, func(l string) string { return l }},
	{"openssl s_server", func(t *testing.T, extra ...string) string {
		return port(peers.OpenSSL(t, pki.ca, pki.leaf, append([]string{"-quiet"}, extra...)...).Addr)
	}, peers.Reverse},
	{"go-gnutls Server", func(t *testing.T, _ ...string) string {
		return goServer(t, &gnutls.Config{}, echo)
	}, func(l string) string { return l }},
}

func TestRoundTrip(t *testing.T) {
	for _, p := range allPeers {
		t.Run(p.name, func(t *testing.T) {
			pt := p.start(t)
			ca := caFile(t, pki.ca)
			for _, tc := range []struct {
				name   string
				args   []string
				report []string
			}{
				{"defaults", nil, []string{"- Certificate[0] info:\n - subject `CN=localhost'", "- Status: The certificate is trusted.", "- Description: (TLS1.3-X.509)-", "- TCP Fast Open: not requested"}},
				{"TLS 1.2 by --priority", []string{"--priority", "NORMAL:-VERS-TLS1.3"}, []string{"- Description: (TLS1.2-X.509)-"}},
				{"--timing", []string{"--timing"}, []string{"- Timing: connect ", "- Timing: first response byte "}},
				{"-V", []string{"-V"}, []string{"- Version: TLS1.3", "- Cipher suite: TLS_", "- Server name: localhost", "Subject Public Key Algorithm"}},
				{"--fastopen on loopback", []string{"--fastopen"}, []string{"- TCP Fast Open: requested, not used: "}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					line := "round trip " + tc.name
					args := append([]string{"--x509cafile", ca, "-p", pt}, tc.args...)
					r := cli(t, line+"\n", append(args, "localhost")...)
					r.ok(t, append(tc.report, "- Certificate type: X.509", "- Got a certificate list of 1 certificates.",
						"- Certificate[0] info:\n", "- Handshake was completed")...)
					if want := p.reply(line) + "\n"; r.stdout != want {
						t.Errorf("stdout %q, want %q", r.stdout, want)
					}
				})
			}
		})
	}
}

func TestResume(t *testing.T) {
	for _, p := range allPeers {
		for _, prio := range []string{"NORMAL", "NORMAL:-VERS-TLS1.3"} {
			t.Run(p.name+"/"+prio, func(t *testing.T) {
				pt := p.start(t)
				r := cli(t, "resumed\n", "--x509cafile", caFile(t, pki.ca), "-p", pt, "-r", "--priority", prio, "localhost")
				r.ok(t, "- Handshake was completed\n- Disconnecting", "- Connecting again- trying to resume previous session",
					"- Resume Handshake was completed\n*** This is a resumed session")
				if want := p.reply("resumed") + "\n"; r.stdout != want {
					t.Errorf("stdout %q, want %q", r.stdout, want)
				}
			})
		}
	}
}

func TestResumeRefused(t *testing.T) {
	pt := goServer(t, &gnutls.Config{SessionTicketsDisabled: true}, echo)
	r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "-r", "localhost")
	r.ok(t, "- The server sent no session ticket", "*** Previous session was NOT resumed")
}

func TestALPN(t *testing.T) {
	t.Run("gnutls-serv", func(t *testing.T) {
		pt := allPeers[0].start(t, "--alpn", "h2", "--alpn", "foo")
		r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "--alpn", "foo", "--alpn", "h2", "localhost")
		r.ok(t, "- Application protocol: ")
		if !strings.Contains(r.stderr, "- Application protocol: h2\n") && !strings.Contains(r.stderr, "- Application protocol: foo\n") {
			t.Error("the negotiated protocol is not one offered")
		}
	})
	t.Run("go-gnutls Server", func(t *testing.T) {
		pt := goServer(t, &gnutls.Config{NextProtos: []string{"bar", "foo"}}, echo)
		r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "--alpn=foo", "--alpn=baz", "localhost")
		r.ok(t, "- Application protocol: foo\n")
	})
	t.Run("none agreed", func(t *testing.T) {
		pt := allPeers[0].start(t)
		r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "localhost")
		if r.ok(t); strings.Contains(r.stderr, "- Application protocol:") {
			t.Error("an application protocol is reported though none was offered")
		}
	})
}

// sniServer answers each connection with the SNI it received.
func sniServer(t *testing.T) string {
	return goServer(t, &gnutls.Config{}, func(c *gnutls.Conn) {
		fmt.Fprintf(c, "sni=%q\n", c.ConnectionState().ServerName)
		io.Copy(io.Discard, c)
	})
}

func TestServerName(t *testing.T) {
	pt := sniServer(t)
	ca := caFile(t, pki.ca)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"host name", []string{"localhost"}, `sni="localhost"`},
		{"IP address sends none", []string{"127.0.0.1"}, `sni=""`},
		{"--sni-hostname", []string{"--sni-hostname", "localhost", "127.0.0.1"}, `sni="localhost"`},
		{"--disable-sni", []string{"--disable-sni", "localhost"}, `sni=""`},
		{"--verify-hostname", []string{"--verify-hostname", "127.0.0.1", "localhost"}, `sni="localhost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, "", append([]string{"--x509cafile", ca, "-p", pt}, tc.args...)...)
			r.ok(t)
			if got := strings.TrimSpace(r.stdout); got != tc.want {
				t.Errorf("server received %s, want %s", got, tc.want)
			}
		})
	}
}

func TestVerification(t *testing.T) {
	pt := allPeers[0].start(t)
	dir := t.TempDir()
	t.Run("name mismatch", func(t *testing.T) {
		r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "--verify-hostname", "other.example", "localhost")
		r.fails(t, "*** Fatal error: ", "certificate rejected: ", "The name in the certificate does not match")
	})
	t.Run("unknown issuer", func(t *testing.T) {
		r := cli(t, "hidden\n", "--x509cafile", caFile(t, pki.other), "-p", pt, "localhost")
		r.fails(t, "*** Fatal error: ", "certificate rejected: ", "The certificate issuer is unknown")
		if r.stdout != "" {
			t.Errorf("data went through a rejected connection: %q", r.stdout)
		}
	})
	t.Run("--insecure", func(t *testing.T) {
		r := cli(t, "insecure\n", "--insecure", "--x509cafile", caFile(t, pki.other), "-p", pt, "localhost")
		r.ok(t, "*** WARNING: --insecure", "- Status: The certificate is NOT trusted. The certificate issuer is unknown.\n",
			"*** PKI verification of server certificate failed; continuing because of --insecure")
		if r.stdout != "insecure\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("--insecure with a name mismatch", func(t *testing.T) {
		r := cli(t, "", "--insecure", "--x509cafile", caFile(t, pki.ca), "--verify-hostname", "other.example", "-p", pt, "localhost")
		r.ok(t, "- Status: The certificate is NOT trusted. The name in the certificate does not match the expected.\n")
	})
	t.Run("--insecure with a trusted certificate", func(t *testing.T) {
		r := cli(t, "", "--insecure", "--x509cafile", caFile(t, pki.ca), "-p", pt, "localhost")
		r.ok(t, "*** WARNING: --insecure", "- Status: The certificate is trusted.\n")
		if strings.Contains(r.stderr, "PKI verification of server certificate failed") {
			t.Error("a trusted certificate reported as failing verification")
		}
	})
	t.Run("revoked", func(t *testing.T) {
		crl := filepath.Join(dir, "crl.pem")
		if err := os.WriteFile(crl, pki.ca.CRL(pki.leaf.Cert), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "--x509crlfile", crl, "-p", pt, "localhost")
		r.has(t, "Processed 1 CRL(s).")
		r.fails(t, "*** Fatal error: ", "certificate rejected: ", "revoked")
	})
}

func TestClientCertificate(t *testing.T) {
	pt := goServer(t, &gnutls.Config{ClientAuth: gnutls.RequireAndVerifyClientCert, ClientCAPEM: pki.ca.PEM}, func(c *gnutls.Conn) {
		if st := c.ConnectionState(); len(st.PeerCertificates) > 0 {
			fmt.Fprintf(c, "client=%s\n", st.PeerCertificates[0].Subject.CommonName)
		}
		io.Copy(io.Discard, c)
	})
	client := pki.ca.Issue(testpki.Options{}, "client.example")
	_, certFile, keyFile := peers.Files(t, pki.ca, client)
	ca := caFile(t, pki.ca)
	t.Run("given", func(t *testing.T) {
		r := cli(t, "", "--x509cafile", ca, "--x509certfile", certFile, "--x509keyfile", keyFile, "-p", pt, "localhost")
		r.ok(t, "- Successfully sent 1 certificate(s) to server.\n- Server has requested a certificate.\n")
		if r.stdout != "client=client.example\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("missing", func(t *testing.T) {
		// Under TLS 1.3 the server's alert arrives after the client's
		// handshake completed: the first read fails with it.
		r := cli(t, "", "--x509cafile", ca, "-p", pt, "localhost")
		r.has(t, "- Successfully sent 0 certificate(s) to server.\n- Server has requested a certificate.\n")
		r.fails(t, "*** Fatal error: ", "the server sent the fatal alert", "Certificate is required")
	})
	t.Run("key without certificate", func(t *testing.T) {
		r := cli(t, "", "--x509keyfile", keyFile, "-p", pt, "localhost")
		r.fails(t, "gnutls-cli-go: ", "--x509keyfile needs --x509certfile")
	})
	t.Run("key of another certificate", func(t *testing.T) {
		_, _, otherKey := peers.Files(t, pki.ca, pki.leaf)
		r := cli(t, "", "--x509cafile", ca, "--x509certfile", certFile, "--x509keyfile", otherKey, "-p", pt, "localhost")
		r.fails(t, "*** Fatal error: ", "--x509certfile", "private key does not match public key")
	})
}

func TestPrintCert(t *testing.T) {
	pt := allPeers[0].start(t)
	saved := filepath.Join(t.TempDir(), "chain.pem")
	r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "--print-cert", "--save-cert", saved, "-r", "localhost")
	r.ok(t)
	checkChainPEM(t, "stdout", []byte(r.stdout))
	b, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	checkChainPEM(t, "--save-cert file", b)

	unsaved := filepath.Join(t.TempDir(), "unsaved.pem")
	cli(t, "", "--save-cert", unsaved, "--x509cafile", caFile(t, pki.other), "-p", pt, "localhost").fails(t, "*** Fatal error: ", "certificate rejected")
	if _, err := os.Stat(unsaved); !os.IsNotExist(err) {
		t.Errorf("a failed connection left %s behind: %v", unsaved, err)
	}
	bad := cli(t, "", "--save-cert", filepath.Join(t.TempDir(), "no", "such", "dir"), "-p", pt, "localhost")
	bad.fails(t, "*** Fatal error: ", "--save-cert: cannot write ", "no such file or directory")
}

// checkChainPEM checks that b holds the server's certificate in PEM, and nothing else.
func checkChainPEM(t *testing.T, what string, b []byte) {
	t.Helper()
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("%s is not one PEM certificate: %q", what, b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !c.Equal(pki.leaf.Cert) {
		t.Fatalf("%s: the certificate is not the server's: %v", what, err)
	}
}

// TestFailures checks that each cause of failure exits with status 1 and
// one line naming it.
func TestFailures(t *testing.T) {
	gnutlsServ := allPeers[0].start(t)
	tls13Only := allPeers[1].start(t, "-tls1_3")
	ca := caFile(t, pki.ca)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		prefix string
		cause  []string
	}{
		{"connection refused", []string{"-p", fmt.Sprint(peers.FreePort(t)), "--x509cafile", ca, "127.0.0.1"},
			"*** Fatal error: ", []string{"could not connect to 127.0.0.1:", "connection refused"}},
		{"handshake failure", []string{"-p", tls13Only, "--x509cafile", ca, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "localhost"},
			"*** Fatal error: ", []string{"handshake failed: the server sent the fatal alert"}},
		{"no common suite", []string{"-p", gnutlsServ, "--x509cafile", ca, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-AES-256-GCM:-AES-128-GCM:-CHACHA20-POLY1305:-AES-128-CCM", "localhost"},
			"*** Fatal error: ", []string{"bad --priority: No or insufficient priorities were set."}},
		{"bad priority", []string{"-p", gnutlsServ, "--priority", "NORMAL:+NOPE", "localhost"},
			"*** Fatal error: ", []string{`bad --priority: The request is invalid. (GNUTLS_E_INVALID_REQUEST): priority "NORMAL:+NOPE" is invalid at "+NOPE"`}},
		{"missing CA file", []string{"--x509cafile", missing, "localhost"},
			"*** Fatal error: ", []string{"--x509cafile: cannot read " + missing + ": no such file or directory"}},
		{"CA file without certificates", []string{"--x509cafile", notPEM, "localhost"},
			"*** Fatal error: ", []string{"--x509cafile " + notPEM + ": No certificate was found."}},
		{"missing CRL file", []string{"--x509cafile", ca, "--x509crlfile", missing, "localhost"},
			"*** Fatal error: ", []string{"--x509crlfile: cannot read " + missing}},
		{"missing early data file", []string{"-r", "--earlydata", missing, "localhost"},
			"*** Fatal error: ", []string{"--earlydata: cannot read " + missing}},
		{"unknown option", []string{"--no-such-option", "localhost"}, "gnutls-cli-go: ", []string{"unknown option --no-such-option"}},
		{"unknown short option", []string{"-Z", "localhost"}, "gnutls-cli-go: ", []string{"unknown option -Z"}},
		{"missing value", []string{"localhost", "--port"}, "gnutls-cli-go: ", []string{"--port needs a value"}},
		{"bad port", []string{"-p", "no-such-service", "localhost"}, "*** Fatal error: ", []string{`bad --port "no-such-service"`}},
		{"no host", []string{"-p", "443"}, "gnutls-cli-go: ", []string{"no HOST given"}},
		{"bad duration", []string{"--close-wait", "soon", "localhost"}, "gnutls-cli-go: ", []string{"--close-wait: \"soon\" is not a positive duration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli(t, "", tc.args...).fails(t, tc.prefix, tc.cause...)
		})
	}
}

func TestServerClose(t *testing.T) {
	ca := caFile(t, pki.ca)
	t.Run("without close_notify", func(t *testing.T) {
		pt := goServer(t, &gnutls.Config{}, func(c *gnutls.Conn) {
			io.WriteString(c, "bye\n")
			c.NetConn().Close()
		})
		// Standard input stays open: after it ended, such a close is
		// a clean end (TestCloseWithoutCloseNotify).
		stdin, keep, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer keep.Close()
		defer stdin.Close()
		r := runCmd(t, exec.Command(bin, "--x509cafile", ca, "-p", pt, "localhost"), "", func(c *exec.Cmd) error {
			c.Stdin = stdin
			return c.Start()
		})
		r.fails(t, "*** Fatal error: ", "read failed: the server closed the connection without close_notify")
		if r.stdout != "bye\n" {
			t.Errorf("stdout %q", r.stdout)
		}
	})
	t.Run("stays open after close_notify", func(t *testing.T) {
		stop := make(chan struct{})
		pt := goServer(t, &gnutls.Config{}, func(c *gnutls.Conn) {
			io.Copy(c, c)
			<-stop
		})
		defer close(stop)
		r := cli(t, "line\n", "--x509cafile", ca, "-p", pt, "--close-wait", "300ms", "localhost")
		r.ok(t)
		if strings.Contains(r.stderr, "Peer has closed") || r.stdout != "line\n" {
			t.Errorf("stdout %q; the report says the peer closed", r.stdout)
		}
	})
}

func TestList(t *testing.T) {
	r := cli(t, "", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--list")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"Cipher suites for NORMAL:-VERS-ALL:+VERS-TLS1.3\n", "TLS_AES_128_GCM_SHA256", "\t0x13, 0x01\tTLS1.3\n",
		"Protocols: VERS-TLS1.3\n", "Groups: GROUP-", "PK-signatures: SIGN-"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--list lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "TLS1.2") {
		t.Error("--list of a TLS 1.3 only priority shows TLS 1.2")
	}
	all := cli(t, "", "-l")
	if all.code != 0 || !strings.HasPrefix(all.stdout, "Cipher suites:\n") || !strings.Contains(all.stdout, "\nPublic Key Systems: ") {
		t.Errorf("-l: exit %d, %q", all.code, all.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, flag := range []string{"-h", "--help"} {
		r := cli(t, "", flag)
		if r.code != 0 {
			t.Fatalf("%s: exit %d", flag, r.code)
		}
		for _, o := range optionTable {
			if !strings.Contains(r.stdout, "--"+o.Long) || (o.Short != "" && !strings.Contains(r.stdout, "-"+o.Short+", --"+o.Long)) {
				t.Errorf("%s does not list -%s/--%s", flag, o.Short, o.Long)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	r := cli(t, "", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "gnutls-cli-go ") || !strings.Contains(r.stdout, "GnuTLS "+gnutls.Version()) {
		t.Fatalf("exit %d, %q", r.code, r.stdout)
	}
	if short := cli(t, "", "-v"); short.stdout != r.stdout {
		t.Errorf("-v says %q, --version %q", short.stdout, r.stdout)
	}
}

func TestConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer peers.Serve(ln, func(net.Conn) { <-stop })()
	defer close(stop)
	r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "--connect-timeout", "300ms", "-p", port(ln.Addr().String()), "127.0.0.1")
	r.fails(t, "*** Fatal error: ", "timed out: connecting to 127.0.0.1:", "took longer than 300ms (--connect-timeout)")
}

func TestLargeTransfer(t *testing.T) {
	pt := goServer(t, &gnutls.Config{}, echo)
	data := make([]byte, 4<<20)
	rand.Read(data)
	r := cli(t, string(data), "--x509cafile", caFile(t, pki.ca), "-p", pt, "localhost")
	r.ok(t, "- Peer has closed the GnuTLS connection")
	if r.stdout != string(data) {
		t.Fatalf("got %d bytes back, want the %d sent", len(r.stdout), len(data))
	}
}

func TestCRLF(t *testing.T) {
	pt := goServer(t, &gnutls.Config{}, echo)
	r := cli(t, "HELO a\nQUIT\r\n", "--x509cafile", caFile(t, pki.ca), "-p", pt, "--crlf", "localhost")
	r.ok(t)
	if r.stdout != "HELO a\r\nQUIT\r\n" {
		t.Errorf("server received %q", r.stdout)
	}
}

func TestDebug(t *testing.T) {
	pt := allPeers[0].start(t)
	r := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "-d", "4", "localhost")
	r.ok(t, "|<4>| ", "|<3>| ")
	if quiet := cli(t, "", "--x509cafile", caFile(t, pki.ca), "-p", pt, "localhost"); strings.Contains(quiet.stderr, "|<") {
		t.Error("debug messages without -d")
	}
}

// TestListLikeGnutlsCli: --list prints what gnutls-cli --list prints:
// everything GnuTLS supports, or for a priority string what it enables,
// plus the certificate types.
func TestListLikeGnutlsCli(t *testing.T) {
	ref := testenv.LookPath(t, "gnutls-cli")
	for _, prio := range []string{"", "NORMAL", "NORMAL:-VERS-TLS1.3", "SECURE256:+VERS-TLS1.3", "PERFORMANCE:%SERVER_PRECEDENCE"} {
		args := []string{"--list"}
		if prio != "" {
			args = append([]string{"--priority", prio}, args...)
		}
		want, err := exec.Command(ref, args...).Output()
		if err != nil {
			t.Fatalf("gnutls-cli %s: %v", strings.Join(args, " "), err)
		}
		r := cli(t, "", args...)
		var got []string
		for _, l := range strings.SplitAfter(r.stdout, "\n") {
			if prio == "" || !strings.HasPrefix(l, "Certificate types: ") {
				got = append(got, l)
			}
		}
		if prio == "" && len(got) < 150 {
			t.Errorf("--list printed %d lines, want everything GnuTLS supports", len(got))
		}
		if strings.Join(got, "") != string(want) {
			t.Errorf("--priority %s --list differs from gnutls-cli:\n%s\nwant:\n%s", prio, strings.Join(got, ""), want)
		}
	}
}

// TestReportLikeGnutlsCli: the report lines gnutls-cli also prints are
// the same, for the same server and options.
func TestReportLikeGnutlsCli(t *testing.T) {
	ref := testenv.LookPath(t, "gnutls-cli")
	pt := allPeers[0].start(t, "--alpn", "h2")
	args := []string{"--x509cafile", caFile(t, pki.ca), "-p", pt, "--alpn", "h2", "-r", "localhost"}
	compareReports(t, ref, args, []string{"Processed ", "- Successfully sent ", "- Server has requested", "- Certificate type:", "- Got a certificate list",
		" - subject ", "- Status:", "- Description:", "- Session ID:", "- Application protocol:", "- Handshake was completed", "- Resume Handshake was completed",
		"*** This is a resumed session", "- Disconnecting", "- Connecting again", "- Peer has closed the GnuTLS connection"}, 14)
}

// TestCloseWithoutCloseNotify: a server (crypto/tls) that answers and then
// closes its TCP socket without close_notify after standard input ended
// (an SMTP server after QUIT) ends a run that succeeded, as for
// gnutls-cli, in the same test.
func TestCloseWithoutCloseNotify(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peers.Serve(ln, func(c net.Conn) {
		tc := c.(*tls.Conn)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := bufio.NewReader(tc).ReadString('\n'); err != nil {
			return
		}
		io.WriteString(tc, "221 bye\r\n")
		// Until the client's close_notify, if it sends one.
		tc.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, tc)
		tc.NetConn().Close() // no close_notify
	}))
	args := []string{"--x509cafile", caFile(t, pki.ca), "-p", port(ln.Addr().String()), "localhost"}
	ref := exec.Command(testenv.LookPath(t, "gnutls-cli"), args...)
	ref.Stdin = strings.NewReader("QUIT\r\n")
	out, err := ref.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "221 bye") {
		t.Fatalf("gnutls-cli: %v, want exit status 0 and the answer\n%s", err, out)
	}
	r := cli(t, "QUIT\r\n", args...)
	r.ok(t, "- Peer has closed the GnuTLS connection")
	if r.stdout != "221 bye\r\n" {
		t.Errorf("stdout %q, want the answer", r.stdout)
	}
}
