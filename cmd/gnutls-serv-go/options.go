package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// options are the command line settings.
type options struct {
	port       int
	listen     []netip.Addr
	echo, http bool
	// certFiles[i] goes with keyFiles[i].
	certFiles, keyFiles []string
	caFile              string
	requireClientCert   bool
	verifyClientCert    bool
	disableClientCert   bool
	priority            string
	earlyData           bool
	maxEarlyData        uint32
	earlyDataWindow     time.Duration
	pskPasswd           string
	pskHint             string
	ocspResponse        string
	noTicket            bool
	noDB                bool
	fastOpen            bool
	ticketKeyFile       string
	redis               string
	debug               int
	help, version       bool
}

// defaultMaxEarlyData is what GnuTLS accepts with --earlydata alone
// (DEFAULT_MAX_EARLY_DATA_SIZE in lib/gnutls_int.h).
const defaultMaxEarlyData = 16384

func defaultOptions() *options { return &options{port: 5556} }

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
	return func(o *options, v string) error {
		if v == "" {
			return fmt.Errorf("empty value")
		}
		*p(o) = v
		return nil
	}
}

func list(p func(o *options) *[]string) func(*options, string) error {
	return func(o *options, v string) error {
		if v == "" {
			return fmt.Errorf("empty value")
		}
		*p(o) = append(*p(o), v)
		return nil
	}
}

func flag(p func(o *options) *bool) func(*options, string) error {
	return func(o *options, _ string) error { *p(o) = true; return nil }
}

// number parses an integer in [lo, hi], as gnutls-serv's options do.
func number(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a recognizable number", v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is not in the range %d to %d", n, lo, hi)
	}
	return n, nil
}

// optionTable lists every option, in the order --help shows them.
var optionTable = []option{
	{"p", "port", "PORT", "the port to listen on (default 5556; 0 picks a free one, which the listening line shows)", func(o *options, v string) error {
		n, err := number(v, 0, 65535)
		o.port = int(n)
		return err
	}},
	{"", "listen", "ADDR", "listen on this IP address only; repeat for more (default: every IPv4 and IPv6 address)", func(o *options, v string) error {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q is not an IP address", v)
		}
		o.listen = append(o.listen, a)
		return nil
	}},
	{"", "http", "", "act as an HTTP server (the default): each request is one line on stdout", flag(func(o *options) *bool { return &o.http })},
	{"", "echo", "", "act as an echo server: send back what each client sends", flag(func(o *options) *bool { return &o.echo })},
	{"", "x509certfile", "FILE", "X.509 certificate chain file (PEM); repeat with --x509keyfile for more pairs, each certificate file paired with the key file in the same position", list(func(o *options) *[]string { return &o.certFiles })},
	{"", "x509keyfile", "FILE", "X.509 private key file (PEM) of the certificate in the same position", list(func(o *options) *[]string { return &o.keyFiles })},
	{"", "x509cafile", "FILE", "CA certificates (PEM) that client certificates are verified against", str(func(o *options) *string { return &o.caFile })},
	{"r", "require-client-cert", "", "require a client certificate", flag(func(o *options) *bool { return &o.requireClientCert })},
	{"", "verify-client-cert", "", "if a client certificate is sent then verify it (needs --x509cafile)", flag(func(o *options) *bool { return &o.verifyClientCert })},
	{"a", "disable-client-cert", "", "do not request a client certificate", flag(func(o *options) *bool { return &o.disableClientCert })},
	{"", "priority", "STRING", "GnuTLS priority string (default: the system's)", str(func(o *options) *string { return &o.priority })},
	{"", "earlydata", "", "accept TLS 1.3 early data (0-RTT) on resumed sessions", flag(func(o *options) *bool { return &o.earlyData })},
	{"", "maxearlydata", "NUM", "the maximum early data size to accept, 1 to 2147483648 (default 16384; needs --earlydata)", func(o *options, v string) error {
		n, err := number(v, 1, 1<<31)
		if n > 0xffffffff {
			n = 0xffffffff
		}
		o.maxEarlyData = uint32(n)
		return err
	}},
	{"", "earlydata-window", "DURATION", "the 0-RTT anti-replay window (default 10s): early data is accepted for tickets issued since the server's current window began", func(o *options, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond {
			return fmt.Errorf("%q is not a duration of 1ms or more, such as 10s", v)
		}
		o.earlyDataWindow = d
		return nil
	}},
	{"", "pskpasswd", "FILE", "PSK password file: lines of IDENTITY:HEXKEY", str(func(o *options) *string { return &o.pskPasswd })},
	{"", "pskhint", "STRING", "PSK identity hint sent to TLS 1.2 clients (needs --pskpasswd)", str(func(o *options) *string { return &o.pskHint })},
	{"", "ocsp-response", "FILE", "the OCSP response (DER) to staple for the first certificate when the client asks", str(func(o *options) *string { return &o.ocspResponse })},
	{"", "noticket", "", "don't issue or accept session tickets", flag(func(o *options) *bool { return &o.noTicket })},
	{"", "nodb", "", "do not use a resumption database (TLS 1.2 session IDs)", flag(func(o *options) *bool { return &o.noDB })},
	{"", "fastopen", "", "accept TCP Fast Open on the listening sockets", flag(func(o *options) *bool { return &o.fastOpen })},
	{"", "ticket-key-file", "FILE", "session ticket keys shared with the other servers of a fleet: one a line, base64 of 32 bytes (openssl rand -base64 32); the first issues tickets, every one is accepted", str(func(o *options) *string { return &o.ticketKeyFile })},
	{"", "redis", "HOST:PORT", "share the 0-RTT anti-replay records and the TLS 1.2 session cache with the other servers of a fleet through this Redis server (needs --ticket-key-file)", func(o *options, v string) error {
		if err := checkRedisAddr(v); err != nil {
			return err
		}
		o.redis = v
		return nil
	}},
	{"d", "debug", "NUM", "write GnuTLS's debug messages up to this level (0 to 9999) to stderr", func(o *options, v string) error {
		n, err := number(v, 0, 9999)
		o.debug = int(n)
		return err
	}},
	{"h", "help", "", "display usage information and exit", flag(func(o *options) *bool { return &o.help })},
	{"v", "version", "", "output version information and exit", flag(func(o *options) *bool { return &o.version })},
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

// parseArgs reads the command line as gnutls-serv does: --name=value or
// --name value, -x value or -xvalue, switches grouped as -ra; every
// argument is an option.
func parseArgs(args []string) (*options, error) {
	o := defaultOptions()
	apply := func(opt *option, name, v string) error {
		if err := opt.set(o, v); err != nil {
			return usagef("%s: %v", name, err)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
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
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
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
			return nil, usagef("%q is not an option: all arguments must be options", a)
		}
	}
	if o.help || o.version {
		return o, nil
	}
	switch {
	case o.echo && o.http:
		return nil, usagef("--echo and --http exclude each other")
	case len(o.certFiles) != len(o.keyFiles):
		return nil, usagef("%d --x509certfile but %d --x509keyfile: each certificate needs its key", len(o.certFiles), len(o.keyFiles))
	case o.disableClientCert && o.requireClientCert:
		return nil, usagef("--disable-client-cert cannot go with --require-client-cert")
	case o.disableClientCert && o.verifyClientCert:
		return nil, usagef("--disable-client-cert cannot go with --verify-client-cert")
	case o.verifyClientCert && o.caFile == "":
		return nil, usagef("--verify-client-cert needs --x509cafile: the CAs to verify with")
	case o.earlyDataWindow != 0 && !o.earlyData:
		return nil, usagef("--earlydata-window needs --earlydata")
	case o.maxEarlyData != 0 && !o.earlyData:
		return nil, usagef("--maxearlydata needs --earlydata")
	case o.pskHint != "" && o.pskPasswd == "":
		return nil, usagef("--pskhint needs --pskpasswd")
	case o.redis != "" && o.ticketKeyFile == "":
		return nil, usagef("--redis needs --ticket-key-file: the fleet's session cache is sealed under a key derived from the ticket keys")
	case o.ocspResponse != "" && len(o.certFiles) == 0:
		return nil, usagef("--ocsp-response needs a certificate (--x509certfile)")
	case len(o.certFiles) == 0 && o.pskPasswd == "":
		return nil, usagef("no certificate: give --x509certfile and --x509keyfile, or --pskpasswd")
	}
	if o.earlyData && o.maxEarlyData == 0 {
		o.maxEarlyData = defaultMaxEarlyData
	}
	if !o.echo {
		o.http = true
	}
	return o, nil
}

// printUsage writes the help text: every option of optionTable.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: gnutls-serv-go [options]

Listens for TLS connections, as GnuTLS's gnutls-serv does, and serves HTTP
(each request is one line on stdout: method, path, protocol, resumed or
not, early data or not) or echoes what clients send. Several instances
given the same --ticket-key-file and --redis serve one name as a fleet:
a client resumes at any of them, and a 0-RTT flight is accepted once.
Exit status: 1 on a bad option or file, or when stopped by a signal.

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
