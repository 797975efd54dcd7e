package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// net/http over this package (gnutlshttp) against net/http on crypto/tls.
// Time to the response of a GET from nginx over the lab link at ttfbRTT;
// requests per second and CPU time per request of the servers under
// h2load and of the clients on keep-alive connections, on loopback.

// BenchmarkHTTPTTFB times GETs of nginx's /early (which answers "1" when
// the request came in early data) over the lab link, each on a new
// connection, from the start of http.Client.Do to its return with the
// response's header (which shares its packet with the first body byte).
func BenchmarkHTTPTTFB(b *testing.B) {
	lab := netlab.NewForTest(b, netlab.LinkConfig{Delay: ttfbRTT / 2})
	for _, h := range []*netlab.Host{lab.Client, lab.Server} {
		if err := h.Sysctl("net.ipv4.tcp_fastopen", "1027"); err != nil {
			b.Fatal(err)
		}
	}
	addr := netip.AddrPortFrom(lab.Server.Addr4, ttfbPort).String()
	peers.Nginx(b, pki.ca, pki.leaf, peers.NginxOptions{Host: lab.Server, Addr: addr, EarlyData: true})
	url := "https://" + addr + "/early"
	ours := func(h2 bool) *gnutlshttp.Transport {
		cfg := &gnutls.Config{ServerName: "localhost", RootCAPEM: pki.ca.PEM, FastOpen: true}
		return &gnutlshttp.Transport{Config: cfg, DisableHTTP2: !h2}
	}
	resumed, resumedH2 := ours(false), ours(true)
	goTransport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return lab.Client.DialContext(ctx, &net.Dialer{}, network, addr)
		},
		TLSClientConfig: goClientConfig(),
	}
	goResumed := goTransport.Clone()
	goResumed.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	clients := []struct {
		name   string
		client func() (*http.Client, func())
	}{
		{"gnutlshttp-resumed-earlydata-fastopen", func() (*http.Client, func()) {
			return &http.Client{Transport: resumed}, resumed.CloseIdleConnections
		}},
		{"gnutlshttp-resumed-earlydata-fastopen-h2", func() (*http.Client, func()) {
			return &http.Client{Transport: resumedH2}, resumedH2.CloseIdleConnections
		}},
		{"gnutlshttp-fresh-fastopen", func() (*http.Client, func()) {
			tr := ours(false)
			return &http.Client{Transport: tr}, tr.CloseIdleConnections
		}},
		{"gnutlshttp-fresh-fastopen-h2", func() (*http.Client, func()) {
			tr := ours(true)
			return &http.Client{Transport: tr}, tr.CloseIdleConnections
		}},
		{"net-http-crypto-tls-fresh", func() (*http.Client, func()) {
			return &http.Client{Transport: goTransport}, goTransport.CloseIdleConnections
		}},
		{"net-http-crypto-tls-resumed", func() (*http.Client, func()) {
			return &http.Client{Transport: goResumed}, goResumed.CloseIdleConnections
		}},
	}
	for _, cl := range clients {
		b.Run(cl.name, func(b *testing.B) {
			get := func() (time.Duration, bool) {
				client, done := cl.client()
				defer done()
				var d time.Duration
				var body []byte
				if err := lab.Client.Do(func() error {
					start := time.Now()
					resp, err := client.Get(url)
					if err != nil {
						return err
					}
					d = time.Since(start)
					defer resp.Body.Close()
					body, err = io.ReadAll(resp.Body)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				return d, string(body) == "1\n"
			}
			get() // a fast open cookie and a session ticket
			get()
			active := tcpExt(b, lab.Client, "TCPFastOpenActive")
			var ds []time.Duration
			early := 0
			for range b.N {
				d, e := get()
				ds = append(ds, d)
				if e {
					early++
				}
			}
			m := median(ds)
			b.ReportMetric(float64(m)/float64(time.Millisecond), "ms-ttfb")
			b.ReportMetric(float64(m)/float64(ttfbRTT), "rtt-ttfb")
			b.ReportMetric(float64(early)/float64(b.N), "early/req")
			b.ReportMetric(float64(tcpExt(b, lab.Client, "TCPFastOpenActive")-active)/float64(b.N), "syn-data/conn")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// h2loadRate matches h2load's summary line.
var h2loadRate = regexp.MustCompile(`finished in [0-9.]+m?s, ([0-9.]+) req/s`)

// h2load runs h2load against url and returns its requests per second.
func h2load(b *testing.B, url string, args ...string) float64 {
	out, err := exec.Command(testenv.LookPath(b, "h2load"), append(args, url)...).CombinedOutput()
	m := h2loadRate.FindSubmatch(out)
	if err != nil || m == nil || !regexp.MustCompile(`\b0 failed, 0 errored`).Match(out) {
		b.Fatalf("h2load: %v\n%s", err, out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	return rate
}

var smallResponse = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello\n")
})

// A stack is one way of serving or sending the requests of a throughput
// benchmark: run makes one batch and returns its requests per second and
// how many requests it made.
type stack struct {
	name string // its metrics' prefix
	run  func() (rate float64, n int)
}

// listen listens on a free loopback port.
func listen(b *testing.B) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// serveXNetH2 serves HTTP/2 on l with x/net/http2's ServeConn over
// crypto/tls: the HTTP/2 code gnutlshttp.Server runs, where http.Server
// runs the copy net/http bundles, which may be another version.
func serveXNetH2(b *testing.B, l net.Listener, h http.Handler) {
	cfg := goServerConfig()
	cfg.NextProtos = []string{http2.NextProtoTLS}
	tl := tls.NewListener(l, cfg)
	b.Cleanup(func() { tl.Close() })
	h2 := &http2.Server{}
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				if err := c.(*tls.Conn).Handshake(); err != nil {
					c.Close()
					return
				}
				h2.ServeConn(c, &http2.ServeConnOpts{Handler: h, BaseConfig: &http.Server{}})
			}()
		}
	}()
}

// BenchmarkHTTP2Server: h2load (10 connections, 10 streams each, 20,000
// small responses) against this package's Server, against x/net/http2's
// ServeConn on crypto/tls (the same HTTP/2 code as ours) and against
// http.Server on crypto/tls, on loopback, once each per iteration.
func BenchmarkHTTP2Server(b *testing.B) {
	srv := &gnutlshttp.Server{Handler: smallResponse, Config: serverConfig()}
	l := listen(b)
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	xl := listen(b)
	serveXNetH2(b, xl, smallResponse)
	goL := listen(b)
	goSrv := &http.Server{Handler: smallResponse, TLSConfig: goServerConfig()}
	go goSrv.ServeTLS(goL, "", "")
	b.Cleanup(func() { goSrv.Close() })
	const n = 20000
	args := []string{"-n", strconv.Itoa(n), "-c", "10", "-m", "10"}
	load := func(l net.Listener) func() (float64, int) {
		return func() (float64, int) { return h2load(b, "https://"+l.Addr().String()+"/", args...), n }
	}
	compare(b, stack{"ours", load(l)}, stack{"xnet-h2-crypto-tls", load(xl)}, stack{"crypto-tls", load(goL)})
}

// BenchmarkHTTP1Server: h2load --h1 (10 keep-alive connections, 20,000
// small responses) against this package's Server and against
// http.Server on crypto/tls, once each per iteration.
func BenchmarkHTTP1Server(b *testing.B) {
	srv := &gnutlshttp.Server{Handler: smallResponse, Config: serverConfig(), DisableHTTP2: true}
	l := listen(b)
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	goL := listen(b)
	goSrv := &http.Server{Handler: smallResponse, TLSConfig: goServerConfig()}
	go goSrv.ServeTLS(goL, "", "")
	b.Cleanup(func() { goSrv.Close() })
	const n = 20000
	args := []string{"--h1", "-n", strconv.Itoa(n), "-c", "10"}
	load := func(l net.Listener) func() (float64, int) {
		return func() (float64, int) { return h2load(b, "https://"+l.Addr().String()+"/", args...), n }
	}
	compare(b, stack{"ours", load(l)}, stack{"crypto-tls", load(goL)})
}

// compare runs each stack once per iteration, in turn; the last is the
// reference, net/http on crypto/tls. It reports, for each, the medians
// of its rate and of this process's CPU time and allocations per request
// (user and system time from getrusage, allocations from
// runtime.MemStats: the side under test runs here, its load generator or
// server in another process), and the medians of the per-iteration
// ratios to the reference: rate-ratio is ours over the reference,
// cpu-ratio the reference's CPU time over ours, so that below 1 means
// ours does worse in both. On a shared machine the CPU time is the
// steadier figure: other work slows the clock, not the CPU cost; the
// allocations do not move at all.
func compare(b *testing.B, stacks ...stack) {
	type round struct{ rate, cpu, allocs float64 }
	measure := func(s stack) round {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		before := cpuTime(b)
		rate, n := s.run()
		cpu := cpuTime(b) - before
		runtime.ReadMemStats(&m1)
		return round{rate, float64(cpu) / float64(time.Microsecond) / float64(n), float64(m1.Mallocs-m0.Mallocs) / float64(n)}
	}
	for _, s := range stacks {
		measure(s) // warm up: connections, sessions, code paths
	}
	ref := len(stacks) - 1
	rates, cpus, allocs := make([][]float64, len(stacks)), make([][]float64, len(stacks)), make([][]float64, len(stacks))
	rateRatios, cpuRatios := make([][]float64, len(stacks)), make([][]float64, len(stacks))
	for range b.N {
		rs := make([]round, len(stacks))
		line := ""
		for i, s := range stacks {
			rs[i] = measure(s)
			line += fmt.Sprintf("%s %.0f req/s %.1f CPU-µs/req %.1f allocs/req; ", s.name, rs[i].rate, rs[i].cpu, rs[i].allocs)
		}
		for i, r := range rs {
			rates[i], cpus[i], allocs[i] = append(rates[i], r.rate), append(cpus[i], r.cpu), append(allocs[i], r.allocs)
			rateRatios[i] = append(rateRatios[i], r.rate/rs[ref].rate)
			cpuRatios[i] = append(cpuRatios[i], rs[ref].cpu/r.cpu)
		}
		b.Log(line)
	}
	for i, s := range stacks {
		b.ReportMetric(median(rates[i]), s.name+"-req/s")
		b.ReportMetric(median(cpus[i]), s.name+"-cpu-µs/req")
		b.ReportMetric(median(allocs[i]), s.name+"-allocs/req")
		if i == ref {
			continue
		}
		prefix := "" // ours: rate-ratio and cpu-ratio, as before
		if i > 0 {
			prefix = s.name + "-"
		}
		b.ReportMetric(median(rateRatios[i]), prefix+"rate-ratio")
		b.ReportMetric(median(cpuRatios[i]), prefix+"cpu-ratio")
	}
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the user and system time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// getLoop returns a batch of 4,000 GETs of url through rt by 8
// goroutines, for compare.
func getLoop(b *testing.B, rt http.RoundTripper, url string) func() (float64, int) {
	client := &http.Client{Transport: rt}
	return func() (float64, int) {
		const workers, total = 8, 4000
		var wg sync.WaitGroup
		var failed error
		var mu sync.Mutex
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for range total / workers {
					resp, err := client.Get(url)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Wait()
		if failed != nil {
			b.Fatal(failed)
		}
		return total / time.Since(start).Seconds(), total
	}
}

// BenchmarkHTTP1Client: 8 goroutines GET nginx's / over keep-alive
// HTTP/1.1 connections (4,000 requests), through this package's
// Transport and through http.Transport on crypto/tls, once each per
// iteration.
func BenchmarkHTTP1Client(b *testing.B) {
	ng := peers.Nginx(b, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true})
	url := "https://localhost:" + ng.Addr[len("127.0.0.1:"):] + "/"
	cfg := clientConfig()
	cfg.Priority = ""
	ours := &gnutlshttp.Transport{Config: cfg, DisableHTTP2: true, MaxIdleConnsPerHost: 8}
	goTr := &http.Transport{TLSClientConfig: goClientConfig(), MaxIdleConnsPerHost: 8}
	b.Cleanup(ours.CloseIdleConnections)
	b.Cleanup(goTr.CloseIdleConnections)
	compare(b, stack{"ours", getLoop(b, ours, url)}, stack{"crypto-tls", getLoop(b, goTr, url)})
}

// BenchmarkHTTP2Client: the same over HTTP/2 (one connection, which nginx
// closes every 1,000 requests with a GOAWAY), through this package's
// Transport, x/net/http2's Transport on crypto/tls (the HTTP/2 code ours
// runs) and http.Transport on crypto/tls.
func BenchmarkHTTP2Client(b *testing.B) {
	ng := peers.Nginx(b, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true})
	url := "https://localhost:" + ng.Addr[len("127.0.0.1:"):] + "/"
	cfg := clientConfig()
	cfg.Priority = ""
	ours := &gnutlshttp.Transport{Config: cfg}
	xnet := &http2.Transport{TLSClientConfig: goClientConfig()}
	goTr := &http.Transport{TLSClientConfig: goClientConfig(), ForceAttemptHTTP2: true}
	b.Cleanup(ours.CloseIdleConnections)
	b.Cleanup(xnet.CloseIdleConnections)
	b.Cleanup(goTr.CloseIdleConnections)
	compare(b, stack{"ours", getLoop(b, ours, url)}, stack{"xnet-h2-crypto-tls", getLoop(b, xnet, url)},
		stack{"crypto-tls", getLoop(b, goTr, url)})
}
