/* The records GnuTLS reads, seen from outside as the pull function hands
 * them over. After a TLS 1.3 handshake gnutls_record_recv returns
 * GNUTLS_E_AGAIN alike for an empty application data record and for a
 * record that carries part of a post-handshake message; only the record's
 * length tells them apart: one no longer than the inner content type and
 * the tag carries nothing. Conn counts both kinds (alerts.go). */
#ifndef GO_GNUTLS_RECORDS_H
#define GO_GNUTLS_RECORDS_H

#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include "go_gnutls.h"

#define GO_GNUTLS_RECORD_HEADER 5

typedef struct {
	unsigned char hdr[GO_GNUTLS_RECORD_HEADER];
	unsigned hdr_got;
	size_t body_left;
	size_t least;   /* a record whose body is this long or shorter carries nothing */
	uint64_t empty; /* records that carry nothing */
	uint64_t bytes; /* header and body bytes of the other records */
} go_gnutls_records;

/* A TLS 1.3 record that carries nothing holds the inner content type and
 * the tag of the session's cipher. */
static inline void go_gnutls_records_start(go_gnutls_records *r, gnutls_session_t s)
{
	r->least = 1 + gnutls_cipher_get_tag_size(gnutls_cipher_get(s));
}

/* go_gnutls_records_feed follows the record stream through n more bytes
 * handed to GnuTLS; it starts at a record's beginning. */
static inline void go_gnutls_records_feed(go_gnutls_records *r, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (r->body_left > 0) {
			size_t m = n < r->body_left ? n : r->body_left;
			r->body_left -= m;
			p += m;
			n -= m;
			continue;
		}
		r->hdr[r->hdr_got++] = *p++;
		n--;
		if (r->hdr_got == GO_GNUTLS_RECORD_HEADER) {
			size_t len = (size_t)r->hdr[3] << 8 | r->hdr[4];
			r->hdr_got = 0;
			r->body_left = len;
			if (len <= r->least)
				r->empty++;
			else
				r->bytes += GO_GNUTLS_RECORD_HEADER + len;
		}
	}
}

/* What one record read of a Conn returns (go_gnutls_conn_recv), by value:
 * a Go pointer passed to C would cost an allocation per read. */
typedef struct {
	ssize_t r;        /* gnutls_record_recv's return */
	int err;          /* errno after it */
	int recv_blocked; /* the read-ahead's recv found the socket empty */
	uint64_t seq;     /* the read sequence number after it (go_gnutls_read_seq) */
	uint64_t empty;   /* recs's counts after it, when recs is set */
	uint64_t bytes;
} go_gnutls_conn_read;

/* go_gnutls_conn_recv is gnutls_record_recv with all that Conn looks at
 * after it, in one call: again is the read-ahead's flag that its recv
 * found the socket empty (cleared first, so it tells about this read), or
 * NULL; recs follows the records pulled, or is NULL. */
static inline go_gnutls_conn_read go_gnutls_conn_recv(gnutls_session_t s, int *again, const go_gnutls_records *recs, void *p, size_t n)
{
	go_gnutls_conn_read res = {0};
	if (again != NULL)
		*again = 0;
	errno = 0;
	res.r = gnutls_record_recv(s, p, n);
	res.err = errno;
	res.seq = go_gnutls_read_seq(s);
	if (again != NULL)
		res.recv_blocked = *again;
	if (recs != NULL) {
		res.empty = recs->empty;
		res.bytes = recs->bytes;
	}
	return res;
}

/* What go_gnutls_conn_send returns, by value. */
typedef struct {
	ssize_t r;   /* the last gnutls_record_send's return */
	size_t sent; /* bytes of p sent in whole records */
	int err;     /* errno after a failed send */
} go_gnutls_conn_write;

/* go_gnutls_conn_send sends all of p, record after record, and stops at
 * the first error, GNUTLS_E_AGAIN included. GnuTLS then holds the record
 * it was sending: the caller must offer p + sent again. errno is cleared
 * before each send, as go_gnutls_send does. */
static inline go_gnutls_conn_write go_gnutls_conn_send(gnutls_session_t s, const void *p, size_t n)
{
	go_gnutls_conn_write res = {0};
	while (res.sent < n) {
		errno = 0;
		res.r = gnutls_record_send(s, (const unsigned char *)p + res.sent, n - res.sent);
		if (res.r <= 0) {
			res.err = errno;
			break;
		}
		res.sent += res.r;
	}
	return res;
}

#endif
