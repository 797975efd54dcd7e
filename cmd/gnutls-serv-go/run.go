package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/go-gnutls/go-gnutls/gnutls"
)

// run is the whole program: it returns the exit status, 1 on any failure
// and when a signal stops the server, as with gnutls-serv.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "gnutls-serv-go: %v (see --help)\n", err)
		return 1
	}
	switch {
	case o.help:
		printUsage(stdout)
		return 0
	case o.version:
		printVersion(stdout)
		return 0
	}
	if o.debug > 0 {
		gnutls.SetDebugLevel(o.debug)
	}
	// Signals that arrive while starting stop the server once it runs.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	cfg, closeStore, err := buildConfig(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gnutls-serv-go: %v\n", err)
		return 1
	}
	defer closeStore()
	s := newServer(o, cfg, stdout)
	if err := s.listen(stderr); err != nil {
		fmt.Fprintf(stderr, "gnutls-serv-go: %v\n", err)
		return 1
	}
	errc := make(chan error, 1)
	go func() { errc <- s.serve() }()
	select {
	case sg := <-sig:
		s.close()
		fmt.Fprintf(stderr, "Exiting via signal %d\n", sg.(syscall.Signal))
	case err := <-errc:
		s.close()
		fmt.Fprintf(stderr, "gnutls-serv-go: %v\n", err)
	}
	return 1
}

func printVersion(w io.Writer) {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintf(w, "gnutls-serv-go %s (github.com/go-gnutls/go-gnutls, %s)\n", v, runtime.Version())
	fmt.Fprintf(w, "GnuTLS %s (compiled against %s)\n", gnutls.Version(), gnutls.HeaderVersion)
}
