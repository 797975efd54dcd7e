/* C side of OCSP stapling and PKCS#11 tokens (ocsp.go, pkcs11.go). */
#ifndef GO_GNUTLS_PKI_H
#define GO_GNUTLS_PKI_H

#include "go_gnutls.h"
#include <gnutls/ocsp.h>
#include <gnutls/pkcs11.h>

/* Go callbacks (callbacks.go). goGnutlsOCSPStaple fills out with a copy
 * of the current staple (go_gnutls_datum_copy) and returns 0, or returns
 * GNUTLS_E_NO_CERTIFICATE_STATUS for none; goGnutlsPIN writes at most max
 * bytes of the PIN and returns its length, or -1 to refuse. */
extern int goGnutlsOCSPStaple(void *handle, gnutls_datum_t *out);
extern int goGnutlsPIN(void *handle, int attempt, char *token_url, char *token_label, unsigned flags, char *pin, size_t max);

/* What a server's OCSP status callback reaches: the Go stapler's handle,
 * and whether it holds a staple (set with go_gnutls_stapler_hold), so that
 * a handshake calls Go only when there may be something to staple. */
struct go_gnutls_stapler {
	void *handle;
	int holds;
};

static int go_gnutls_ocsp_staple_cb(gnutls_session_t s, void *p, gnutls_datum_t *out)
{
	struct go_gnutls_stapler *st = p;
	(void)s;
	if (!__atomic_load_n(&st->holds, __ATOMIC_ACQUIRE))
		return GNUTLS_E_NO_CERTIFICATE_STATUS;
	return goGnutlsOCSPStaple(st->handle, out);
}

/* Staples for the credentials' first certificate come from the Go side
 * through *st, allocated here and freed with free() once the credentials
 * are. */
static inline int go_gnutls_ocsp_staple_set(gnutls_certificate_credentials_t c, void *handle,
	struct go_gnutls_stapler **st)
{
	int ret;
	*st = calloc(1, sizeof **st);
	if (*st == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	(*st)->handle = handle;
	ret = gnutls_certificate_set_ocsp_status_request_function2(c, 0, go_gnutls_ocsp_staple_cb, *st);
	if (ret < 0) {
		free(*st);
		*st = NULL;
	}
	return ret;
}

static inline void go_gnutls_stapler_hold(struct go_gnutls_stapler *st, int holds)
{
	__atomic_store_n(&st->holds, holds, __ATOMIC_RELEASE);
}

/* What one OCSP response says of its first certificate. */
struct go_gnutls_ocsp_info {
	int resp_status; /* gnutls_ocsp_resp_status_t */
	unsigned cert_status; /* gnutls_ocsp_cert_status_t */
	long long this_update, next_update, revocation_time; /* -1: absent */
	unsigned revocation_reason;
};

/* name(*obj, der, n) initializes *obj and imports the DER object into
 * it; on failure *obj is freed. */
#define GO_GNUTLS_DER_IMPORTER(name, type, init, import, deinit)           \
	static inline int name(type *obj, const void *der, unsigned n)     \
	{                                                                  \
		gnutls_datum_t d = { (unsigned char *)der, n };            \
		int ret = init(obj);                                       \
		if (ret < 0)                                               \
			return ret;                                        \
		ret = import(*obj, &d);                                    \
		if (ret < 0)                                               \
			deinit(*obj);                                      \
		return ret;                                                \
	}

#define GO_GNUTLS_X509_CRT_IMPORT_DER(c, d) gnutls_x509_crt_import(c, d, GNUTLS_X509_FMT_DER)

GO_GNUTLS_DER_IMPORTER(go_gnutls_ocsp_import, gnutls_ocsp_resp_t, gnutls_ocsp_resp_init, gnutls_ocsp_resp_import,
	gnutls_ocsp_resp_deinit)
GO_GNUTLS_DER_IMPORTER(go_gnutls_crt_import_der, gnutls_x509_crt_t, gnutls_x509_crt_init,
	GO_GNUTLS_X509_CRT_IMPORT_DER, gnutls_x509_crt_deinit)

/* Parses a DER response; *text (freed with go_gnutls_free), when text is
 * not NULL, is gnutls_ocsp_resp_print's compact or full form. */
static inline int go_gnutls_ocsp_parse(const void *der, unsigned n, struct go_gnutls_ocsp_info *info, char **text, int full)
{
	gnutls_ocsp_resp_t r;
	time_t tu = -1, nu = -1, rt = -1;
	unsigned status = 0, reason = 0;
	int ret = go_gnutls_ocsp_import(&r, der, n);
	if (ret < 0)
		return ret;
	memset(info, 0, sizeof *info);
	info->this_update = info->next_update = info->revocation_time = -1;
	info->resp_status = gnutls_ocsp_resp_get_status(r);
	if (info->resp_status == GNUTLS_OCSP_RESP_SUCCESSFUL) {
		ret = gnutls_ocsp_resp_get_single(r, 0, NULL, NULL, NULL, NULL, &status, &tu, &nu, &rt, &reason);
		if (ret >= 0) {
			info->cert_status = status;
			info->this_update = tu;
			info->next_update = nu;
			info->revocation_time = rt;
			info->revocation_reason = reason;
		}
	}
	if (ret >= 0 && text != NULL) {
		gnutls_datum_t o = { NULL, 0 };
		ret = gnutls_ocsp_resp_print(r, full ? GNUTLS_OCSP_PRINT_FULL : GNUTLS_OCSP_PRINT_COMPACT, &o);
		*text = (char *)o.data;
	}
	gnutls_ocsp_resp_deinit(r);
	return ret;
}

/* Whether a response is about the credentials' first certificate:
 * GNUTLS_E_OCSP_MISMATCH_WITH_CERTS if not. */
static inline int go_gnutls_ocsp_check_cred(gnutls_certificate_credentials_t c, const void *der, unsigned n)
{
	gnutls_ocsp_resp_t r;
	gnutls_x509_crt_t crt;
	gnutls_datum_t leaf = { NULL, 0 };
	int ret = gnutls_certificate_get_crt_raw(c, 0, 0, &leaf);
	if (ret < 0)
		return ret;
	ret = go_gnutls_ocsp_import(&r, der, n);
	if (ret < 0)
		return ret;
	ret = go_gnutls_crt_import_der(&crt, leaf.data, leaf.size);
	if (ret >= 0) {
		ret = gnutls_ocsp_resp_check_crt(r, 0, crt);
		if (ret == GNUTLS_E_OCSP_RESPONSE_ERROR) /* another serial or issuer */
			ret = GNUTLS_E_OCSP_MISMATCH_WITH_CERTS;
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_ocsp_resp_deinit(r);
	return ret;
}

/* The response the server stapled for its first certificate, and whether
 * verification found it valid (gnutls_ocsp_status_request_is_checked). */
static inline int go_gnutls_ocsp_received(gnutls_session_t s, const unsigned char **p, unsigned *n, int *checked)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret = gnutls_ocsp_status_request_get(s, &d);
	*p = d.data;
	*n = d.size;
	*checked = gnutls_ocsp_status_request_is_checked(s, 0) != 0;
	return ret;
}

/* Imports a certificate and its issuer, both DER: both or neither. */
static inline int go_gnutls_crt_pair_import(gnutls_x509_crt_t *c, const void *cert, unsigned cn, gnutls_x509_crt_t *i,
	const void *issuer, unsigned in)
{
	int ret = go_gnutls_crt_import_der(c, cert, cn);
	if (ret < 0)
		return ret;
	ret = go_gnutls_crt_import_der(i, issuer, in);
	if (ret < 0)
		gnutls_x509_crt_deinit(*c);
	return ret;
}

/* A DER OCSP request about cert, issued by issuer, with a nonce when nn > 0
 * (SHA-1 certificate IDs, which every responder takes); *out is freed with
 * go_gnutls_free. */
static inline int go_gnutls_ocsp_request(const void *cert, unsigned cn, const void *issuer, unsigned in,
	const void *nonce, unsigned nn, unsigned char **out, unsigned *outn)
{
	gnutls_x509_crt_t c, i;
	gnutls_ocsp_req_t req;
	gnutls_datum_t nd = { (unsigned char *)nonce, nn }, o = { NULL, 0 };
	int ret = go_gnutls_crt_pair_import(&c, cert, cn, &i, issuer, in);
	if (ret < 0)
		return ret;
	ret = gnutls_ocsp_req_init(&req);
	if (ret >= 0) {
		ret = gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, i, c);
		if (ret >= 0 && nn > 0)
			ret = gnutls_ocsp_req_set_nonce(req, 0, &nd);
		if (ret >= 0)
			ret = gnutls_ocsp_req_export(req, &o);
		gnutls_ocsp_req_deinit(req);
	}
	gnutls_x509_crt_deinit(i);
	gnutls_x509_crt_deinit(c);
	*out = o.data;
	*outn = o.size;
	return ret;
}

/* Checks a responder's answer about cert against issuer:
 * GNUTLS_E_OCSP_MISMATCH_WITH_CERTS when it is about another certificate,
 * *vstatus the gnutls_ocsp_verify_reason_t bits of
 * gnutls_ocsp_resp_verify_direct, *nonce_state 1 when the response carries
 * the nonce (nn > 0), 0 when another, -1 when none. */
static inline int go_gnutls_ocsp_verify(const void *der, unsigned n, const void *cert, unsigned cn,
	const void *issuer, unsigned in, const void *nonce, unsigned nn, unsigned *vstatus, int *nonce_state)
{
	gnutls_ocsp_resp_t r;
	gnutls_x509_crt_t c, i;
	gnutls_datum_t rn = { NULL, 0 };
	int ret = go_gnutls_ocsp_import(&r, der, n);
	*vstatus = 0;
	*nonce_state = -1;
	if (ret < 0)
		return ret;
	ret = go_gnutls_crt_pair_import(&c, cert, cn, &i, issuer, in);
	if (ret < 0)
		goto out;
	ret = gnutls_ocsp_resp_check_crt(r, 0, c);
	if (ret < 0)
		ret = GNUTLS_E_OCSP_MISMATCH_WITH_CERTS;
	if (ret >= 0)
		ret = gnutls_ocsp_resp_verify_direct(r, i, vstatus, 0);
	if (ret >= 0 && nn > 0 && gnutls_ocsp_resp_get_nonce(r, NULL, &rn) >= 0) {
		*nonce_state = rn.size == nn && memcmp(rn.data, nonce, nn) == 0;
		gnutls_free(rn.data);
	}
	gnutls_x509_crt_deinit(i);
	gnutls_x509_crt_deinit(c);
out:
	gnutls_ocsp_resp_deinit(r);
	return ret;
}

/* The issuer of a DER certificate among the credentials' trusted CAs, in
 * DER; *out is freed with go_gnutls_free. The issuer is copied out, which
 * a PKCS#11 trust store requires (GNUTLS_TL_GET_COPY). */
static inline int go_gnutls_find_issuer(gnutls_certificate_credentials_t cred, const void *der, unsigned n,
	unsigned char **out, unsigned *outn)
{
	gnutls_x509_crt_t c, issuer;
	gnutls_datum_t o = { NULL, 0 };
	int ret = go_gnutls_crt_import_der(&c, der, n);
	if (ret < 0)
		return ret;
	ret = gnutls_certificate_get_issuer(cred, c, &issuer, GNUTLS_TL_GET_COPY);
	if (ret >= 0) {
		ret = gnutls_x509_crt_export2(issuer, GNUTLS_X509_FMT_DER, &o);
		gnutls_x509_crt_deinit(issuer);
	}
	gnutls_x509_crt_deinit(c);
	*out = o.data;
	*outn = o.size;
	return ret;
}

/* gnutls_pin_callback_t over goGnutlsPIN. */
static int go_gnutls_pin_cb(void *handle, int attempt, const char *token_url, const char *token_label,
	unsigned flags, char *pin, size_t pin_max)
{
	int n;
	if (pin_max == 0)
		return GNUTLS_E_SHORT_MEMORY_BUFFER;
	n = goGnutlsPIN(handle, attempt, (char *)token_url, (char *)token_label, flags, pin, pin_max - 1);
	if (n < 0)
		return GNUTLS_E_PKCS11_PIN_ERROR;
	pin[n] = 0;
	return 0;
}

static inline void go_gnutls_set_pin(gnutls_certificate_credentials_t c, void *handle)
{
	gnutls_certificate_set_pin_function(c, go_gnutls_pin_cb, handle);
}

#endif
