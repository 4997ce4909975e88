/* SPDX-License-Identifier: MIT */
/*
 * Which machine an inventory is from. Never the SMBIOS UUID alone (NETBOOT.md): QEMU gives
 * zeros, many AMI boards ship one placeholder UUID, cheap boards "To Be Filled By O.E.M."
 * as their serial. Placeholders are dropped here, so that db.c matches on what is left: the
 * UUID, serial with vendor and product, and the permanent MACs (not multicast, not of
 * virtual links).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/dl.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "serve/serve.h"

/* UUIDs seen on many machines at once: firmware defaults that vendors never filled in */
static const char *const placeholder_uuids[] = {
    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "03000200-0400-0500-0006-000700080009", "00020003-0004-0005-0006-000700080009",
    "12345678-1234-5678-90ab-cddeefaabbcc", "01234567-8910-1112-1314-151617181920",
};

static const char *const placeholder_serials[] = {
    "to be filled by o.e.m.",
    "default string",
    "system serial number",
    "not specified",
    "none",
    "0",
    "0123456789",
    "chassis serial number",
    "not applicable",
    "n/a",
    "123456789",
    "oem",
};

bool serve_uuid_is_placeholder(const char *uuid)
{
	size_t n = 0;

	if (!uuid)
		return true;
	for (const char *s = uuid; *s; s++)
		n += isxdigit((unsigned char)*s) != 0;
	if (n != 32)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(placeholder_uuids); i++)
		if (!strcasecmp(uuid, placeholder_uuids[i]))
			return true;
	return false;
}

bool serve_serial_is_placeholder(const char *serial)
{
	const char *s = serial;

	if (!s)
		return true;
	while (*s == ' ' || *s == '0')
		s++;
	if (!*s)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(placeholder_serials); i++)
		if (!strcasecmp(serial, placeholder_serials[i]))
			return true;
	return false;
}

int serve_mac_normalize(const char *s, char ret[static 18])
{
	size_t len = s ? strlen(s) : 0, step = len == 17 ? 3 : 2;
	char out[18];

	if (len != 12 && len != 17)
		return -EINVAL;
	for (size_t i = 0; i < 6; i++) {
		const char *p = s + i * step;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		if (step == 3 && i < 5 && p[2] != s[2])
			return -EINVAL;
		out[i * 3] = (char)tolower((unsigned char)p[0]);
		out[i * 3 + 1] = (char)tolower((unsigned char)p[1]);
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	if (step == 3 && s[2] != ':' && s[2] != '-')
		return -EINVAL;
	memcpy(ret, out, sizeof(out));
	return 0;
}

int serve_mac_from_path(const char *path, const char *prefix, const char *suffix,
			char ret[static 18])
{
	size_t lp = strlen(prefix), ls = strlen(suffix), lu = strlen(path);
	_cleanup_free_ char *m = NULL;

	if (lu <= lp + ls || strncmp(path, prefix, lp) || strcmp(path + lu - ls, suffix))
		return -ENOENT;
	m = strndup(path + lp, lu - lp - ls);
	return m ? serve_mac_normalize(m, ret) : -ENOMEM;
}

/* Not multicast, not zero. Locally administered MACs stay: QEMU's 52:54:00:... are, and a
 * VM's MAC is as permanent as its configuration; links the inventory calls virtual (bridges,
 * veths, bonds) are left out by the caller. */
static bool mac_is_permanent(const char *mac)
{
	unsigned first = (unsigned)strtoul(mac, NULL, 16);

	return !(first & 0x1) && strcmp(mac, "00:00:00:00:00:00");
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

static int add_mac(serve_identity *id, const char *s)
{
	char mac[18];

	if (!s || serve_mac_normalize(s, mac) < 0 || !mac_is_permanent(mac) ||
	    strv_has(id->macs, mac))
		return 0;
	return strv_add(&id->macs, mac);
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

int serve_identity_from_json(json_object *inv, serve_identity *ret)
{
	serve_identity id = {0};
	json_object *sys = NULL, *boot = NULL, *nics = NULL;
	const char *uuid;
	int r = 0;

	json_object_object_get_ex(inv, "system", &sys);
	json_object_object_get_ex(inv, "boot", &boot);
	uuid = json_str(sys, "uuid");
	if (!serve_uuid_is_placeholder(uuid)) {
		r = dup_or_null(uuid, &id.uuid);
		for (char *s = id.uuid; s && *s; s++)
			*s = (char)tolower((unsigned char)*s);
	}
	if (r >= 0 && !serve_serial_is_placeholder(json_str(sys, "serial")))
		r = dup_or_null(json_str(sys, "serial"), &id.serial);
	if (r >= 0)
		r = dup_or_null(json_str(sys, "vendor"), &id.vendor);
	if (r >= 0)
		r = dup_or_null(json_str(sys, "product"), &id.product);
	if (r >= 0)
		r = add_mac(&id, json_str(boot, "pxe_mac"));
	if (json_object_object_get_ex(inv, "nics", &nics) &&
	    json_object_is_type(nics, json_type_array))
		for (size_t i = 0; r >= 0 && i < json_object_array_length(nics); i++) {
			json_object *nic = json_object_array_get_idx(nics, i), *v;

			if (json_object_object_get_ex(nic, "virtual", &v) &&
			    json_object_get_boolean(v))
				continue;
			r = add_mac(&id, json_str(nic, "mac"));
		}
	if (r >= 0 && !id.uuid && !id.serial && !id.macs)
		r = -EINVAL;
	if (r < 0) {
		serve_identity_done(&id);
		return r;
	}
	*ret = id;
	return 0;
}

void serve_identity_done(serve_identity *id)
{
	free(id->uuid);
	free(id->serial);
	free(id->vendor);
	free(id->product);
	strv_free(id->macs);
	*id = (serve_identity){0};
}

int serve_machine_code(const serve_identity *id, unsigned salt, char ret[static 7])
{
	/* 30 symbols: no 0/O, 1/I/L, U (which reads as V), no vowels but A and E */
	static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
	_cleanup_free_ char *text = NULL;
	char hex[65];
	uint64_t v;
	int r;

	/* the strongest identity: what db.c matches on first */
	if (asprintf(&text, "node-agent-code\n%u\n%s\n%s\n%s\n%s", salt, id->uuid ? id->uuid : "",
		     id->uuid	  ? ""
		     : id->serial ? id->serial
				  : "",
		     id->uuid || id->serial    ? ""
		     : id->macs && id->macs[0] ? id->macs[0]
					       : "",
		     id->uuid	   ? ""
		     : id->product ? id->product
				   : "") < 0) {
		text = NULL;
		return -ENOMEM;
	}
	r = sha256_hex(text, strlen(text), hex);
	if (r < 0)
		return r;
	hex[16] = '\0';
	v = strtoull(hex, NULL, 16);
	for (size_t i = 0; i < 6; i++) {
		ret[i] = alphabet[v % (sizeof(alphabet) - 1)];
		v /= sizeof(alphabet) - 1;
	}
	ret[6] = '\0';
	return 0;
}
