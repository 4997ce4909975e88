/* SPDX-License-Identifier: MIT */
/* String and number helpers shared by the detectors. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "hw-internal.h"

char *hw_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *hw_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *hw_asprintf(const char *fmt, ...)
{
	char *p = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	return p;
}

char **hw_strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **i = v; *i; i++)
		free(*i);
	free(v);
	return NULL;
}

size_t hw_strv_length(char *const *v)
{
	size_t n = 0;

	if (v)
		while (v[n])
			n++;
	return n;
}

int hw_strv_push(char ***v, char *s)
{
	size_t n;
	char **nv;

	if (!s)
		return -ENOMEM;
	n = hw_strv_length(*v);
	nv = reallocarray(*v, n + 2, sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

bool hw_strv_contains(char *const *v, const char *s)
{
	if (v)
		for (; *v; v++)
			if (strcmp(*v, s) == 0)
				return true;
	return false;
}

char *hw_strip_dup(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '\0'))
		n--;
	return n ? strndup(s, n) : NULL;
}

/* Values firmware vendors leave in DMI and drive vendors in serial fields when they mean
 * "nothing here". Reporting them as real identifiers would make nodes collide. */
static const char *const placeholders[] = {
    "To Be Filled By O.E.M.",
    "To be filled by O.E.M.",
    "Default string",
    "System Serial Number",
    "System Product Name",
    "System manufacturer",
    "System Version",
    "Base Board Serial Number",
    "Chassis Serial Number",
    "Not Specified",
    "Not Applicable",
    "Not Available",
    "Unknown",
    "None",
    "N/A",
    "OEM",
    "O.E.M.",
    "INVALID",
    "Type1ProductConfigId",
    "0123456789",
    "123456789",
    "03000200-0400-0500-0006-000700080009",
};

char *hw_clean_ident(const char *s, size_t n)
{
	_cleanup_free_ char *t = hw_strip_dup(s, n);
	bool all_same = true;

	if (!t)
		return NULL;
	for (char *p = t; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
		if (strcasecmp(t, placeholders[i]) == 0)
			return NULL;
	/* "00000000", "FFFFFFFF", "xxxxxx", all-zero UUIDs */
	for (char *p = t + 1; *p; p++)
		if (*p != t[0] && *p != '-')
			all_same = false;
	if (all_same && strlen(t) > 1 && strchr("0Ffx ", t[0]))
		return NULL;
	return TAKE_PTR(t);
}

/* 1..max digits at *p, advanced past them. */
static bool take_digits(const char **p, size_t max, unsigned *ret)
{
	unsigned v = 0;
	size_t n = 0;

	while (n < max && isdigit((unsigned char)(*p)[n]))
		v = v * 10 + (unsigned)((*p)[n++] - '0');
	if (n == 0 || isdigit((unsigned char)(*p)[n]))
		return false;
	*p += n;
	*ret = v;
	return true;
}

char *hw_date_iso(const char *s)
{
	static const unsigned days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s, *year_start;
	unsigned y, m, d;

	if (!s)
		return NULL;
	if (take_digits(&p, 4, &y) && p - s == 4) {
		if (*p++ != '-' || !take_digits(&p, 2, &m) || *p++ != '-' ||
		    !take_digits(&p, 2, &d))
			return NULL;
	} else {
		p = s;
		if (!take_digits(&p, 2, &m) || *p++ != '/' || !take_digits(&p, 2, &d) ||
		    *p++ != '/')
			return NULL;
		year_start = p;
		if (!take_digits(&p, 4, &y) || (p - year_start != 2 && p - year_start != 4))
			return NULL;
		/* two-digit years as the kernel reads them (dmi_get_date()): no BIOS before 1996 */
		if (p - year_start == 2) {
			y += 1900;
			if (y < 1996)
				y += 100;
		}
	}
	if (*p || y < 1970 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
	    (m == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))))
		return NULL;
	return hw_asprintf("%04u-%02u-%02u", y, m, d);
}

int hw_parse_u64(const char *s, int base, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno)
		return -errno;
	if (end == s || *end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int hw_parse_i64(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (end == s || *end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *hw_path_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* "dddd:bb:dd.f" */
bool hw_is_pci_address(const char *s, size_t n)
{
	static const char pattern[] = "xxxx:xx:xx.x";

	if (n != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (pattern[i] == 'x') {
			if (!isxdigit((unsigned char)s[i]))
				return false;
		} else if (s[i] != pattern[i])
			return false;
	}
	return true;
}

char *hw_pci_address_in_path(const char *path)
{
	const char *best = NULL;
	const char *p = path;

	while (p && *p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (hw_is_pci_address(p, n))
			best = p;
		p = e ? e + 1 : NULL;
	}
	return best ? strndup(best, 12) : NULL;
}

/* Lower-case "aa:bb:cc:dd:ee:ff"; NULL for anything else and for the all-zero address. */
char *hw_mac_normalize(const char *s)
{
	char out[18];
	bool zero = true;

	if (!s || strlen(s) != 17)
		return NULL;
	for (size_t i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':' && s[i] != '-')
				return NULL;
			out[i] = ':';
			continue;
		}
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
		out[i] = (char)tolower((unsigned char)s[i]);
		if (out[i] != '0')
			zero = false;
	}
	out[17] = '\0';
	return zero ? NULL : strdup(out);
}
