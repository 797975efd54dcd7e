/* Pre-shared key credentials (included by psk.go alone). */
#ifndef GO_GNUTLS_PSK_H
#define GO_GNUTLS_PSK_H

#include "go_gnutls.h"

/* The Go lookup of a server session (callbacks.go): 0 with the key
 * copied into *key (go_gnutls_datum_copy), 1 for an unknown identity, -1
 * on failure. handle is the session's hooks, its db pointer
 * (gnutls_db_set_ptr; the session pointer watches tickets). */
extern int goGnutlsPSKServerKey(void *handle, void *identity, unsigned identity_len, gnutls_datum_t *key);

/* gnutls_psk_server_credentials_function2: GnuTLS frees the key with
 * gnutls_free after zeroing it. For 1 it uses a random key, so that a
 * client cannot tell an unknown identity from a wrong key. */
static int go_gnutls_psk_server_key(gnutls_session_t s, const gnutls_datum_t *identity, gnutls_datum_t *key)
{
	void *h = gnutls_db_get_ptr(s);
	if (h == NULL)
		return -1;
	return goGnutlsPSKServerKey(h, identity->data, identity->size, key);
}

static inline int go_gnutls_psk_server_new(gnutls_psk_server_credentials_t *c)
{
	int ret = gnutls_psk_allocate_server_credentials(c);
	if (ret < 0)
		return ret;
	gnutls_psk_set_server_credentials_function2(*c, go_gnutls_psk_server_key);
	/* RFC 7919's groups for DHE-PSK under TLS 1.2 */
	ret = gnutls_psk_set_server_known_dh_params(*c, GNUTLS_SEC_PARAM_MEDIUM);
	if (ret < 0)
		gnutls_psk_free_server_credentials(*c);
	return ret;
}

/* Client credentials holding a copy of identity and key (GnuTLS copies
 * both). */
static inline int go_gnutls_psk_client_new(gnutls_psk_client_credentials_t *c,
	const void *identity, unsigned identity_len, const void *key, unsigned key_len)
{
	gnutls_datum_t id = { (unsigned char *)identity, identity_len };
	gnutls_datum_t k = { (unsigned char *)key, key_len };
	int ret = gnutls_psk_allocate_client_credentials(c);
	if (ret < 0)
		return ret;
	ret = gnutls_psk_set_client_credentials2(*c, &id, &k, GNUTLS_PSK_KEY_RAW);
	if (ret < 0)
		gnutls_psk_free_client_credentials(*c);
	return ret;
}

/* The PSK identity the session authenticated with: 1 with it, 0 when it
 * used no PSK, 2 when it did but GnuTLS kept no identity. */
static inline int go_gnutls_psk_identity(gnutls_session_t s, const unsigned char **p, unsigned *n)
{
	gnutls_datum_t d = { NULL, 0 };
	if (gnutls_auth_get_type(s) != GNUTLS_CRD_PSK)
		return 0;
	if (gnutls_psk_server_get_username2(s, &d) < 0 || d.data == NULL || d.size == 0)
		return 2;
	*p = d.data;
	*n = d.size;
	return 1;
}

/* A priority cache of the default priorities with add appended
 * (GNUTLS_PRIORITY_INIT_DEF_APPEND), so the system's configuration still
 * applies. */
static inline int go_gnutls_priority_init_append(gnutls_priority_t *p, const char *add)
{
	const char *err = NULL;
	return gnutls_priority_init2(p, add, &err, GNUTLS_PRIORITY_INIT_DEF_APPEND);
}

#endif
