package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// step is one turn of a plain-text server: the start of the line it
// expects from the client ("" for none), then what it sends.
type step struct{ expect, send string }

var starttlsScripts = map[string][]step{
	"smtp": {{"", "220 mx.test ESMTP\r\n"}, {"EHLO ", "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"}, {"STARTTLS", "220 go ahead\r\n"}},
	"lmtp": {{"", "220 lmtp.test LMTP\r\n"}, {"LHLO ", "250-lmtp.test\r\n250 STARTTLS\r\n"}, {"STARTTLS", "220 go ahead\r\n"}},
	"imap": {{"", "* OK IMAP4rev1 ready\r\n"}, {"a STARTTLS", "* NOTE untagged\r\na OK Begin TLS negotiation now\r\n"}},
	"pop3": {{"", "+OK POP3 ready\r\n"}, {"STLS", "+OK begin TLS\r\n"}},
	"ftp":  {{"", "220-welcome\r\n220 ready\r\n"}, {"AUTH TLS", "234 AUTH TLS ok\r\n"}},
	"nntp": {{"", "200 news ready\r\n"}, {"STARTTLS", "382 continue with TLS\r\n"}},
	"sieve": {{"", "\"IMPLEMENTATION\" \"test\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n"},
		{"STARTTLS", "OK \"Begin TLS negotiation now\"\r\n"}},
	"postgres": {{"\x00\x00\x00\x08\x04\xd2\x16\x2f", "S"}},
	"xmpp": {{"<stream:stream ", "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>" +
		"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"},
		{"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}},
	// StartTLS as message 1; the extended response: message 1, success.
	"ldap": {{"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037", "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00"}},
}

// readStep reads what the client sent for one step: the expected bytes,
// then the rest of the tag of an XML element or the rest of a text line;
// binary requests end with the expected bytes. An XML element may follow
// white space.
func readStep(r *bufio.Reader, expect string) error {
	if expect[0] == '<' {
		for b, err := r.Peek(1); err == nil && strings.ContainsRune(" \r\n", rune(b[0])); b, err = r.Peek(1) {
			r.ReadByte()
		}
	}
	got := make([]byte, len(expect))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, []byte(expect)) {
		return fmt.Errorf("expected %q, got %q (%v)", expect, got, err)
	}
	switch {
	case expect[0] == '<' && !strings.HasSuffix(expect, ">"):
		r.ReadString('>')
	case expect[0] != '<' && !strings.ContainsFunc(expect, func(c rune) bool { return c < ' ' }):
		r.ReadString('\n')
	}
	return nil
}

// plainServer runs script on each connection, then, if the script went
// through and upgrade is set, TLS with this module's server, echoing.
func plainServer(t *testing.T, script []step, upgrade bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &gnutls.Config{Certificates: []tls.Certificate{pki.leaf.TLS}}
	t.Cleanup(peers.Serve(ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(time.Minute))
		r := bufio.NewReader(c)
		for _, s := range script {
			if s.expect != "" {
				if err := readStep(r, s.expect); err != nil {
					t.Errorf("plain-text server: %v", err)
					return
				}
			}
			io.WriteString(c, s.send)
		}
		if !upgrade {
			io.Copy(io.Discard, r)
			return
		}
		tc := gnutls.Server(c, cfg)
		defer tc.Close()
		io.Copy(tc, tc)
	}))
	return port(ln.Addr().String())
}

func TestStartTLS(t *testing.T) {
	ca := caFile(t, pki.ca)
	for _, proto := range starttlsProtocols {
		t.Run(proto, func(t *testing.T) {
			pt := plainServer(t, starttlsScripts[proto], true)
			r := cli(t, "over "+proto+"\n", "--x509cafile", ca, "-p", pt, "--starttls-proto", proto, "-r", "localhost")
			r.ok(t, "- STARTTLS ("+proto+"): the server agreed to start TLS", "- Handshake was completed", "*** This is a resumed session")
			if r.stdout != "over "+proto+"\n" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func TestStartTLSFailures(t *testing.T) {
	ca := caFile(t, pki.ca)
	smtp, xmpp, ldap := starttlsScripts["smtp"], starttlsScripts["xmpp"], starttlsScripts["ldap"]
	for _, tc := range []struct {
		name   string
		proto  string
		script []step
		cause  []string
	}{
		{"refused", "smtp", []step{smtp[0], smtp[1], {"STARTTLS", "454 4.7.0 TLS not available\r\n"}},
			[]string{`STARTTLS (smtp) failed: the server answered "454 4.7.0 TLS not available" to STARTTLS`}},
		{"bad greeting", "pop3", []step{{"", "-ERR go away\r\n"}}, []string{`STARTTLS (pop3) failed: the server greeted with "-ERR go away"`}},
		{"data injected before the handshake", "smtp", []step{smtp[0], smtp[1], {"STARTTLS", "220 go ahead\r\n250 injected\r\n"}},
			[]string{"STARTTLS (smtp) failed: the server sent 14 bytes it should not have before the TLS handshake"}},
		{"postgres without TLS", "postgres", []step{{"\x00\x00\x00\x08\x04\xd2\x16\x2f", "N"}}, []string{`STARTTLS (postgres) failed: the server answered "N" to SSLRequest`}},
		{"server hangs up", "imap", nil, []string{"STARTTLS (imap) failed: the server closed the connection"}},
		{"postgres server hangs up", "postgres", nil, []string{"STARTTLS (postgres) failed: the server closed the connection"}},
		{"no answer to SSLRequest", "postgres", []step{{"\x00\x00\x00\x08\x04\xd2\x16\x2f", ""}},
			[]string{"STARTTLS (postgres) failed: the server did not answer within --connect-timeout"}},
		{"xmpp without starttls", "xmpp", []step{{"<stream:stream ", "<?xml version='1.0'?><stream:stream version='1.0'><stream:features><mechanisms/></stream:features>"}},
			[]string{"STARTTLS (xmpp) failed: the server's stream features do not offer starttls"}},
		{"xmpp failure", "xmpp", []step{xmpp[0], {xmpp[1].expect, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}},
			[]string{`STARTTLS (xmpp) failed: the server answered "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" to <starttls/>`}},
		{"ldap refused", "ldap", []step{{ldap[0].expect, "\x30\x0e\x02\x01\x01\x78\x09\x0a\x01\x02\x04\x00\x04\x02no"}},
			[]string{`STARTTLS (ldap) failed: the server refused StartTLS: LDAP result code 2 "no"`}},
		{"ldap answered with something else", "ldap", []step{{ldap[0].expect, "+OK\r\n"}},
			[]string{"STARTTLS (ldap) failed: the server answered with BER tag 0x2b, not an LDAP message"}},
		{"no answer to STARTTLS", "nntp", []step{{"", "200 news ready\r\n"}, {"STARTTLS", ""}},
			[]string{"STARTTLS (nntp) failed: the server did not answer within --connect-timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pt string
			if tc.script == nil {
				pt = hangUpServer(t, tc.proto)
			} else {
				pt = plainServer(t, tc.script, false)
			}
			r := cli(t, "", "--x509cafile", ca, "-p", pt, "--starttls-proto", tc.proto, "--connect-timeout", "500ms", "localhost")
			r.fails(t, "*** Fatal error: ", tc.cause...)
		})
	}
	t.Run("with --fastopen", func(t *testing.T) {
		cli(t, "", "--starttls-proto", "smtp", "--fastopen", "localhost").fails(t, "gnutls-cli-go: ", "--starttls-proto cannot go with --fastopen")
	})
	t.Run("unknown protocol", func(t *testing.T) {
		r := cli(t, "", "--starttls-proto", "gopher", "localhost")
		r.fails(t, "gnutls-cli-go: ", `--starttls-proto: unknown protocol "gopher" (known: `+strings.Join(starttlsProtocols, ", ")+")")
	})
}

// hangUpServer accepts and hangs up: at once, or after the request of a
// client that speaks first.
func hangUpServer(t *testing.T, proto string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Where the client speaks first (postgres), its request is read before
	// the hang-up: closing with it unread would reset the connection.
	first := starttlsScripts[proto][0].expect
	t.Cleanup(peers.Serve(ln, func(c net.Conn) {
		if first != "" {
			c.SetDeadline(time.Now().Add(time.Minute))
			if err := readStep(bufio.NewReader(c), first); err != nil {
				t.Errorf("hang-up server: %v", err)
			}
		}
	}))
	return port(ln.Addr().String())
}

// The XMPP and LDAP servers of the tests above lead gnutls-cli
// --starttls-proto and openssl s_client -starttls to TLS too, so they
// speak the protocols as those clients do.
func TestStartTLSScriptsWithReferenceClients(t *testing.T) {
	ca := caFile(t, pki.ca)
	for _, proto := range []string{"xmpp", "ldap"} {
		pt := plainServer(t, starttlsScripts[proto], true)
		for _, ref := range []struct {
			bin  string
			args []string
			ok   string
		}{
			{"gnutls-cli", []string{"--starttls-proto", proto, "--x509cafile", ca, "-p", pt, "localhost"}, "- Handshake was completed"},
			{"openssl", []string{"s_client", "-starttls", proto, "-xmpphost", "localhost", "-CAfile", ca, "-connect", "127.0.0.1:" + pt}, ", TLSv1."},
		} {
			out, err := peers.Client(t, "", testenv.LookPath(t, ref.bin), ref.args...)
			if err != nil || !strings.Contains(out, ref.ok) {
				t.Errorf("%s over %s: %v", ref.bin, proto, err)
			}
		}
	}
}

// FuzzStartTLSAnswers: whatever a server answers to XMPP's and LDAP's
// requests to start TLS, the client returns, with nil or an error, and
// reads nothing past the answer it needs.
func FuzzStartTLSAnswers(f *testing.F) {
	for _, proto := range []string{"xmpp", "ldap"} {
		var all string
		for _, s := range starttlsScripts[proto] {
			all += s.send
		}
		f.Add(proto, []byte(all))
		f.Add(proto, []byte(all[:len(all)/2]))
	}
	f.Add("ldap", []byte("\x30\x84\xff\xff\xff\xff"))
	f.Add("ldap", []byte("\x30\x05\x02\x01\x01\x78\x80"))
	f.Fuzz(func(t *testing.T, proto string, answer []byte) {
		if proto != "xmpp" && proto != "ldap" {
			return
		}
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			go io.Copy(io.Discard, server)
			server.Write(answer)
			server.Close()
		}()
		done := make(chan error, 1)
		go func() { done <- starttls(client, proto, "client", "localhost", time.Now().Add(5*time.Second)) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no return for answer %q", proto, answer)
		}
	})
}
