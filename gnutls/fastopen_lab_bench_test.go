package gnutls

import (
	"slices"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/internal/netlab"
)

// BenchmarkFastOpenHandshake times Dial, from the SYN to a completed TLS
// 1.3 handshake, across a link of 25ms each way (a 50ms RTT), against this
// package's Listen with fast open on. Each iteration dials once with fast
// open (the ClientHello in the SYN, with the cookie fetched beforehand)
// and once without, and times a plain TCP connect for the RTT, so the
// three are measured under the same conditions. Both sides set
// TCP_NODELAY (Go's net does on every TCP socket, Dial on its fast-open
// socket too). Full handshakes: no session is resumed.
//
//	go test -run '^$' -bench FastOpenHandshake -benchtime 50x ./gnutls
func BenchmarkFastOpenHandshake(b *testing.B) {
	for _, family := range []string{"IPv4", "IPv6"} {
		b.Run(family, func(b *testing.B) {
			lab := netlab.NewForTest(b, netlab.LinkConfig{Delay: labDelay})
			for _, h := range []*netlab.Host{lab.Client, lab.Server} {
				if err := h.Sysctl("net.ipv4.tcp_fastopen", labFastOpen); err != nil {
					b.Fatal(err)
				}
			}
			server := lab.Server.Addr4
			if family == "IPv6" {
				server = lab.Server.Addr6
			}
			sc := serverConfig()
			sc.FastOpen = true
			addr := labListen(b, lab, server, sc)
			tfo, plain := fastOpenConfig(), clientConfig()

			dial := func(cfg *Config) (time.Duration, FastOpenState) {
				var c *Conn
				var d time.Duration
				if err := lab.Client.Do(func() (err error) {
					start := time.Now()
					c, err = Dial("tcp", addr, cfg)
					d = time.Since(start)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				st := c.ConnectionState().FastOpen
				c.Close()
				return d, st
			}
			connect := func() time.Duration {
				var d time.Duration
				if err := lab.Client.Do(func() error {
					start := time.Now()
					c, err := lab.Client.DialContext(b.Context(), nil, "tcp", addr)
					d = time.Since(start)
					if err == nil {
						c.Close()
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
				return d
			}
			dial(tfo) // fetches the cookie

			var withTFO, without, rtt []time.Duration
			b.ResetTimer()
			for range b.N {
				d, st := dial(tfo)
				if !st.Used {
					b.Fatalf("fast open not used: %v", st)
				}
				withTFO = append(withTFO, d)
				d, _ = dial(plain)
				without = append(without, d)
				rtt = append(rtt, connect())
			}
			b.StopTimer()
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			mt, mp, mr := median(withTFO), median(without), median(rtt)
			b.ReportMetric(ms(mt), "fastopen-ms")
			b.ReportMetric(ms(mp), "plain-ms")
			b.ReportMetric(ms(mr), "rtt-ms")
			b.ReportMetric(float64(mt)/float64(mp), "fastopen/plain")
			b.ReportMetric(float64(mp-mt)/float64(mr), "saved-rtts")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: medians over %d: fast open %v, plain %v, TCP connect %v", addr, b.N, mt, mp, mr)
		})
	}
}

// median returns the median of times.
func median(times []time.Duration) time.Duration {
	s := slices.Clone(times)
	slices.Sort(s)
	return s[len(s)/2]
}
