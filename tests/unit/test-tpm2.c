/* SPDX-License-Identifier: MIT */
/*
 * The TPM 2.0 machine identity (node-agent/tpm/tpm2.c).
 *
 *   test-tpm2                        TAP: DER, PEM, canned TPM responses (every truncation),
 *                                    response codes, tpm2_verify() on bad input
 *   test-tpm2 key                    print the machine key's PEM (tpm2_machine_key)
 *   test-tpm2 sign TEXT SIG.DER      tpm2_sign() of TEXT into SIG.DER
 *   test-tpm2 identity TEXT DIR      tpm2_identity_sign(): DIR/pub.pem and DIR/sig.b64
 *   test-tpm2 verify PEM MSG SIG.DER tpm2_verify(): exit 0 valid, 1 -EBADMSG, 2 otherwise
 *
 * The TPM is $NODE_AGENT_TPM_TCP (swtpm, tests/92-tpm.t) or /dev/tpmrm0. A failure prints
 * "error -ERRNO: sentence" on stderr and exits 3 for -ENOENT (no TPM), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "tap.h"
#include "tpm/tpm2.h"

/* --- drivers for tests/92-tpm.t --- */

static int failed(int r, char *err)
{
	fprintf(stderr, "error %d: %s\n", r, err ? err : strerror(-r));
	free(err);
	return r == -ENOENT ? 3 : 1;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "we");
	int bad;

	if (!f)
		return -errno;
	bad = fwrite(p, 1, n, f) != n;
	return fclose(f) != 0 || bad ? -EIO : 0;
}

static int cmd_key(void)
{
	_cleanup_(tpm2_closep) tpm2 *t = NULL;
	_cleanup_free_ char *pem = NULL;
	char *err = NULL;
	int r;

	r = tpm2_open(NULL, &t, &err);
	if (r >= 0)
		r = tpm2_machine_key(t, &pem, &err);
	if (r < 0)
		return failed(r, err);
	fputs(pem, stdout);
	return 0;
}

static int cmd_sign(const char *text, const char *out)
{
	_cleanup_(tpm2_closep) tpm2 *t = NULL;
	_cleanup_free_ unsigned char *der = NULL;
	char *err = NULL;
	size_t n = 0;
	int r;

	r = tpm2_open(NULL, &t, &err);
	if (r >= 0)
		r = tpm2_sign(t, text, strlen(text), &der, &n, &err);
	if (r >= 0)
		r = write_file(out, der, n);
	return r < 0 ? failed(r, err) : 0;
}

static int cmd_identity(const char *text, const char *dir)
{
	_cleanup_free_ char *pem = NULL, *b64 = NULL, *p = NULL, *s = NULL;
	char *err = NULL;
	int r;

	r = tpm2_identity_sign(text, &pem, &b64, &err);
	if (r < 0)
		return failed(r, err);
	if (asprintf(&p, "%s/pub.pem", dir) < 0 || asprintf(&s, "%s/sig.b64", dir) < 0)
		return failed(-ENOMEM, NULL);
	r = write_file(p, pem, strlen(pem));
	if (r >= 0)
		r = write_file(s, b64, strlen(b64));
	return r < 0 ? failed(r, NULL) : 0;
}

static int cmd_verify(const char *pem_path, const char *msg_path, const char *sig_path)
{
	_cleanup_free_ char *pem = NULL, *msg = NULL, *sig = NULL;
	size_t pem_len, msg_len, sig_len;
	int r;

	r = read_full_file(pem_path, 1 << 16, &pem, &pem_len);
	if (r >= 0)
		r = read_full_file(msg_path, 1 << 20, &msg, &msg_len);
	if (r >= 0)
		r = read_full_file(sig_path, 1 << 16, &sig, &sig_len);
	if (r >= 0)
		r = tpm2_verify(pem, msg, msg_len, (unsigned char *)sig, sig_len);
	printf("tpm2_verify: %d (%s)\n", r, r < 0 ? strerror(-r) : "valid");
	return r == 0 ? 0 : r == -EBADMSG ? 1 : 2;
}

/* --- unit tests --- */

static void test_der(void)
{
	uint8_t r[32], s[32];
	unsigned char *d = NULL;
	size_t n = 0;

	/* r with its high bit set takes a 0x00; s = 1 is one byte */
	memset(r, 0x80, sizeof(r));
	memset(s, 0, sizeof(s));
	s[31] = 1;
	ok(tpm2_ecdsa_der(r, s, &d, &n) == 0 && n == 2 + 2 + 33 + 3, "DER: 33-byte r, 1-byte s");
	ok(d && d[0] == 0x30 && d[1] == n - 2 && d[2] == 0x02 && d[3] == 33 && d[4] == 0 &&
	       d[5] == 0x80 && d[37] == 0x02 && d[38] == 1 && d[39] == 1,
	   "DER: SEQUENCE { INTEGER 00 80.., INTEGER 01 }");
	free(d);

	/* leading zeros go, and a following high bit brings one 0x00 back */
	memset(r, 0, sizeof(r));
	r[2] = 0x7f;
	r[31] = 0x11;
	memset(s, 0, sizeof(s));
	s[3] = 0xff;
	ok(tpm2_ecdsa_der(r, s, &d, &n) == 0 && n == 2 + 2 + 30 + 2 + 30, "DER: zeros stripped");
	ok(d && d[3] == 30 && d[4] == 0x7f && d[35] == 30 && d[36] == 0 && d[37] == 0xff,
	   "DER: 30-byte r, s 00 ff..");
	free(d);
}

/* P-256's base point G: a valid public key */
static const uint8_t p256_g[64] = {
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};

static void test_pem_and_verify(void)
{
	static const unsigned char junk_sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
	uint8_t off_curve[64];
	char *pem = NULL;

	ok(tpm2_spki_pem(p256_g, &pem) == 0, "PEM of P-256's G");
	is_str(pem,
	       "-----BEGIN PUBLIC KEY-----\n"
	       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaxfR8uEsQkf4vOblY6RA8ncDfYEt\n"
	       "6zOg9KE5RdiYwpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9Q==\n"
	       "-----END PUBLIC KEY-----\n",
	       "PEM: SubjectPublicKeyInfo, 64 columns");
	/* a key that parses: a bad signature is -EBADMSG, not -EINVAL */
	ok(pem && tpm2_verify(pem, "x", 1, junk_sig, sizeof(junk_sig)) == -EBADMSG,
	   "verify: wrong signature -> -EBADMSG");
	ok(pem && tpm2_verify(pem, "x", 1, (const unsigned char *)"garbage", 7) == -EBADMSG,
	   "verify: no DER -> -EBADMSG");
	ok(pem && tpm2_verify(pem, "x", 1, junk_sig, 0) == -EBADMSG, "verify: empty -> -EBADMSG");
	free(pem);

	memcpy(off_curve, p256_g, sizeof(off_curve));
	off_curve[63] ^= 1;
	pem = NULL;
	ok(tpm2_spki_pem(off_curve, &pem) == 0 &&
	       tpm2_verify(pem, "x", 1, junk_sig, sizeof(junk_sig)) == -EINVAL,
	   "verify: a point off the curve -> -EINVAL");
	free(pem);
	ok(tpm2_verify("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x", 1,
		       junk_sig, sizeof(junk_sig)) == -EINVAL,
	   "verify: junk PEM -> -EINVAL");
	ok(tpm2_verify("", "x", 1, junk_sig, sizeof(junk_sig)) == -EINVAL &&
	       tpm2_verify(NULL, "x", 1, junk_sig, sizeof(junk_sig)) == -EINVAL,
	   "verify: no PEM -> -EINVAL");
}

/* A canned response: header (rc 0), handle area, parameterSize, PARAMS, then an auth area */
static size_t canned(uint8_t *out, int with_handle, const uint8_t *params, size_t k)
{
	size_t n = 0;

	out[n++] = 0x80;
	out[n++] = 0x02;
	n += 8; /* size, set below; rc 0 */
	memset(out + 2, 0, 8);
	if (with_handle) {
		memcpy(out + n, "\x80\x00\x00\x00", 4);
		n += 4;
	}
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = k >> 8;
	out[n++] = k;
	memcpy(out + n, params, k);
	n += k;
	memcpy(out + n, "\x00\x00\x01\x00\x00", 5); /* nonce, attributes, hmac */
	n += 5;
	out[4] = n >> 8;
	out[5] = n;
	return n;
}

/* every shorter prefix (with a fixed-up size field) is refused: bounded parsing */
static int all_truncations_refused(const uint8_t *rsp, size_t n, int primary)
{
	uint8_t copy[512], point[64], r[32], s[32];
	uint32_t handle;

	for (size_t k = 0; k < n; k++) {
		uint8_t *p = malloc(k ? k : 1); /* exactly k bytes: ASan sees any overread */

		memcpy(copy, rsp, n);
		if (k >= 6) {
			copy[4] = k >> 8;
			copy[5] = k;
		}
		memcpy(p, copy, k);
		if ((primary ? tpm2_parse_create_primary(p, k, &handle, point)
			     : tpm2_parse_sign(p, k, r, s)) != -EPROTO) {
			free(p);
			return 0;
		}
		free(p);
	}
	return 1;
}

static void test_parse_create_primary(void)
{
	enum { P = 18 }; /* the parameters' offset: header, handle, parameterSize */
	/* outPublic as swtpm answers, but with a 31-byte x (a TPM may drop a leading zero) */
	uint8_t pub[2 + 2 + 2 + 4 + 2 + 10 + 2 + 31 + 2 + 32], rsp[512], point[64];
	uint8_t params[sizeof(pub) + 64];
	uint32_t handle = 0;
	size_t n, k = 0;

	memcpy(pub, "\x00\x57\x00\x23\x00\x0b\x00\x04\x00\x72\x00\x00", 12);
	memcpy(pub + 12, "\x00\x10\x00\x18\x00\x0b\x00\x03\x00\x10", 10);
	memcpy(pub + 22, "\x00\x1f", 2);
	memcpy(pub + 24, p256_g + 1, 31);
	memcpy(pub + 55, "\x00\x20", 2);
	memcpy(pub + 57, p256_g + 32, 32);
	memcpy(params, pub, sizeof(pub));
	k = sizeof(pub);
	memset(params + k, 0xee, 20); /* creationData etc.: not read */
	k += 20;
	n = canned(rsp, 1, params, k);
	ok(tpm2_parse_create_primary(rsp, n, &handle, point) == 0 && handle == 0x80000000,
	   "CreatePrimary: parsed, transient handle");
	ok(point[0] == 0 && !memcmp(point + 1, p256_g + 1, 63), "CreatePrimary: x left-padded");
	ok(all_truncations_refused(rsp, n, 1), "CreatePrimary: every truncation refused");

	rsp[P + 9] = 0x73; /* attributes: bit 0 (reserved) set too */
	ok(tpm2_parse_create_primary(rsp, n, &handle, point) == -EPROTO,
	   "CreatePrimary: other attributes refused");
	rsp[P + 9] = 0x72;
	rsp[P + 19] = 0x04; /* curve P-384 */
	ok(tpm2_parse_create_primary(rsp, n, &handle, point) == -EPROTO,
	   "CreatePrimary: another curve refused");
	rsp[P + 19] = 0x03;
	rsp[P + 1] ^= 1; /* outPublic's size one off */
	ok(tpm2_parse_create_primary(rsp, n, &handle, point) == -EPROTO,
	   "CreatePrimary: a wrong TPM2B size refused");
	rsp[P + 1] ^= 1;
	rsp[9] = 1; /* a response code */
	ok(tpm2_parse_create_primary(rsp, n, &handle, point) == -EPROTO,
	   "CreatePrimary: a failed response refused");
	rsp[9] = 0;
	ok(tpm2_parse_create_primary(rsp, n - 1, &handle, point) == -EPROTO,
	   "CreatePrimary: a size field that is not the length refused");
}

static void test_parse_sign(void)
{
	uint8_t params[4 + 2 + 32 + 2 + 3], rsp[512], r[32], s[32];
	size_t n;

	memcpy(params, "\x00\x18\x00\x0b\x00\x20", 6);
	memcpy(params + 6, p256_g, 32);
	memcpy(params + 38, "\x00\x03\x01\x02\x03", 5);
	n = canned(rsp, 0, params, sizeof(params));
	ok(tpm2_parse_sign(rsp, n, r, s) == 0 && !memcmp(r, p256_g, 32), "Sign: r parsed");
	ok(!memcmp(s, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x02\x03", 32),
	   "Sign: 3-byte s left-padded");
	ok(all_truncations_refused(rsp, n, 0), "Sign: every truncation refused");
	memcpy(params + 38, "\x00\x01\x00", 3);
	n = canned(rsp, 0, params, sizeof(params) - 2);
	ok(tpm2_parse_sign(rsp, n, r, s) == -EPROTO, "Sign: s = 0 refused");
	memcpy(params + 38, "\x00\x21", 2);
	n = canned(rsp, 0, params, sizeof(params));
	ok(tpm2_parse_sign(rsp, n, r, s) == -EPROTO, "Sign: a 33-byte s refused");
	params[1] = 0x14; /* RSASSA */
	n = canned(rsp, 0, params, sizeof(params));
	ok(tpm2_parse_sign(rsp, n, r, s) == -EPROTO, "Sign: another scheme refused");
}

/* swtpm's real answers (tests/fuzz/tpm2-seeds/, a selector byte in front), in $TPM2_SEEDS */
static void test_swtpm_answers(void)
{
	const char *dir = getenv("TPM2_SEEDS");
	_cleanup_free_ char *a = NULL, *b = NULL, *pa = NULL, *pb = NULL;
	uint8_t point[64], r[32], s[32];
	size_t na = 0, nb = 0;
	uint32_t handle = 0;

	if (!dir) {
		printf("ok %d - # SKIP TPM2_SEEDS not set\n", ++n_tests);
		return;
	}
	if (asprintf(&pa, "%s/create-primary", dir) < 0 || asprintf(&pb, "%s/sign", dir) < 0)
		abort();
	ok(read_full_file(pa, 4096, &a, &na) == 0 && na > 1 &&
	       tpm2_parse_create_primary((uint8_t *)a + 1, na - 1, &handle, point) == 0 &&
	       handle == 0x80000000,
	   "swtpm's TPM2_CreatePrimary answer parses");
	ok(read_full_file(pb, 4096, &b, &nb) == 0 && nb > 1 &&
	       tpm2_parse_sign((uint8_t *)b + 1, nb - 1, r, s) == 0,
	   "swtpm's TPM2_Sign answer parses");
}

static void test_rc(void)
{
	char b[128];

	tpm2_rc_describe(0x921, b, sizeof(b));
	is_str(b, "TPM_RC_LOCKOUT (dictionary-attack lockout) (0x921)", "rc: a warning");
	tpm2_rc_describe(0x1c4, b, sizeof(b));
	is_str(b, "TPM_RC_VALUE of parameter 1 (0x1c4)", "rc: format one, a parameter");
	tpm2_rc_describe(0x98e, b, sizeof(b));
	is_str(b, "TPM_RC_AUTH_FAIL of session 1 (0x98e)", "rc: format one, a session");
	tpm2_rc_describe(0x18b, b, sizeof(b));
	is_str(b, "TPM_RC_HANDLE of handle 1 (0x18b)", "rc: format one, a handle");
	tpm2_rc_describe(0x101, b, sizeof(b));
	is_str(b, "TPM_RC_FAILURE (the TPM is in failure mode) (0x101)", "rc: format zero");
	tpm2_rc_describe(0x1ff, b, sizeof(b));
	is_str(b, "response code 0x1ff", "rc: unknown, by number");
	tpm2_rc_describe(0xb0001, b, sizeof(b));
	is_str(b, "response code 0xb0001 (layer 11)", "rc: a software layer's");
}

static void test_no_device(void)
{
	tpm2 *t = NULL;
	char *err = NULL;

	ok(tpm2_open("/nonexistent/tpmrm0", &t, &err) == -ENOENT && !t,
	   "open: no device -> -ENOENT");
	is_str(err, "no TPM 2.0: /nonexistent/tpmrm0 does not exist", "open: says so");
	free(err);
	ok(tpm2_close(NULL) == NULL, "close(NULL)");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "key"))
		return cmd_key();
	if (argc == 4 && !strcmp(argv[1], "sign"))
		return cmd_sign(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "identity"))
		return cmd_identity(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], argv[3], argv[4]);
	if (argc != 1) {
		fprintf(stderr, "usage: see tests/unit/test-tpm2.c\n");
		return 2;
	}
	test_der();
	test_pem_and_verify();
	test_parse_create_primary();
	test_parse_sign();
	test_swtpm_answers();
	test_rc();
	test_no_device();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
