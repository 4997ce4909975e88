/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libsystemd, libcurl, libcrypto, and for `node-agent serve` libsqlite3 and libmicrohttpd, loaded
 * with dlopen() the first time a command needs them, the way systemd loads its optional libraries.
 * Linking them would make every command pay for them at start: measured here, `node-agent
 * inventory` went from 2.8 MB to 3.8 MB peak RSS with libsystemd linked, and a program linking
 * libcurl alone starts at 7.8 MB and ~320 system calls (its ~30 dependent libraries), against the
 * goal of < 4 MB.
 *
 * The boot image carries neither libsqlite3 nor libmicrohttpd: only `serve` loads them.
 *
 * Call dl_systemd() / dl_curl() / dl_crypto() / dl_sqlite() / dl_mhd() (0 on success, -errno when
 * the library is missing) and then use sym_<function>.
 */

#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* Each library's functions, listed once: dl.c defines and loads from these lists. */
#define DL_SYSTEMD_SYMBOLS(X)                                                                      \
	X(sd_notify)                                                                               \
	X(sd_booted)                                                                               \
	X(sd_journal_sendv)                                                                        \
	X(sd_journal_open)                                                                         \
	X(sd_journal_close)                                                                        \
	X(sd_journal_add_match)                                                                    \
	X(sd_journal_seek_tail)                                                                    \
	X(sd_journal_previous)                                                                     \
	X(sd_journal_get_data)                                                                     \
	X(sd_journal_get_realtime_usec)                                                            \
	X(sd_bus_open_system)                                                                      \
	X(sd_bus_set_method_call_timeout)                                                          \
	X(sd_bus_call_method)                                                                      \
	X(sd_bus_error_free)                                                                       \
	X(sd_bus_unref)                                                                            \
	X(sd_bus_match_signal)                                                                     \
	X(sd_bus_process)                                                                          \
	X(sd_bus_wait)                                                                             \
	X(sd_bus_message_read)                                                                     \
	X(sd_bus_message_unref)                                                                    \
	X(sd_bus_slot_unref)                                                                       \
	X(sd_bus_get_property_string)

#define DL_CURL_SYMBOLS(X)                                                                         \
	X(curl_global_init)                                                                        \
	X(curl_easy_init)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

/* libcrypto (OpenSSL 3, a dependency of libcurl): SHA-256 of downloads, the chain
 * building K3s's CA hash needs, and serve's key and self-signed certificate */
#define DL_CRYPTO_SYMBOLS(X)                                                                       \
	X(EVP_Digest)                                                                              \
	X(EVP_sha256)                                                                              \
	X(EVP_Q_mac)                                                                               \
	X(BIO_new_mem_buf)                                                                         \
	X(BIO_free)                                                                                \
	X(PEM_read_bio_X509)                                                                       \
	X(X509_free)                                                                               \
	X(i2d_X509)                                                                                \
	X(X509_get0_authority_key_id)                                                              \
	X(X509_get0_subject_key_id)                                                                \
	X(ASN1_STRING_length)                                                                      \
	X(ASN1_STRING_get0_data)                                                                   \
	X(X509_STORE_new)                                                                          \
	X(X509_STORE_free)                                                                         \
	X(X509_STORE_add_cert)                                                                     \
	X(X509_STORE_set_flags)                                                                    \
	X(X509_STORE_CTX_new)                                                                      \
	X(X509_STORE_CTX_free)                                                                     \
	X(X509_STORE_CTX_init)                                                                     \
	X(X509_STORE_CTX_get0_chain)                                                               \
	X(X509_STORE_CTX_set_purpose)                                                              \
	X(X509_verify_cert)                                                                        \
	X(OPENSSL_sk_new_null)                                                                     \
	X(OPENSSL_sk_push)                                                                         \
	X(OPENSSL_sk_free)                                                                         \
	X(OPENSSL_sk_num)                                                                          \
	X(OPENSSL_sk_value)                                                                        \
	X(ERR_clear_error)                                                                         \
	/* node-agent serve's own certificate (serve/tls.c) */                                     \
	X(EVP_PKEY_Q_keygen)                                                                       \
	X(EVP_PKEY_free)                                                                           \
	X(PEM_read_bio_PrivateKey)                                                                 \
	X(PEM_write_bio_PrivateKey)                                                                \
	X(PEM_write_bio_X509)                                                                      \
	X(BIO_new)                                                                                 \
	X(BIO_s_mem)                                                                               \
	X(BIO_ctrl)                                                                                \
	X(X509_new)                                                                                \
	X(X509_set_version)                                                                        \
	X(X509_get_serialNumber)                                                                   \
	X(BN_bin2bn)                                                                               \
	X(BN_to_ASN1_INTEGER)                                                                      \
	X(BN_free)                                                                                 \
	X(X509_gmtime_adj)                                                                         \
	X(X509_time_adj_ex)                                                                        \
	X(X509_getm_notBefore)                                                                     \
	X(X509_getm_notAfter)                                                                      \
	X(X509_set_pubkey)                                                                         \
	X(X509_get_subject_name)                                                                   \
	X(X509_NAME_add_entry_by_txt)                                                              \
	X(X509_set_issuer_name)                                                                    \
	X(X509V3_set_ctx)                                                                          \
	X(X509V3_EXT_conf_nid)                                                                     \
	X(X509_add_ext)                                                                            \
	X(X509_EXTENSION_free)                                                                     \
	X(X509_sign)                                                                               \
	X(X509_check_private_key)                                                                  \
	X(X509_check_ip_asc)                                                                       \
	X(X509_digest)                                                                             \
	/* the TPM machine identity (tpm/tpm2.c): PEM, signatures */                               \
	X(EVP_EncodeBlock)                                                                         \
	X(PEM_read_bio_PUBKEY)                                                                     \
	X(EVP_PKEY_get_base_id)                                                                    \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_DigestVerifyInit)                                                                    \
	X(EVP_DigestVerify)                                                                        \
	/* end */

/* libsqlite3: the state of `node-agent serve` (serve/db.c) */
#define DL_SQLITE_SYMBOLS(X)                                                                       \
	X(sqlite3_open_v2)                                                                         \
	X(sqlite3_close_v2)                                                                        \
	X(sqlite3_exec)                                                                            \
	X(sqlite3_errmsg)                                                                          \
	X(sqlite3_extended_errcode)                                                                \
	X(sqlite3_busy_timeout)                                                                    \
	X(sqlite3_prepare_v2)                                                                      \
	X(sqlite3_bind_text)                                                                       \
	X(sqlite3_bind_int64)                                                                      \
	X(sqlite3_bind_null)                                                                       \
	X(sqlite3_step)                                                                            \
	X(sqlite3_reset)                                                                           \
	X(sqlite3_finalize)                                                                        \
	X(sqlite3_column_type)                                                                     \
	X(sqlite3_column_text)                                                                     \
	X(sqlite3_column_int64)                                                                    \
	X(sqlite3_changes)                                                                         \
	X(sqlite3_last_insert_rowid)                                                               \
	X(sqlite3_free)                                                                            \
	/* (each table ends in a backslash: tests/tools/dup-blocks.pl sees one table) */

/* libmicrohttpd: the HTTP side of `node-agent serve` (serve/http.c) */
#define DL_MHD_SYMBOLS(X)                                                                          \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_get_daemon_info)                                                                     \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_fd_at_offset64)                                                 \
	X(MHD_add_response_header)                                                                 \
	X(MHD_queue_response)                                                                      \
	X(MHD_destroy_response)                                                                    \
	X(MHD_is_feature_supported)                                                                \
	X(MHD_get_connection_info)                                                                 \
	/* end */

#define DL_DECLARE(f) extern __typeof__(f) *sym_##f;

DL_SYSTEMD_SYMBOLS(DL_DECLARE)
DL_CURL_SYMBOLS(DL_DECLARE)
DL_CRYPTO_SYMBOLS(DL_DECLARE)
DL_SQLITE_SYMBOLS(DL_DECLARE)
DL_MHD_SYMBOLS(DL_DECLARE)

int dl_systemd(void);
int dl_curl(void);
int dl_crypto(void);
int dl_sqlite(void);
int dl_mhd(void);

/* SHA-256 of DATA as 64 lower-case hex digits (libcrypto, loaded on first use); -errno. */
int sha256_hex(const void *data, size_t len, char ret[65]);
/* HMAC-SHA256 of DATA under KEY, as 64 lower-case hex digits; -errno. */
int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char ret[65]);
