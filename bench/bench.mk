# make bench-fastopen: the measurements recorded in bench/RESULTS.md under
# "TCP Fast Open handshake over a 50 ms RTT link" and "The lab's link"
# (needs root: network namespaces).
.PHONY: bench-fastopen bench-netlab

bench-fastopen: deps
	$(GO) test -run '^$$' -bench FastOpenHandshake -benchtime 100x ./gnutls

bench-netlab: deps
	$(GO) test -run '^$$' -bench RTT -benchtime 1000x ./internal/netlab
	$(GO) test -run '^$$' -bench PacketRate -benchtime 200000x ./internal/netlab

# make bench: the benchmarks of bench/ (see bench/RESULTS.md). Each
# benchmark measures its peers in the same run; figures are medians.
# Needs root for the lab (network namespaces) and gnutls-bin.

BENCH_OUT := bench/out

.PHONY: bench bench-ttfb bench-loopback bench-idle bench-profile bench-handshake-cost bench-http bench-fleet

bench/c/tlsbench: bench/c/tlsbench.c
	$(CC) -O2 -Wall -o $@ $< $$(pkg-config --cflags --libs gnutls) -lpthread

# A TLS 1.3 server on OpenSSL that answers early data with 0.5-RTT data.
bench/c/earlyserv: bench/c/earlyserv.c
	@$(MAKE) --no-print-directory deps APT_PKGS="libssl-dev"
	$(CC) -O2 -Wall -o $@ $< $$(pkg-config --cflags --libs libssl libcrypto)

bench: bench-fastopen bench-netlab bench-ttfb bench-idle bench-loopback bench-profile bench-handshake-cost bench-http bench-fleet

$(BENCH_OUT):
	mkdir -p $@

# Time to first response byte over the lab link (50 ms RTT), 20 connections each.
bench-ttfb: deps bench/c/earlyserv | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'TTFB' -benchtime=20x -timeout 30m . | tee out/ttfb.txt

# 1,000 idle connections, three fresh processes per stack.
bench-idle: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'Idle' -benchtime=3x -timeout 30m . | tee out/idle.txt

# Bulk (1 GiB), full handshakes and 64-byte ping-pong on loopback: ours, C,
# crypto/tls, five rounds in turn; then handshakes again with one P, and
# with the peer, the C program, in another process.
bench-loopback: deps bench/c/tlsbench | $(BENCH_OUT)
	bench/rounds.sh 5 'Bulk|Handshake|PingPong' 2>&1 | tee $(BENCH_OUT)/loopback.txt
	GOMAXPROCS=1 bench/rounds.sh 5 'Handshake/(ours|crypto-tls|c)$$' 2>&1 | tee $(BENCH_OUT)/handshake-gomaxprocs1.txt
	BENCHFLAGS=-test.benchtime=3x bench/rounds.sh 5 'CrossProcess' 2>&1 | tee $(BENCH_OUT)/cross-process.txt

# Where a handshake's cost goes, ours against C: CPU, system calls, calls
# into GnuTLS and nettle (perf uprobes).
bench-handshake-cost: deps bench/c/tlsbench | $(BENCH_OUT)
	@$(MAKE) --no-print-directory deps APT_PKGS="linux-perf strace"
	bench/handshake-cost.sh 2>&1 | tee $(BENCH_OUT)/handshake-cost.txt

# Where a ping-pong round trip spends its CPU, ours and crypto/tls.
bench-profile: deps bench/c/tlsbench | $(BENCH_OUT)
	cd bench && for s in ours crypto-tls; do \
		$(GO) test -run '^$$' -bench "PingPong/$$s\$$" -benchtime=5x -cpuprofile out/pingpong-$$s.prof -o out/bench.test . >/dev/null && \
		$(GO) tool pprof -top -nodecount=20 out/bench.test out/pingpong-$$s.prof > out/pingpong-$$s.txt; \
	done; head -30 out/pingpong-*.txt

# net/http over this package (gnutlshttp): time to the response from nginx
# over the lab link, 20 connections per client; then the HTTP/2 server
# under h2load and the HTTP/1.1 client on keep-alive, against net/http on
# crypto/tls, five rounds each.
bench-http: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'HTTPTTFB' -benchtime=20x -timeout 30m . | tee out/http-ttfb.txt
	cd bench && $(GO) test -run '^$$' -bench 'HTTP2Server|HTTP1Client' -benchtime=5x -v -timeout 30m . | tee out/http-throughput.txt

# Resumed connections going round three servers sharing ticket keys, the
# anti-replay store and session cache in memory or in redis-server.
bench-fleet: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'Fleet' -benchtime=5x -count=5 . | tee out/fleet.txt
