package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// Time to first response byte over the lab link: a 100-byte request, a
// 100-byte response, TLS 1.3, at ttfbRTT. Two servers, both with TCP_NODELAY
// (Go's default) and fast open: this package's, with early data on, and
// bench/c/earlyserv on OpenSSL, which answers a request that came as early
// data with 0.5-RTT data, before the client's Finished. Each server closes
// its side after the response, so that a client reading to the end also
// reads the session tickets sent after it.

const (
	ttfbRTT  = 50 * time.Millisecond
	ttfbSize = 100
	ttfbPort = 8443
)

var (
	ttfbRequest  = append(bytes.Repeat([]byte("q"), ttfbSize-1), '\n')
	ttfbResponse = append(bytes.Repeat([]byte("r"), ttfbSize-1), '\n')
)

// ttfbLab is the lab and its servers.
type ttfbLab struct {
	lab     *netlab.Lab
	servers []*ttfbServer
}

// ttfbServer is one server in the lab.
type ttfbServer struct {
	name string
	addr string
	// reqAt receives, for each connection, when the server had the whole
	// request.
	reqAt chan time.Time
}

func newTTFBLab(b *testing.B) *ttfbLab {
	lab := netlab.NewForTest(b, netlab.LinkConfig{Delay: ttfbRTT / 2})
	for _, h := range []*netlab.Host{lab.Client, lab.Server} {
		if err := h.Sysctl("net.ipv4.tcp_fastopen", "1027"); err != nil {
			b.Fatal(err)
		}
	}
	tl := &ttfbLab{lab: lab}
	tl.servers = append(tl.servers, startOursTTFB(b, lab), startEarlyserv(b, lab))
	return tl
}

func startOursTTFB(b *testing.B, lab *netlab.Lab) *ttfbServer {
	sc := serverConfig()
	sc.Priority = ""
	sc.FastOpen = true
	sc.MaxEarlyData = 16384
	var l net.Listener
	srv := &ttfbServer{name: "ours", addr: netip.AddrPortFrom(lab.Server.Addr4, ttfbPort).String(), reqAt: make(chan time.Time, 1024)}
	if err := lab.Server.Do(func() (err error) {
		l, err = gnutls.Listen("tcp", srv.addr, sc)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go srv.serve(c.(*gnutls.Conn))
		}
	}()
	return srv
}

// serve reads the request, early data first, and answers it.
func (srv *ttfbServer) serve(c *gnutls.Conn) {
	defer c.Close()
	req := make([]byte, ttfbSize)
	n := 0
	for n < len(req) {
		m, err := c.ReadEarlyData(req[n:])
		n += m
		if err != nil {
			break
		}
	}
	if _, err := io.ReadFull(c, req[n:]); err != nil {
		return
	}
	srv.reqAt <- time.Now()
	if _, err := c.Write(ttfbResponse); err != nil {
		return
	}
	c.CloseWrite()
	io.Copy(io.Discard, c)
}

// startEarlyserv runs bench/c/earlyserv in the server's namespace; its
// "request <unix ns> <early bytes>" lines feed reqAt.
func startEarlyserv(b *testing.B, lab *netlab.Lab) *ttfbServer {
	bin, err := filepath.Abs(filepath.Join("c", "earlyserv"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		testenv.Skip(b, bin+" is not built: run make bench-ttfb")
	}
	_, certFile, keyFile := pkiFiles(b)
	srv := &ttfbServer{name: "openssl-0.5rtt", addr: netip.AddrPortFrom(lab.Server.Addr4, ttfbPort+1).String(), reqAt: make(chan time.Time, 1024)}
	host, port, _ := net.SplitHostPort(srv.addr)
	cmd := lab.Server.Command(bin, certFile, keyFile, host, port, strconv.Itoa(ttfbSize))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := lab.Server.Start(cmd); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		b.Fatalf("earlyserv did not start: %q", lines.Text())
	}
	go func() {
		for lines.Scan() {
			var ns, early int64
			if _, err := fmt.Sscanf(lines.Text(), "request %d %d", &ns, &early); err == nil {
				srv.reqAt <- time.Unix(0, ns)
			}
		}
	}()
	return srv
}

// ttfbClient makes one connection from the lab's client namespace and
// returns when it started and when the first response byte arrived.
type ttfbClient func(b *testing.B, tl *ttfbLab, srv *ttfbServer) (start, first time.Time)

func BenchmarkTTFB(b *testing.B) {
	tl := newTTFBLab(b)
	cache := gnutls.NewLRUClientSessionCache(4)
	type client struct {
		name string
		dial ttfbClient
	}
	oursFresh := client{"ours-fastopen-fresh", func(b *testing.B, tl *ttfbLab, srv *ttfbServer) (time.Time, time.Time) {
		cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: true}
		return dialOurs(b, tl, srv, cfg, false)
	}}
	oursEarly := client{"ours-resumed-earlydata-syn", func(b *testing.B, tl *ttfbLab, srv *ttfbServer) (time.Time, time.Time) {
		cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: true, ClientSessionCache: cache}
		return dialOurs(b, tl, srv, cfg, true)
	}}
	// gnutls-cli's time includes starting the process: measured here over
	// the same link without delay, to be taken off its figure.
	cliZeroDelay := client{"gnutls-cli-fastopen-zero-delay", func(b *testing.B, tl *ttfbLab, srv *ttfbServer) (time.Time, time.Time) {
		cfg := tl.lab.Link.Config()
		delay := cfg.Delay
		cfg.Delay = 0
		tl.lab.Link.SetConfig(cfg)
		defer func() { cfg.Delay = delay; tl.lab.Link.SetConfig(cfg) }()
		return dialGnutlsCLI(b, tl, srv)
	}}
	clients := map[string][]client{
		"ours": {{"crypto-tls", dialGoTLS}, {"gnutls-cli-fastopen", dialGnutlsCLI}, oursFresh, oursEarly, cliZeroDelay},
		// The same clients, bar gnutls-cli, against a server that answers
		// early data in 0.5-RTT data.
		"openssl-0.5rtt": {{"crypto-tls", dialGoTLS}, oursFresh, oursEarly},
	}
	for _, srv := range tl.servers {
		for _, cl := range clients[srv.name] {
			b.Run("server="+srv.name+"/"+cl.name, func(b *testing.B) {
				// Warm up: a fast open cookie and a session ticket.
				for range 2 {
					cl.dial(b, tl, srv)
					<-srv.reqAt
				}
				active := tcpExt(b, tl.lab.Client, "TCPFastOpenActive")
				var ttfb, req []time.Duration
				for range b.N {
					start, first := cl.dial(b, tl, srv)
					ttfb = append(ttfb, first.Sub(start))
					req = append(req, (<-srv.reqAt).Sub(start))
				}
				m := median(ttfb)
				b.ReportMetric(float64(m)/float64(time.Millisecond), "ms-ttfb")
				b.ReportMetric(float64(m)/float64(ttfbRTT), "rtt-ttfb")
				b.ReportMetric(float64(median(req))/float64(ttfbRTT), "rtt-request-at-server")
				b.ReportMetric(float64(tcpExt(b, tl.lab.Client, "TCPFastOpenActive")-active)/float64(b.N), "syn-data/conn")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// tcpExt returns one TcpExt counter of h.
func tcpExt(b *testing.B, h *netlab.Host, name string) int64 {
	m, err := h.TcpExt()
	if err != nil {
		b.Fatal(err)
	}
	return m[name]
}

// inClient runs f in the lab's client namespace.
func inClient(b *testing.B, tl *ttfbLab, f func() error) {
	if err := tl.lab.Client.Do(f); err != nil {
		b.Fatal(err)
	}
}

// roundTrip writes the request and waits for the first byte of the
// response, then reads to the end (the session tickets may follow the
// response).
func roundTrip(c net.Conn) (first time.Time, err error) {
	if _, err := c.Write(ttfbRequest); err != nil {
		return first, err
	}
	buf := make([]byte, ttfbSize)
	n, err := io.ReadAtLeast(c, buf, 1)
	if err != nil {
		return first, err
	}
	first = time.Now()
	if _, err = io.ReadFull(c, buf[n:]); err != nil {
		return first, err
	}
	_, err = io.Copy(io.Discard, c)
	return first, err
}

// dialOurs dials with Dial, or with DialEarly, which sends the request as
// early data when it resumes a ticket that allows it.
func dialOurs(b *testing.B, tl *ttfbLab, srv *ttfbServer, cfg *gnutls.Config, early bool) (start, first time.Time) {
	inClient(b, tl, func() error {
		start = time.Now()
		var c net.Conn
		var err error
		if early {
			c, err = (&gnutls.Dialer{Config: cfg}).DialEarly(context.Background(), "tcp", srv.addr)
		} else {
			c, err = gnutls.Dial("tcp", srv.addr, cfg)
		}
		if err != nil {
			return err
		}
		defer c.Close()
		first, err = roundTrip(c)
		return err
	})
	return start, first
}

func dialGoTLS(b *testing.B, tl *ttfbLab, srv *ttfbServer) (start, first time.Time) {
	inClient(b, tl, func() error {
		start = time.Now()
		c, err := (&tls.Dialer{Config: goClientConfig()}).DialContext(context.Background(), "tcp", srv.addr)
		if err != nil {
			return err
		}
		defer c.Close()
		first, err = roundTrip(c)
		return err
	})
	return start, first
}

// dialGnutlsCLI runs `gnutls-cli --fastopen` with the request on its
// standard input; the time includes starting the process.
func dialGnutlsCLI(b *testing.B, tl *ttfbLab, srv *ttfbServer) (start, first time.Time) {
	bin := testenv.LookPath(b, "gnutls-cli")
	caFile, _, _ := pkiFiles(b)
	host, port, _ := net.SplitHostPort(srv.addr)
	cmd := tl.lab.Client.Command(bin, "--fastopen", "--x509cafile", caFile, "--verify-hostname", "localhost",
		"--logfile", "/dev/null", "-p", port, host)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdin.Write(ttfbRequest) // gnutls-cli sends it once connected
	start = time.Now()
	if err := tl.lab.Client.Start(cmd); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	if _, err := r.ReadByte(); err != nil {
		b.Fatalf("gnutls-cli: %v", err)
	}
	first = time.Now()
	r.ReadString('\n')
	stdin.Close()
	cmd.Wait()
	return start, first
}
