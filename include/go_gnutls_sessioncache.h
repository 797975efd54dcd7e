/* A server's session cache (included by sessioncache.go alone). */
#ifndef GO_GNUTLS_SESSIONCACHE_H
#define GO_GNUTLS_SESSIONCACHE_H

#include "go_gnutls.h"

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

static inline void go_gnutls_set_cache(gnutls_session_t s)
{
	gnutls_db_set_retrieve_function(s, go_gnutls_cache_retrieve);
	gnutls_db_set_store_function(s, go_gnutls_cache_store);
	gnutls_db_set_remove_function(s, go_gnutls_cache_remove);
}

#endif
