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

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// net/http over this package (gnutlshttp) against net/http on crypto/tls.
// Time to the response of a GET from nginx over the lab link at ttfbRTT;
// requests per second, CPU time and allocations per request of the
// servers under h2load and of the clients on keep-alive connections, on
// loopback.

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

// h2loadRate and h2loadProto match h2load's summary.
var (
	h2loadRate  = regexp.MustCompile(`finished in [0-9.]+m?s, ([0-9.]+) req/s`)
	h2loadProto = regexp.MustCompile(`Application protocol: (\S+)`)
)

// h2load runs h2load against url, pinned to cpus (taskset -c) unless
// cpus is empty, and returns its requests per second, having checked that
// every request succeeded over proto ("h2" or "http/1.1").
func h2load(tb testing.TB, cpus, proto, url string, args ...string) float64 {
	out, err := pinned(tb, cpus, "h2load", append(args, url)...).CombinedOutput()
	m := h2loadRate.FindSubmatch(out)
	p := h2loadProto.FindSubmatch(out)
	if err != nil || m == nil || p == nil || string(p[1]) != proto || !regexp.MustCompile(`\b0 failed, 0 errored`).Match(out) {
		tb.Fatalf("h2load, want every request to succeed over %s: %v\n%s", proto, err, out)
	}
	rate, _ := strconv.ParseFloat(string(m[1]), 64)
	return rate
}

// pinned is the command that runs the program name with args, on the CPUs
// cpus (taskset -c) unless cpus is empty.
func pinned(tb testing.TB, cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(testenv.LookPath(tb, name), args...)
	}
	return exec.Command(testenv.LookPath(tb, "taskset"), append([]string{"-c", cpus, testenv.LookPath(tb, name)}, args...)...)
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
	srv := &gnutlshttp.Server{Handler: benchcfg.SmallResponse, Config: serverConfig()}
	l := listenLoopback(b)
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	xl := listenLoopback(b)
	serveXNetH2(b, xl, benchcfg.SmallResponse)
	goL := listenLoopback(b)
	goSrv := &http.Server{Handler: benchcfg.SmallResponse, TLSConfig: goServerConfig()}
	go goSrv.ServeTLS(goL, "", "")
	b.Cleanup(func() { goSrv.Close() })
	const n = 20000
	args := []string{"-n", strconv.Itoa(n), "-c", "10", "-m", "10"}
	load := func(l net.Listener) func() round {
		return inProcess(b, func() (float64, int) { return h2load(b, "", "h2", "https://"+l.Addr().String()+"/", args...), n })
	}
	compare(b, load(l), stack{"xnet-h2-crypto-tls", load(xl)}, stack{"crypto-tls", load(goL)})
}

// BenchmarkHTTP1Server: h2load --h1 (10 keep-alive connections, 20,000
// small responses) against this package's Server and against
// http.Server on crypto/tls, once each per iteration.
func BenchmarkHTTP1Server(b *testing.B) {
	srv := &gnutlshttp.Server{Handler: benchcfg.SmallResponse, Config: serverConfig(), DisableHTTP2: true}
	l := listenLoopback(b)
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	goL := listenLoopback(b)
	goSrv := &http.Server{Handler: benchcfg.SmallResponse, TLSConfig: goServerConfig()}
	go goSrv.ServeTLS(goL, "", "")
	b.Cleanup(func() { goSrv.Close() })
	const n = 20000
	args := []string{"--h1", "-n", strconv.Itoa(n), "-c", "10"}
	load := func(l net.Listener) func() round {
		return inProcess(b, func() (float64, int) { return h2load(b, "", "http/1.1", "https://"+l.Addr().String()+"/", args...), n })
	}
	compare(b, load(l), stack{"crypto-tls", load(goL)})
}

// round is what one stack did in one round: requests per second, and
// CPU time (µs), allocations, connections made and sessions resumed per
// request by the side under test; allocations, connections and sessions
// are zero where not counted.
type round struct {
	rate, cpuPerReq, allocsPerReq, connsPerReq, resumedPerReq float64
}

// stack is one stack's round, by name ("crypto-tls", "xnet-h2-crypto-tls", "c").
type stack struct {
	name  string
	round func() round
}

// compare runs ours and each of others once per iteration, in turn, after
// one warm-up round each that is discarded, and reports summarize's
// figures. On a shared machine the CPU time is the steadier figure: other
// work slows the clock, not the CPU cost.
func compare(b *testing.B, ours func() round, others ...stack) {
	all := append([]stack{{"ours", ours}}, others...)
	for _, s := range all {
		s.round() // warm up: connections, sessions, code paths
	}
	rounds := map[string][]round{}
	for i := range b.N {
		line := fmt.Sprintf("round %d:", i+1)
		for _, s := range all {
			r := s.round()
			rounds[s.name] = append(rounds[s.name], r)
			line += fmt.Sprintf(" %s %.0f/s %.1f CPU-µs", s.name, r.rate, r.cpuPerReq)
			if r.allocsPerReq > 0 {
				line += fmt.Sprintf(" %.1f allocs", r.allocsPerReq)
			}
			line += ";"
		}
		for _, s := range others {
			line += fmt.Sprintf(" ours/%s CPU %.3f", s.name, rounds["ours"][i].cpuPerReq/rounds[s.name][i].cpuPerReq)
		}
		b.Log(line)
	}
	for unit, v := range summarize(rounds) {
		b.ReportMetric(v, unit)
	}
	b.ReportMetric(0, "ns/op")
}

// summarize gives, by unit, the medians of each stack's rates, CPU time
// per request and, when not zero, allocations, connections and resumed
// sessions per request, and the medians of the per-round ratios of ours to each other
// stack, of rate and of CPU time; rounds[name][i] ran in round i.
func summarize(rounds map[string][]round) map[string]float64 {
	m := map[string]float64{}
	med := func(rs []round, f func(round) float64) float64 {
		var v []float64
		for _, r := range rs {
			v = append(v, f(r))
		}
		return median(v)
	}
	ours := rounds["ours"]
	for name, rs := range rounds {
		m[name+"-req/s"] = med(rs, func(r round) float64 { return r.rate })
		m[name+"-cpu-µs/req"] = med(rs, func(r round) float64 { return r.cpuPerReq })
		if a := med(rs, func(r round) float64 { return r.allocsPerReq }); a > 0 {
			m[name+"-allocs/req"] = a
		}
		if c := med(rs, func(r round) float64 { return r.connsPerReq }); c > 0 {
			m[name+"-conns/req"] = c
		}
		if c := med(rs, func(r round) float64 { return r.resumedPerReq }); c > 0 {
			m[name+"-resumed/req"] = c
		}
		if name == "ours" {
			continue
		}
		var rate, cpu []float64
		for i := range ours {
			rate = append(rate, ours[i].rate/rs[i].rate)
			cpu = append(cpu, ours[i].cpuPerReq/rs[i].cpuPerReq)
		}
		m["rate-ours/"+name] = median(rate)
		m["cpu-ours/"+name] = median(cpu)
	}
	return m
}

// inProcess measures f, which returns its requests per second and how many
// requests it made, with this process's CPU time and allocations
// (runtime.MemStats, which do not move with the machine's load): the side
// under test runs here, its load generator or server in another process.
func inProcess(b *testing.B, f func() (rate float64, n int)) func() round {
	return func() round {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		before := cpuTime(b)
		rate, n := f()
		cpu := cpuTime(b) - before
		runtime.ReadMemStats(&m1)
		return round{
			rate:         rate,
			cpuPerReq:    float64(cpu) / float64(time.Microsecond) / float64(n),
			allocsPerReq: float64(m1.Mallocs-m0.Mallocs) / float64(n),
		}
	}
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
// goroutines, for inProcess.
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
	ours := &gnutlshttp.Transport{Config: clientConfig(), DisableHTTP2: true, MaxIdleConnsPerHost: 8}
	goTr := &http.Transport{TLSClientConfig: goClientConfig(), MaxIdleConnsPerHost: 8}
	b.Cleanup(ours.CloseIdleConnections)
	b.Cleanup(goTr.CloseIdleConnections)
	compare(b, inProcess(b, getLoop(b, ours, url)), stack{"crypto-tls", inProcess(b, getLoop(b, goTr, url))})
}

// BenchmarkHTTP2Client: the same over HTTP/2 (one connection, which nginx
// closes every 1,000 requests with a GOAWAY), through this package's
// Transport, x/net/http2's Transport on crypto/tls (the HTTP/2 code ours
// runs) and http.Transport on crypto/tls.
func BenchmarkHTTP2Client(b *testing.B) {
	ng := peers.Nginx(b, pki.ca, pki.leaf, peers.NginxOptions{EarlyData: true})
	url := "https://localhost:" + ng.Addr[len("127.0.0.1:"):] + "/"
	ours := &gnutlshttp.Transport{Config: clientConfig()}
	xnet := &http2.Transport{TLSClientConfig: goClientConfig()}
	goTr := &http.Transport{TLSClientConfig: goClientConfig(), ForceAttemptHTTP2: true}
	b.Cleanup(ours.CloseIdleConnections)
	b.Cleanup(xnet.CloseIdleConnections)
	b.Cleanup(goTr.CloseIdleConnections)
	compare(b, inProcess(b, getLoop(b, ours, url)), stack{"xnet-h2-crypto-tls", inProcess(b, getLoop(b, xnet, url))},
		stack{"crypto-tls", inProcess(b, getLoop(b, goTr, url))})
}
