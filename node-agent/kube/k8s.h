/* SPDX-License-Identifier: MIT */
#pragma once

/* Kubernetes syntax rules (apimachinery validation) and NodeRestriction, as pure functions. */

#include <stdbool.h>
#include <stddef.h>

/* Label key: optional DNS-1123 subdomain prefix (<= 253) + "/" + name (<= 63,
 * [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?). On failure *why says what is wrong. */
bool k8s_label_key_valid(const char *key, const char **why);
/* Label value: empty, or <= 63 characters of the name alphabet. */
bool k8s_label_value_valid(const char *value, const char **why);
/* May a kubelet set this label on its own Node (NodeRestriction admission)? */
bool k8s_label_kubelet_settable(const char *key);
/* "key[=value]:Effect" with Effect NoSchedule | PreferNoSchedule | NoExecute. */
bool k8s_taint_valid(const char *taint, const char **why);
/* A valid DNS-1123 label from any text: lower-case, [a-z0-9-], <= 63, no leading or
 * trailing '-'. Returns 0, -EINVAL when nothing usable remains, or -ENOMEM. */
int k8s_dns1123_label(const char *s, char **ret);
/* GPU Feature Discovery's sanitising of a product name: drop characters outside
 * [A-Za-z0-9-_. ], turn runs of spaces into "-". Result cut to a valid label value,
 * possibly ""; NULL only when the allocation failed. */
char *k8s_gfd_sanitize(const char *s);
