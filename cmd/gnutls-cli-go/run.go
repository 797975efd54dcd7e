package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// run is the whole program: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "gnutls-cli-go: %v (see --help)\n", err)
		return 1
	}
	switch {
	case o.help:
		printUsage(stdout)
		return 0
	case o.version:
		printVersion(stdout)
		return 0
	case o.list:
		if err := printList(stdout, o.priority); err != nil {
			fmt.Fprintf(stderr, "*** Fatal error: %s\n", describe(err))
			return 1
		}
		return 0
	}
	if o.debug > 0 {
		gnutls.SetDebugLevel(o.debug)
	}
	if o.crlf {
		stdin = &crlfReader{r: stdin}
	}
	c := &client{o: o, stdin: stdin, stdout: stdout, report: stderr}
	if err := c.run(); err != nil {
		fmt.Fprintf(stderr, "*** Fatal error: %s\n", describe(err))
		return 1
	}
	return 0
}

// client is one run of the program.
type client struct {
	o      *options
	stdin  io.Reader
	stdout io.Writer
	report io.Writer // the session report: stderr
	// trust holds the CAs and CRLs that --insecure verifies with.
	trust *gnutls.Credentials
	// saveCert is the --save-cert file, made before connecting and
	// removed again if no chain was written to it.
	saveCert *os.File
	saved    bool
	// early is written first on the next connection, as early data where
	// its session allows (--earlydata).
	early []byte

	timing timing
}

// timing holds what --timing reports.
type timing struct {
	connect, handshake  time.Duration // with fast open, handshake holds both
	start, handshakeEnd time.Time
	firstWrite          atomic.Int64 // unix nanoseconds of the first write, 0 before
}

func (c *client) run() error {
	cfg, trust, err := buildConfig(c.o, c.report)
	if err != nil {
		return err
	}
	c.trust = trust
	defer trust.Close()
	defer clear(c.o.pskKey)
	var early []byte
	if c.o.earlyData != "" {
		if early, err = readFile("--earlydata", c.o.earlyData); err != nil {
			return err
		}
		if err := checkEarlyData(early); err != nil {
			return err
		}
	}
	if c.o.saveCert != "" {
		if c.saveCert, err = os.Create(c.o.saveCert); err != nil {
			return failf("--save-cert: cannot write %s: %v", c.o.saveCert, unwrapPath(err))
		}
		defer func() {
			c.saveCert.Close()
			if !c.saved {
				os.Remove(c.o.saveCert)
			}
		}()
	}
	if c.o.insecure {
		fmt.Fprintln(c.report, "*** WARNING: --insecure: the connection goes on even when the server's certificate")
		fmt.Fprintln(c.report, "*** is not trusted; then anyone on the path can read and change what it carries.")
	}
	if c.o.resume {
		cfg.ClientSessionCache = gnutls.NewLRUClientSessionCache(1)
	}
	addrs, port, err := c.resolve()
	if err != nil {
		return err
	}
	conn, err := c.connect(cfg, addrs, port)
	if err != nil {
		c.printRejected(err)
		return err
	}
	if err := c.printReport(conn, false); err != nil {
		conn.Close()
		return err
	}
	if c.o.resume {
		c.awaitTicket(conn)
		fmt.Fprintln(c.report, "- Disconnecting")
		conn.Close()
		fmt.Fprintln(c.report, "\n\n- Connecting again- trying to resume previous session")
		cfg = cfg.Clone()
		c.early = early
		if conn, err = c.connect(cfg, addrs, port); err != nil {
			if !c.earlyLost(err) {
				c.printRejected(err)
				return err
			}
			// Once more, without resuming: the early data goes after
			// the handshake.
			cfg = cfg.Clone()
			cfg.ClientSessionCache = nil
			if conn, err = c.connect(cfg, addrs, port); err != nil {
				c.printRejected(err)
				return err
			}
		}
		if err := c.printReport(conn, true); err != nil {
			conn.Close()
			return err
		}
	}
	// GnuTLS holds its own copy of the key now.
	clear(c.o.pskKey)
	defer conn.Close()
	return c.session(conn)
}
