/* SPDX-License-Identifier: MIT */
/*
 * The CA hash of a K3s secure token ("K10<hash>::..."), computed as K3s computes it
 * (k3s-io/k3s pkg/clientaccess/token.go, hashCA), so that preflight accepts exactly the
 * tokens K3s's own agents accept:
 *  - the bundle served at /cacerts is read as PEM certificates (client-go's
 *    certutil.ParseCertsPEM); none, or one that does not parse, is an error, for which K3s
 *    matches no hash;
 *  - one certificate (K3s's self-signed cluster CA): SHA-256 of the bundle's bytes as
 *    served, whitespace included;
 *  - several (a custom CA: intermediate and root, or a cross-signed rotation): the first
 *    certificate's chain is built from the others, those without an authority key id or
 *    whose authority key id is their own subject key id being roots and the rest
 *    intermediates; when a chain verifies, SHA-256 of the DER of its last certificate (the
 *    root's fingerprint, which stays the same when the intermediate is renewed); when none
 *    does, the bytes again.
 * Go's x509 Verify takes every certificate in Roots as an anchor, self-signed or not
 * (OpenSSL: X509_V_FLAG_PARTIAL_CHAIN), checks validity dates at the current time (OpenSSL
 * does by default) and, with no KeyUsages given, server authentication (OpenSSL: the
 * SSL-server purpose, which like Go refuses a chain certificate whose extended key usage
 * leaves it out).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "basic/dl.h"
#include "basic/macro.h"
#include "join/preflight.h"

#define MAX_CERTS 64

typedef struct certs {
	X509 *v[MAX_CERTS];
	size_t n;
} certs;

static void certs_done(certs *c)
{
	for (size_t i = 0; i < c->n; i++)
		sym_X509_free(c->v[i]);
	c->n = 0;
}

static size_t count_begin_lines(const char *pem, size_t len)
{
	static const char marker[] = "-----BEGIN CERTIFICATE-----";
	size_t n = 0;

	for (const char *p = pem;
	     (p = memmem(p, len - (size_t)(p - pem), marker, sizeof(marker) - 1));
	     p += sizeof(marker) - 1)
		n++;
	return n;
}

/* Every certificate of the bundle: -EBADMSG when one does not parse or there is none. */
static int parse_certs(const char *pem, size_t len, certs *ret)
{
	size_t expected = count_begin_lines(pem, len);
	BIO *b;

	if (len > INT_MAX || expected == 0)
		return -EBADMSG;
	if (expected > MAX_CERTS)
		return -E2BIG;
	b = sym_BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return -ENOMEM;
	while (ret->n < MAX_CERTS) {
		X509 *x = sym_PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (!x)
			break;
		ret->v[ret->n++] = x;
	}
	sym_BIO_free(b);
	sym_ERR_clear_error();
	return ret->n == expected ? 0 : -EBADMSG;
}

static bool same_octets(const ASN1_OCTET_STRING *a, const ASN1_OCTET_STRING *b)
{
	int n = a ? sym_ASN1_STRING_length(a) : -1;

	return a && b && n == sym_ASN1_STRING_length(b) &&
	       !memcmp(sym_ASN1_STRING_get0_data(a), sym_ASN1_STRING_get0_data(b), (size_t)n);
}

/* The root of the first certificate's verified chain, NULL when none verifies. */
static X509 *chain_root(const certs *c, X509_STORE *roots, OPENSSL_STACK *intermediates,
			X509_STORE_CTX *ctx)
{
	OPENSSL_STACK *chain;

	for (size_t i = 1; i < c->n; i++) {
		const ASN1_OCTET_STRING *aki = sym_X509_get0_authority_key_id(c->v[i]);

		if (!aki || sym_ASN1_STRING_length(aki) == 0 ||
		    same_octets(aki, sym_X509_get0_subject_key_id(c->v[i]))) {
			if (sym_X509_STORE_add_cert(roots, c->v[i]) != 1)
				return NULL;
		} else if (sym_OPENSSL_sk_push(intermediates, c->v[i]) <= 0)
			return NULL;
	}
	sym_X509_STORE_set_flags(roots, X509_V_FLAG_PARTIAL_CHAIN);
	if (sym_X509_STORE_CTX_init(ctx, roots, c->v[0], (STACK_OF(X509) *)intermediates) != 1 ||
	    sym_X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1 ||
	    sym_X509_verify_cert(ctx) != 1)
		return NULL;
	chain = (OPENSSL_STACK *)sym_X509_STORE_CTX_get0_chain(ctx);
	return chain && sym_OPENSSL_sk_num(chain) > 0
		   ? sym_OPENSSL_sk_value(chain, sym_OPENSSL_sk_num(chain) - 1)
		   : NULL;
}

static int hash_der(X509 *x, char ret[65])
{
	int n = sym_i2d_X509(x, NULL);
	_cleanup_free_ unsigned char *der = NULL;
	unsigned char *p;

	if (n <= 0)
		return -EBADMSG;
	der = malloc((size_t)n);
	if (!der)
		return -ENOMEM;
	p = der;
	if (sym_i2d_X509(x, &p) != n)
		return -EBADMSG;
	return sha256_hex(der, (size_t)n, ret);
}

int k3s_ca_hash(const char *pem, size_t len, char ret[65], bool *ret_root)
{
	_cleanup_(certs_done) certs c = {0};
	X509_STORE *roots = NULL;
	OPENSSL_STACK *intermediates = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *root;
	int r = dl_crypto();

	if (r < 0)
		return r;
	if (ret_root)
		*ret_root = false;
	r = parse_certs(pem, len, &c);
	if (r < 0)
		return r;
	if (c.n == 1)
		return sha256_hex(pem, len, ret);
	roots = sym_X509_STORE_new();
	intermediates = sym_OPENSSL_sk_new_null();
	ctx = sym_X509_STORE_CTX_new();
	if (!roots || !intermediates || !ctx)
		r = -ENOMEM;
	else if ((root = chain_root(&c, roots, intermediates, ctx))) {
		r = hash_der(root, ret);
		if (r == 0 && ret_root)
			*ret_root = true;
	} else
		r = sha256_hex(pem, len, ret);
	sym_ERR_clear_error();
	if (ctx)
		sym_X509_STORE_CTX_free(ctx);
	if (intermediates)
		sym_OPENSSL_sk_free(intermediates);
	if (roots)
		sym_X509_STORE_free(roots);
	return r;
}
