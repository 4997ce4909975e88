/* SPDX-License-Identifier: MIT */
/* dlopen() of libsystemd, libcurl, libcrypto, libsqlite3 and libmicrohttpd on first use; see dl.h
 * for why. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "basic/dl.h"
#include "basic/macro.h"

#define DL_DEFINE(f) __typeof__(f) *sym_##f;
#define DL_SYMBOL(f) {(void **)&sym_##f, #f},

DL_SYSTEMD_SYMBOLS(DL_DEFINE)
DL_CURL_SYMBOLS(DL_DEFINE)
DL_CRYPTO_SYMBOLS(DL_DEFINE)
DL_SQLITE_SYMBOLS(DL_DEFINE)
DL_MHD_SYMBOLS(DL_DEFINE)

typedef struct dl_symbol {
	void **sym;
	const char *name;
} dl_symbol;

static const dl_symbol systemd_symbols[] = {DL_SYSTEMD_SYMBOLS(DL_SYMBOL)};
static const dl_symbol curl_symbols[] = {DL_CURL_SYMBOLS(DL_SYMBOL)};
static const dl_symbol crypto_symbols[] = {DL_CRYPTO_SYMBOLS(DL_SYMBOL)};
static const dl_symbol sqlite_symbols[] = {DL_SQLITE_SYMBOLS(DL_SYMBOL)};
static const dl_symbol mhd_symbols[] = {DL_MHD_SYMBOLS(DL_SYMBOL)};

typedef struct dl_library {
	const char *soname;
	const dl_symbol *symbols;
	size_t n_symbols;
	bool (*init)(void); /* once every symbol is found; false fails the library */
	int state;	    /* 0 not tried, 1 loaded, -errno failed */
} dl_library;

static bool curl_init(void)
{
	return sym_curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* The process keeps each library once loaded: the handles are never closed. */
static dl_library systemd_library = {
    .soname = "libsystemd.so.0",
    .symbols = systemd_symbols,
    .n_symbols = ELEMENTSOF(systemd_symbols),
};
static dl_library curl_library = {
    .soname = "libcurl.so.4",
    .symbols = curl_symbols,
    .n_symbols = ELEMENTSOF(curl_symbols),
    .init = curl_init,
};
static dl_library crypto_library = {
    .soname = "libcrypto.so.3",
    .symbols = crypto_symbols,
    .n_symbols = ELEMENTSOF(crypto_symbols),
};

static dl_library sqlite_library = {
    .soname = "libsqlite3.so.0",
    .symbols = sqlite_symbols,
    .n_symbols = ELEMENTSOF(sqlite_symbols),
};
static dl_library mhd_library = {
    .soname = "libmicrohttpd.so.12",
    .symbols = mhd_symbols,
    .n_symbols = ELEMENTSOF(mhd_symbols),
};

static int dl_library_load(dl_library *lib)
{
	void *h;
	bool ok = true;

	if (lib->state)
		return lib->state > 0 ? 0 : lib->state;
	h = dlopen(lib->soname, RTLD_NOW | RTLD_NODELETE);
	if (!h)
		return lib->state = -EOPNOTSUPP;
	for (size_t i = 0; i < lib->n_symbols; i++) {
		*lib->symbols[i].sym = dlsym(h, lib->symbols[i].name);
		if (!*lib->symbols[i].sym)
			ok = false;
	}
	if (ok && lib->init && !lib->init())
		ok = false;
	lib->state = ok ? 1 : -ELIBBAD;
	return ok ? 0 : -ELIBBAD;
}

int dl_systemd(void)
{
	return dl_library_load(&systemd_library);
}

int dl_curl(void)
{
	return dl_library_load(&curl_library);
}

int dl_crypto(void)
{
	return dl_library_load(&crypto_library);
}

int dl_sqlite(void)
{
	return dl_library_load(&sqlite_library);
}

int dl_mhd(void)
{
	return dl_library_load(&mhd_library);
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

int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char ret[65])
{
	unsigned char md[32];
	size_t n = 0;
	int r = dl_crypto();

	if (r < 0)
		return r;
	if (!sym_EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, md,
			   sizeof(md), &n) ||
	    n != sizeof(md))
		return -EIO;
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(ret + 2 * i, 3, "%02x", md[i]);
	return 0;
}
