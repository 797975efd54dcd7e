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

.PHONY: bench bench-ttfb bench-loopback bench-idle bench-profile bench-handshake-cost bench-http bench-http-cpu bench-tls-cpu bench-fleet

bench/c/tlsbench: bench/c/tlsbench.c
	$(CC) -O2 -Wall -o $@ $< $$(pkg-config --cflags --libs gnutls) -lpthread

# A TLS 1.3 server on OpenSSL that answers early data with 0.5-RTT data.
bench/c/earlyserv: bench/c/earlyserv.c
	@$(MAKE) --no-print-directory deps APT_PKGS="libssl-dev"
	$(CC) -O2 -Wall -o $@ $< $$(pkg-config --cflags --libs libssl libcrypto)

bench: bench-fastopen bench-netlab bench-ttfb bench-idle bench-loopback bench-profile bench-handshake-cost bench-http bench-http-cpu bench-tls-cpu bench-fleet

$(BENCH_OUT):
	mkdir -p $@

# Time to first response byte over the lab link (50 ms RTT), 20 connections each.
bench-ttfb: deps bench/c/earlyserv | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'TTFB' -benchtime=20x -timeout 30m . | tee out/ttfb.txt

# 1,000 idle connections, three fresh processes per stack.
bench-idle: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'Idle' -benchtime=3x -timeout 30m . | tee out/idle.txt

# Bulk (1 GiB), full handshakes and 64-byte ping-pong on loopback: ours, C,
# crypto/tls, five rounds in turn; then handshakes again with one P.
bench-loopback: deps bench/c/tlsbench | $(BENCH_OUT)
	bench/rounds.sh 5 'Bulk|Handshake|PingPong' 2>&1 | tee $(BENCH_OUT)/loopback.txt
	GOMAXPROCS=1 bench/rounds.sh 5 'Handshake/(ours|crypto-tls|c)$$' 2>&1 | tee $(BENCH_OUT)/handshake-gomaxprocs1.txt

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
# over the lab link, 20 connections per client; then the HTTP/2 and
# HTTP/1.1 servers under h2load and clients on keep-alive, against net/http
# on crypto/tls (and x/net/http2 on crypto/tls), five rounds each.
bench-http: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'HTTPTTFB' -benchtime=20x -timeout 30m . | tee out/http-ttfb.txt
	cd bench && $(GO) test -run '^$$' -bench 'HTTP2Server|HTTP1Server|HTTP1Client|HTTP2Client' -benchtime=5x -v -timeout 30m . | tee out/http-throughput.txt

# Per-request CPU time of net/http over this package against net/http on
# crypto/tls, each side in a process of its own pinned to a CPU (taskset,
# from util-linux): servers under h2load, clients against a server in
# another process; seven rounds in turn after a warm-up. Then CPU profiles
# of the two HTTP/2 servers under h2load, their top entries flat and
# cumulative in out/http-cpu-profile-{ours,crypto-tls}.txt.
bench-http-cpu: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'HTTPCPU' -benchtime=7x -v -timeout 30m . | tee out/http-cpu.txt
	cd bench && $(GO) test -run '^$$' -bench 'HTTPCPU/server-h2$$' -benchtime=5x -httpcpu.profile=$$(pwd)/out . >/dev/null && \
	for s in ours crypto-tls; do \
		p=out/BenchmarkHTTPCPU-server-h2-$$s.prof; \
		{ $(GO) tool pprof -top -nodecount=15 $$p; $(GO) tool pprof -top -cum -nodecount=15 $$p; } > out/http-cpu-profile-$$s.txt; \
	done; cat out/http-cpu-profile-*.txt

# The same for 64-byte ping-pong, full handshakes and bulk transfers over
# TLS alone, client and server: this package's Conn, crypto/tls, GnuTLS in C.
bench-tls-cpu: deps bench/c/tlsbench | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'TLSCPU' -benchtime=7x -v -timeout 30m . | tee out/tls-cpu.txt

# Resumed connections going round three servers sharing ticket keys, the
# anti-replay store and session cache in memory or in redis-server.
bench-fleet: deps | $(BENCH_OUT)
	cd bench && $(GO) test -run '^$$' -bench 'Fleet' -benchtime=5x -count=5 . | tee out/fleet.txt
