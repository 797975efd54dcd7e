/* Shared session ticket keys (included by ticketkeys.go alone). */
#ifndef GO_GNUTLS_TICKETKEYS_H
#define GO_GNUTLS_TICKETKEYS_H

#include "go_gnutls.h"

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
