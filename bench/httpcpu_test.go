package bench

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/go-gnutls/go-gnutls/internal/testenv"
)

// BenchmarkHTTPCPU: CPU time per request of net/http over this package
// (gnutlshttp) against net/http on crypto/tls, each side in a process of
// its own as users run them: the process under test (bench/httpcpu) pinned
// to one CPU, its peer to another (httpCPUs). Rounds take turns, ours then
// crypto/tls (compare); each measures the CPU time (getrusage) the process
// under test reports just before and after the round.
//
//   - server-h2, server-h1: the server under h2load, HTTP/2 with 10
//     connections × 10 streams, or HTTP/1.1 (--h1) with 10 connections;
//     20,000 requests a round.
//   - client-h1, client-h2: the client, 10 workers, GETs from net/http's
//     server on crypto/tls (bench/httpcpu, pinned to the peer's CPU) on
//     keep-alive connections; 20,000 requests a round.
//   - client-h1-newconn, client-h2-newconn: the same with a new connection
//     per request (Request.Close, a Transport per worker), sessions
//     resumed; 2,000 a round.
func BenchmarkHTTPCPU(b *testing.B) {
	bin := buildHTTPCPU(b)
	for _, w := range httpCPUWorkloads {
		b.Run(w.name, func(b *testing.B) {
			under, peer := httpCPUs(b)
			n := httpCPUKeepAlive
			if w.newConn {
				n = httpCPUNewConn
			}
			ours, others := w.start(b, bin, under, peer, n)
			compare(b, ours, others...)
		})
	}
}

// httpCPUProfile, when set, is a directory where each process under test
// writes its CPU profile (BenchmarkHTTPCPU-server-h2-ours.prof, ...).
var httpCPUProfile = flag.String("httpcpu.profile", "", "directory for the CPU profiles of BenchmarkHTTPCPU's processes under test")

// profileFlags are the flags of bench/httpcpu that write the profile of
// the process under test of tb for stack, if asked for.
func profileFlags(tb testing.TB, stack string) []string {
	if *httpCPUProfile == "" {
		return nil
	}
	return []string{"-cpuprofile", filepath.Join(*httpCPUProfile, strings.ReplaceAll(tb.Name(), "/", "-")+"-"+stack+".prof")}
}

const (
	httpCPUKeepAlive = 20000 // requests a round on keep-alive connections
	httpCPUNewConn   = 2000  // requests a round, a new connection each
	httpCPUWorkers   = 10    // h2load's connections, the client's workers
)

// httpCPUWorkload starts, for each stack, the process under test (on the
// CPUs under) and its peer (on peer), and returns a round of each, n
// requests: ours, then the others.
type httpCPUWorkload struct {
	name    string
	newConn bool // a new connection per request
	start   startFunc
}

type startFunc func(tb testing.TB, bin, under, peer string, n int) (ours func() round, others []stack)

var httpCPUWorkloads = []httpCPUWorkload{
	{"server-h2", false, serverWorkload("h2", "-m", "10")},
	{"server-h1", false, serverWorkload("http/1.1", "--h1")},
	{"client-h1", false, clientWorkload(false, false)},
	{"client-h2", false, clientWorkload(true, false)},
	{"client-h1-newconn", true, clientWorkload(false, true)},
	{"client-h2-newconn", true, clientWorkload(true, true)},
}

// serverWorkload: h2load, pinned to peer, against each stack's server,
// pinned to under, speaking proto.
func serverWorkload(proto string, args ...string) startFunc {
	return func(tb testing.TB, bin, under, peer string, n int) (func() round, []stack) {
		_, certFile, keyFile := pkiFiles(tb)
		start := func(name string) func() round {
			flags := append(profileFlags(tb, name), "-stack", name, "-cert", certFile, "-key", keyFile, "server")
			srv := startHTTPCPU(tb, bin, under, flags...)
			addr := srv.listening(tb)
			h2args := append([]string{"-n", strconv.Itoa(n), "-c", strconv.Itoa(httpCPUWorkers)}, args...)
			return func() round {
				before := srv.stats(tb, "cpu")
				rate := h2load(tb, peer, proto, "https://"+addr+"/", h2args...)
				return srv.stats(tb, "cpu").since(before, n, rate)
			}
		}
		return start("ours"), []stack{{"crypto-tls", start("crypto-tls")}}
	}
}

// clientWorkload: each stack's client, pinned to under, against one
// server, net/http on crypto/tls in a bench/httpcpu process pinned to
// peer, over HTTP/2 or HTTP/1.1, on keep-alive connections or a new one
// per request.
func clientWorkload(h2, newConn bool) startFunc {
	return func(tb testing.TB, bin, under, peer string, n int) (func() round, []stack) {
		caFile, certFile, keyFile := pkiFiles(tb)
		srv := startHTTPCPU(tb, bin, peer, "-stack", "crypto-tls", "-cert", certFile, "-key", keyFile, "server")
		addr := srv.listening(tb)
		start := func(name string) func() round {
			flags := append(profileFlags(tb, name), "-stack", name, "-ca", caFile, "-url", "https://"+addr+"/",
				"-h2="+strconv.FormatBool(h2), "-newconn="+strconv.FormatBool(newConn), "-workers", strconv.Itoa(httpCPUWorkers), "client")
			cl := startHTTPCPU(tb, bin, under, flags...)
			return func() round {
				before := cl.stats(tb, "cpu")
				start := time.Now()
				after := cl.stats(tb, "run "+strconv.Itoa(n))
				return after.since(before, n, float64(n)/time.Since(start).Seconds())
			}
		}
		return start("ours"), []stack{{"crypto-tls", start("crypto-tls")}}
	}
}

// httpCPUs are the CPUs for the process under test and for its peer: the
// second and the first this process may run on (CPU 1 and CPU 0 on a
// machine with two), or the one for both where there is only one.
func httpCPUs(tb testing.TB) (under, peer string) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		tb.Fatal(err)
	}
	var cpus []string
	for i := 0; i < len(set)*64 && len(cpus) < 2; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, strconv.Itoa(i))
		}
	}
	if len(cpus) < 2 {
		tb.Logf("one CPU (%s): the process under test shares it with its peer", cpus[0])
		return cpus[0], cpus[0]
	}
	return cpus[1], cpus[0]
}

// buildHTTPCPU builds bench/httpcpu.
func buildHTTPCPU(tb testing.TB) string {
	bin, err := testenv.GoBuild(tb.TempDir(), "github.com/go-gnutls/go-gnutls/bench/httpcpu")
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// httpCPUProc is a bench/httpcpu process, stopped (its input closed) when
// the test or benchmark ends.
type httpCPUProc struct {
	in  io.Writer
	out *bufio.Scanner
}

func startHTTPCPU(tb testing.TB, bin, cpus string, args ...string) *httpCPUProc {
	cmd := pinned(tb, cpus, bin, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		in.Close()
		select {
		case err := <-exited:
			if err != nil {
				tb.Errorf("%s: %v", cmd, err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			tb.Errorf("%s did not exit when its input closed", cmd)
		}
	})
	return &httpCPUProc{in: in, out: bufio.NewScanner(out)}
}

// line is the process's next line; an "error: " line fails tb.
func (p *httpCPUProc) line(tb testing.TB) string {
	tb.Helper()
	if !p.out.Scan() {
		tb.Fatalf("httpcpu ended: %v", p.out.Err())
	}
	l := p.out.Text()
	if strings.HasPrefix(l, "error: ") {
		tb.Fatalf("httpcpu: %s", l)
	}
	return l
}

// listening is the address a server role prints first ("listening
// HOST:PORT").
func (p *httpCPUProc) listening(tb testing.TB) string {
	tb.Helper()
	l := p.line(tb)
	addr, ok := strings.CutPrefix(l, "listening ")
	if !ok {
		tb.Fatalf("a server's first line is %q, not its address", l)
	}
	return addr
}

// httpCPUStats is a bench/httpcpu process's answer.
type httpCPUStats struct {
	cpu            time.Duration
	conns, resumed int64
}

// stats sends cmd and reads the answer.
func (p *httpCPUProc) stats(tb testing.TB, cmd string) httpCPUStats {
	tb.Helper()
	fmt.Fprintln(p.in, cmd)
	s, err := parseHTTPCPUStats(p.line(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func parseHTTPCPUStats(l string) (httpCPUStats, error) {
	var s httpCPUStats
	var us int64
	if _, err := fmt.Sscanf(l, "cpu_us=%d conns=%d resumed=%d", &us, &s.conns, &s.resumed); err != nil {
		return s, fmt.Errorf("httpcpu answered %q: %v", l, err)
	}
	s.cpu = time.Duration(us) * time.Microsecond
	return s, nil
}

// since is the round from before to s, n requests at rate.
func (s httpCPUStats) since(before httpCPUStats, n int, rate float64) round {
	return round{
		rate:          rate,
		cpuPerReq:     float64(s.cpu-before.cpu) / float64(time.Microsecond) / float64(n),
		connsPerReq:   float64(s.conns-before.conns) / float64(n),
		resumedPerReq: float64(s.resumed-before.resumed) / float64(n),
	}
}

// TestHTTPCPU runs each workload of BenchmarkHTTPCPU for two short rounds
// per stack, with the real processes, and checks what the processes
// report: CPU time, the connections each round made (h2load's own on a
// server; on a client, a few on keep-alive, one per request otherwise,
// resumed once a worker has a session), and the ratios summarize derives
// from them.
func TestHTTPCPU(t *testing.T) {
	bin := buildHTTPCPU(t)
	for _, w := range httpCPUWorkloads {
		t.Run(w.name, func(t *testing.T) {
			under, peer := httpCPUs(t)
			n := 200
			if w.newConn {
				n = 30
			}
			ours, others := w.start(t, bin, under, peer, n)
			for _, st := range append([]stack{{"ours", ours}}, others...) {
				stack, f := st.name, st.round
				first, second := f(), f()
				for i, r := range []round{first, second} {
					if r.rate <= 0 || r.cpuPerReq <= 0 {
						t.Errorf("%s round %d: %.0f req/s, %.1f CPU-µs/req", stack, i+1, r.rate, r.cpuPerReq)
					}
				}
				conns := func(r round) float64 { return r.connsPerReq * float64(n) }
				resumed := func(r round) float64 { return r.resumedPerReq * float64(n) }
				switch {
				case strings.HasPrefix(w.name, "server"):
					if conns(first) != httpCPUWorkers || conns(second) != httpCPUWorkers || resumed(second) != 0 {
						t.Errorf("%s: %v and %v connections, want h2load's %d", stack, conns(first), conns(second), httpCPUWorkers)
					}
				case w.newConn:
					if conns(first) != float64(n) || conns(second) != float64(n) || resumed(second) != float64(n) {
						t.Errorf("%s: %v and %v connections for %d requests, %v resumed in the second round; want one each, all resumed",
							stack, conns(first), conns(second), n, resumed(second))
					}
				default:
					// The first round dials beside connections about to be
					// idle, as many times as a loaded machine delays their
					// return to the pool; the second finds them kept.
					if conns(first) < 1 || conns(first) > float64(n) || conns(second) >= float64(n)/10 || resumed(second) != 0 {
						t.Errorf("%s: %v connections, then %v, for %d requests; want some, then fewer than a tenth of the requests",
							stack, conns(first), conns(second), n)
					}
				}
			}
			a, b := ours(), others[0].round()
			m := summarize(map[string][]round{"ours": {a, a, b}, "crypto-tls": {b, b, a}})
			if got, want := m["cpu-ours/crypto-tls"], a.cpuPerReq/b.cpuPerReq; got != want {
				t.Errorf("cpu-ours/crypto-tls %v, want the median of the rounds' ratios %v", got, want)
			}
			if got, want := m["ours-cpu-µs/req"], a.cpuPerReq; got != want {
				t.Errorf("ours-cpu-µs/req %v, want the median %v", got, want)
			}
		})
	}
}
