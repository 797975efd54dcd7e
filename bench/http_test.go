package bench

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/gnutlshttp"
	"github.com/go-gnutls/go-gnutls/internal/netlab"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// net/http over this package (gnutlshttp) against net/http on crypto/tls.
// Time to the response of a GET from nginx over the lab link at ttfbRTT;
// requests per second of the HTTP/2 server under h2load and of the
// HTTP/1.1 client on keep-alive connections, on loopback.

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

// BenchmarkHTTP2Server: h2load (10 connections, 10 streams each, 20,000
// small responses) against this package's Server and against http.Server
// on crypto/tls, on loopback, once each per iteration; the medians and
// the median of the per-iteration ratios.
func BenchmarkHTTP2Server(b *testing.B) {
	srv := &gnutlshttp.Server{Handler: benchcfg.SmallResponse, Config: serverConfig()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() { srv.Close() })
	goL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	goSrv := &http.Server{Handler: benchcfg.SmallResponse, TLSConfig: goServerConfig()}
	go goSrv.ServeTLS(goL, "", "")
	b.Cleanup(func() { goSrv.Close() })
	const n = 20000
	args := []string{"-n", strconv.Itoa(n), "-c", "10", "-m", "10"}
	compare(b, func() (float64, int) { return h2load(b, "https://"+l.Addr().String()+"/", args...), n },
		func() (float64, int) { return h2load(b, "https://"+goL.Addr().String()+"/", args...), n })
}

// compare runs ours and peer once each per iteration, in turn; each
// returns its requests per second and how many requests it made. It
// reports the medians of the rates and of this process's CPU time per
// request (user and system, from getrusage: the side under test runs
// here, its load generator or server in another process), and the
// medians of the per-iteration ratios. On a shared machine the CPU time
// is the steadier figure: other work slows the clock, not the CPU cost.
func compare(b *testing.B, ours, peer func() (rate float64, n int)) {
	measure := func(f func() (float64, int)) (rate, cpuPerReq float64) {
		before := cpuTime(b)
		rate, n := f()
		return rate, float64(cpuTime(b)-before) / float64(time.Microsecond) / float64(n)
	}
	measure(ours) // warm up: connections, sessions, code paths
	measure(peer)
	var or, pr, oc, pc, rr, rc []float64
	for range b.N {
		x, xc := measure(ours)
		y, yc := measure(peer)
		or, pr, oc, pc = append(or, x), append(pr, y), append(oc, xc), append(pc, yc)
		rr, rc = append(rr, x/y), append(rc, yc/xc)
		b.Logf("ours %.0f req/s %.1f CPU-µs/req; crypto/tls %.0f req/s %.1f CPU-µs/req", x, xc, y, yc)
	}
	b.ReportMetric(median(or), "ours-req/s")
	b.ReportMetric(median(pr), "crypto-tls-req/s")
	b.ReportMetric(median(rr), "rate-ratio")
	b.ReportMetric(median(oc), "ours-cpu-µs/req")
	b.ReportMetric(median(pc), "crypto-tls-cpu-µs/req")
	b.ReportMetric(median(rc), "cpu-ratio")
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
	run := func(rt http.RoundTripper) func() (float64, int) {
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
	compare(b, run(ours), run(goTr))
}
