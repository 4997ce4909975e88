/* SPDX-License-Identifier: MIT */
/* The machine's TPM 2.0 identity by raw TPM2 commands; see tpm2.h. Command and structure
 * layouts: TPM 2.0 Library specification, Part 2 (structures) and Part 3 (commands). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "basic/dl.h"
#include "basic/parse-util.h"
#include "tpm/tpm2.h"

/* Part 2: the constants this file sends or expects */
#define TPM_ST_NO_SESSIONS   0x8001
#define TPM_ST_SESSIONS	     0x8002
#define TPM_ST_HASHCHECK     0x8024
#define TPM_CC_CREATEPRIMARY 0x00000131
#define TPM_CC_SIGN	     0x0000015D
#define TPM_CC_FLUSHCONTEXT  0x00000165
#define TPM_RH_OWNER	     0x40000001
#define TPM_RH_NULL	     0x40000007
#define TPM_RS_PW	     0x40000009
#define TPM_HT_TRANSIENT     0x80
#define TPM_ALG_SHA256	     0x000B
#define TPM_ALG_NULL	     0x0010
#define TPM_ALG_ECDSA	     0x0018
#define TPM_ALG_ECC	     0x0023
#define TPM_ECC_NIST_P256    0x0003
/* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign: not restricted, so it
 * signs any digest, and never leaves this TPM */
#define MACHINE_KEY_ATTRIBUTES ((1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 18))

/* TPM_PT_MAX_COMMAND_SIZE / TPM_PT_MAX_RESPONSE_SIZE of the TPMs there are: 4096 */
#define TPM2_MAX_RESPONSE 4096
#define TPM2_HEADER	  10
/* swtpm over TCP: a command that has not been answered in this time will not be */
#define TPM2_TCP_TIMEOUT_S 30
/* TPM_RC_YIELDED, TPM_RC_TESTING, TPM_RC_RETRY: the TPM asks to send the command again */
#define TPM2_RETRIES	   50
#define TPM2_RETRY_WAIT_MS 100

struct tpm2 {
	int fd;
	bool stream; /* a socket: a response may come in pieces */
	char *where; /* "/dev/tpmrm0", "swtpm at 127.0.0.1:2321": for messages */
};

_printf_(3, 4) static int fail(char **ret_err, int r, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!ret_err)
		return r;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(*ret_err);
	*ret_err = msg;
	return r;
}

/* --- marshalling (big-endian, bounded) --- */

typedef struct cmd_buf {
	uint8_t b[256]; /* our commands are below 128 bytes */
	size_t n;
	bool overflow;
} cmd_buf;

static void put_bytes(cmd_buf *m, const void *p, size_t k)
{
	if (m->overflow || k > sizeof(m->b) - m->n) {
		m->overflow = true;
		return;
	}
	memcpy(m->b + m->n, p, k);
	m->n += k;
}

static void put8(cmd_buf *m, uint8_t v)
{
	put_bytes(m, &v, 1);
}

static void put16(cmd_buf *m, uint16_t v)
{
	uint8_t b[2] = {v >> 8, v};

	put_bytes(m, b, sizeof(b));
}

static void put32(cmd_buf *m, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};

	put_bytes(m, b, sizeof(b));
}

static void cmd_begin(cmd_buf *m, uint16_t tag, uint32_t code)
{
	*m = (cmd_buf){.n = 0};
	put16(m, tag);
	put32(m, 0); /* commandSize, set by cmd_end() */
	put32(m, code);
}

/* The authorization area of one password session with the empty password (TPM_RS_PW) */
static void put_empty_password_auth(cmd_buf *m)
{
	put32(m, 4 + 2 + 1 + 2); /* authorizationSize */
	put32(m, TPM_RS_PW);
	put16(m, 0); /* nonceCaller */
	put8(m, 0);  /* sessionAttributes */
	put16(m, 0); /* hmac: the (empty) password */
}

static void cmd_end(cmd_buf *m)
{
	if (m->overflow)
		return;
	m->b[2] = m->n >> 24;
	m->b[3] = m->n >> 16;
	m->b[4] = m->n >> 8;
	m->b[5] = m->n;
}

typedef struct rsp_reader {
	const uint8_t *p;
	size_t n, off;
	bool bad; /* read past the end: every later read gives 0 */
} rsp_reader;

static const uint8_t *get_bytes(rsp_reader *r, size_t k)
{
	const uint8_t *p;

	if (r->bad || k > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += k;
	return p;
}

static uint16_t get16(rsp_reader *r)
{
	const uint8_t *p = get_bytes(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t get32(rsp_reader *r)
{
	const uint8_t *p = get_bytes(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

/* A TPM2B of 1..32 bytes (an ECC P-256 coordinate or signature half), left-padded into OUT */
static void get_ecc_parameter(rsp_reader *r, uint8_t out[32])
{
	uint16_t k = get16(r);
	const uint8_t *p;

	if (k == 0 || k > 32) {
		r->bad = true;
		return;
	}
	p = get_bytes(r, k);
	if (!p)
		return;
	memset(out, 0, 32 - k);
	memcpy(out + 32 - k, p, k);
}

/* A sub-reader over the next K bytes of R (a sized structure) */
static rsp_reader get_sub(rsp_reader *r, size_t k)
{
	const uint8_t *p = get_bytes(r, k);

	return p ? (rsp_reader){.p = p, .n = k} : (rsp_reader){.bad = true};
}

/* A successful response to a command with one password session: tag, responseSize == LEN,
 * rc 0, N_HANDLES handles, parameterSize, the parameters, the session's answer and nothing
 * more; returns a reader over the parameters (bad when anything is not so). */
static rsp_reader response_parameters(const uint8_t *rsp, size_t len, size_t n_handles,
				      uint32_t *ret_handle)
{
	rsp_reader r = {.p = rsp, .n = len}, params;
	uint32_t handle = 0, size;

	if (get16(&r) != TPM_ST_SESSIONS || get32(&r) != len || get32(&r) != 0)
		r.bad = true;
	if (n_handles)
		handle = get32(&r);
	size = get32(&r);
	params = get_sub(&r, size);
	/* the password session's answer: nonceTPM, sessionAttributes, hmac; then the end */
	get_bytes(&r, get16(&r));
	get_bytes(&r, 1);
	get_bytes(&r, get16(&r));
	if (r.bad || r.off != r.n)
		params.bad = true;
	if (ret_handle)
		*ret_handle = handle;
	return params;
}

static bool all_zero(const uint8_t *p, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (p[i])
			return false;
	return true;
}

int tpm2_parse_create_primary(const uint8_t *rsp, size_t len, uint32_t *ret_handle,
			      uint8_t ret_point[64])
{
	uint32_t handle;
	rsp_reader params = response_parameters(rsp, len, 1, &handle), pub;
	uint8_t point[64];

	pub = get_sub(&params, get16(&params)); /* outPublic: TPM2B_PUBLIC */
	if (get16(&pub) != TPM_ALG_ECC || get16(&pub) != TPM_ALG_SHA256 ||
	    get32(&pub) != MACHINE_KEY_ATTRIBUTES)
		return -EPROTO;
	get_sub(&pub, get16(&pub)); /* authPolicy */
	/* TPMS_ECC_PARMS: symmetric NULL, ECDSA with SHA-256, P-256, kdf NULL */
	if (get16(&pub) != TPM_ALG_NULL || get16(&pub) != TPM_ALG_ECDSA ||
	    get16(&pub) != TPM_ALG_SHA256 || get16(&pub) != TPM_ECC_NIST_P256 ||
	    get16(&pub) != TPM_ALG_NULL)
		return -EPROTO;
	get_ecc_parameter(&pub, point);
	get_ecc_parameter(&pub, point + 32);
	if (params.bad || pub.bad || pub.off != pub.n || handle >> 24 != TPM_HT_TRANSIENT)
		return -EPROTO;
	*ret_handle = handle;
	memcpy(ret_point, point, sizeof(point));
	return 0;
}

int tpm2_parse_sign(const uint8_t *rsp, size_t len, uint8_t ret_r[32], uint8_t ret_s[32])
{
	rsp_reader params = response_parameters(rsp, len, 0, NULL);
	uint8_t r[32], s[32];

	if (get16(&params) != TPM_ALG_ECDSA || get16(&params) != TPM_ALG_SHA256)
		return -EPROTO;
	get_ecc_parameter(&params, r);
	get_ecc_parameter(&params, s);
	if (params.bad || params.off != params.n || all_zero(r, 32) || all_zero(s, 32))
		return -EPROTO;
	memcpy(ret_r, r, 32);
	memcpy(ret_s, s, 32);
	return 0;
}

/* --- DER and PEM --- */

/* A minimal DER INTEGER of the unsigned big-endian V into OUT (35 bytes at most) */
static size_t der_unsigned_integer(unsigned char *out, const uint8_t v[32])
{
	size_t i = 0, k;
	bool pad;

	while (i < 31 && !v[i])
		i++;
	pad = v[i] & 0x80; /* else it would read as negative */
	k = 32 - i;
	out[0] = 0x02;
	out[1] = k + pad;
	out[2] = 0;
	memcpy(out + 2 + pad, v + i, k);
	return 2 + pad + k;
}

int tpm2_ecdsa_der(const uint8_t r[32], const uint8_t s[32], unsigned char **ret, size_t *ret_len)
{
	unsigned char *d = malloc(2 + 2 * 35); /* both INTEGERs below 128 bytes: short lengths */
	size_t n;

	if (!d)
		return -ENOMEM;
	n = 2 + der_unsigned_integer(d + 2, r);
	n += der_unsigned_integer(d + n, s);
	d[0] = 0x30;
	d[1] = n - 2;
	*ret = d;
	*ret_len = n;
	return 0;
}

/* base64 without line breaks (libcrypto's EVP_EncodeBlock), NUL-terminated */
static char *base64_encode(const unsigned char *d, size_t n)
{
	char *b;

	if (n > 1u << 20 || dl_crypto() < 0)
		return NULL;
	b = malloc((n + 2) / 3 * 4 + 1);
	if (b)
		sym_EVP_EncodeBlock((unsigned char *)b, d, (int)n);
	return b;
}

int tpm2_spki_pem(const uint8_t point[64], char **ret)
{
	/* SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING 04||X||Y } */
	static const unsigned char prefix[] = {
	    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
	    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
	unsigned char der[sizeof(prefix) + 64];
	_cleanup_free_ char *b64 = NULL;
	char *pem;
	size_t k;

	memcpy(der, prefix, sizeof(prefix));
	memcpy(der + sizeof(prefix), point, 64);
	b64 = base64_encode(der, sizeof(der));
	if (!b64)
		return -ENOMEM;
	k = strlen(b64); /* 124: two lines of PEM's 64 columns */
	if (asprintf(&pem, "-----BEGIN PUBLIC KEY-----\n%.64s\n%s\n-----END PUBLIC KEY-----\n", b64,
		     b64 + (k > 64 ? 64 : k)) < 0)
		return -ENOMEM;
	*ret = pem;
	return 0;
}

/* --- response codes (Part 2, 6.6) --- */

typedef struct rc_name {
	uint16_t rc;
	const char *name;
} rc_name;

static const rc_name rc_names[] = {
    {0x081, "TPM_RC_ASYMMETRIC"},
    {0x082, "TPM_RC_ATTRIBUTES"},
    {0x083, "TPM_RC_HASH"},
    {0x084, "TPM_RC_VALUE"},
    {0x085, "TPM_RC_HIERARCHY"},
    {0x087, "TPM_RC_KEY_SIZE"},
    {0x088, "TPM_RC_MGF"},
    {0x089, "TPM_RC_MODE"},
    {0x08a, "TPM_RC_TYPE"},
    {0x08b, "TPM_RC_HANDLE"},
    {0x08c, "TPM_RC_KDF"},
    {0x08d, "TPM_RC_RANGE"},
    {0x08e, "TPM_RC_AUTH_FAIL"},
    {0x08f, "TPM_RC_NONCE"},
    {0x092, "TPM_RC_SCHEME"},
    {0x095, "TPM_RC_SIZE"},
    {0x096, "TPM_RC_SYMMETRIC"},
    {0x097, "TPM_RC_TAG"},
    {0x098, "TPM_RC_SELECTOR"},
    {0x09a, "TPM_RC_INSUFFICIENT"},
    {0x09b, "TPM_RC_SIGNATURE"},
    {0x09c, "TPM_RC_KEY"},
    {0x09d, "TPM_RC_POLICY_FAIL"},
    {0x09f, "TPM_RC_INTEGRITY"},
    {0x0a0, "TPM_RC_TICKET"},
    {0x0a1, "TPM_RC_RESERVED_BITS"},
    {0x0a2, "TPM_RC_BAD_AUTH"},
    {0x0a6, "TPM_RC_CURVE"},
    {0x0a7, "TPM_RC_ECC_POINT"},
    {0x100, "TPM_RC_INITIALIZE (no TPM2_Startup yet)"},
    {0x101, "TPM_RC_FAILURE (the TPM is in failure mode)"},
    {0x120, "TPM_RC_DISABLED (the hierarchy is disabled)"},
    {0x124, "TPM_RC_AUTH_TYPE"},
    {0x125, "TPM_RC_AUTH_MISSING"},
    {0x12e, "TPM_RC_TOO_MANY_CONTEXTS"},
    {0x142, "TPM_RC_COMMAND_SIZE"},
    {0x143, "TPM_RC_COMMAND_CODE"},
    {0x144, "TPM_RC_AUTHSIZE"},
    {0x145, "TPM_RC_AUTH_CONTEXT"},
    {0x153, "TPM_RC_NEEDS_TEST"},
    {0x902, "TPM_RC_OBJECT_MEMORY"},
    {0x903, "TPM_RC_SESSION_MEMORY"},
    {0x904, "TPM_RC_MEMORY"},
    {0x908, "TPM_RC_YIELDED"},
    {0x909, "TPM_RC_CANCELED"},
    {0x90a, "TPM_RC_TESTING"},
    {0x920, "TPM_RC_NV_RATE"},
    {0x921, "TPM_RC_LOCKOUT (dictionary-attack lockout)"},
    {0x922, "TPM_RC_RETRY"},
    {0x923, "TPM_RC_NV_UNAVAILABLE"},
};

void tpm2_rc_describe(uint32_t rc, char *buf, size_t size)
{
	uint32_t base = rc, n = 0;
	const char *what = "";

	if (rc >> 16) {
		/* a software layer's code (a resource manager, a TSS), not the TPM's */
		snprintf(buf, size, "response code 0x%x (layer %u)", rc, rc >> 16);
		return;
	}
	if (rc & 0x080) { /* format one: the error names a parameter, handle or session */
		base = 0x080 | (rc & 0x3f);
		if (rc & 0x040) {
			what = "parameter";
			n = rc >> 8 & 0xf;
		} else {
			what = rc & 0x800 ? "session" : "handle";
			n = rc >> 8 & 0x7;
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(rc_names); i++)
		if (rc_names[i].rc == base) {
			if (n)
				snprintf(buf, size, "%s of %s %u (0x%x)", rc_names[i].name, what, n,
					 rc);
			else
				snprintf(buf, size, "%s (0x%x)", rc_names[i].name, rc);
			return;
		}
	snprintf(buf, size, "response code 0x%x", rc);
}

/* --- the TPM --- */

static int tpm2_open_tcp(const char *spec, tpm2 *t, char **ret_err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = TPM2_TCP_TIMEOUT_S};
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(spec, ':');
	uint64_t port;

	if (!colon || parse_uint64(colon + 1, 1, 65535, &port) < 0)
		return fail(ret_err, -EINVAL, "%s=%s: expected IPV4:PORT", TPM2_TCP_ENV, spec);
	host = strndup(spec, colon - spec);
	if (!host)
		return -ENOMEM;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return fail(ret_err, -EINVAL, "%s=%s: expected IPV4:PORT", TPM2_TCP_ENV, spec);
	sa.sin_port = htons(port);
	if (asprintf(&t->where, "the TPM at %s (%s)", spec, TPM2_TCP_ENV) < 0) {
		t->where = NULL;
		return -ENOMEM;
	}
	t->stream = true;
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return fail(ret_err, -errno, "socket: %m");
	/* SO_SNDTIMEO bounds connect() too */
	if (setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return fail(ret_err, -errno, "setsockopt: %m");
	if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(ret_err, -errno, "cannot connect to %s: %m", t->where);
	return 0;
}

int tpm2_open(const char *device, tpm2 **ret, char **ret_err)
{
	_cleanup_(tpm2_closep) tpm2 *t = calloc(1, sizeof(*t));
	const char *tcp = device ? NULL : getenv(TPM2_TCP_ENV);
	int r;

	if (!t)
		return -ENOMEM;
	t->fd = -1;
	if (tcp && *tcp) {
		r = tpm2_open_tcp(tcp, t, ret_err);
		if (r < 0)
			return r;
		*ret = TAKE_PTR(t);
		return 0;
	}
	if (!device)
		device = TPM2_DEVICE;
	t->where = strdup(device);
	if (!t->where)
		return -ENOMEM;
	t->fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (t->fd < 0 && errno == ENOENT)
		return fail(ret_err, -ENOENT, "no TPM 2.0: %s does not exist", device);
	if (t->fd < 0)
		return fail(ret_err, -errno, "cannot open the TPM %s: %m", device);
	*ret = TAKE_PTR(t);
	return 0;
}

tpm2 *tpm2_close(tpm2 *t)
{
	if (!t)
		return NULL;
	if (t->fd >= 0)
		close(t->fd);
	free(t->where);
	free(t);
	return NULL;
}

static int write_all(tpm2 *t, const uint8_t *p, size_t n, char **ret_err)
{
	while (n > 0) {
		ssize_t k = write(t->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(ret_err, errno == EAGAIN ? -ETIMEDOUT : -errno,
				    "cannot send a command to %s: %s", t->where,
				    strerror(errno == EAGAIN ? ETIMEDOUT : errno));
		if (!t->stream && (size_t)k != n)
			return fail(ret_err, -EIO, "%s took a partial command", t->where);
		p += k;
		n -= k;
	}
	return 0;
}

/* One response into BUF: the device gives it in one read(), a socket maybe in pieces */
static int read_response(tpm2 *t, uint8_t buf[TPM2_MAX_RESPONSE], size_t *ret_len, char **ret_err)
{
	size_t have = 0, want = t->stream ? TPM2_HEADER : TPM2_MAX_RESPONSE;

	while (have < want) {
		ssize_t k = read(t->fd, buf + have, want - have);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(ret_err, errno == EAGAIN ? -ETIMEDOUT : -errno,
				    "no answer from %s: %s", t->where,
				    strerror(errno == EAGAIN ? ETIMEDOUT : errno));
		if (k == 0)
			return fail(ret_err, -ECONNRESET, "%s closed the connection", t->where);
		have += k;
		if (!t->stream)
			break;
		if (want == TPM2_HEADER && have == TPM2_HEADER) {
			want = (uint32_t)buf[2] << 24 | (uint32_t)buf[3] << 16 |
			       (uint32_t)buf[4] << 8 | buf[5];
			if (want < TPM2_HEADER || want > TPM2_MAX_RESPONSE)
				return fail(ret_err, -EPROTO, "%s answered a size of %zu bytes",
					    t->where, want);
		}
	}
	*ret_len = have;
	return 0;
}

/* Send M, and read the answer into RSP: 0 with a response code 0, -errno and a sentence
 * naming WHAT otherwise. The TPM's "try again" warnings are tried again, a bounded number
 * of times. */
static int transact(tpm2 *t, const cmd_buf *m, const char *what, uint8_t rsp[TPM2_MAX_RESPONSE],
		    size_t *ret_len, char **ret_err)
{
	char desc[128];
	uint32_t rc = 0;
	size_t n = 0;
	int r;

	if (m->overflow)
		return fail(ret_err, -ENOBUFS, "%s: the command does not fit", what);
	for (unsigned attempt = 0; attempt < TPM2_RETRIES; attempt++) {
		r = write_all(t, m->b, m->n, ret_err);
		if (r >= 0)
			r = read_response(t, rsp, &n, ret_err);
		if (r < 0)
			return r;
		if (n < TPM2_HEADER || ((uint32_t)rsp[2] << 24 | (uint32_t)rsp[3] << 16 |
					(uint32_t)rsp[4] << 8 | rsp[5]) != n)
			return fail(ret_err, -EPROTO,
				    "%s: %s sent a malformed response (%zu bytes)", what, t->where,
				    n);
		rc = (uint32_t)rsp[6] << 24 | (uint32_t)rsp[7] << 16 | (uint32_t)rsp[8] << 8 |
		     rsp[9];
		if (rc != 0x908 && rc != 0x90a && rc != 0x922)
			break;
		nanosleep(&(struct timespec){.tv_nsec = TPM2_RETRY_WAIT_MS * 1000000L}, NULL);
	}
	if (rc) {
		tpm2_rc_describe(rc, desc, sizeof(desc));
		return fail(ret_err, -EIO, "%s failed on %s: %s", what, t->where, desc);
	}
	*ret_len = n;
	return 0;
}

static int primary_create(tpm2 *t, uint32_t *ret_handle, uint8_t ret_point[64], char **ret_err)
{
	uint8_t rsp[TPM2_MAX_RESPONSE];
	size_t n;
	cmd_buf m;
	int r;

	cmd_begin(&m, TPM_ST_SESSIONS, TPM_CC_CREATEPRIMARY);
	put32(&m, TPM_RH_OWNER);
	put_empty_password_auth(&m);
	put16(&m, 4); /* inSensitive: empty userAuth and data */
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 2 + 2 + 4 + 2 + 10 + 4); /* inPublic: TPMT_PUBLIC */
	put16(&m, TPM_ALG_ECC);
	put16(&m, TPM_ALG_SHA256); /* nameAlg */
	put32(&m, MACHINE_KEY_ATTRIBUTES);
	put16(&m, 0);		      /* authPolicy */
	put16(&m, TPM_ALG_NULL);      /* symmetric */
	put16(&m, TPM_ALG_ECDSA);     /* scheme ... */
	put16(&m, TPM_ALG_SHA256);    /* ... and its hash */
	put16(&m, TPM_ECC_NIST_P256); /* curveID */
	put16(&m, TPM_ALG_NULL);      /* kdf */
	put16(&m, 0);		      /* unique: empty x and y */
	put16(&m, 0);
	put16(&m, 0); /* outsideInfo */
	put32(&m, 0); /* creationPCR: no PCR selection */
	cmd_end(&m);
	r = transact(t, &m, "TPM2_CreatePrimary", rsp, &n, ret_err);
	if (r < 0)
		return r;
	r = tpm2_parse_create_primary(rsp, n, ret_handle, ret_point);
	if (r < 0)
		return fail(ret_err, r, "TPM2_CreatePrimary: %s answered no ECC P-256 signing key",
			    t->where);
	return 0;
}

static int flush(tpm2 *t, uint32_t handle, char **ret_err)
{
	uint8_t rsp[TPM2_MAX_RESPONSE];
	size_t n;
	cmd_buf m;

	cmd_begin(&m, TPM_ST_NO_SESSIONS, TPM_CC_FLUSHCONTEXT);
	put32(&m, handle);
	cmd_end(&m);
	return transact(t, &m, "TPM2_FlushContext", rsp, &n, ret_err);
}

/* the machine key's handle flushed whatever R is; R, or the flush's failure */
static int flush_after(tpm2 *t, uint32_t handle, int r, char **ret_err)
{
	int k = flush(t, handle, r < 0 ? NULL : ret_err);

	return r < 0 ? r : k;
}

static int sign_digest(tpm2 *t, uint32_t handle, const uint8_t digest[32], unsigned char **ret_der,
		       size_t *ret_len, char **ret_err)
{
	uint8_t rsp[TPM2_MAX_RESPONSE], sig_r[32], sig_s[32];
	size_t n;
	cmd_buf m;
	int r;

	cmd_begin(&m, TPM_ST_SESSIONS, TPM_CC_SIGN);
	put32(&m, handle);
	put_empty_password_auth(&m);
	put16(&m, 32);
	put_bytes(&m, digest, 32);
	put16(&m, TPM_ALG_ECDSA); /* inScheme */
	put16(&m, TPM_ALG_SHA256);
	put16(&m, TPM_ST_HASHCHECK); /* validation: the NULL ticket (an unrestricted key) */
	put32(&m, TPM_RH_NULL);
	put16(&m, 0);
	cmd_end(&m);
	r = transact(t, &m, "TPM2_Sign", rsp, &n, ret_err);
	if (r < 0)
		return r;
	if (tpm2_parse_sign(rsp, n, sig_r, sig_s) < 0)
		return fail(ret_err, -EPROTO, "TPM2_Sign: %s answered no ECDSA signature",
			    t->where);
	return tpm2_ecdsa_der(sig_r, sig_s, ret_der, ret_len);
}

static int sha256(const void *data, size_t len, uint8_t ret[32], char **ret_err)
{
	unsigned n = 0;
	int r = dl_crypto();

	if (r < 0)
		return fail(ret_err, r, "libcrypto (libcrypto.so.3) is missing: no SHA-256");
	if (sym_EVP_Digest(data, len, ret, &n, sym_EVP_sha256(), NULL) != 1 || n != 32)
		return fail(ret_err, -EIO, "SHA-256 failed");
	return 0;
}

int tpm2_machine_key(tpm2 *t, char **ret_spki_pem, char **ret_err)
{
	uint8_t point[64];
	uint32_t handle;
	char *pem = NULL;
	int r;

	r = primary_create(t, &handle, point, ret_err);
	if (r < 0)
		return r;
	r = tpm2_spki_pem(point, &pem);
	if (r < 0)
		fail(ret_err, r, "the machine key's PEM: %s", strerror(-r));
	r = flush_after(t, handle, r, ret_err);
	if (r < 0) {
		free(pem);
		return r;
	}
	*ret_spki_pem = pem;
	return 0;
}

int tpm2_sign(tpm2 *t, const void *data, size_t len, unsigned char **ret_der_sig, size_t *ret_len,
	      char **ret_err)
{
	uint8_t digest[32], point[64];
	unsigned char *der = NULL;
	uint32_t handle;
	size_t n = 0;
	int r;

	r = sha256(data, len, digest, ret_err);
	if (r < 0)
		return r;
	r = primary_create(t, &handle, point, ret_err);
	if (r < 0)
		return r;
	r = flush_after(t, handle, sign_digest(t, handle, digest, &der, &n, ret_err), ret_err);
	if (r < 0) {
		free(der);
		return r;
	}
	*ret_der_sig = der;
	*ret_len = n;
	return 0;
}

/* the key's PEM and the signature of DIGEST, with one TPM2_CreatePrimary */
static int identity(tpm2 *t, const uint8_t digest[32], char **ret_pem, unsigned char **ret_der,
		    size_t *ret_len, char **ret_err)
{
	uint8_t point[64];
	uint32_t handle;
	int r;

	r = primary_create(t, &handle, point, ret_err);
	if (r < 0)
		return r;
	r = tpm2_spki_pem(point, ret_pem);
	if (r < 0)
		fail(ret_err, r, "the machine key's PEM: %s", strerror(-r));
	else
		r = sign_digest(t, handle, digest, ret_der, ret_len, ret_err);
	return flush_after(t, handle, r, ret_err);
}

int tpm2_identity_sign(const char *ticket, char **ret_spki_pem, char **ret_sig_base64,
		       char **ret_err)
{
	_cleanup_(tpm2_closep) tpm2 *t = NULL;
	_cleanup_free_ char *pem = NULL;
	_cleanup_free_ unsigned char *der = NULL;
	uint8_t digest[32];
	size_t n = 0;
	char *b64;
	int r;

	if (!ticket)
		return fail(ret_err, -EINVAL, "no ticket to sign");
	r = tpm2_open(NULL, &t, ret_err);
	if (r < 0)
		return r;
	r = sha256(ticket, strlen(ticket), digest, ret_err);
	if (r < 0)
		return r;
	r = identity(t, digest, &pem, &der, &n, ret_err);
	if (r < 0)
		return r;
	b64 = base64_encode(der, n);
	if (!b64)
		return fail(ret_err, -ENOMEM, "base64 of the signature: out of memory");
	*ret_spki_pem = TAKE_PTR(pem);
	*ret_sig_base64 = b64;
	return 0;
}

/* --- serve's side --- */

static void evp_pkey_freep(EVP_PKEY **p)
{
	if (*p)
		sym_EVP_PKEY_free(*p);
}

static void evp_md_ctx_freep(EVP_MD_CTX **p)
{
	if (*p)
		sym_EVP_MD_CTX_free(*p);
}

int tpm2_verify(const char *spki_pem, const void *data, size_t len, const unsigned char *der_sig,
		size_t sig_len)
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = NULL;
	size_t pem_len = spki_pem ? strnlen(spki_pem, 16385) : 0;
	BIO *bio;
	int r = dl_crypto(), v;

	if (r < 0)
		return r;
	if (pem_len == 0 || pem_len > 16384)
		return -EINVAL;
	if (!der_sig || sig_len == 0 || sig_len > 1024)
		return -EBADMSG;
	bio = sym_BIO_new_mem_buf(spki_pem, (int)pem_len);
	if (!bio)
		return -ENOMEM;
	key = sym_PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	sym_BIO_free(bio);
	if (!key || sym_EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		sym_ERR_clear_error();
		return -EINVAL;
	}
	ctx = sym_EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (sym_EVP_DigestVerifyInit(ctx, NULL, sym_EVP_sha256(), NULL, key) != 1) {
		sym_ERR_clear_error();
		return -EIO;
	}
	v = sym_EVP_DigestVerify(ctx, der_sig, sig_len, data, len);
	sym_ERR_clear_error();
	return v == 1 ? 0 : -EBADMSG;
}
