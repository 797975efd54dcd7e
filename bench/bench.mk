# make bench-fastopen: the measurements recorded in bench/RESULTS.md under
# "TCP Fast Open handshake over a 50 ms RTT link" and "The lab's link"
# (needs root: network namespaces).
.PHONY: bench-fastopen bench-netlab

bench-fastopen: deps
	$(GO) test -run '^$$' -bench FastOpenHandshake -benchtime 100x ./gnutls

bench-netlab: deps
	$(GO) test -run '^$$' -bench RTT -benchtime 1000x ./internal/netlab
	$(GO) test -run '^$$' -bench PacketRate -benchtime 200000x ./internal/netlab
