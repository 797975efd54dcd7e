/* C side of go-gnutls: small static inline shims over GnuTLS, one prefix
 * (go_gnutls_). Go files include this header and nothing else of GnuTLS,
 * except callbacks.go, whose preamble may only declare. */
#ifndef GO_GNUTLS_H
#define GO_GNUTLS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/socket.h>

/* The oldest GnuTLS supported, at build time (here) and at run time
 * (gnutls/library.go): gnutls_transport_is_ktls_enabled and
 * gnutls_ciphersuite_get arrived in 3.7.3. */
#define GO_GNUTLS_MIN_VERSION "3.7.3"
#define GO_GNUTLS_MIN_VERSION_NUMBER 0x030703
#if GNUTLS_VERSION_NUMBER < GO_GNUTLS_MIN_VERSION_NUMBER
#error "go-gnutls needs GnuTLS 3.7.3 or newer (Debian 12: libgnutls28-dev 3.7.9)"
#endif

/* Go callbacks (callbacks.go). They return -1 with the errno for GnuTLS in
 * *err. The C wrappers below set errno, which is per thread, rather than
 * gnutls_transport_set_errno, which is per session: one goroutine may read
 * while another writes. */
extern ssize_t goGnutlsPull(gnutls_transport_ptr_t ptr, void *data, size_t n, int *err);
extern ssize_t goGnutlsVecPush(gnutls_transport_ptr_t ptr, void *iov, int iovcnt, int *err);
extern int goGnutlsPullTimeout(gnutls_transport_ptr_t ptr, unsigned int ms, int *err);
extern int goGnutlsAntiReplayAdd(void *ptr, time_t exp, gnutls_datum_t *key, gnutls_datum_t *data);

static ssize_t go_gnutls_pull(gnutls_transport_ptr_t ptr, void *data, size_t n)
{
	int err = 0;
	ssize_t r = goGnutlsPull(ptr, data, n, &err);
	if (r < 0)
		errno = err;
	return r;
}

static ssize_t go_gnutls_vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	int err = 0;
	ssize_t r = goGnutlsVecPush(ptr, (void *)iov, iovcnt, &err);
	if (r < 0)
		errno = err;
	return r;
}

static int go_gnutls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	int err = 0;
	int r = goGnutlsPullTimeout(ptr, ms, &err);
	if (r < 0)
		errno = err;
	return r;
}

static inline void go_gnutls_set_callbacks(gnutls_session_t s, void *handle)
{
	gnutls_transport_set_ptr(s, handle);
	gnutls_transport_set_pull_function(s, go_gnutls_pull);
	gnutls_transport_set_vec_push_function(s, go_gnutls_vec_push);
	gnutls_transport_set_pull_timeout_function(s, go_gnutls_pull_timeout);
}

static inline void go_gnutls_free(void *p) { gnutls_free(p); }

/* Copies n bytes into out, in memory GnuTLS frees: what a callback hands
 * GnuTLS (a PSK, a cached session, an OCSP staple). */
static inline int go_gnutls_datum_copy(gnutls_datum_t *out, const void *p, unsigned n)
{
	out->data = gnutls_malloc(n);
	if (out->data == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	memcpy(out->data, p, n);
	out->size = n;
	return 0;
}

/* The record and handshake calls clear errno first, so that after a
 * GNUTLS_E_PUSH_ERROR or GNUTLS_E_PULL_ERROR the errno the caller reads is the
 * one the failed system call set. This also guards GnuTLS before 3.8.11
 * (fixed by its commit 50dfc981e), whose fast-open push tests errno after a
 * successful sendmsg(MSG_FASTOPEN): a stale EAGAIN left by an earlier call
 * on the thread would keep it connecting, and its next write would fail
 * with EALREADY (TestSetFastOpenStaleErrno). */
static inline int go_gnutls_handshake(gnutls_session_t s)
{
	errno = 0;
	return gnutls_handshake(s);
}

/* The read sequence number: how many records of the current epoch GnuTLS
 * has taken in, including those that gave the caller nothing (empty
 * records, warning alerts, post-handshake messages); 0 if unknown. */
static inline uint64_t go_gnutls_read_seq(gnutls_session_t s)
{
	unsigned char b[8];
	uint64_t seq = 0;
	int i;
	if (gnutls_record_get_state(s, 1, NULL, NULL, NULL, b) == 0)
		for (i = 0; i < 8; i++)
			seq = seq << 8 | b[i];
	return seq;
}

static inline ssize_t go_gnutls_send(gnutls_session_t s, const void *p, size_t n)
{
	errno = 0;
	return gnutls_record_send(s, p, n);
}

static inline int go_gnutls_bye(gnutls_session_t s, int how)
{
	errno = 0;
	return gnutls_bye(s, (gnutls_close_request_t)how);
}

static inline int go_gnutls_alert_send_appropriate(gnutls_session_t s, int err)
{
	errno = 0;
	return gnutls_alert_send_appropriate(s, err);
}

/* Refuses a TLS 1.2 renegotiation request with a warning alert. */
static inline int go_gnutls_refuse_renegotiation(gnutls_session_t s)
{
	errno = 0;
	return gnutls_alert_send(s, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
}

static inline ssize_t go_gnutls_send_early(gnutls_session_t s, const void *p, size_t n)
{
	errno = 0;
	return gnutls_record_send_early_data(s, p, n);
}

static inline ssize_t go_gnutls_recv_early(gnutls_session_t s, void *p, size_t n)
{
	return gnutls_record_recv_early_data(s, p, n);
}

/* What a client learnt from the last TLS 1.3 NewSessionTicket (RFC 8446
 * section 4.6.1): whether its early_data extension allowed early data and
 * how much, and the ticket's lifetime. GnuTLS keeps max_early_data_size in
 * the session and leaves it as it was when a ticket has no early_data
 * extension (UINT32_MAX before 3.8.9, or the limit of the ticket the
 * session resumed), so the message itself is read here, in a hook run
 * before GnuTLS parses it. A message that does not parse as a TLS 1.3
 * ticket (a TLS 1.2 one) allows no early data. */
struct go_gnutls_ticket {
	uint32_t max_early;  /* 0: no early data */
	uint32_t lifetime;   /* seconds */
	int seen;            /* tickets parsed */
};

/* Parses a NewSessionTicket body into *t; a message that does not parse
 * leaves max_early and lifetime 0. */
static inline void go_gnutls_parse_ticket(const unsigned char *p, size_t size, struct go_gnutls_ticket *t)
{
	const unsigned char *end = p + size;
	uint32_t lifetime, max_early = 0;
	size_t n;
	t->seen++;
	t->max_early = 0;
	t->lifetime = 0;
	/* ticket_lifetime, ticket_age_add, ticket_nonce<0..255>, ticket<1..2^16-1> */
	if (end - p < 9)
		return;
	lifetime = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	p += 8;
	n = *p++;
	if ((size_t)(end - p) < n + 2)
		return;
	p += n;
	n = (size_t)p[0] << 8 | p[1];
	p += 2;
	if ((size_t)(end - p) < n + 2)
		return;
	p += n;
	/* extensions<0..2^16-2> */
	n = (size_t)p[0] << 8 | p[1];
	p += 2;
	if ((size_t)(end - p) != n)
		return;
	while (p < end) {
		unsigned type;
		size_t len;
		if (end - p < 4)
			return;
		type = (unsigned)p[0] << 8 | p[1];
		len = (size_t)p[2] << 8 | p[3];
		p += 4;
		if ((size_t)(end - p) < len)
			return;
		if (type == 42) { /* early_data */
			if (len != 4)
				return;
			max_early = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		}
		p += len;
	}
	t->lifetime = lifetime;
	t->max_early = max_early;
}

static int go_gnutls_ticket_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
				 const gnutls_datum_t *msg)
{
	struct go_gnutls_ticket *t = gnutls_session_get_ptr(s);
	(void)htype, (void)when;
	if (t != NULL && incoming)
		go_gnutls_parse_ticket(msg->data, msg->size, t);
	return 0;
}

/* Watches the tickets a client session receives; the result lives until
 * freed with free(3), after gnutls_deinit. It is the session's pointer
 * (gnutls_session_set_ptr), which on a server session is the handle of
 * its PSK and cache callbacks (gnutls/hooks.go): a session has one or the
 * other, never both. */
static inline struct go_gnutls_ticket *go_gnutls_watch_tickets(gnutls_session_t s)
{
	struct go_gnutls_ticket *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	gnutls_session_set_ptr(s, t);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET, GNUTLS_HOOK_PRE,
					   go_gnutls_ticket_hook);
	return t;
}

/* A server's anti-replay state: GnuTLS's window check plus a Go store of
 * the ClientHellos seen in the window (goGnutlsAntiReplayAdd). */
static inline int go_gnutls_anti_replay_new(gnutls_anti_replay_t *ar, unsigned window_ms, void *handle)
{
	int ret = gnutls_anti_replay_init(ar);
	if (ret < 0)
		return ret;
	gnutls_anti_replay_set_window(*ar, window_ms);
	gnutls_anti_replay_set_ptr(*ar, handle);
	gnutls_anti_replay_set_add_function(*ar, (gnutls_db_add_func)goGnutlsAntiReplayAdd);
	return 0;
}

static inline int go_gnutls_priority_set(gnutls_session_t s, const char *prio, int *errpos)
{
	const char *err = NULL;
	int ret = gnutls_priority_set_direct(s, prio, &err);
	*errpos = (ret < 0 && err != NULL) ? (int)(err - prio) : -1;
	return ret;
}

/* GnuTLS's debug messages go to stderr, prefixed with their level as
 * gnutls-cli prints them. */
static inline void go_gnutls_log_stderr(int level, const char *msg)
{
	fprintf(stderr, "|<%d>| %s", level, msg);
}

static inline void go_gnutls_set_log_level(int level)
{
	gnutls_global_set_log_function(go_gnutls_log_stderr);
	gnutls_global_set_log_level(level);
}

/* A priority cache for the string (NULL: the default priorities); errpos
 * as in go_gnutls_priority_set. */
static inline int go_gnutls_priority_init(gnutls_priority_t *p, const char *prio, int *errpos)
{
	const char *err = NULL;
	int ret = gnutls_priority_init(p, prio, &err);
	*errpos = (ret < 0 && err != NULL && prio != NULL) ? (int)(err - prio) : -1;
	return ret;
}

/* One cipher suite a priority cache enables: its index-th, in preference
 * order. Returns GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE past the end and
 * GNUTLS_E_UNKNOWN_CIPHER_SUITE for an index that names no suite. */
static inline const char *go_gnutls_priority_suite(gnutls_priority_t p, unsigned index, int *ret,
	unsigned char id[2], const char **kx, const char **cipher, const char **mac, const char **version)
{
	unsigned sidx;
	gnutls_kx_algorithm_t k;
	gnutls_cipher_algorithm_t c;
	gnutls_mac_algorithm_t m;
	gnutls_protocol_t v;
	const char *name;
	*ret = gnutls_priority_get_cipher_suite_index(p, index, &sidx);
	if (*ret < 0)
		return NULL;
	name = gnutls_cipher_suite_info(sidx, id, &k, &c, &m, &v);
	*kx = gnutls_kx_get_name(k);
	*cipher = gnutls_cipher_get_name(c);
	*mac = gnutls_mac_get_name(m);
	*version = gnutls_protocol_get_name(v);
	return name;
}

/* The index-th cipher suite GnuTLS implements, NULL past the last. */
static inline const char *go_gnutls_suite(size_t index, unsigned char id[2], const char **kx,
	const char **cipher, const char **mac, const char **version)
{
	gnutls_kx_algorithm_t k;
	gnutls_cipher_algorithm_t c;
	gnutls_mac_algorithm_t m;
	gnutls_protocol_t v;
	const char *name = gnutls_cipher_suite_info(index, id, &k, &c, &m, &v);
	if (name == NULL)
		return NULL;
	*kx = gnutls_kx_get_name(k);
	*cipher = gnutls_cipher_get_name(c);
	*mac = gnutls_mac_get_name(m);
	*version = gnutls_protocol_get_name(v);
	return name;
}

/* The zero-terminated list of what GnuTLS implements of a kind, numbered
 * as in go_gnutls_algorithm_name (the enums are all int-sized). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline const int *go_gnutls_supported(int kind)
{
	switch (kind) {
	case 0: return (const int *)gnutls_protocol_list();
	case 1: return (const int *)gnutls_cipher_list();
	case 2: return (const int *)gnutls_mac_list();
	case 3: return (const int *)gnutls_kx_list();
	case 4: return (const int *)gnutls_group_list();
	case 5: return (const int *)gnutls_sign_list();
	case 6: return (const int *)gnutls_certificate_type_list();
	case 7: return (const int *)gnutls_digest_list();
	case 8: return (const int *)gnutls_pk_list();
	case 9: return (const int *)gnutls_compression_list();
	}
	return NULL;
}
#pragma GCC diagnostic pop

/* Verifies a chain of n DER certificates, packed one after the other with
 * their lengths in lens, against the credentials' trust list (CAs and
 * CRLs) for a TLS server named hostname (NULL: any name), or with
 * client_purpose for a TLS client. */
static inline int go_gnutls_verify_chain(gnutls_certificate_credentials_t cred, const unsigned char *packed,
	const unsigned *lens, unsigned n, const char *hostname, int client_purpose, unsigned *status)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t crts[16];
	gnutls_typed_vdata_st vd[2];
	unsigned i, made = 0, nv = 0, off = 0;
	int ret = 0;
	if (n == 0 || n > 16)
		return GNUTLS_E_INVALID_REQUEST;
	gnutls_certificate_get_trust_list(cred, &tl);
	for (i = 0; i < n && ret >= 0; i++) {
		gnutls_datum_t d = { (unsigned char *)packed + off, lens[i] };
		off += lens[i];
		ret = gnutls_x509_crt_init(&crts[i]);
		if (ret < 0)
			break;
		made++;
		ret = gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER);
	}
	if (ret >= 0) {
		memset(vd, 0, sizeof vd);
		vd[nv].type = GNUTLS_DT_KEY_PURPOSE_OID;
		vd[nv++].data = (unsigned char *)(client_purpose ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER);
		if (hostname != NULL) {
			vd[nv].type = GNUTLS_DT_DNS_HOSTNAME;
			vd[nv++].data = (unsigned char *)hostname;
		}
		ret = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vd, nv, 0, status, NULL);
	}
	for (i = 0; i < made; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return ret;
}

/* The algorithms of one kind a priority cache enables, and their names.
 * Kinds, in the order of the Priorities fields: protocols, ciphers, MACs,
 * key exchanges, groups, signatures, certificate types. */
static inline int go_gnutls_priority_list(gnutls_priority_t p, int kind, const unsigned **list)
{
	switch (kind) {
	case 0: return gnutls_priority_protocol_list(p, list);
	case 1: return gnutls_priority_cipher_list(p, list);
	case 2: return gnutls_priority_mac_list(p, list);
	case 3: return gnutls_priority_kx_list(p, list);
	case 4: return gnutls_priority_group_list(p, list);
	case 5: return gnutls_priority_sign_list(p, list);
	case 6: return gnutls_priority_certificate_type_list2(p, list, GNUTLS_CTYPE_SERVER);
	}
	return GNUTLS_E_INVALID_REQUEST;
}

/* Compression (kind 9) is deprecated in GnuTLS; it lists only NULL. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline const char *go_gnutls_algorithm_name(int kind, unsigned v)
{
	switch (kind) {
	case 0: return gnutls_protocol_get_name((gnutls_protocol_t)v);
	case 1: return gnutls_cipher_get_name((gnutls_cipher_algorithm_t)v);
	case 2: return gnutls_mac_get_name((gnutls_mac_algorithm_t)v);
	case 3: return gnutls_kx_get_name((gnutls_kx_algorithm_t)v);
	case 4: return gnutls_group_get_name((gnutls_group_t)v);
	case 5: return gnutls_sign_get_name((gnutls_sign_algorithm_t)v);
	case 6: return gnutls_certificate_type_get_name((gnutls_certificate_type_t)v);
	case 7: return gnutls_digest_get_name((gnutls_digest_algorithm_t)v);
	case 8: return gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)v);
	case 9: return gnutls_compression_get_name((gnutls_compression_method_t)v);
	}
	return NULL;
}
#pragma GCC diagnostic pop

/* gnutls_x509_crt_print of one DER certificate; *out is freed with go_gnutls_free. */
static inline int go_gnutls_crt_print(const void *der, unsigned n, int full, char **out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)der, n }, o = { NULL, 0 };
	int ret = gnutls_x509_crt_init(&crt);
	*out = NULL;
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (ret >= 0)
		ret = gnutls_x509_crt_print(crt, full ? GNUTLS_CRT_PRINT_FULL : GNUTLS_CRT_PRINT_ONELINE, &o);
	gnutls_x509_crt_deinit(crt);
	*out = (char *)o.data;
	return ret;
}

/* gnutls_transport_set_fastopen with the address built here; the Go side
 * has checked the rules of the man page before calling. */
static inline void go_gnutls_set_fastopen4(gnutls_session_t s, int fd, const unsigned char ip[4], int port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	memcpy(&sa.sin_addr, ip, 4);
	gnutls_transport_set_fastopen(s, fd, (struct sockaddr *)&sa, sizeof sa, 0);
}

static inline void go_gnutls_set_fastopen6(gnutls_session_t s, int fd, const unsigned char ip[16], int port, unsigned int scope)
{
	struct sockaddr_in6 sa;
	memset(&sa, 0, sizeof sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)port);
	sa.sin6_scope_id = scope;
	memcpy(&sa.sin6_addr, ip, 16);
	gnutls_transport_set_fastopen(s, fd, (struct sockaddr *)&sa, sizeof sa, 0);
}

/* TCP_INFO fields the Go side needs; tcpi_fastopen_client_fail is a bit-field. */
static inline int go_gnutls_tcp_info(int fd, unsigned *state, unsigned *options, unsigned *tfo_fail)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	*state = ti.tcpi_state;
	*options = ti.tcpi_options;
	*tfo_fail = ti.tcpi_fastopen_client_fail;
	return 0;
}

static inline int go_gnutls_alpn_set(gnutls_session_t s, const char *packed, const int *lens, int n)
{
	gnutls_datum_t d[16];
	int i, off = 0;
	if (n > 16)
		return GNUTLS_E_INVALID_REQUEST;
	for (i = 0; i < n; i++) {
		d[i].data = (unsigned char *)packed + off;
		d[i].size = (unsigned)lens[i];
		off += lens[i];
	}
	return gnutls_alpn_set_protocols(s, d, (unsigned)n, 0);
}

static inline int go_gnutls_alpn_get(gnutls_session_t s, const char **p, unsigned *n)
{
	gnutls_datum_t d;
	int ret = gnutls_alpn_get_selected_protocol(s, &d);
	if (ret < 0)
		return ret;
	*p = (const char *)d.data;
	*n = d.size;
	return 0;
}

static inline const gnutls_datum_t *go_gnutls_peers(gnutls_session_t s, unsigned *n)
{
	return gnutls_certificate_get_peers(s, n);
}

static inline int go_gnutls_get_data(gnutls_session_t s, unsigned char **p, unsigned *n)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret = gnutls_session_get_data2(s, &d);
	*p = d.data;
	*n = d.size;
	return ret;
}

static inline int go_gnutls_status_print(unsigned status, char **out)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret = gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &d, 0);
	*out = (char *)d.data;
	return ret;
}

/* The IANA id of the negotiated suite, found in GnuTLS's own table. */
static inline int go_gnutls_suite_id(gnutls_session_t s, unsigned char id[2])
{
	gnutls_kx_algorithm_t kx = gnutls_kx_get(s), skx;
	gnutls_cipher_algorithm_t c = gnutls_cipher_get(s), sc;
	gnutls_mac_algorithm_t m = gnutls_mac_get(s), sm;
	gnutls_protocol_t v = gnutls_protocol_get_version(s), sv;
	size_t i;
	const char *name;
	for (i = 0; (name = gnutls_cipher_suite_info(i, id, &skx, &sc, &sm, &sv)) != NULL; i++) {
		if (sc != c || sm != m)
			continue;
		if (v == GNUTLS_TLS1_3 ? skx == GNUTLS_KX_UNKNOWN : skx == kx)
			return 0;
	}
	return -1;
}

static inline int go_gnutls_ticket_key(gnutls_datum_t **out)
{
	gnutls_datum_t *k = calloc(1, sizeof *k);
	int ret;
	if (k == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	ret = gnutls_session_ticket_key_generate(k);
	if (ret < 0) {
		free(k);
		return ret;
	}
	*out = k;
	return 0;
}

static inline void go_gnutls_ticket_key_free(gnutls_datum_t *k)
{
	gnutls_memset(k->data, 0, k->size);
	gnutls_free(k->data);
	free(k);
}

static inline int go_gnutls_key_pair_mem(gnutls_certificate_credentials_t c,
	const void *cert, unsigned cert_len, const void *key, unsigned key_len)
{
	gnutls_datum_t cd = { (unsigned char *)cert, cert_len };
	gnutls_datum_t kd = { (unsigned char *)key, key_len };
	return gnutls_certificate_set_x509_key_mem2(c, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
}

static inline int go_gnutls_trust_mem(gnutls_certificate_credentials_t c, const void *p, unsigned n)
{
	gnutls_datum_t d = { (unsigned char *)p, n };
	return gnutls_certificate_set_x509_trust_mem(c, &d, GNUTLS_X509_FMT_PEM);
}

static inline int go_gnutls_crl_mem(gnutls_certificate_credentials_t c, const void *p, unsigned n)
{
	gnutls_datum_t d = { (unsigned char *)p, n };
	return gnutls_certificate_set_x509_crl_mem(c, &d, GNUTLS_X509_FMT_PEM);
}

/* Verification data must outlive the session (gnutls_session_set_verify_cert2):
 * one allocation holds the typed data and copies of the strings. */
struct go_gnutls_verify {
	gnutls_typed_vdata_st data[2];
	char strings[];
};

static inline struct go_gnutls_verify *go_gnutls_set_verify(gnutls_session_t s, const char *hostname, int client_purpose)
{
	const char *purpose = client_purpose ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER;
	size_t hl = hostname ? strlen(hostname) + 1 : 0, pl = strlen(purpose) + 1;
	struct go_gnutls_verify *v = calloc(1, sizeof *v + hl + pl);
	unsigned n = 0;
	if (v == NULL)
		return NULL;
	memcpy(v->strings, purpose, pl);
	v->data[n].type = GNUTLS_DT_KEY_PURPOSE_OID;
	v->data[n++].data = (unsigned char *)v->strings;
	if (hostname) {
		memcpy(v->strings + pl, hostname, hl);
		v->data[n].type = GNUTLS_DT_DNS_HOSTNAME;
		v->data[n++].data = (unsigned char *)v->strings + pl;
	}
	gnutls_session_set_verify_cert2(s, v->data, n, 0);
	return v;
}

/* A server's verification of a client certificate only when one is given
 * (VerifyClientCertIfGiven): gnutls_session_set_verify_cert2's callback
 * fails a client that sent none (gnutls_certificate_verify_peers returns
 * GNUTLS_E_NO_CERTIFICATE_FOUND), so this one lets such a client pass and
 * verifies a given chain as that callback does, for a TLS client. */
static gnutls_typed_vdata_st go_gnutls_client_purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
	(unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };

static int go_gnutls_verify_if_given_cb(gnutls_session_t s)
{
	unsigned n = 0, status = 0;
	if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers(s, &go_gnutls_client_purpose, 1, &status) < 0)
		return GNUTLS_E_CERTIFICATE_ERROR;
	return status != 0 ? GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR : 0;
}

static inline void go_gnutls_set_verify_if_given(gnutls_session_t s)
{
	gnutls_session_set_verify_function(s, go_gnutls_verify_if_given_cb);
}

/* The status that failed the handshake with
 * GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR. GnuTLS records it only from its
 * own callback; after go_gnutls_verify_if_given_cb (the status left unset,
 * all bits) the verification is made again to learn it. */
static inline unsigned go_gnutls_verify_failure_status(gnutls_session_t s)
{
	unsigned status = gnutls_session_get_verify_cert_status(s), n = 0;
	if (status != (unsigned)-1)
		return status;
	if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0 ||
	    gnutls_certificate_verify_peers(s, &go_gnutls_client_purpose, 1, &status) < 0)
		return (unsigned)-1;
	return status;
}

static inline int go_gnutls_set_data(gnutls_session_t s, const void *p, size_t n)
{
	return gnutls_session_set_data(s, p, n);
}

static inline int go_gnutls_server_name(gnutls_session_t s, char *buf, size_t *n)
{
	unsigned type;
	return gnutls_server_name_get(s, buf, n, &type, 0);
}

#endif
