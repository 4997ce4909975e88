/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libsystemd, libcurl and libcrypto, loaded with dlopen() the first time a command needs
 * them, the way systemd loads its optional libraries. Linking them would make every command pay
 * for them at start: measured here, `node-agent inventory` went from 2.8 MB to 3.8 MB
 * peak RSS with libsystemd linked, and a program linking libcurl alone starts at 7.8 MB
 * and ~320 system calls (its ~30 dependent libraries), against the goal of < 4 MB.
 *
 * Call dl_systemd() / dl_curl() / dl_crypto() (0 on success, -errno when the library is
 * missing) and then use sym_<function>.
 */

#include <curl/curl.h>
#include <openssl/evp.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#define DL_DECLARE(f) extern __typeof__(f) *sym_##f

DL_DECLARE(sd_notify);
DL_DECLARE(sd_booted);
DL_DECLARE(sd_journal_sendv);
DL_DECLARE(sd_bus_open_system);
DL_DECLARE(sd_bus_set_method_call_timeout);
DL_DECLARE(sd_bus_call_method);
DL_DECLARE(sd_bus_error_free);
DL_DECLARE(sd_bus_unref);
DL_DECLARE(sd_bus_match_signal);
DL_DECLARE(sd_bus_process);
DL_DECLARE(sd_bus_wait);
DL_DECLARE(sd_bus_message_read);
DL_DECLARE(sd_bus_message_unref);
DL_DECLARE(sd_bus_slot_unref);
DL_DECLARE(sd_bus_get_property_string);

DL_DECLARE(curl_global_init);
DL_DECLARE(curl_easy_init);
DL_DECLARE(curl_easy_setopt);
DL_DECLARE(curl_easy_perform);
DL_DECLARE(curl_easy_getinfo);
DL_DECLARE(curl_easy_cleanup);
DL_DECLARE(curl_easy_strerror);
DL_DECLARE(curl_slist_append);
DL_DECLARE(curl_slist_free_all);

/* libcrypto (OpenSSL 3, a dependency of libcurl): SHA-256 of downloads */
DL_DECLARE(EVP_Digest);
DL_DECLARE(EVP_sha256);

int dl_systemd(void);
int dl_curl(void);
int dl_crypto(void);

/* SHA-256 of DATA as 64 lower-case hex digits (libcrypto, loaded on first use); -errno. */
int sha256_hex(const void *data, size_t len, char ret[65]);
