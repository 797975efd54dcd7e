package bench

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkTLSCPU: CPU time per 64-byte round trip and per full handshake
// of this package's Conn against crypto/tls, each side in a process of its
// own (bench/httpcpu: echo and tlsclient), pinned as in BenchmarkHTTPCPU.
// The peer is crypto/tls in both roles; servers issue no session tickets.
//
//   - pingpong-client, pingpong-server: 20,000 round trips a round on one
//     connection, the client or the server under test.
//   - handshakes-client, handshakes-server: 1,000 connections a round, one
//     after the other, each closed (close_notify) once its handshake is
//     complete.
func BenchmarkTLSCPU(b *testing.B) {
	bin := buildHTTPCPU(b)
	for _, w := range tlsCPUWorkloads {
		b.Run(w.name, func(b *testing.B) {
			under, peer := httpCPUs(b)
			n := 20000
			if w.newConn {
				n = 1000
			}
			ours, theirs := w.start(b, bin, under, peer, n)
			compare(b, ours, theirs)
		})
	}
}

var tlsCPUWorkloads = []httpCPUWorkload{
	{"pingpong-client", false, tlsWorkload(false, "pingpong")},
	{"pingpong-server", false, tlsWorkload(true, "pingpong")},
	{"handshakes-client", true, tlsWorkload(false, "handshakes")},
	{"handshakes-server", true, tlsWorkload(true, "handshakes")},
}

// tlsWorkload: each stack's echo server (server is true) or tlsclient,
// pinned to under, against crypto/tls's other end pinned to peer; the
// tlsclient runs cmd ("pingpong" or "handshakes").
func tlsWorkload(server bool, cmd string) startFunc {
	return func(tb testing.TB, bin, under, peer string, n int) (func() round, func() round) {
		caFile, certFile, keyFile := pkiFiles(tb)
		// echo and client start the process under test (on under) of a
		// stack, or crypto/tls's peer (on peer).
		echo := func(stack string, underTest bool) (*httpCPUProc, string) {
			flags, cpus := []string{"-stack", stack, "-cert", certFile, "-key", keyFile, "echo"}, peer
			if underTest {
				flags, cpus = append(profileFlags(tb, stack), flags...), under
			}
			p := startHTTPCPU(tb, bin, cpus, flags...)
			addr, ok := strings.CutPrefix(p.line(tb), "listening ")
			if !ok {
				tb.Fatalf("%s echo: no address", stack)
			}
			return p, addr
		}
		client := func(stack string, underTest bool, addr string) *httpCPUProc {
			flags, cpus := []string{"-stack", stack, "-ca", caFile, "-addr", addr, "tlsclient"}, peer
			if underTest {
				flags, cpus = append(profileFlags(tb, stack), flags...), under
			}
			return startHTTPCPU(tb, bin, cpus, flags...)
		}
		var peerAddr string // the clients' server
		if !server {
			_, peerAddr = echo("crypto-tls", false)
		}
		stack := func(name string) func() round {
			// measured is the process under test, driven the client.
			var measured, driven *httpCPUProc
			if server {
				srv, addr := echo(name, true)
				measured, driven = srv, client("crypto-tls", false, addr)
			} else {
				measured = client(name, true, peerAddr)
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
		return stack("ours"), stack("crypto-tls")
	}
}

// TestTLSCPU runs each workload of BenchmarkTLSCPU for two short rounds
// per stack with the real processes and checks the connections the
// process under test reports: one per round for ping-pong, one per
// handshake.
func TestTLSCPU(t *testing.T) {
	bin := buildHTTPCPU(t)
	for _, w := range tlsCPUWorkloads {
		t.Run(w.name, func(t *testing.T) {
			under, peer := httpCPUs(t)
			n, conns := 200, 1
			if w.newConn {
				n, conns = 20, 20
			}
			ours, theirs := w.start(t, bin, under, peer, n)
			for stack, f := range map[string]func() round{"ours": ours, "crypto-tls": theirs} {
				for i := range 2 {
					r := f()
					if r.rate <= 0 || r.cpuPerReq <= 0 {
						t.Errorf("%s round %d: %.0f/s, %.1f CPU-µs each", stack, i+1, r.rate, r.cpuPerReq)
					}
					if got := r.connsPerReq * float64(n); got != float64(conns) {
						t.Errorf("%s round %d: %v connections, want %d", stack, i+1, got, conns)
					}
				}
			}
		})
	}
}
