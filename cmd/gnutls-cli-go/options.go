package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/cliopts"
)

// options are the command line settings.
type options struct {
	host           string
	port           string
	fastOpen       bool
	resume         bool
	earlyData      string
	alpn           []string
	sniHostname    string
	verifyHostname string
	disableSNI     bool
	insecure       bool
	caFile         string
	crlFile        string
	certFile       string
	keyFile        string
	priority       string
	verbose        bool
	debug          int
	crlf           bool
	printCert      bool
	starttls       string
	saveCert       string
	saveOCSP       string
	ocsp           bool
	list           bool
	timing         bool
	connectTimeout time.Duration
	closeWait      time.Duration
	help           bool
	version        bool
	// pskUsername and pskKey (decoded from hex) are --pskusername and
	// --pskkey; x509DER is --x509fmtder; noTicket --noticket.
	pskUsername string
	pskKey      []byte
	x509DER     bool
	noTicket    bool
}

func defaultOptions() *options {
	return &options{port: "443", connectTimeout: 30 * time.Second, closeWait: 2 * time.Second}
}

func str(p func(o *options) *string) func(*options, string) error {
	return func(o *options, v string) error { *p(o) = v; return nil }
}

func flag(p func(o *options) *bool) func(*options, string) error {
	return func(o *options, _ string) error { *p(o) = true; return nil }
}

func duration(p func(o *options) *time.Duration) func(*options, string) error {
	return func(o *options, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 500ms or 10s", v)
		}
		*p(o) = d
		return nil
	}
}

// optionTable lists every option, in the order --help shows them.
var optionTable = []cliopts.Option[options]{
	{Short: "p", Long: "port", Arg: "PORT", Help: "port or service to connect to (default 443)", Set: str(func(o *options) *string { return &o.port })},
	{Long: "fastopen", Help: "enable TCP Fast Open: the ClientHello travels in the SYN once the kernel holds a cookie for the server", Set: flag(func(o *options) *bool { return &o.fastOpen })},
	{Short: "r", Long: "resume", Help: "connect, keep the session, then connect again resuming it (with --fastopen both connections use it)", Set: flag(func(o *options) *bool { return &o.resume })},
	{Long: "earlydata", Arg: "FILE", Help: "send the file as TLS 1.3 early data on the resumed connection (needs -r)", Set: str(func(o *options) *string { return &o.earlyData })},
	{Long: "alpn", Arg: "PROTOCOL", Help: "offer an application protocol (ALPN); repeat for more, in preference order", Set: func(o *options, v string) error {
		if v == "" || len(v) > 255 {
			return fmt.Errorf("ALPN protocol %q must be 1 to 255 bytes", v)
		}
		if len(o.alpn) == 16 {
			return fmt.Errorf("at most 16 protocols can be offered")
		}
		o.alpn = append(o.alpn, v)
		return nil
	}},
	{Long: "starttls-proto", Arg: "PROTO", Help: "speak PROTO in plain text until the server starts TLS: " + strings.Join(starttlsProtocols, ", "), Set: func(o *options, v string) error {
		for _, p := range starttlsProtocols {
			if v == p {
				o.starttls = v
				return nil
			}
		}
		return fmt.Errorf("unknown protocol %q (known: %s)", v, strings.Join(starttlsProtocols, ", "))
	}},
	{Long: "sni-hostname", Arg: "NAME", Help: "server name to send (SNI) and verify, instead of HOST", Set: str(func(o *options) *string { return &o.sniHostname })},
	{Long: "verify-hostname", Arg: "NAME", Help: "name the certificate must be valid for, instead of the server name", Set: str(func(o *options) *string { return &o.verifyHostname })},
	{Long: "disable-sni", Help: "send no server name indication", Set: flag(func(o *options) *bool { return &o.disableSNI })},
	{Long: "insecure", Help: "go on even when the server's certificate is not trusted; the report still says what verification found", Set: flag(func(o *options) *bool { return &o.insecure })},
	{Long: "x509cafile", Arg: "FILE", Help: "trust the CA certificates of this PEM file instead of the system's", Set: str(func(o *options) *string { return &o.caFile })},
	{Long: "x509crlfile", Arg: "FILE", Help: "check certificates against the CRLs of this PEM file", Set: str(func(o *options) *string { return &o.crlFile })},
	{Long: "x509certfile", Arg: "FILE", Help: "client certificate chain (PEM, or a pkcs11: URL); needs --x509keyfile", Set: str(func(o *options) *string { return &o.certFile })},
	{Long: "x509keyfile", Arg: "FILE", Help: "private key of the client certificate (PEM, or a pkcs11: URL; the token's PIN comes from GNUTLS_PIN)", Set: str(func(o *options) *string { return &o.keyFile })},
	{Long: "ocsp", Help: "check the server's certificates with OCSP: without a valid stapled response, ask the responder each one names", Set: flag(func(o *options) *bool { return &o.ocsp })},
	{Long: "save-ocsp", Arg: "FILE", Help: "save the server's stapled OCSP response (DER) to FILE", Set: str(func(o *options) *string { return &o.saveOCSP })},
	{Long: "priority", Arg: "STRING", Help: "GnuTLS priority string, such as NORMAL:-VERS-TLS1.2", Set: str(func(o *options) *string { return &o.priority })},
	{Long: "x509fmtder", Help: "the files of --x509cafile, --x509crlfile, --x509certfile and --x509keyfile are DER, not PEM (one certificate or CRL each)", Set: flag(func(o *options) *bool { return &o.x509DER })},
	{Long: "pskusername", Arg: "NAME", Help: "authenticate with a pre-shared key under this identity; needs --pskkey. The server is then authenticated by the key alone", Set: setPSKUsername},
	{Long: "pskkey", Arg: "HEX", Help: "the pre-shared key, in hex; needs --pskusername", Set: setPSKKey},
	{Long: "noticket", Help: "neither ask for nor use session tickets: -r then resumes by session ID, which needs TLS 1.2 and a server that keeps a session cache", Set: flag(func(o *options) *bool { return &o.noTicket })},
	{Short: "V", Long: "verbose", Help: "more detail: every certificate in full, the negotiated algorithms", Set: flag(func(o *options) *bool { return &o.verbose })},
	{Short: "d", Long: "debug", Arg: "LEVEL", Help: "write GnuTLS's debug messages up to LEVEL (1 to 9999) to stderr", Set: func(o *options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 9999 {
			return fmt.Errorf("%q is not a level from 0 to 9999", v)
		}
		o.debug = n
		return nil
	}},
	{Long: "crlf", Help: "send CR LF instead of LF for each line of stdin", Set: flag(func(o *options) *bool { return &o.crlf })},
	{Long: "print-cert", Help: "print the server's certificate chain in PEM on stdout, before any data", Set: flag(func(o *options) *bool { return &o.printCert })},
	{Long: "save-cert", Arg: "FILE", Help: "save the server's certificate chain in PEM to FILE", Set: str(func(o *options) *string { return &o.saveCert })},
	{Long: "timing", Help: "report the time taken by the connect, the handshake and the first response byte", Set: flag(func(o *options) *bool { return &o.timing })},
	{Long: "connect-timeout", Arg: "DURATION", Help: "give up when connecting and handshaking take longer (default 30s)", Set: duration(func(o *options) *time.Duration { return &o.connectTimeout })},
	{Long: "close-wait", Arg: "DURATION", Help: "after the end of stdin, exit once the server has sent nothing for this long (default 2s)", Set: duration(func(o *options) *time.Duration { return &o.closeWait })},
	{Short: "l", Long: "list", Help: "list what GnuTLS supports, or with --priority what that string enables, and exit", Set: flag(func(o *options) *bool { return &o.list })},
	{Short: "h", Long: "help", Help: "show this help and exit", Set: flag(func(o *options) *bool { return &o.help })},
	{Short: "v", Long: "version", Help: "show the version of gnutls-cli-go and of GnuTLS, and exit", Set: flag(func(o *options) *bool { return &o.version })},
}

// parseArgs reads the command line as gnutls-cli does: --name=value or
// --name value, -x value or -xvalue, switches grouped as -rV, options and
// the host in any order, "--" ending the options.
func parseArgs(args []string) (*options, error) {
	o := defaultOptions()
	hosts, err := cliopts.Parse(optionTable, o, args, true)
	if err != nil {
		return nil, err
	}
	if o.help || o.version || o.list {
		return o, nil
	}
	switch {
	case len(hosts) == 0:
		return nil, cliopts.Usagef("no HOST given")
	case len(hosts) > 1:
		return nil, cliopts.Usagef("one HOST expected, got %q", hosts)
	}
	o.host = hosts[0]
	switch {
	case o.host == "":
		return nil, cliopts.Usagef("HOST is empty")
	case o.port == "":
		return nil, cliopts.Usagef("--port is empty")
	case o.certFile != "" && o.keyFile == "":
		return nil, cliopts.Usagef("--x509certfile needs --x509keyfile")
	case o.keyFile != "" && o.certFile == "":
		return nil, cliopts.Usagef("--x509keyfile needs --x509certfile")
	case o.starttls != "" && o.fastOpen:
		return nil, cliopts.Usagef("--starttls-proto cannot go with --fastopen: the connection starts in plain text")
	case o.earlyData != "" && !o.resume:
		return nil, cliopts.Usagef("--earlydata needs -r/--resume: early data is sent on the resumed connection")
	case o.pskUsername != "" && o.pskKey == nil:
		return nil, cliopts.Usagef("--pskusername needs --pskkey")
	case o.pskKey != nil && o.pskUsername == "":
		return nil, cliopts.Usagef("--pskkey needs --pskusername")
	}
	return o, nil
}

// printUsage writes the help text: every option of optionTable.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: gnutls-cli-go [options] HOST

Connects to HOST with TLS, prints a report of the session on stderr, then
sends stdin to the server and writes what it sends to stdout. The end of
stdin sends close_notify; the program exits once the server closes or
--close-wait passes. Exit status: 0 on success, 1 on any failure.

Options:
`)
	cliopts.PrintOptions(w, optionTable)
}
