package bench

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/go-gnutls/go-gnutls/bench/internal/benchcfg"
)

// BenchmarkTLSCPU: CPU time per 64-byte round trip and per full handshake
// of this package's Conn against crypto/tls and against GnuTLS in C
// (c/tlsbench), each side in a process of its own (bench/httpcpu's echo
// and tlsclient roles, tlsbench's echo and tlsclient modes), pinned as in
// BenchmarkHTTPCPU. The peer is crypto/tls in both roles; servers issue no
// session tickets.
//
//   - pingpong-client, pingpong-server: 20,000 round trips a round on one
//     connection, the client or the server under test.
//   - handshakes-client, handshakes-server: 1,000 connections a round, one
//     after the other, each closed (close_notify) once its handshake is
//     complete.
//   - bulk-client, bulk-server: 20,000 writes of 16 KiB (one record each)
//     a round on one connection, to a sink server, which answers the
//     whole with one byte (httpcpu's sink role, tlsbench's sink mode).
func BenchmarkTLSCPU(b *testing.B) {
	bin, c := buildHTTPCPU(b), cProgram(b)
	for _, w := range tlsCPUWorkloads(c) {
		b.Run(w.name, func(b *testing.B) {
			under, peer := httpCPUs(b)
			n := 20000
			if w.newConn {
				n = 1000
			}
			ours, others := w.start(b, bin, under, peer, n)
			compare(b, ours, others...)
		})
	}
}

// tlsCPUWorkloads are BenchmarkTLSCPU's workloads; with c, the path of
// c/tlsbench, GnuTLS in C is measured too.
func tlsCPUWorkloads(c string) []httpCPUWorkload {
	return []httpCPUWorkload{
		{"pingpong-client", false, tlsWorkload(c, false, "pingpong")},
		{"pingpong-server", false, tlsWorkload(c, true, "pingpong")},
		{"handshakes-client", true, tlsWorkload(c, false, "handshakes")},
		{"handshakes-server", true, tlsWorkload(c, true, "handshakes")},
		{"bulk-client", false, tlsWorkload(c, false, "bulk")},
		{"bulk-server", false, tlsWorkload(c, true, "bulk")},
	}
}

// tlsWorkload: each stack's echo server (server is true) or tlsclient,
// pinned to under, against crypto/tls's other end pinned to peer; the
// tlsclient runs cmd ("pingpong", "handshakes", or "bulk", whose server
// is a sink rather than an echo server).
func tlsWorkload(c string, server bool, cmd string) startFunc {
	return func(tb testing.TB, bin, under, peer string, n int) (func() round, []stack) {
		caFile, certFile, keyFile := pkiFiles(tb)
		// start starts a stack's process in role, under test or as the
		// peer; addr is the server of a tlsclient.
		start := func(stack, role string, underTest bool, addr string) *httpCPUProc {
			cpus, args := peer, []string{"-stack", stack, "-cert", certFile, "-key", keyFile, "-ca", caFile, "-addr", addr, role}
			if underTest {
				cpus, args = under, append(profileFlags(tb, stack), args...)
			}
			if stack != "c" {
				return startHTTPCPU(tb, bin, cpus, args...)
			}
			args = []string{role, caFile, certFile, keyFile, benchcfg.Priority}
			if _, port, err := net.SplitHostPort(addr); err == nil {
				args = append(args, port)
			}
			return startHTTPCPU(tb, c, cpus, args...)
		}
		role := "echo"
		if cmd == "bulk" {
			role = "sink"
		}
		echo := func(stack string, underTest bool) (*httpCPUProc, string) {
			p := start(stack, role, underTest, "")
			return p, p.listening(tb)
		}
		var peerAddr string // the clients' server
		if !server {
			_, peerAddr = echo("crypto-tls", false)
		}
		stackRound := func(name string) func() round {
			// measured is the process under test, driven the client.
			var measured, driven *httpCPUProc
			if server {
				srv, addr := echo(name, true)
				measured, driven = srv, start("crypto-tls", "tlsclient", false, addr)
			} else {
				measured = start(name, "tlsclient", true, peerAddr)
				driven = measured
			}
			return func() round {
				before := measured.stats(tb, "cpu")
				start := time.Now()
				after := driven.stats(tb, cmd+" "+strconv.Itoa(n))
				rate := float64(n) / time.Since(start).Seconds()
				if server {
					after = measured.stats(tb, "cpu")
				}
				return after.since(before, n, rate)
			}
		}
		others := []stack{{"crypto-tls", stackRound("crypto-tls")}}
		if c != "" {
			others = append(others, stack{"c", stackRound("c")})
		}
		return stackRound("ours"), others
	}
}

// TestTLSCPU runs each workload of BenchmarkTLSCPU for two short rounds
// per stack, ours, crypto/tls and GnuTLS in C, with the real processes and
// checks the connections the process under test reports: one per round
// for ping-pong and bulk, one per handshake.
func TestTLSCPU(t *testing.T) {
	bin := buildHTTPCPU(t)
	for _, w := range tlsCPUWorkloads(buildCProgram(t)) {
		t.Run(w.name, func(t *testing.T) {
			under, peer := httpCPUs(t)
			n, conns := 200, 1
			if w.newConn {
				n, conns = 20, 20
			}
			ours, others := w.start(t, bin, under, peer, n)
			for _, st := range append([]stack{{"ours", ours}}, others...) {
				for i := range 2 {
					r := st.round()
					if r.rate <= 0 || r.cpuPerReq <= 0 {
						t.Errorf("%s round %d: %.0f/s, %.1f CPU-µs each", st.name, i+1, r.rate, r.cpuPerReq)
					}
					if got := r.connsPerReq * float64(n); got != float64(conns) {
						t.Errorf("%s round %d: %v connections, want %d", st.name, i+1, got, conns)
					}
				}
			}
		})
	}
}
