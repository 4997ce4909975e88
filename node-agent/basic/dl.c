/* SPDX-License-Identifier: MIT */
/* dlopen() of libsystemd and libcurl on first use; see dl.h for why. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "basic/dl.h"

#define DL_DEFINE(f) __typeof__(f) *sym_##f
#define DL_LOAD(h, f)                                                                              \
	do {                                                                                       \
		*(void **)&sym_##f = dlsym((h), #f);                                               \
		if (!sym_##f)                                                                      \
			ok = false;                                                                \
	} while (0)

DL_DEFINE(sd_notify);
DL_DEFINE(sd_booted);
DL_DEFINE(sd_journal_sendv);
DL_DEFINE(sd_bus_open_system);
DL_DEFINE(sd_bus_set_method_call_timeout);
DL_DEFINE(sd_bus_call_method);
DL_DEFINE(sd_bus_error_free);
DL_DEFINE(sd_bus_unref);
DL_DEFINE(sd_bus_match_signal);
DL_DEFINE(sd_bus_process);
DL_DEFINE(sd_bus_wait);
DL_DEFINE(sd_bus_message_read);
DL_DEFINE(sd_bus_message_unref);
DL_DEFINE(sd_bus_slot_unref);
DL_DEFINE(sd_bus_get_property_string);

DL_DEFINE(curl_global_init);
DL_DEFINE(curl_easy_init);
DL_DEFINE(curl_easy_setopt);
DL_DEFINE(curl_easy_perform);
DL_DEFINE(curl_easy_getinfo);
DL_DEFINE(curl_easy_cleanup);
DL_DEFINE(curl_easy_strerror);
DL_DEFINE(curl_slist_append);
DL_DEFINE(curl_slist_free_all);

DL_DEFINE(EVP_Digest);
DL_DEFINE(EVP_sha256);

/* The process keeps each library once loaded: the handles are never closed. */
static int systemd_state, curl_state, crypto_state; /* 0 not tried, 1 loaded, -errno failed */

int dl_systemd(void)
{
	void *h;
	bool ok = true;

	if (systemd_state)
		return systemd_state > 0 ? 0 : systemd_state;
	h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_NODELETE);
	if (!h)
		return systemd_state = -EOPNOTSUPP;
	DL_LOAD(h, sd_notify);
	DL_LOAD(h, sd_booted);
	DL_LOAD(h, sd_journal_sendv);
	DL_LOAD(h, sd_bus_open_system);
	DL_LOAD(h, sd_bus_set_method_call_timeout);
	DL_LOAD(h, sd_bus_call_method);
	DL_LOAD(h, sd_bus_error_free);
	DL_LOAD(h, sd_bus_unref);
	DL_LOAD(h, sd_bus_match_signal);
	DL_LOAD(h, sd_bus_process);
	DL_LOAD(h, sd_bus_wait);
	DL_LOAD(h, sd_bus_message_read);
	DL_LOAD(h, sd_bus_message_unref);
	DL_LOAD(h, sd_bus_slot_unref);
	DL_LOAD(h, sd_bus_get_property_string);
	systemd_state = ok ? 1 : -ELIBBAD;
	return ok ? 0 : -ELIBBAD;
}

int dl_curl(void)
{
	void *h;
	bool ok = true;

	if (curl_state)
		return curl_state > 0 ? 0 : curl_state;
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NODELETE);
	if (!h)
		return curl_state = -EOPNOTSUPP;
	DL_LOAD(h, curl_global_init);
	DL_LOAD(h, curl_easy_init);
	DL_LOAD(h, curl_easy_setopt);
	DL_LOAD(h, curl_easy_perform);
	DL_LOAD(h, curl_easy_getinfo);
	DL_LOAD(h, curl_easy_cleanup);
	DL_LOAD(h, curl_easy_strerror);
	DL_LOAD(h, curl_slist_append);
	DL_LOAD(h, curl_slist_free_all);
	if (ok && sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ok = false;
	curl_state = ok ? 1 : -ELIBBAD;
	return ok ? 0 : -ELIBBAD;
}

int dl_crypto(void)
{
	void *h;
	bool ok = true;

	if (crypto_state)
		return crypto_state > 0 ? 0 : crypto_state;
	h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NODELETE);
	if (!h)
		return crypto_state = -EOPNOTSUPP;
	DL_LOAD(h, EVP_Digest);
	DL_LOAD(h, EVP_sha256);
	crypto_state = ok ? 1 : -ELIBBAD;
	return ok ? 0 : -ELIBBAD;
}

int sha256_hex(const void *data, size_t len, char ret[65])
{
	unsigned char md[32];
	unsigned n = 0;
	int r = dl_crypto();

	if (r < 0)
		return r;
	if (sym_EVP_Digest(data, len, md, &n, sym_EVP_sha256(), NULL) != 1 || n != sizeof(md))
		return -EIO;
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(ret + 2 * i, 3, "%02x", md[i]);
	return 0;
}
