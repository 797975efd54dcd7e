/* A server's session cache (included by sessioncache.go alone). */
#ifndef GO_GNUTLS_SESSIONCACHE_H
#define GO_GNUTLS_SESSIONCACHE_H

#include "go_gnutls.h"
#include <gnutls/crypto.h>

/* The Go cache (callbacks.go); handle is the session's db pointer
 * (gnutls_db_set_ptr). Retrieve copies the session into *data
 * (go_gnutls_datum_copy), or leaves it empty. */
extern int goGnutlsCacheStore(void *handle, void *key, unsigned key_len, void *data, unsigned data_len, long long expires);
extern void goGnutlsCacheRetrieve(void *handle, void *key, unsigned key_len, gnutls_datum_t *data);
extern int goGnutlsCacheRemove(void *handle, void *key, unsigned key_len);

static int go_gnutls_cache_store(void *h, gnutls_datum_t key, gnutls_datum_t data)
{
	return goGnutlsCacheStore(h, key.data, key.size, data.data, data.size,
		(long long)gnutls_db_check_entry_expire_time(&data));
}

/* GnuTLS frees what this returns with gnutls_free. */
static gnutls_datum_t go_gnutls_cache_retrieve(void *h, gnutls_datum_t key)
{
	gnutls_datum_t d = { NULL, 0 };
	goGnutlsCacheRetrieve(h, key.data, key.size, &d);
	return d;
}

static int go_gnutls_cache_remove(void *h, gnutls_datum_t key)
{
	return goGnutlsCacheRemove(h, key.data, key.size);
}

/* Resumption on a server (sessioncache.go): whatever brought the session
 * back (a session ID, a TLS 1.2 or 1.3 ticket), when the client's Finished
 * arrives, the Go side judges the client's certificates GnuTLS restored; a
 * negative code it returns fails the handshake. Not earlier: GnuTLS 3.7.9
 * restores them for TLS 1.3 only once early data was read (STATE109 of
 * handshake-tls13.c). handle is the session's db pointer. */
extern int goGnutlsResumeCheck(void *handle, void *certs, unsigned n);

/* Shared session ticket keys (ticketkeys.go): reads the tickets a
 * ClientHello offers and gives the session the master key that issued
 * them. */
extern void goGnutlsClientHello(void *handle, gnutls_session_t s, void *msg, unsigned msg_len);

static int go_gnutls_resume_check(gnutls_session_t s, void *h)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;
	if (!gnutls_session_is_resumed(s))
		return 0;
	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL)
		n = 0;
	return goGnutlsResumeCheck(h, (void *)certs, n);
}

/* GnuTLS keeps one handshake hook per session: each
 * gnutls_handshake_set_hook_function replaces the last. A server session's
 * hook is this one, called for every message, before and after; it
 * dispatches to the handlers, so that a new one is added here, not set as
 * a second hook. The ClientHello's runs before GnuTLS parses it, and so
 * before GnuTLS looks for the key of a ticket (lib/stek.c); the resumption
 * check after the client's Finished. */
static int go_gnutls_server_hook(gnutls_session_t s, unsigned htype, unsigned when,
	unsigned incoming, const gnutls_datum_t *msg)
{
	void *h = gnutls_db_get_ptr(s);
	if (h == NULL || !incoming)
		return 0;
	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_PRE && msg->size > 0)
		goGnutlsClientHello(h, s, msg->data, msg->size);
	else if (htype == GNUTLS_HANDSHAKE_FINISHED && when == GNUTLS_HOOK_POST)
		return go_gnutls_resume_check(s, h);
	return 0;
}

static inline void go_gnutls_set_server_hook(gnutls_session_t s)
{
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
					   go_gnutls_server_hook);
}

/* The ticket key of one client-auth policy: HMAC-SHA-512 under the
 * Config's ticket key (GnuTLS's 64-byte master key) of the policy's digest.
 * Freed with go_gnutls_ticket_key_free. */
static inline int go_gnutls_ticket_key_derive(const gnutls_datum_t *base, const void *policy, unsigned policy_len,
	gnutls_datum_t **out)
{
	gnutls_datum_t *k = calloc(1, sizeof *k);
	int ret;
	if (k == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	k->data = gnutls_malloc(64);
	if (k->data == NULL) {
		free(k);
		return GNUTLS_E_MEMORY_ERROR;
	}
	k->size = 64;
	ret = gnutls_hmac_fast(GNUTLS_MAC_SHA512, base->data, base->size, policy, policy_len, k->data);
	if (ret < 0) {
		go_gnutls_ticket_key_free(k);
		return ret;
	}
	*out = k;
	return 0;
}

static inline void go_gnutls_set_cache(gnutls_session_t s)
{
	gnutls_db_set_retrieve_function(s, go_gnutls_cache_retrieve);
	gnutls_db_set_store_function(s, go_gnutls_cache_store);
	gnutls_db_set_remove_function(s, go_gnutls_cache_remove);
}

#endif
