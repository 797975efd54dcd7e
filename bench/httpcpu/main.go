// Command httpcpu is one process of BenchmarkHTTPCPU and BenchmarkTLSCPU
// (bench/httpcpu_test.go, bench/tlscpu_test.go): a server or client on
// this module ("ours": gnutlshttp, or gnutls for TLS alone) or on crypto/tls
// ("crypto-tls": net/http over it, or it alone), which reports its own CPU
// time when asked, so that a benchmark can measure each process of a
// client-server pair apart.
//
//	httpcpu -stack S -cert F -key F server
//	httpcpu -stack S -ca F -url U [-h2] [-workers W] [-newconn] client
//	httpcpu -stack S -cert F -key F echo|sink
//	httpcpu -stack S -ca F -addr A tlsclient
//
// each with -cpuprofile F to profile the whole run.
//
// The server listens on a loopback port, prints "listening HOST:PORT" and
// serves benchcfg.SmallResponse over HTTP/2 or HTTP/1.1 as ALPN selects;
// echo does the same for TLS connections, answering each 64 bytes read
// with the same 64 bytes, and issues no session tickets; sink too, reading
// a bulk transfer on each connection (an 8-byte length, then that many
// bytes, in 16 KiB reads) and answering it with one byte. Then every role
// reads commands on stdin, one a line, and answers each with one line:
//
//	cpu           "cpu_us=C conns=N resumed=R": the user and system time
//	              of the process so far (getrusage RUSAGE_SELF, µs),
//	              connections accepted (servers) or dialed (clients), and,
//	              for a client with -newconn, responses (each on a
//	              connection of its own) that came over a resumed session
//	run N         (client) makes N GETs of the URL with W workers
//	pingpong N    (tlsclient) N 64-byte round trips on one connection
//	handshakes N  (tlsclient) N connections, each a full handshake, closed
//	bulk N        (tlsclient) N writes of 16 KiB to a sink on one connection
//
// answering the last four as cpu once done.
// A failure is answered "error: ..." and ends the process. End of input
// ends it too, having written the CPU profile when -cpuprofile is set.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
)

var (
	stack      = flag.String("stack", "", `"ours" (gnutlshttp, gnutls) or "crypto-tls" (net/http on crypto/tls, crypto/tls)`)
	certFile   = flag.String("cert", "", "server, echo, sink: certificate chain, PEM")
	keyFile    = flag.String("key", "", "server, echo, sink: private key, PEM")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	caFile     = flag.String("ca", "", "client, tlsclient: the CA to trust, PEM")
	url        = flag.String("url", "", "client: the URL to GET")
	addr       = flag.String("addr", "", "tlsclient: the echo or sink server's address")
	h2         = flag.Bool("h2", false, "client: HTTP/2 (else HTTP/1.1)")
	workers    = flag.Int("workers", 10, "client: requests in flight")
	newConn    = flag.Bool("newconn", false, "client: a new connection per request (Request.Close), a Transport per worker")
)

// conns counts connections accepted or dialed, resumed the responses on
// resumed sessions with -newconn.
var conns, resumed atomic.Int64

func main() {
	flag.Parse()
	if *stack != "ours" && *stack != "crypto-tls" {
		fatal(fmt.Errorf("-stack %q: want ours or crypto-tls", *stack))
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	// cmds are the commands besides cpu.
	var cmds map[string]func(n int) error
	switch role := flag.Arg(0); role {
	case "server", "echo", "sink":
		start := map[string]func() error{"server": serve, "echo": echo, "sink": sink}[role]
		if err := start(); err != nil {
			fatal(err)
		}
	case "client":
		c, err := newClient()
		if err != nil {
			fatal(err)
		}
		cmds = map[string]func(int) error{"run": c.run}
	case "tlsclient":
		c, err := newTLSClient()
		if err != nil {
			fatal(err)
		}
		cmds = map[string]func(int) error{"pingpong": c.pingPong, "handshakes": c.handshakes, "bulk": c.bulk}
	default:
		fatal(fmt.Errorf("role %q: want server, client, echo, sink or tlsclient", flag.Arg(0)))
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		if f := cmds[cmd]; f != nil {
			n, err := strconv.Atoi(arg)
			if err == nil {
				err = f(n)
			}
			if err != nil {
				fatal(err)
			}
		} else if cmd != "cpu" {
			fatal(fmt.Errorf("command %q: not one of %s's", in.Text(), flag.Arg(0)))
		}
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			fatal(err)
		}
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Printf("cpu_us=%d conns=%d resumed=%d\n", cpu.Microseconds(), conns.Load(), resumed.Load())
	}
}

// fatal answers the driver with err and exits; deferred calls do not run.
// A server's Serve returns only with an error, and ends the process so.
func fatal(err error) {
	fmt.Printf("error: %v\n", err)
	os.Exit(1)
}

// serve starts the server and prints its address.
func serve() error {
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cl := countingListener{l}
	switch *stack {
	case "ours":
		srv := &gnutlshttp.Server{Handler: benchcfg.SmallResponse, Config: benchcfg.Server(cert)}
		go func() { fatal(srv.Serve(cl)) }()
	default:
		srv := &http.Server{Handler: benchcfg.SmallResponse, TLSConfig: benchcfg.GoServer(cert)}
		go func() { fatal(srv.ServeTLS(cl, "", "")) }()
	}
	fmt.Printf("listening %s\n", l.Addr())
	return nil
}

// countingListener counts the connections it accepts.
type countingListener struct{ net.Listener }

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		conns.Add(1)
	}
	return c, err
}

// client holds the workers' http.Clients: one shared, or with -newconn
// one each, so that each Transport has one request at a time and each
// request its own connection (with several requests in flight, an HTTP/2
// connection marked to close by one may already be reserved by another).
type client struct {
	http []*http.Client
}

func newClient() (*client, error) {
	ca, err := os.ReadFile(*caFile)
	if err != nil {
		return nil, err
	}
	c := &client{}
	for i := range *workers {
		if i == 0 || *newConn {
			c.http = append(c.http, &http.Client{Transport: newTransport(ca)})
		} else {
			c.http = append(c.http, c.http[0])
		}
	}
	return c, nil
}

// newTransport makes the stack's Transport: the same dialer for both
// (net/http's default timeout and keep-alive), each stack resuming
// sessions, neither sending early data, as many idle HTTP/1.1 connections
// kept as workers.
func newTransport(ca []byte) http.RoundTripper {
	dialer := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		ControlContext: func(context.Context, string, string, syscall.RawConn) error {
			conns.Add(1)
			return nil
		},
	}
	switch *stack {
	case "ours":
		return &gnutlshttp.Transport{
			Config:              benchcfg.Client(ca),
			NetDialer:           dialer,
			DisableHTTP2:        !*h2,
			DisableEarlyData:    true,
			MaxIdleConnsPerHost: *workers,
		}
	default:
		cfg := benchcfg.GoClient(ca)
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
		return &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     cfg,
			ForceAttemptHTTP2:   *h2,
			MaxIdleConnsPerHost: *workers,
		}
	}
}

// run makes n GETs with the workers, each checked: status 200, the body,
// the protocol asked for.
func (c *client) run(n int) error {
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed error
	)
	proto := 1
	if *h2 {
		proto = 2
	}
	for _, hc := range c.http {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := get(hc, proto); err != nil {
					mu.Lock()
					failed = errors.Join(failed, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return failed
}

func get(hc *http.Client, proto int) error {
	req, err := http.NewRequest("GET", *url, nil)
	if err != nil {
		return err
	}
	req.Close = *newConn
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK || string(body) != "hello\n":
		return fmt.Errorf("GET %s: %s %q", *url, resp.Status, body)
	case resp.ProtoMajor != proto:
		return fmt.Errorf("GET %s: %s, want HTTP/%d", *url, resp.Proto, proto)
	case resp.TLS == nil:
		return fmt.Errorf("GET %s: no TLS state", *url)
	}
	if *newConn && resp.TLS.DidResume {
		resumed.Add(1)
	}
	return nil
}
