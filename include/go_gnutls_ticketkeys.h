/* Shared session ticket keys (included by ticketkeys.go alone). */
#ifndef GO_GNUTLS_TICKETKEYS_H
#define GO_GNUTLS_TICKETKEYS_H

#include "go_gnutls.h"

/* The Go side (callbacks.go): reads the tickets a ClientHello offers and
 * gives the session the master key that issued them. handle is the
 * session's hooks, its db pointer (gnutls_db_set_ptr). */
extern void goGnutlsClientHello(void *handle, gnutls_session_t s, void *msg, unsigned msg_len);

/* GnuTLS keeps one handshake hook per session: each
 * gnutls_handshake_set_hook_function replaces the last. A server session's
 * hook is this one, called for every message, before and after; it
 * dispatches to the handlers, so that a new one is added here, not set
 * as a second hook. The ClientHello's runs before GnuTLS parses it, and so
 * before GnuTLS looks for the key of a ticket (lib/stek.c). */
static int go_gnutls_server_hook(gnutls_session_t s, unsigned htype, unsigned when,
	unsigned incoming, const gnutls_datum_t *msg)
{
	void *h = gnutls_db_get_ptr(s);
	if (h == NULL || !incoming)
		return 0;
	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_PRE && msg->size > 0)
		goGnutlsClientHello(h, s, msg->data, msg->size);
	return 0;
}

static inline void go_gnutls_set_server_hook(gnutls_session_t s)
{
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
					   go_gnutls_server_hook);
}

/* A copy of a 64-byte master key in memory GnuTLS can free
 * (go_gnutls_ticket_key_free). */
static inline int go_gnutls_ticket_key_from(const void *master, unsigned n, gnutls_datum_t **out)
{
	gnutls_datum_t *k = calloc(1, sizeof *k);
	if (k == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	if (go_gnutls_datum_copy(k, master, n) < 0) {
		free(k);
		return GNUTLS_E_MEMORY_ERROR;
	}
	*out = k;
	return 0;
}

#endif
