/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The machine's TPM 2.0 identity, without a TSS library: raw TPM2 commands (TPM 2.0 Library
 * specification, Part 3), marshalled here, to the kernel's resource manager /dev/tpmrm0, or,
 * when NODE_AGENT_TPM_TCP=IPV4:PORT is set (tests), to swtpm's TCP data channel
 * (`swtpm socket --tpm2 --server type=tcp,port=PORT --flags not-need-init,startup-clear`).
 *
 * The machine key is a primary ECC NIST P-256 signing key (ECDSA/SHA-256) of the owner
 * hierarchy made from one fixed template: the TPM derives it from its owner seed, so the same
 * key comes back at every boot with nothing stored (diskless machines), until the TPM is
 * cleared. Every call creates it and flushes it again: no TPM object is left behind.
 *
 * Failures: -errno and a sentence in *ret_err (malloc'd; ret_err may be NULL), which the
 * caller logs; -ENOENT means this machine has no TPM (no /dev/tpmrm0).
 */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

#define TPM2_DEVICE  "/dev/tpmrm0"
#define TPM2_TCP_ENV "NODE_AGENT_TPM_TCP"

typedef struct tpm2 tpm2;

/* DEVICE NULL: $NODE_AGENT_TPM_TCP when set, else /dev/tpmrm0. Otherwise that character
 * device (a test names a missing one). -ENOENT when the device does not exist. */
int tpm2_open(const char *device, tpm2 **ret, char **ret_err);
tpm2 *tpm2_close(tpm2 *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(tpm2 *, tpm2_close)

/* The machine key's public half as a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"). */
int tpm2_machine_key(tpm2 *t, char **ret_spki_pem, char **ret_err);

/* ECDSA P-256 signature of SHA-256(DATA) by the machine key, DER (ECDSA-Sig-Value), as
 * `openssl dgst -sha256 -verify` and tpm2_verify() take it. */
int tpm2_sign(tpm2 *t, const void *data, size_t len, unsigned char **ret_der_sig, size_t *ret_len,
	      char **ret_err);

/* The boot job's one call: open the TPM, make the machine key, sign TICKET with it, close.
 * Returns the key's PEM and the DER signature in base64 (one line, no newline). */
int tpm2_identity_sign(const char *ticket, char **ret_spki_pem, char **ret_sig_base64,
		       char **ret_err);

/* serve's side: 0 when DER_SIG is a valid ECDSA signature of SHA-256(DATA) by the EC key of
 * SPKI_PEM, -EBADMSG when it is not (or does not parse), -EINVAL when SPKI_PEM is no EC public
 * key, other -errno when libcrypto is missing. */
int tpm2_verify(const char *spki_pem, const void *data, size_t len, const unsigned char *der_sig,
		size_t sig_len);

/* --- the pieces, for the unit test and the fuzz target --- */

/* The TPM's answer to TPM2_CreatePrimary with our template (whole response, header included,
 * response code 0): the object handle and the public point X||Y (each left-padded to 32
 * bytes). -EPROTO when it is malformed or not the key the template asks for. */
int tpm2_parse_create_primary(const uint8_t *rsp, size_t len, uint32_t *ret_handle,
			      uint8_t ret_point[64]);
/* The answer to TPM2_Sign: the signature's r and s, left-padded to 32 bytes; -EPROTO. */
int tpm2_parse_sign(const uint8_t *rsp, size_t len, uint8_t ret_r[32], uint8_t ret_s[32]);
/* DER ECDSA-Sig-Value of (r, s): minimal INTEGERs, a 0x00 in front of a set high bit. */
int tpm2_ecdsa_der(const uint8_t r[32], const uint8_t s[32], unsigned char **ret, size_t *ret_len);
/* PEM SubjectPublicKeyInfo of the P-256 point X||Y. */
int tpm2_spki_pem(const uint8_t point[64], char **ret);
/* "TPM_RC_LOCKOUT (0x921)", "TPM_RC_VALUE of parameter 1 (0x1c4)", "response code 0x..." */
void tpm2_rc_describe(uint32_t rc, char *buf, size_t size);
