package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/gnutls"
	"github.com/go-gnutls/go-gnutls/internal/peers"
	"github.com/go-gnutls/go-gnutls/redisstore"
	"github.com/redis/go-redis/v9"
)

// Fleet benchmarks: servers sharing session ticket keys, with the
// anti-replay records and the TLS 1.2 session cache in this process or in
// a redis-server on loopback (redisstore). Each iteration is a batch of
// fleetBatch connections, one at a time, from one client that offers the
// session it got last to the next server, going round the fleet.

const fleetBatch = 200

// fleetStore is where a fleet keeps its shared state: nil for each
// server's own memory.
type fleetStore struct {
	name  string
	store func(b *testing.B) *redisstore.Store
}

var fleetStores = []fleetStore{
	{"memory", func(*testing.B) *redisstore.Store { return nil }},
	{"redis", func(b *testing.B) *redisstore.Store {
		srv := peers.Redis(b, 0)
		client := redis.NewClient(&redis.Options{Addr: srv.Addr})
		b.Cleanup(func() { client.Close() })
		return redisstore.New(client, redisstore.Options{Prefix: "bench:"})
	}},
}

// startFleet starts n servers sharing a ticket key, and store unless nil,
// that read the request (as early data when it is), answer it with the
// same bytes and close.
func startFleet(b *testing.B, n int, store *redisstore.Store, tls12 bool) []string {
	key := [32]byte{1}
	// In memory, the servers of this process share one cache.
	cache := gnutls.NewLRUServerSessionCache(4096)
	var addrs []string
	for range n {
		sc := serverConfig()
		if tls12 {
			sc.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
			sc.SessionTicketsDisabled = true
			sc.ServerSessionCache = cache
		}
		sc.MaxEarlyData = 16384
		sc.SetSessionTicketKeys([][32]byte{key})
		if store != nil {
			sc.AntiReplay, sc.ServerSessionCache = store, store
		}
		l := gnutls.NewListener(listenLoopback(b), sc)
		b.Cleanup(peers.Serve(l, func(nc net.Conn) {
			c := nc.(*gnutls.Conn)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 64)
			var got []byte
			for len(got) < len(fleetRequest) {
				n, err := c.ReadEarlyData(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if len(got) < len(fleetRequest) {
				n, _ := io.ReadFull(c, buf[:len(fleetRequest)-len(got)])
				got = append(got, buf[:n]...)
			}
			c.Write(got)
		}))
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

var fleetRequest = []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")

// fleetConn is one connection of a benchmark.
type fleetConn struct {
	answer, total  time.Duration // from the start of the dial to the answer, and to Close's return
	resumed, early bool
}

// fleetRound makes one connection, sending the request first (as early
// data when the session allows), reads the answer and closes.
func fleetRound(b *testing.B, d *gnutls.Dialer, addr string) fleetConn {
	start := time.Now()
	c, err := d.DialEarly(context.Background(), "tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Write(fleetRequest); err != nil {
		b.Fatal(err)
	}
	got := make([]byte, len(fleetRequest))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, fleetRequest) {
		b.Fatalf("answer %q, %v", got, err)
	}
	r := fleetConn{answer: time.Since(start)}
	st := c.ConnectionState()
	r.resumed, r.early = st.DidResume, st.EarlyData.Accepted
	c.Close()
	r.total = time.Since(start)
	return r
}

// BenchmarkFleet: resumed connections going round a fleet of three
// servers, TLS 1.3 with 0-RTT (the anti-replay store on every
// connection) and TLS 1.2 by session ID (the session cache on every
// connection), the store in memory or in Redis. Reported, as medians of
// the batches' medians: handshakes per second (one over the time from the
// start of the dial to Close's return), the time from the start of the
// dial to the answer of the request sent first (for 0-RTT, the accept
// latency), and the share of connections that resumed and whose early
// data was accepted.
func BenchmarkFleet(b *testing.B) {
	for _, proto := range []string{"tls13-0rtt", "tls12-id"} {
		for _, fs := range fleetStores {
			b.Run(proto+"/"+fs.name, func(b *testing.B) {
				tls12 := proto == "tls12-id"
				addrs := startFleet(b, 3, fs.store(b), tls12)
				cc := clientConfig()
				cc.ClientSessionCache = &peers.LastSession{}
				if tls12 {
					cc.Priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
					cc.SessionTicketsDisabled = true
				}
				d := &gnutls.Dialer{NetDialer: noKeepAliveDialer, Config: cc}
				fleetRound(b, d, addrs[0])
				var rates, answers []float64
				var resumed, early, total int
				b.ResetTimer()
				for range b.N {
					var conns, answer []float64
					for i := range fleetBatch {
						r := fleetRound(b, d, addrs[i%len(addrs)])
						conns = append(conns, r.total.Seconds())
						answer = append(answer, float64(r.answer.Microseconds()))
						total++
						if r.resumed {
							resumed++
						}
						if r.early {
							early++
						}
					}
					rates = append(rates, 1/median(conns))
					answers = append(answers, median(answer))
				}
				b.ReportMetric(median(rates), "handshakes/s")
				b.ReportMetric(median(answers), "µs/answer")
				b.ReportMetric(float64(resumed)/float64(total), "resumed")
				b.ReportMetric(float64(early)/float64(total), "early-accepted")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
