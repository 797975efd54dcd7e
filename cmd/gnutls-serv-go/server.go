package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
)

// server is the running program: its listeners and what serves them.
type server struct {
	o   *options
	cfg *gnutls.Config
	out *lines
	lns []net.Listener
	// http serves --http; nil with --echo.
	http *gnutlshttp.Server
	echo *echoServer
}

func newServer(o *options, cfg *gnutls.Config, stdout io.Writer) *server {
	s := &server{o: o, cfg: cfg, out: &lines{w: stdout}}
	if o.echo {
		s.echo = newEchoServer(cfg, s.out)
	} else {
		// gnutlshttp.Server offers h2 and http/1.1 on connections it
		// wraps; these come from gnutls.Listen, so the Config offers them.
		cfg.NextProtos = []string{"h2", "http/1.1"}
		s.http = &gnutlshttp.Server{Config: cfg, Handler: requestLog{s.out}}
	}
	return s
}

// listen opens the listening sockets, printing a line for each as
// gnutls-serv does ("HTTP Server listening on IPv4 0.0.0.0 port
// 5556...done"), with the port the kernel chose for -p 0. Without
// --listen it listens on every IPv4 and IPv6 address, and one family
// failing is only reported.
func (s *server) listen(stderr io.Writer) error {
	addrs, required := s.o.listen, true
	if len(addrs) == 0 {
		addrs, required = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}, false
	}
	name := "HTTP Server"
	if s.o.echo {
		name = "Echo Server"
	}
	port := s.o.port
	var errs []error
	for _, a := range addrs {
		family, network := "IPv4", "tcp4"
		if a.Is6() {
			family, network = "IPv6", "tcp6"
		}
		ln, err := gnutls.Listen(network, netip.AddrPortFrom(a, uint16(port)).String(), s.cfg)
		if err != nil {
			err = fmt.Errorf("cannot listen on %s %s port %d: %w", family, a, port, unwrapOp(err))
			if required {
				s.close()
				return err
			}
			errs = append(errs, err)
			fmt.Fprintf(stderr, "%v\n", err)
			continue
		}
		// -p 0 with several addresses: the first chosen port for all.
		port = ln.Addr().(*net.TCPAddr).Port
		fmt.Fprintf(stderr, "%s listening on %s %s port %s...done\n", name, family, a, strconv.Itoa(port))
		s.lns = append(s.lns, ln)
	}
	if len(s.lns) == 0 {
		return errors.Join(errs...)
	}
	return nil
}

// unwrapOp drops what a *net.OpError repeats of the message around it.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

// serve serves every listener until close; it returns the first error
// that stops one.
func (s *server) serve() error {
	errc := make(chan error, len(s.lns))
	for _, ln := range s.lns {
		go func() {
			if s.http != nil {
				errc <- s.http.Serve(ln)
			} else {
				errc <- s.echo.serve(ln)
			}
		}()
	}
	return <-errc
}

// close stops listening and ends every connection.
func (s *server) close() {
	if s.http != nil {
		s.http.Close()
	}
	if s.echo != nil {
		s.echo.close()
	}
	for _, ln := range s.lns {
		ln.Close()
	}
}

// lines writes whole lines to stdout, one writer at a time.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", a...)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
