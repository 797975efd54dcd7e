// Package netlab builds a small network for tests: two hosts, each an
// anonymous network namespace, joined by a link that delays, jitters,
// drops or filters whole IP packets (LinkConfig). The client is 198.18.0.1
// and fd00:198:18::1, the server 198.18.0.2 and fd00:198:18::2; they reach
// nothing else. Sockets made in Host.Do, Host.Listen or Host.DialContext,
// and programs started with Host.Start, live in a host's namespace; sysctls
// set with Host.Sysctl apply there alone. It needs root and /dev/net/tun.
//
// Each host has a TUN interface; the Link forwards between them on four OS
// threads of its own (a reader and a writer per direction), with
// real-time priority, timerfd sleeps and a final spin (see Link).
//
// Nothing outlives the lab: Close kills the processes left in it and
// removes the interfaces; the namespaces have no name, so the kernel frees
// them, and their interfaces, with the last descriptor, also when the
// process fails, is interrupted or killed (TestTeardown checks each case).
//
// # Measured
//
// On the 2-core test machine (shared with other work), a link set to 25ms
// each way (a 50ms RTT) delivered, over 1000 round trips each:
//
//	                       median    p10      p90      max
//	ping (ICMP), IPv4      50.37ms  50.25ms  50.60ms  55.7ms
//	ping (ICMP), IPv6      50.41ms  50.26ms  50.63ms  63.1ms
//	TCP connect, IPv4      50.84ms  50.63ms  51.22ms  65.4ms
//	TCP connect, IPv6      50.94ms  50.69ms  51.42ms  58.4ms
//
// ping is answered by the server's kernel and timed by the client's, so it
// shows the link and the two network stacks: packets left the link on
// average 50-60µs after they were due (more while other work loads the
// machine; BenchmarkRTT reports it as link-late-us). TCP connect is timed in Go and adds
// the scheduling of the programs at both ends. The rare maxima are moments
// when other work held the CPUs. The link carried 42,000 to 58,000 small
// packets a second from one host to the other (with a 50ms and no RTT); a
// sender faster than that loses packets in its own TUN queue.
//
//	go test -run '^$' -bench 'RTT' -benchtime 1000x ./internal/netlab
//	go test -run '^$' -bench 'PacketRate' -benchtime 200000x ./internal/netlab
package netlab
