/* tlsbench: the loopback benchmarks of bench/ written directly against
 * GnuTLS, as the reference for what the library itself costs. A server
 * thread and the client (main thread) talk over 127.0.0.1 with blocking
 * sockets and TCP_NODELAY, as the Go benchmarks do. The priority string is
 * parsed once (gnutls_priority_init) and shared by the sessions.
 *
 *   tlsbench bulk       CA CERT KEY PRIORITY BYTES   client sends BYTES in 16 KiB writes
 *   tlsbench handshakes CA CERT KEY PRIORITY COUNT   full handshakes, one connection each
 *   tlsbench pingpong   CA CERT KEY PRIORITY ROUNDS  64-byte request and reply
 *
 * It prints one line: "<what> <count> <seconds>".
 *
 * Two more modes make it one process of a pair, as bench/httpcpu's echo
 * and tlsclient roles, with the same commands on stdin and answers
 * ("cpu_us=C conns=N resumed=0": its own getrusage time, connections
 * accepted or dialed):
 *
 *   tlsbench echo       CA CERT KEY PRIORITY         prints "listening 127.0.0.1:PORT", then
 *                                                     answers each 64 bytes with them, one
 *                                                     connection at a time; commands: cpu
 *   tlsbench sink       CA CERT KEY PRIORITY         the same, reading a bulk transfer per
 *                                                     connection (an 8-byte length, then that
 *                                                     many bytes, in 16 KiB reads) and
 *                                                     answering it with one byte
 *   tlsbench tlsclient  CA CERT KEY PRIORITY PORT    commands: cpu, pingpong N (on one
 *                                                     connection), handshakes N, bulk N (N
 *                                                     writes of 16 KiB to a sink) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define CHUNK 16384
#define PING 64

static const char *mode;
static gnutls_priority_t priority;
static long long amount;
static gnutls_certificate_credentials_t server_cred, client_cred;
static int listen_fd;
static struct sockaddr_in addr;
static long conns; /* connections accepted or dialed, for the pair modes */

static void die(const char *what, int ret)
{
	fprintf(stderr, "tlsbench: %s: %s\n", what, ret < 0 ? gnutls_strerror(ret) : strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gnutls_session_t new_session(int fd, unsigned flags)
{
	gnutls_session_t s;
	int ret, one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if ((ret = gnutls_init(&s, flags)) < 0)
		die("gnutls_init", ret);
	if ((ret = gnutls_priority_set(s, priority)) < 0)
		die("priority", ret);
	ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, (flags & GNUTLS_SERVER) ? server_cred : client_cred);
	if (ret < 0)
		die("credentials", ret);
	if (!(flags & GNUTLS_SERVER)) {
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
		/* as the Go stacks verify: the name, and that the certificate may serve TLS servers */
		static gnutls_typed_vdata_st vdata[] = {
			{GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)"localhost", 0},
			{GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0},
		};
		gnutls_session_set_verify_cert2(s, vdata, 2, 0);
	}
	gnutls_transport_set_int(s, fd);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0)
		die("handshake", ret);
	return s;
}

/* finish closes as the Go stacks' Close does: close_notify, then the socket. */
static void finish(gnutls_session_t s, int fd)
{
	gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
}

static void recv_all(gnutls_session_t s, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = gnutls_record_recv(s, buf, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			die("recv", r == 0 ? GNUTLS_E_PREMATURE_TERMINATION : (int)r);
		buf += r;
		n -= r;
	}
}

static void send_all(gnutls_session_t s, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = gnutls_record_send(s, buf, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r < 0)
			die("send", (int)r);
		buf += r;
		n -= r;
	}
}

/* bulk_send sends total bytes from buf (CHUNK bytes) in CHUNK writes, then
 * waits for the receiver's one-byte answer. */
static void bulk_send(gnutls_session_t s, char *buf, unsigned long long total)
{
	for (unsigned long long sent = 0; sent < total; sent += CHUNK)
		send_all(s, buf, total - sent < CHUNK ? total - sent : CHUNK);
	recv_all(s, buf, 1);
}

/* bulk_recv reads left bytes in CHUNK reads into buf, then answers with
 * one byte. */
static void bulk_recv(gnutls_session_t s, char *buf, unsigned long long left)
{
	while (left > 0) {
		ssize_t r = gnutls_record_recv(s, buf, left < CHUNK ? left : CHUNK);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			die("bulk recv", r == 0 ? GNUTLS_E_PREMATURE_TERMINATION : (int)r);
		left -= r;
	}
	send_all(s, "k", 1);
}

static void *server(void *arg)
{
	static char buf[CHUNK];
	long long conns = strcmp(mode, "handshakes") == 0 ? amount : 1;
	(void)arg;
	for (long long i = 0; i < conns; i++) {
		int fd = accept(listen_fd, NULL, NULL);
		gnutls_session_t s;
		if (fd < 0)
			die("accept", 0);
		s = new_session(fd, GNUTLS_SERVER);
		if (strcmp(mode, "bulk") == 0) {
			bulk_recv(s, buf, amount);
		} else if (strcmp(mode, "pingpong") == 0) {
			for (long long j = 0; j < amount; j++) {
				recv_all(s, buf, PING);
				send_all(s, buf, PING);
			}
		}
		finish(s, fd);
	}
	return NULL;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("connect", 0);
	__atomic_add_fetch(&conns, 1, __ATOMIC_RELAXED);
	return fd;
}

/* echo_conn answers each 64 bytes of a connection with them, until the
 * client closes it. */
static void echo_conn(gnutls_session_t s)
{
	char buf[PING];
	for (;;) {
		size_t got = 0;
		while (got < PING) {
			ssize_t r = gnutls_record_recv(s, buf + got, PING - got);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				continue;
			if (r <= 0)
				return;
			got += r;
		}
		send_all(s, buf, PING);
	}
}

/* sink_conn reads a connection's bulk transfer, an 8-byte length and that
 * many bytes, answers it, and reads on until the client closes. */
static void sink_conn(gnutls_session_t s)
{
	static char buf[CHUNK];
	unsigned long long left = 0;
	recv_all(s, buf, 8);
	for (int i = 0; i < 8; i++)
		left = left << 8 | (unsigned char)buf[i];
	bulk_recv(s, buf, left);
	while (gnutls_record_recv(s, buf, sizeof buf) > 0)
		;
}

/* serve_conn is the pair server's work on each connection: echo_conn or
 * sink_conn. */
static void (*serve_conn)(gnutls_session_t);

/* pair_server serves one connection at a time until the process ends. */
static void *pair_server(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		gnutls_session_t s;
		if (fd < 0)
			die("accept", 0);
		__atomic_add_fetch(&conns, 1, __ATOMIC_RELAXED);
		s = new_session(fd, GNUTLS_SERVER);
		serve_conn(s);
		finish(s, fd);
	}
	return NULL;
}

/* commands reads the pair modes' commands on stdin and answers each. */
static void commands(int client)
{
	char line[64], cmd[16], buf[PING];
	long long n;
	while (fgets(line, sizeof line, stdin)) {
		struct rusage ru;
		int args = sscanf(line, "%15s %lld", cmd, &n);
		if (client && args == 2 && strcmp(cmd, "pingpong") == 0) {
			int fd = dial();
			gnutls_session_t s = new_session(fd, GNUTLS_CLIENT);
			memset(buf, 'x', sizeof buf);
			for (long long j = 0; j < n; j++) {
				send_all(s, buf, PING);
				recv_all(s, buf, PING);
			}
			finish(s, fd);
		} else if (client && args == 2 && strcmp(cmd, "bulk") == 0) {
			static char chunk[CHUNK];
			unsigned long long total = (unsigned long long)n * CHUNK;
			int fd = dial();
			gnutls_session_t s = new_session(fd, GNUTLS_CLIENT);
			for (int i = 0; i < 8; i++)
				chunk[i] = total >> (56 - 8 * i);
			send_all(s, chunk, 8);
			bulk_send(s, chunk, total);
			finish(s, fd);
		} else if (client && args == 2 && strcmp(cmd, "handshakes") == 0) {
			for (long long i = 0; i < n; i++) {
				int fd = dial();
				finish(new_session(fd, GNUTLS_CLIENT), fd);
			}
		} else if (args != 1 || strcmp(cmd, "cpu") != 0) {
			printf("error: command %s", line);
			exit(1);
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("cpu_us=%lld conns=%ld resumed=0\n",
		       (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec,
		       __atomic_load_n(&conns, __ATOMIC_RELAXED));
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	socklen_t len = sizeof addr;
	pthread_t th;
	double start, secs;
	int ret;

	mode = argc > 1 ? argv[1] : "";
	if (argc != 7 && !(argc == 6 && (strcmp(mode, "echo") == 0 || strcmp(mode, "sink") == 0))) {
		fprintf(stderr, "usage: tlsbench bulk|handshakes|pingpong CA CERT KEY PRIORITY N\n"
				"       tlsbench echo|sink CA CERT KEY PRIORITY\n"
				"       tlsbench tlsclient CA CERT KEY PRIORITY PORT\n");
		return 2;
	}
	amount = argc == 7 ? atoll(argv[6]) : 1;
	if (amount <= 0 || (strcmp(mode, "bulk") && strcmp(mode, "handshakes") && strcmp(mode, "pingpong") &&
			    strcmp(mode, "echo") && strcmp(mode, "sink") && strcmp(mode, "tlsclient"))) {
		fprintf(stderr, "tlsbench: bad mode %s or count %s\n", argv[1], argv[6]);
		return 2;
	}
	if ((ret = gnutls_priority_init(&priority, argv[5], NULL)) < 0)
		die("priority", ret);
	if ((ret = gnutls_certificate_allocate_credentials(&server_cred)) < 0 ||
	    (ret = gnutls_certificate_allocate_credentials(&client_cred)) < 0)
		die("credentials", ret);
	if ((ret = gnutls_certificate_set_x509_key_file(server_cred, argv[3], argv[4], GNUTLS_X509_FMT_PEM)) < 0)
		die("certificate", ret);
	if ((ret = gnutls_certificate_set_x509_trust_file(client_cred, argv[2], GNUTLS_X509_FMT_PEM)) < 0)
		die("CA", ret);

	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (strcmp(mode, "tlsclient") == 0) {
		addr.sin_port = htons(amount);
		commands(1);
		return 0;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listen_fd, 128) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&addr, &len) < 0)
		die("listen", 0);
	if (strcmp(mode, "echo") == 0 || strcmp(mode, "sink") == 0) {
		printf("listening 127.0.0.1:%d\n", ntohs(addr.sin_port));
		fflush(stdout);
		serve_conn = strcmp(mode, "echo") == 0 ? echo_conn : sink_conn;
		pthread_create(&th, NULL, pair_server, NULL);
		commands(0);
		return 0;
	}
	pthread_create(&th, NULL, server, NULL);

	if (strcmp(mode, "handshakes") == 0) {
		start = now();
		for (long long i = 0; i < amount; i++) {
			int fd = dial();
			finish(new_session(fd, GNUTLS_CLIENT), fd);
		}
	} else {
		int fd = dial();
		gnutls_session_t s = new_session(fd, GNUTLS_CLIENT);
		memset(buf, 'x', sizeof buf);
		start = now();
		if (strcmp(mode, "bulk") == 0) {
			bulk_send(s, buf, amount);
		} else {
			for (long long j = 0; j < amount; j++) {
				send_all(s, buf, PING);
				recv_all(s, buf, PING);
			}
		}
		secs = now() - start;
		pthread_join(th, NULL);
		printf("%s %lld %.6f\n", mode, amount, secs);
		return 0;
	}
	secs = now() - start;
	pthread_join(th, NULL);
	printf("%s %lld %.6f\n", mode, amount, secs);
	return 0;
}
