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

#endif
