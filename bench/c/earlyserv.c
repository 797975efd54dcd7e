/* earlyserv: a TLS 1.3 server on OpenSSL that answers a request carried in
 * early data with 0.5-RTT data, before the client's Finished arrives. GnuTLS
 * 3.7.9's server cannot send before the client's Finished on a resumed
 * session; this one shows what a client gets from a server that can.
 *
 *   earlyserv CERT KEY ADDR PORT SIZE
 *
 * It listens with TCP_FASTOPEN, prints "ready", and serves one connection at
 * a time: it reads a SIZE-byte request, early data first, and when it has
 * all of it prints "request <unix ns> <bytes of it that were early data>" and
 * answers SIZE bytes ('r'... '\n'); as 0.5-RTT data when the whole request
 * came early. Then it completes the handshake (which sends the session
 * tickets), sends close_notify and reads until the client closes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static void die(const char *what)
{
	fprintf(stderr, "earlyserv: %s: %s\n", what, errno ? strerror(errno) : "");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* serve handles one connection; a failed connection is reported and left. */
static void serve(SSL_CTX *ctx, int fd, char *req, const char *resp, size_t size)
{
	char scratch[4096];
	size_t got = 0, early = 0, n;
	int one = 1, answered = 0, r;
	SSL *ssl = SSL_new(ctx);

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ssl == NULL || !SSL_set_fd(ssl, fd))
		die("SSL_new");
	do {
		n = 0;
		if (got < size)
			r = SSL_read_early_data(ssl, req + got, size - got, &n);
		else
			r = SSL_read_early_data(ssl, scratch, sizeof scratch, &n);
		if (r == SSL_READ_EARLY_DATA_ERROR)
			goto fail;
		if (got < size) {
			got += n;
			early += n;
		}
		if (got == size && !answered) {
			size_t w;
			printf("request %lld %zu\n", now_ns(), early);
			fflush(stdout);
			if (!SSL_write_early_data(ssl, resp, size, &w))
				goto fail;
			answered = 1;
		}
	} while (r != SSL_READ_EARLY_DATA_FINISH);
	if (SSL_do_handshake(ssl) != 1)
		goto fail;
	while (got < size) {
		if (!SSL_read_ex(ssl, req + got, size - got, &n))
			goto fail;
		got += n;
	}
	if (!answered) {
		printf("request %lld %zu\n", now_ns(), early);
		fflush(stdout);
		if (!SSL_write_ex(ssl, resp, size, &n))
			goto fail;
	}
	SSL_shutdown(ssl);
	while (SSL_read_ex(ssl, scratch, sizeof scratch, &n))
		;
	SSL_free(ssl);
	close(fd);
	return;
fail:
	fprintf(stderr, "earlyserv: connection failed\n");
	ERR_print_errors_fp(stderr);
	SSL_free(ssl);
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int fd, one = 1, qlen = 16;
	size_t size;
	char *req, *resp;
	SSL_CTX *ctx;

	if (argc != 6 || (size = strtoul(argv[5], NULL, 10)) == 0) {
		fprintf(stderr, "usage: earlyserv CERT KEY ADDR PORT SIZE\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1 ||
	    !SSL_CTX_set_max_early_data(ctx, 16384) || !SSL_CTX_set_recv_max_early_data(ctx, 16384))
		die("SSL_CTX");

	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[4]));
	if (inet_pton(AF_INET, argv[3], &addr.sin_addr) != 1) {
		fprintf(stderr, "earlyserv: bad address %s\n", argv[3]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0)
		die("listen");

	req = malloc(size);
	resp = malloc(size);
	memset(resp, 'r', size);
	resp[size - 1] = '\n';
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			die("accept");
		serve(ctx, c, req, resp, size);
	}
}
