/* SPDX-License-Identifier: MIT */
/*
 * serve's key and certificate for its HTTPS side. Without https.cert/key in serve.yaml,
 * serve makes its own at first start: an ECDSA P-256 key and a self-signed certificate for
 * the advertised address, kept in state_dir and reused, so the certificate every node
 * config carries (report.ca_pem) stays the same across restarts. A node trusts it because
 * the boot chain handed it over: the same chain that tells it where to report at all.
 *
 * libcrypto is dlopen'd (basic/dl.h); its errors stay in its queue, cleared here.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <unistd.h>

#include "basic/dl.h"
#include "basic/fileio.h"
#include "serve/serve.h"

#define TLS_PEM_MAX  (256u * 1024)
#define TLS_DAYS     3650 /* ten years: nothing renews it, and nodes pin it through configs */
#define SERIAL_BYTES 16

static void x509_freep(X509 **x)
{
	if (*x)
		sym_X509_free(*x);
}

static void pkey_freep(EVP_PKEY **k)
{
	if (*k)
		sym_EVP_PKEY_free(*k);
}

static void bio_freep(BIO **b)
{
	if (*b)
		sym_BIO_free(*b);
}

static void ext_freep(X509_EXTENSION **e)
{
	if (*e)
		sym_X509_EXTENSION_free(*e);
}

static void bn_freep(BIGNUM **b)
{
	if (*b)
		sym_BN_free(*b);
}

void serve_tls_done(serve_tls *t)
{
	free(t->cert_pem);
	erase_and_free(t->key_pem);
	*t = (serve_tls){0};
}

static int pem_to_x509(const char *pem, X509 **ret)
{
	_cleanup_(bio_freep) BIO *b = sym_BIO_new_mem_buf(pem, -1);

	if (!b)
		return -ENOMEM;
	*ret = sym_PEM_read_bio_X509(b, NULL, NULL, NULL);
	return *ret ? 0 : -EBADMSG;
}

static int pem_to_key(const char *pem, EVP_PKEY **ret)
{
	_cleanup_(bio_freep) BIO *b = sym_BIO_new_mem_buf(pem, -1);

	if (!b)
		return -ENOMEM;
	*ret = sym_PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	return *ret ? 0 : -EBADMSG;
}

/* What was written to the memory BIO B, as a string. */
static int bio_text(BIO *b, char **ret)
{
	char *data = NULL;
	long n = sym_BIO_ctrl(b, BIO_CTRL_INFO, 0, (char *)&data); /* BIO_get_mem_data() */

	if (n <= 0 || !data)
		return -ENOMEM;
	*ret = strndup(data, (size_t)n);
	return *ret ? 0 : -ENOMEM;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	_cleanup_(ext_freep) X509_EXTENSION *e = NULL;

	sym_X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = sym_X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	return e && sym_X509_add_ext(x, e, -1) ? 0 : -EINVAL;
}

static int random_serial(X509 *x)
{
	unsigned char bytes[SERIAL_BYTES];
	_cleanup_(bn_freep) BIGNUM *bn = NULL;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return -EIO;
	bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40); /* positive, 16 bytes long */
	bn = sym_BN_bin2bn(bytes, sizeof(bytes), NULL);
	return bn && sym_BN_to_ASN1_INTEGER(bn, sym_X509_get_serialNumber(x)) ? 0 : -ENOMEM;
}

static int make_cert(EVP_PKEY *key, const char *address, const char *hostname, int days, X509 **ret)
{
	_cleanup_(x509_freep) X509 *x = sym_X509_new();
	_cleanup_free_ char *san = NULL;
	X509_NAME *name;

	if (!x)
		return -ENOMEM;
	/* 127.0.0.1 too: `node-agent machines` on this machine (its default server) */
	if (asprintf(&san, "IP:%s%s%s%s", address,
		     strcmp(address, "127.0.0.1") ? ",IP:127.0.0.1" : "", hostname ? ",DNS:" : "",
		     hostname ? hostname : "") < 0) {
		san = NULL;
		return -ENOMEM;
	}
	name = sym_X509_get_subject_name(x);
	if (!sym_X509_set_version(x, 2) || random_serial(x) < 0 ||
	    !sym_X509_gmtime_adj(sym_X509_getm_notBefore(x), -60 * 60) ||
	    !sym_X509_time_adj_ex(sym_X509_getm_notAfter(x), days, 0, NULL) ||
	    !sym_X509_set_pubkey(x, key) ||
	    !sym_X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					    (const unsigned char *)address, -1, -1, 0) ||
	    !sym_X509_set_issuer_name(x, name))
		return -ENOMEM;
	/* a self-signed end entity: no CA, the key signs for this server only */
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, NID_subject_alt_name, san) < 0)
		return -EINVAL;
	if (sym_X509_sign(x, key, sym_EVP_sha256()) <= 0)
		return -EINVAL;
	*ret = TAKE_PTR(x);
	return 0;
}

int serve_tls_generate(const char *address, const char *hostname, int days, char **ret_cert_pem,
		       char **ret_key_pem)
{
	_cleanup_(pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_(x509_freep) X509 *x = NULL;
	_cleanup_(bio_freep) BIO *kb = NULL, *cb = NULL;
	_cleanup_free_ char *cert = NULL;
	_cleanup_(erase_and_freep) char *key_pem = NULL;
	struct in_addr a;
	int r = dl_crypto();

	if (r < 0)
		return r;
	if (inet_pton(AF_INET, address, &a) != 1)
		return -EINVAL;
	key = sym_EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!key) {
		sym_ERR_clear_error();
		return -ENOMEM;
	}
	r = make_cert(key, address, hostname, days, &x);
	kb = sym_BIO_new(sym_BIO_s_mem());
	cb = sym_BIO_new(sym_BIO_s_mem());
	if (r >= 0 &&
	    (!kb || !cb || !sym_PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	     !sym_PEM_write_bio_X509(cb, x)))
		r = -ENOMEM;
	if (r >= 0 && (r = bio_text(kb, &key_pem)) >= 0)
		r = bio_text(cb, &cert);
	sym_ERR_clear_error();
	if (r < 0)
		return r;
	*ret_cert_pem = TAKE_PTR(cert);
	*ret_key_pem = TAKE_PTR(key_pem);
	return 0;
}

int serve_tls_check(const char *cert_pem, const char *key_pem, char ret_sha256[static 96])
{
	_cleanup_(x509_freep) X509 *x = NULL;
	_cleanup_(pkey_freep) EVP_PKEY *key = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int r = dl_crypto();

	if (r < 0)
		return r;
	r = pem_to_x509(cert_pem, &x);
	if (r >= 0 && (r = pem_to_key(key_pem, &key)) == -EBADMSG)
		r = -ENOKEY;
	if (r >= 0 && sym_X509_check_private_key(x, key) != 1)
		r = -EKEYREJECTED;
	if (r >= 0 && (!sym_X509_digest(x, sym_EVP_sha256(), md, &n) || n != 32))
		r = -ENOMEM;
	sym_ERR_clear_error();
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++)
		snprintf(ret_sha256 + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

int serve_tls_covers(const char *cert_pem, const char *address)
{
	_cleanup_(x509_freep) X509 *x = NULL;
	int r = dl_crypto();

	if (r < 0)
		return r;
	r = pem_to_x509(cert_pem, &x);
	if (r >= 0)
		r = sym_X509_check_ip_asc(x, address, 0) == 1;
	sym_ERR_clear_error();
	return r;
}

/* The host name, when it can stand in a DNS subjectAltName. */
static char *dns_hostname(void)
{
	char h[256] = "";

	if (gethostname(h, sizeof(h) - 1) < 0 || !*h || !strcmp(h, "localhost") ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
		strlen(h) ||
	    h[0] == '-' || h[0] == '.')
		return NULL;
	return strdup(h);
}

/* The operator's files: each problem at the FILE:LINE:COLUMN of its key in serve.yaml. */
static int load_operators(const serve_config *c, const char *address, const na_log *log,
			  serve_tls *t)
{
	size_t len;
	int r = read_full_file(c->https_cert, TLS_PEM_MAX, &t->cert_pem, &len);

	if (r < 0) {
		na_logf(log, LOG_ERR, "%s: https.cert: %s: %s", c->https_cert_at, c->https_cert,
			strerror(-r));
		return -EINVAL;
	}
	r = read_full_file(c->https_key, TLS_PEM_MAX, &t->key_pem, &len);
	if (r < 0) {
		na_logf(log, LOG_ERR, "%s: https.key: %s: %s", c->https_key_at, c->https_key,
			strerror(-r));
		return -EINVAL;
	}
	r = serve_tls_check(t->cert_pem, t->key_pem, t->sha256);
	if (r == -EKEYREJECTED)
		na_logf(log, LOG_ERR, "%s: https.key: %s is not the key of the certificate %s",
			c->https_key_at, c->https_key, c->https_cert);
	else if (r == -ENOKEY)
		na_logf(log, LOG_ERR, "%s: https.key: %s: not a PEM private key", c->https_key_at,
			c->https_key);
	else if (r == -EBADMSG)
		na_logf(log, LOG_ERR, "%s: https.cert: %s: not a PEM certificate", c->https_cert_at,
			c->https_cert);
	if (r == -EKEYREJECTED || r == -ENOKEY || r == -EBADMSG)
		return -EINVAL;
	if (r < 0)
		return r;
	if (serve_tls_covers(t->cert_pem, address) == 0)
		na_logf(log, LOG_WARNING,
			"%s: https.cert: %s does not name %s: nodes that report to "
			"https://%s/ will refuse it",
			c->https_cert_at, c->https_cert, address, address);
	return 0;
}

/* serve's own pair in state_dir, reused when it is usable and names ADDRESS */
static int load_own(const serve_config *c, const char *address, const na_log *log, serve_tls *t)
{
	_cleanup_free_ char *cert_path = NULL, *key_path = NULL, *hostname = NULL;
	const char *why = NULL;
	size_t len;
	int r;

	if (asprintf(&cert_path, "%s/" SERVE_TLS_CERT_FILE, c->state_dir) < 0 ||
	    asprintf(&key_path, "%s/" SERVE_TLS_KEY_FILE, c->state_dir) < 0)
		return -ENOMEM;
	r = read_full_file(cert_path, TLS_PEM_MAX, &t->cert_pem, &len);
	if (r >= 0)
		r = read_full_file(key_path, TLS_PEM_MAX, &t->key_pem, &len);
	if (r >= 0)
		r = serve_tls_check(t->cert_pem, t->key_pem, t->sha256);
	if (r >= 0 && serve_tls_covers(t->cert_pem, address) != 1)
		why = "it does not name the advertised address";
	else if (r >= 0)
		return 0;
	else if (r != -ENOENT)
		why = strerror(-r);
	if (why)
		na_logf(log, LOG_WARNING, "%s: %s, making a new key and certificate", cert_path,
			why);
	serve_tls_done(t);
	hostname = dns_hostname();
	r = serve_tls_generate(address, hostname, TLS_DAYS, &t->cert_pem, &t->key_pem);
	if (r < 0)
		return r;
	/* the key first: a certificate on disk always has its key */
	r = write_atomic(key_path, t->key_pem, 0600);
	if (r < 0) {
		na_logf(log, LOG_ERR, "%s: %s", key_path, strerror(-r));
		return r;
	}
	r = write_atomic(cert_path, t->cert_pem, 0644);
	if (r < 0) {
		na_logf(log, LOG_ERR, "%s: %s", cert_path, strerror(-r));
		return r;
	}
	na_logf(log, LOG_INFO, "made a new key %s and certificate %s", key_path, cert_path);
	t->generated = true;
	return serve_tls_check(t->cert_pem, t->key_pem, t->sha256);
}

int serve_tls_load(const serve_config *c, const char *address, const na_log *log, serve_tls *ret)
{
	serve_tls t = {0};
	int r;

	r = c->https_cert ? load_operators(c, address, log, &t) : load_own(c, address, log, &t);
	if (r < 0) {
		serve_tls_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}
