/* Read-ahead for a socket, included by readahead.go alone (the buffer pool
 * must exist once). GnuTLS reads a record as its 5-byte header and then its
 * body, a recv(2) each; this pull function takes what the socket holds, up
 * to GO_GNUTLS_READAHEAD bytes, and serves both from it. A session holds a
 * buffer only while received bytes wait in it: once they are all served, or
 * the socket is found empty, the buffer goes back to a small pool, so an
 * idle connection holds none. Buffers are mapped, not malloc'ed, so that
 * they leave no holes in the malloc heap. Only the reading side calls the
 * pull function. */
#ifndef GO_GNUTLS_READAHEAD_H
#define GO_GNUTLS_READAHEAD_H

#include <pthread.h>
#include <sys/mman.h>
#include "go_gnutls.h"
#include "go_gnutls_records.h"

#define GO_GNUTLS_READAHEAD 65536
#define GO_GNUTLS_READAHEAD_POOL 16

typedef struct {
	int fd;
	unsigned char *buf;
	size_t off, len;
	int again; /* a recv found the socket empty; cleared before each read (go_gnutls_conn_recv) */
	go_gnutls_records *recs; /* follows what is served, once set (records.go) */
} go_gnutls_readahead;

static pthread_mutex_t go_gnutls_readahead_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *go_gnutls_readahead_pool[GO_GNUTLS_READAHEAD_POOL];
static int go_gnutls_readahead_pooled;

static unsigned char *go_gnutls_readahead_get(void)
{
	unsigned char *b = NULL;
	pthread_mutex_lock(&go_gnutls_readahead_mu);
	if (go_gnutls_readahead_pooled > 0)
		b = go_gnutls_readahead_pool[--go_gnutls_readahead_pooled];
	pthread_mutex_unlock(&go_gnutls_readahead_mu);
	if (b == NULL) {
		void *m = mmap(NULL, GO_GNUTLS_READAHEAD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		b = m == MAP_FAILED ? NULL : m;
	}
	return b;
}

static void go_gnutls_readahead_put(unsigned char *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&go_gnutls_readahead_mu);
	if (go_gnutls_readahead_pooled < GO_GNUTLS_READAHEAD_POOL) {
		go_gnutls_readahead_pool[go_gnutls_readahead_pooled++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&go_gnutls_readahead_mu);
	if (b != NULL)
		munmap(b, GO_GNUTLS_READAHEAD);
}

static ssize_t go_gnutls_readahead_pull(gnutls_transport_ptr_t ptr, void *data, size_t n)
{
	go_gnutls_readahead *ra = ptr;
	size_t m;

	if (ra->len == 0) {
		ssize_t r;
		int e;
		if (ra->buf == NULL && (ra->buf = go_gnutls_readahead_get()) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		r = recv(ra->fd, ra->buf, GO_GNUTLS_READAHEAD, 0);
		if (r <= 0) {
			e = errno;
			if (r < 0 && (e == EAGAIN || e == EWOULDBLOCK))
				ra->again = 1;
			go_gnutls_readahead_put(ra->buf);
			ra->buf = NULL;
			errno = e;
			return r;
		}
		ra->off = 0;
		ra->len = r;
	}
	m = n < ra->len ? n : ra->len;
	memcpy(data, ra->buf + ra->off, m);
	if (ra->recs != NULL)
		go_gnutls_records_feed(ra->recs, data, m);
	ra->off += m;
	ra->len -= m;
	if (ra->len == 0) {
		go_gnutls_readahead_put(ra->buf);
		ra->buf = NULL;
	}
	return m;
}

static int go_gnutls_readahead_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	go_gnutls_readahead *ra = ptr;
	if (ra->len > 0)
		return 1;
	return gnutls_system_recv_timeout((gnutls_transport_ptr_t)(long)ra->fd, ms);
}

/* Reads go through ra; writes stay GnuTLS's own, on ra->fd. */
static inline void go_gnutls_set_readahead(gnutls_session_t s, go_gnutls_readahead *ra)
{
	gnutls_transport_set_ptr2(s, ra, (gnutls_transport_ptr_t)(long)ra->fd);
	gnutls_transport_set_pull_function(s, go_gnutls_readahead_pull);
	gnutls_transport_set_pull_timeout_function(s, go_gnutls_readahead_pull_timeout);
}

/* Reads go through ra from now on; writes keep the transport they have
 * (fast open's, whose connection is made). */
static inline void go_gnutls_set_readahead_recv(gnutls_session_t s, go_gnutls_readahead *ra)
{
	gnutls_transport_ptr_t recv_ptr, send_ptr;
	gnutls_transport_get_ptr2(s, &recv_ptr, &send_ptr);
	gnutls_transport_set_ptr2(s, ra, send_ptr);
	gnutls_transport_set_pull_function(s, go_gnutls_readahead_pull);
	gnutls_transport_set_pull_timeout_function(s, go_gnutls_readahead_pull_timeout);
}

static inline void go_gnutls_readahead_free(go_gnutls_readahead *ra)
{
	if (ra != NULL)
		go_gnutls_readahead_put(ra->buf);
	free(ra);
}

#endif
