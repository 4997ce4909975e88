/* SPDX-License-Identifier: MIT */
/* Kubernetes label, taint and name syntax; NodeRestriction's rules for kubelet labels. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kube/k8s.h"

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 */
static bool qualified_name(const char *s, size_t n, const char **why)
{
	if (n == 0) {
		*why = "name part is empty";
		return false;
	}
	if (n > 63) {
		*why = "name part is longer than 63 characters";
		return false;
	}
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1])) {
		*why = "name part must start and end with a letter or digit";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') {
			*why = "name part may only contain letters, digits, '-', '_' and '.'";
			return false;
		}
	return true;
}

/* DNS-1123 subdomain: lower-case labels [a-z0-9]([-a-z0-9]*[a-z0-9])? joined by '.', <= 253 */
static bool dns_subdomain(const char *s, size_t n, const char **why)
{
	size_t start = 0;

	if (n == 0 || n > 253) {
		*why = "prefix must be 1 to 253 characters";
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			char c = s[i];
			if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-') {
				*why = "prefix must be a lower-case DNS subdomain";
				return false;
			}
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-' || i - start > 63) {
			*why = "prefix must be a lower-case DNS subdomain";
			return false;
		}
		start = i + 1;
	}
	return true;
}

/* A label key: the N bytes at KEY, which need not be NUL-terminated. */
static bool label_key_valid(const char *key, size_t n, const char **why)
{
	const char *slash = memchr(key, '/', n);
	size_t name;

	if (!slash)
		return qualified_name(key, n, why);
	name = n - (size_t)(slash + 1 - key);
	if (memchr(slash + 1, '/', name)) {
		*why = "a key has at most one '/'";
		return false;
	}
	return dns_subdomain(key, (size_t)(slash - key), why) &&
	       qualified_name(slash + 1, name, why);
}

static bool label_value_valid(const char *value, size_t n, const char **why)
{
	if (n == 0)
		return true;
	if (!qualified_name(value, n, why)) {
		*why = n > 63 ? "value is longer than 63 characters"
			      : "value must be empty or start and end with a letter or digit, with "
				"only letters, digits, '-', '_' and '.'";
		return false;
	}
	return true;
}

bool k8s_label_key_valid(const char *key, const char **why)
{
	const char *dummy;

	return label_key_valid(key, strlen(key), why ? why : &dummy);
}

bool k8s_label_value_valid(const char *value, const char **why)
{
	const char *dummy;

	return label_value_valid(value, strlen(value), why ? why : &dummy);
}

static bool has_domain_suffix(const char *prefix, size_t n, const char *domain)
{
	size_t d = strlen(domain);

	if (n == d && strncmp(prefix, domain, d) == 0)
		return true;
	return n > d && prefix[n - d - 1] == '.' && strncmp(prefix + n - d, domain, d) == 0;
}

/*
 * kubelet --node-labels: keys outside kubernetes.io/k8s.io are free; inside, only the
 * kubelet.kubernetes.io and node.kubernetes.io namespaces (and subdomains) and the listed
 * well-known labels (kubernetes: staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go).
 */
bool k8s_label_kubelet_settable(const char *key)
{
	static const char *const allowed[] = {
	    "kubernetes.io/hostname",
	    "kubernetes.io/arch",
	    "kubernetes.io/os",
	    "beta.kubernetes.io/arch",
	    "beta.kubernetes.io/os",
	    "beta.kubernetes.io/instance-type",
	    "node.kubernetes.io/instance-type",
	    "failure-domain.beta.kubernetes.io/region",
	    "failure-domain.beta.kubernetes.io/zone",
	    "topology.kubernetes.io/region",
	    "topology.kubernetes.io/zone",
	};
	const char *slash = strchr(key, '/');
	size_t n;

	if (!slash)
		return true;
	n = (size_t)(slash - key);
	if (!has_domain_suffix(key, n, "kubernetes.io") && !has_domain_suffix(key, n, "k8s.io"))
		return true;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return has_domain_suffix(key, n, "kubelet.kubernetes.io") ||
	       has_domain_suffix(key, n, "node.kubernetes.io");
}

bool k8s_taint_valid(const char *taint, const char **why)
{
	const char *colon = strrchr(taint, ':'), *eq, *dummy;

	if (!why)
		why = &dummy;
	if (!colon) {
		*why = "a taint is key[=value]:Effect";
		return false;
	}
	if (strcmp(colon + 1, "NoSchedule") != 0 && strcmp(colon + 1, "PreferNoSchedule") != 0 &&
	    strcmp(colon + 1, "NoExecute") != 0) {
		*why = "the effect must be NoSchedule, PreferNoSchedule or NoExecute";
		return false;
	}
	/* checked in place: a check that can run out of memory would have no answer */
	eq = memchr(taint, '=', (size_t)(colon - taint));
	return label_key_valid(taint, (size_t)((eq ? eq : colon) - taint), why) &&
	       (!eq || label_value_valid(eq + 1, (size_t)(colon - eq - 1), why));
}

int k8s_dns1123_label(const char *s, char **ret)
{
	char *out = malloc(64);
	size_t n = 0;
	bool dash = false;

	if (!out)
		return -ENOMEM;
	for (; s && *s && n < 63; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0 && n < 62)
				out[n++] = '-';
			dash = false;
			out[n++] = c;
		} else
			dash = true;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	return 0;
}

char *k8s_gfd_sanitize(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len + 1);
	size_t n = 0;
	bool space = false;

	if (!out)
		return NULL;
	for (; *s; s++) {
		char c = *s;

		if (c == ' ') {
			space = n > 0;
			continue;
		}
		if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
			continue;
		if (n == 0 && !is_alnum(c))
			continue; /* a label value starts with an alphanumeric */
		if (space)
			out[n++] = '-';
		space = false;
		out[n++] = c;
	}
	/* a label value: at most 63, ending in an alphanumeric */
	if (n > 63)
		n = 63;
	while (n > 0 && !is_alnum(out[n - 1]))
		n--;
	out[n] = '\0';
	return out;
}
