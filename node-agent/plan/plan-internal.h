/* SPDX-License-Identifier: MIT */
#pragma once

/* What the files of plan/ share with each other and with their unit tests; the module's
 * API is plan.h. */

#include "plan/plan.h"

#define CONTAINERD_CONFIG "/etc/containerd/config.toml"
/* the first line of every file node-agent writes: a file that starts with it is ours */
#define MANAGED_MARK "# Written by node-agent"
/* in our containerd config.toml: Debian's packaged settings are carried on in it */
#define DEBIAN_KEPT "# Debian's packaged default, kept"

/* json.c: O[KEY] = V, taking V (NULL: its allocation failed); -ENOMEM when anything failed */
int plan_json_add(json_object *o, const char *key, json_object *v);
/* O[KEY] = the string S, or null when S is NULL */
int plan_json_add_str(json_object *o, const char *key, const char *s);
/* append V to the array A, taking V (NULL: its allocation failed) */
int plan_json_append(json_object *a, json_object *v);
