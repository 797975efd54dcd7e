package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// Time to first response byte over the lab link: a 100-byte request, a
// 100-byte response, TLS 1.3, at ttfbRTT. The server is this package's,
// with TCP_NODELAY (Go's default), fast open and early data on.

const (
	ttfbRTT  = 50 * time.Millisecond
	ttfbSize = 100
	ttfbPort = 8443
)

var (
	ttfbRequest  = append(bytes.Repeat([]byte("q"), ttfbSize-1), '\n')
	ttfbResponse = append(bytes.Repeat([]byte("r"), ttfbSize-1), '\n')
)

// ttfbLab is the lab, its server and what the server saw.
type ttfbLab struct {
	lab  *netlab.Lab
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
	sc := serverConfig()
	sc.Priority = ""
	sc.FastOpen = true
	sc.MaxEarlyData = 16384
	var l net.Listener
	addr := netip.AddrPortFrom(lab.Server.Addr4, ttfbPort).String()
	if err := lab.Server.Do(func() (err error) {
		l, err = gnutls.Listen("tcp", addr, sc)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	tl := &ttfbLab{lab: lab, addr: addr, reqAt: make(chan time.Time, 1024)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go tl.serve(c.(*gnutls.Conn))
		}
	}()
	return tl
}

// serve reads the request, early data first, and answers it.
func (tl *ttfbLab) serve(c *gnutls.Conn) {
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
	tl.reqAt <- time.Now()
	if _, err := c.Write(ttfbResponse); err != nil {
		return
	}
	io.Copy(io.Discard, c)
}

// ttfbClient makes one connection from the lab's client namespace and
// returns when it started and when the first response byte arrived.
type ttfbClient func(b *testing.B, tl *ttfbLab) (start, first time.Time)

func BenchmarkTTFB(b *testing.B) {
	tl := newTTFBLab(b)
	cache := gnutls.NewLRUClientSessionCache(4)
	clients := []struct {
		name string
		dial ttfbClient
	}{
		{"crypto-tls", dialGoTLS},
		{"gnutls-cli-fastopen", dialGnutlsCLI},
		{"ours-fastopen-fresh", func(b *testing.B, tl *ttfbLab) (time.Time, time.Time) {
			cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: true}
			return dialOurs(b, tl, cfg)
		}},
		{"ours-resumed-earlydata-syn", func(b *testing.B, tl *ttfbLab) (time.Time, time.Time) {
			cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: true, ClientSessionCache: cache, EarlyData: ttfbRequest}
			return dialOurs(b, tl, cfg)
		}},
	}
	// gnutls-cli's time includes starting the process: measured here over
	// the same link without delay, to be taken off its figure.
	clients = append(clients, struct {
		name string
		dial ttfbClient
	}{"gnutls-cli-fastopen-zero-delay", func(b *testing.B, tl *ttfbLab) (time.Time, time.Time) {
		cfg := tl.lab.Link.Config()
		delay := cfg.Delay
		cfg.Delay = 0
		tl.lab.Link.SetConfig(cfg)
		defer func() { cfg.Delay = delay; tl.lab.Link.SetConfig(cfg) }()
		return dialGnutlsCLI(b, tl)
	}})
	for _, cl := range clients {
		b.Run(cl.name, func(b *testing.B) {
			// Warm up: a fast open cookie and a session ticket.
			for range 2 {
				cl.dial(b, tl)
				<-tl.reqAt
			}
			active := tcpExt(b, tl.lab.Client, "TCPFastOpenActive")
			var ttfb, req []time.Duration
			for range b.N {
				start, first := cl.dial(b, tl)
				ttfb = append(ttfb, first.Sub(start))
				req = append(req, (<-tl.reqAt).Sub(start))
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

// roundTrip writes the request unless it went as early data, and waits for
// the first byte of the response, then the rest.
func roundTrip(c net.Conn, sendRequest bool) (first time.Time, err error) {
	if sendRequest {
		if _, err := c.Write(ttfbRequest); err != nil {
			return first, err
		}
	}
	buf := make([]byte, ttfbSize)
	n, err := io.ReadAtLeast(c, buf, 1)
	if err != nil {
		return first, err
	}
	first = time.Now()
	_, err = io.ReadFull(c, buf[n:])
	return first, err
}

func dialOurs(b *testing.B, tl *ttfbLab, cfg *gnutls.Config) (start, first time.Time) {
	inClient(b, tl, func() error {
		start = time.Now()
		c, err := gnutls.Dial("tcp", tl.addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		first, err = roundTrip(c, len(cfg.EarlyData) == 0)
		return err
	})
	return start, first
}

func dialGoTLS(b *testing.B, tl *ttfbLab) (start, first time.Time) {
	inClient(b, tl, func() error {
		start = time.Now()
		c, err := (&tls.Dialer{Config: goClientConfig()}).DialContext(context.Background(), "tcp", tl.addr)
		if err != nil {
			return err
		}
		defer c.Close()
		first, err = roundTrip(c, true)
		return err
	})
	return start, first
}

// dialGnutlsCLI runs `gnutls-cli --fastopen` with the request on its
// standard input; the time includes starting the process.
func dialGnutlsCLI(b *testing.B, tl *ttfbLab) (start, first time.Time) {
	bin := testenv.LookPath(b, "gnutls-cli")
	caFile, _, _ := pkiFiles(b)
	host, port, _ := net.SplitHostPort(tl.addr)
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
