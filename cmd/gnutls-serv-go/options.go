package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/cliopts"
	"github.com/redis/go-redis/v9"
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
	redisOpts           *redis.Options // how to reach --redis
	redisTimeout        time.Duration
	redisPasswordFile   string
	redisCAFile         string
	debug               int
	help, version       bool
}

// defaultMaxEarlyData is what GnuTLS accepts with --earlydata alone
// (DEFAULT_MAX_EARLY_DATA_SIZE in lib/gnutls_int.h).
const defaultMaxEarlyData = 16384

func defaultOptions() *options { return &options{port: 5556} }

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
var optionTable = []cliopts.Option[options]{
	{Short: "p", Long: "port", Arg: "PORT", Help: "the port to listen on (default 5556; 0 picks a free one, which the listening line shows)", Set: func(o *options, v string) error {
		n, err := number(v, 0, 65535)
		o.port = int(n)
		return err
	}},
	{Long: "listen", Arg: "ADDR", Help: "listen on this IP address only; repeat for more (default: every IPv4 and IPv6 address)", Set: func(o *options, v string) error {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%q is not an IP address", v)
		}
		o.listen = append(o.listen, a)
		return nil
	}},
	{Long: "http", Help: "act as an HTTP server (the default): each request is one line on stdout", Set: flag(func(o *options) *bool { return &o.http })},
	{Long: "echo", Help: "act as an echo server: send back what each client sends", Set: flag(func(o *options) *bool { return &o.echo })},
	{Long: "x509certfile", Arg: "FILE", Help: "X.509 certificate chain file (PEM); repeat with --x509keyfile for more pairs, each certificate file paired with the key file in the same position", Set: list(func(o *options) *[]string { return &o.certFiles })},
	{Long: "x509keyfile", Arg: "FILE", Help: "X.509 private key file (PEM) of the certificate in the same position", Set: list(func(o *options) *[]string { return &o.keyFiles })},
	{Long: "x509cafile", Arg: "FILE", Help: "CA certificates (PEM) that client certificates are verified against", Set: str(func(o *options) *string { return &o.caFile })},
	{Short: "r", Long: "require-client-cert", Help: "require a client certificate", Set: flag(func(o *options) *bool { return &o.requireClientCert })},
	{Long: "verify-client-cert", Help: "if a client certificate is sent then verify it (needs --x509cafile)", Set: flag(func(o *options) *bool { return &o.verifyClientCert })},
	{Short: "a", Long: "disable-client-cert", Help: "do not request a client certificate", Set: flag(func(o *options) *bool { return &o.disableClientCert })},
	{Long: "priority", Arg: "STRING", Help: "GnuTLS priority string (default: the system's)", Set: str(func(o *options) *string { return &o.priority })},
	{Long: "earlydata", Help: "accept TLS 1.3 early data (0-RTT) on resumed sessions", Set: flag(func(o *options) *bool { return &o.earlyData })},
	{Long: "maxearlydata", Arg: "NUM", Help: "the maximum early data size to accept, 1 to 2147483648 (default 16384; needs --earlydata)", Set: func(o *options, v string) error {
		n, err := number(v, 1, 1<<31)
		if n > 0xffffffff {
			n = 0xffffffff
		}
		o.maxEarlyData = uint32(n)
		return err
	}},
	{Long: "earlydata-window", Arg: "DURATION", Help: "the 0-RTT anti-replay window (default 10s): early data is accepted for tickets issued since the server's current window began", Set: func(o *options, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond {
			return fmt.Errorf("%q is not a duration of 1ms or more, such as 10s", v)
		}
		o.earlyDataWindow = d
		return nil
	}},
	{Long: "pskpasswd", Arg: "FILE", Help: "PSK password file: lines of IDENTITY:HEXKEY", Set: str(func(o *options) *string { return &o.pskPasswd })},
	{Long: "pskhint", Arg: "STRING", Help: "PSK identity hint sent to TLS 1.2 clients (needs --pskpasswd)", Set: str(func(o *options) *string { return &o.pskHint })},
	{Long: "ocsp-response", Arg: "FILE", Help: "the OCSP response (DER) to staple for the first certificate when the client asks", Set: str(func(o *options) *string { return &o.ocspResponse })},
	{Long: "noticket", Help: "don't issue or accept session tickets", Set: flag(func(o *options) *bool { return &o.noTicket })},
	{Long: "nodb", Help: "do not use a resumption database (TLS 1.2 session IDs)", Set: flag(func(o *options) *bool { return &o.noDB })},
	{Long: "fastopen", Help: "accept TCP Fast Open on the listening sockets", Set: flag(func(o *options) *bool { return &o.fastOpen })},
	{Long: "ticket-key-file", Arg: "FILE", Help: "session ticket keys shared with the other servers of a fleet: one a line, base64 of 32 bytes (openssl rand -base64 32); the first issues tickets, every one is accepted", Set: str(func(o *options) *string { return &o.ticketKeyFile })},
	{Long: "redis", Arg: "ADDRESS", Help: "share the 0-RTT anti-replay records and the TLS 1.2 session cache with the other servers of a fleet through this Redis server: HOST:PORT, or redis://[USER@]HOST:PORT[/DB], or rediss:// for TLS (needs --ticket-key-file)", Set: func(o *options, v string) error {
		ro, err := parseRedis(v)
		if err != nil {
			return err
		}
		o.redis, o.redisOpts = v, ro
		return nil
	}},
	{Long: "redis-timeout", Arg: "DURATION", Help: "how long each Redis command may wait, the anti-replay check of early data included (default 100ms); past it early data is refused and the handshake goes on without the session cache (needs --redis)", Set: func(o *options, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond || d > time.Minute {
			return fmt.Errorf("%q is not a duration from 1ms to 1m, such as 100ms", v)
		}
		o.redisTimeout = d
		return nil
	}},
	{Long: "redis-password-file", Arg: "FILE", Help: "the password for --redis (of its USER, if given), on the file's first line: kept off the command line, where other users of the machine can read it", Set: str(func(o *options) *string { return &o.redisPasswordFile })},
	{Long: "redis-ca-file", Arg: "FILE", Help: "the CA certificates (PEM) that a rediss:// --redis server's certificate must chain to (default: the system's)", Set: str(func(o *options) *string { return &o.redisCAFile })},
	{Short: "d", Long: "debug", Arg: "NUM", Help: "write GnuTLS's debug messages up to this level (0 to 9999) to stderr", Set: func(o *options, v string) error {
		n, err := number(v, 0, 9999)
		o.debug = int(n)
		return err
	}},
	{Short: "h", Long: "help", Help: "display usage information and exit", Set: flag(func(o *options) *bool { return &o.help })},
	{Short: "v", Long: "version", Help: "output version information and exit", Set: flag(func(o *options) *bool { return &o.version })},
}

// parseArgs reads the command line as gnutls-serv does: --name=value or
// --name value, -x value or -xvalue, switches grouped as -ra; every
// argument is an option.
func parseArgs(args []string) (*options, error) {
	o := defaultOptions()
	if _, err := cliopts.Parse(optionTable, o, args, false); err != nil {
		return nil, err
	}
	if o.help || o.version {
		return o, nil
	}
	switch {
	case o.echo && o.http:
		return nil, cliopts.Usagef("--echo and --http exclude each other")
	case len(o.certFiles) != len(o.keyFiles):
		return nil, cliopts.Usagef("%d --x509certfile but %d --x509keyfile: each certificate needs its key", len(o.certFiles), len(o.keyFiles))
	case o.disableClientCert && o.requireClientCert:
		return nil, cliopts.Usagef("--disable-client-cert cannot go with --require-client-cert")
	case o.disableClientCert && o.verifyClientCert:
		return nil, cliopts.Usagef("--disable-client-cert cannot go with --verify-client-cert")
	case o.verifyClientCert && o.caFile == "":
		return nil, cliopts.Usagef("--verify-client-cert needs --x509cafile: the CAs to verify with")
	case o.earlyDataWindow != 0 && !o.earlyData:
		return nil, cliopts.Usagef("--earlydata-window needs --earlydata")
	case o.maxEarlyData != 0 && !o.earlyData:
		return nil, cliopts.Usagef("--maxearlydata needs --earlydata")
	case o.pskHint != "" && o.pskPasswd == "":
		return nil, cliopts.Usagef("--pskhint needs --pskpasswd")
	case o.redisTimeout != 0 && o.redis == "":
		return nil, cliopts.Usagef("--redis-timeout needs --redis")
	case o.redisPasswordFile != "" && o.redis == "":
		return nil, cliopts.Usagef("--redis-password-file needs --redis")
	case o.redisCAFile != "" && (o.redisOpts == nil || o.redisOpts.TLSConfig == nil):
		return nil, cliopts.Usagef("--redis-ca-file needs a rediss:// --redis")
	case o.redis != "" && o.ticketKeyFile == "":
		return nil, cliopts.Usagef("--redis needs --ticket-key-file: the fleet's session cache is sealed under a key derived from the ticket keys")
	case o.ocspResponse != "" && len(o.certFiles) == 0:
		return nil, cliopts.Usagef("--ocsp-response needs a certificate (--x509certfile)")
	case len(o.certFiles) == 0 && o.pskPasswd == "":
		return nil, cliopts.Usagef("no certificate: give --x509certfile and --x509keyfile, or --pskpasswd")
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
	cliopts.PrintOptions(w, optionTable)
}
