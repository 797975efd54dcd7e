package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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

// option is one command line option. arg names its value; "" makes it a
// switch.
type option struct {
	short string
	long  string
	arg   string
	help  string
	set   func(o *options, v string) error
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
var optionTable = []option{
	{"p", "port", "PORT", "port or service to connect to (default 443)", str(func(o *options) *string { return &o.port })},
	{"", "fastopen", "", "enable TCP Fast Open: the ClientHello travels in the SYN once the kernel holds a cookie for the server", flag(func(o *options) *bool { return &o.fastOpen })},
	{"r", "resume", "", "connect, keep the session, then connect again resuming it (with --fastopen both connections use it)", flag(func(o *options) *bool { return &o.resume })},
	{"", "earlydata", "FILE", "send the file as TLS 1.3 early data on the resumed connection (needs -r)", str(func(o *options) *string { return &o.earlyData })},
	{"", "alpn", "PROTOCOL", "offer an application protocol (ALPN); repeat for more, in preference order", func(o *options, v string) error {
		if v == "" || len(v) > 255 {
			return fmt.Errorf("ALPN protocol %q must be 1 to 255 bytes", v)
		}
		if len(o.alpn) == 16 {
			return fmt.Errorf("at most 16 protocols can be offered")
		}
		o.alpn = append(o.alpn, v)
		return nil
	}},
	{"", "starttls-proto", "PROTO", "speak PROTO in plain text until the server starts TLS: " + strings.Join(starttlsProtocols, ", "), func(o *options, v string) error {
		for _, p := range starttlsProtocols {
			if v == p {
				o.starttls = v
				return nil
			}
		}
		return fmt.Errorf("unknown protocol %q (known: %s)", v, strings.Join(starttlsProtocols, ", "))
	}},
	{"", "sni-hostname", "NAME", "server name to send (SNI) and verify, instead of HOST", str(func(o *options) *string { return &o.sniHostname })},
	{"", "verify-hostname", "NAME", "name the certificate must be valid for, instead of the server name", str(func(o *options) *string { return &o.verifyHostname })},
	{"", "disable-sni", "", "send no server name indication", flag(func(o *options) *bool { return &o.disableSNI })},
	{"", "insecure", "", "go on even when the server's certificate is not trusted; the report still says what verification found", flag(func(o *options) *bool { return &o.insecure })},
	{"", "x509cafile", "FILE", "trust the CA certificates of this PEM file instead of the system's", str(func(o *options) *string { return &o.caFile })},
	{"", "x509crlfile", "FILE", "check certificates against the CRLs of this PEM file", str(func(o *options) *string { return &o.crlFile })},
	{"", "x509certfile", "FILE", "client certificate chain (PEM, or a pkcs11: URL); needs --x509keyfile", str(func(o *options) *string { return &o.certFile })},
	{"", "x509keyfile", "FILE", "private key of the client certificate (PEM, or a pkcs11: URL; the token's PIN comes from GNUTLS_PIN)", str(func(o *options) *string { return &o.keyFile })},
	{"", "ocsp", "", "check the server's certificates with OCSP: without a valid stapled response, ask the responder each one names", flag(func(o *options) *bool { return &o.ocsp })},
	{"", "save-ocsp", "FILE", "save the server's stapled OCSP response (DER) to FILE", str(func(o *options) *string { return &o.saveOCSP })},
	{"", "priority", "STRING", "GnuTLS priority string, such as NORMAL:-VERS-TLS1.2", str(func(o *options) *string { return &o.priority })},
	{"", "x509fmtder", "", "the files of --x509cafile, --x509crlfile, --x509certfile and --x509keyfile are DER, not PEM (one certificate or CRL each)", flag(func(o *options) *bool { return &o.x509DER })},
	{"", "pskusername", "NAME", "authenticate with a pre-shared key under this identity; needs --pskkey. The server is then authenticated by the key alone", setPSKUsername},
	{"", "pskkey", "HEX", "the pre-shared key, in hex; needs --pskusername", setPSKKey},
	{"", "noticket", "", "neither ask for nor use session tickets: -r then resumes by session ID, which needs TLS 1.2 and a server that keeps a session cache", flag(func(o *options) *bool { return &o.noTicket })},
	{"V", "verbose", "", "more detail: every certificate in full, the negotiated algorithms", flag(func(o *options) *bool { return &o.verbose })},
	{"d", "debug", "LEVEL", "write GnuTLS's debug messages up to LEVEL (1 to 9999) to stderr", func(o *options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 9999 {
			return fmt.Errorf("%q is not a level from 0 to 9999", v)
		}
		o.debug = n
		return nil
	}},
	{"", "crlf", "", "send CR LF instead of LF for each line of stdin", flag(func(o *options) *bool { return &o.crlf })},
	{"", "print-cert", "", "print the server's certificate chain in PEM on stdout, before any data", flag(func(o *options) *bool { return &o.printCert })},
	{"", "save-cert", "FILE", "save the server's certificate chain in PEM to FILE", str(func(o *options) *string { return &o.saveCert })},
	{"", "timing", "", "report the time taken by the connect, the handshake and the first response byte", flag(func(o *options) *bool { return &o.timing })},
	{"", "connect-timeout", "DURATION", "give up when connecting and handshaking take longer (default 30s)", duration(func(o *options) *time.Duration { return &o.connectTimeout })},
	{"", "close-wait", "DURATION", "after the end of stdin, exit once the server has sent nothing for this long (default 2s)", duration(func(o *options) *time.Duration { return &o.closeWait })},
	{"l", "list", "", "list what GnuTLS supports, or with --priority what that string enables, and exit", flag(func(o *options) *bool { return &o.list })},
	{"h", "help", "", "show this help and exit", flag(func(o *options) *bool { return &o.help })},
	{"v", "version", "", "show the version of gnutls-cli-go and of GnuTLS, and exit", flag(func(o *options) *bool { return &o.version })},
}

func findOption(name string, long bool) *option {
	for i := range optionTable {
		o := &optionTable[i]
		if (long && o.long == name) || (!long && o.short == name) {
			return o
		}
	}
	return nil
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// parseArgs reads the command line as gnutls-cli does: --name=value or
// --name value, -x value or -xvalue, switches grouped as -rV, options and
// the host in any order, "--" ending the options.
func parseArgs(args []string) (*options, error) {
	o := defaultOptions()
	var hosts []string
	apply := func(opt *option, name, v string) error {
		if err := opt.set(o, v); err != nil {
			return usagef("%s: %v", name, err)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			hosts = append(hosts, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, v, hasV := strings.Cut(a[2:], "=")
			opt := findOption(name, true)
			if opt == nil {
				return nil, usagef("unknown option --%s", name)
			}
			switch {
			case opt.arg == "" && hasV:
				return nil, usagef("--%s takes no value", name)
			case opt.arg != "" && !hasV:
				if i+1 >= len(args) {
					return nil, usagef("--%s needs a value (%s)", name, opt.arg)
				}
				i++
				v = args[i]
			}
			if err := apply(opt, "--"+name, v); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				opt := findOption(a[j:j+1], false)
				if opt == nil {
					return nil, usagef("unknown option -%s", a[j:j+1])
				}
				if opt.arg == "" {
					if err := apply(opt, "-"+opt.short, ""); err != nil {
						return nil, err
					}
					continue
				}
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						return nil, usagef("-%s needs a value (%s)", opt.short, opt.arg)
					}
					i++
					v = args[i]
				}
				if err := apply(opt, "-"+opt.short, v); err != nil {
					return nil, err
				}
				break
			}
		default:
			hosts = append(hosts, a)
		}
	}
	if o.help || o.version || o.list {
		return o, nil
	}
	switch {
	case len(hosts) == 0:
		return nil, usagef("no HOST given")
	case len(hosts) > 1:
		return nil, usagef("one HOST expected, got %q", hosts)
	}
	o.host = hosts[0]
	switch {
	case o.host == "":
		return nil, usagef("HOST is empty")
	case o.port == "":
		return nil, usagef("--port is empty")
	case o.certFile != "" && o.keyFile == "":
		return nil, usagef("--x509certfile needs --x509keyfile")
	case o.keyFile != "" && o.certFile == "":
		return nil, usagef("--x509keyfile needs --x509certfile")
	case o.starttls != "" && o.fastOpen:
		return nil, usagef("--starttls-proto cannot go with --fastopen: the connection starts in plain text")
	case o.earlyData != "" && !o.resume:
		return nil, usagef("--earlydata needs -r/--resume: early data is sent on the resumed connection")
	case o.pskUsername != "" && o.pskKey == nil:
		return nil, usagef("--pskusername needs --pskkey")
	case o.pskKey != nil && o.pskUsername == "":
		return nil, usagef("--pskkey needs --pskusername")
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
	for _, o := range optionTable {
		names := "    "
		if o.short != "" {
			names = "-" + o.short + ", "
		}
		names += "--" + o.long
		if o.arg != "" {
			names += "=" + o.arg
		}
		fmt.Fprintf(w, "  %-30s %s\n", names, o.help)
	}
}
