/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TPM response parsers (`make fuzz-tpm2`, node-agent/tpm/tpm2.c):
 * the first byte picks the parser (bit 0: TPM2_CreatePrimary's or TPM2_Sign's answer; bit 1:
 * leave the size field alone, else it is set to the input's length so mutations get past
 * the header), the rest is the TPM's response, copied to a buffer of its own size so ASan
 * sees any read past it. Besides what ASan/UBSan/LeakSanitizer catch, it checks:
 *   - a key is accepted only with a transient handle;
 *   - the DER of an accepted signature is one SEQUENCE of two minimal, positive INTEGERs that
 *     read back as r and s.
 * Seeds: tests/fuzz/tpm2-seeds/ (swtpm's answers to node-agent's commands).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One DER INTEGER at D (N bytes left): minimal, positive, its value left-padded into V;
 * returns its length */
static size_t check_integer(const unsigned char *d, size_t n, uint8_t v[32])
{
	const unsigned char *c = d + 2;
	size_t k;

	if (n < 3 || d[0] != 0x02 || d[1] == 0 || (size_t)d[1] + 2 > n)
		abort();
	k = d[1];
	if (c[0] & 0x80) /* negative */
		abort();
	if (c[0] == 0 && (k == 1 || !(c[1] & 0x80))) /* zero, or a 0x00 that is not needed */
		abort();
	if (c[0] == 0) {
		c++;
		k--;
	}
	if (k > 32)
		abort();
	memset(v, 0, 32 - k);
	memcpy(v + 32 - k, c, k);
	return 2 + d[1];
}

static void check_der(const uint8_t r[32], const uint8_t s[32])
{
	unsigned char *d = NULL;
	uint8_t r2[32], s2[32];
	size_t n = 0, k;

	if (tpm2_ecdsa_der(r, s, &d, &n) < 0)
		abort();
	if (n < 8 || n > 72 || d[0] != 0x30 || d[1] != n - 2)
		abort();
	k = 2 + check_integer(d + 2, n - 2, r2);
	k += check_integer(d + k, n - k, s2);
	if (k != n || memcmp(r, r2, 32) || memcmp(s, s2, 32))
		abort();
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rsp, point[64], r[32], s[32];
	uint32_t handle = 0;
	size_t n;

	if (size < 1 || size > 8192)
		return 0;
	n = size - 1;
	rsp = malloc(n ? n : 1);
	if (!rsp)
		return 0;
	memcpy(rsp, data + 1, n);
	if (!(data[0] & 2) && n >= 6) {
		rsp[2] = n >> 24;
		rsp[3] = n >> 16;
		rsp[4] = n >> 8;
		rsp[5] = n;
	}
	if (data[0] & 1) {
		if (tpm2_parse_sign(rsp, n, r, s) == 0)
			check_der(r, s);
	} else if (tpm2_parse_create_primary(rsp, n, &handle, point) == 0 && handle >> 24 != 0x80) {
		abort();
	}
	free(rsp);
	return 0;
}
