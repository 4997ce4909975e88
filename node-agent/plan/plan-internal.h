/* SPDX-License-Identifier: MIT */
#pragma once

/* What the files of plan/ share with each other and with their unit tests; the module's
 * API is plan.h. */

#include <stdbool.h>
#include <stdio.h>

#include "basic/macro.h"
#include "plan/plan.h"

#define CONTAINERD_CONFIG "/etc/containerd/config.toml"
/* the first line of every file node-agent writes: a file that starts with it is ours */
#define MANAGED_MARK "# Written by node-agent"
/* the K3s version the image carries: `k3s --version`, written by make image */
#define PLAN_K3S_VERSION_FILE "/usr/lib/node-agent/k3s-version"
/* in our containerd config.toml: Debian's packaged settings are carried on in it */
#define DEBIAN_KEPT "# Debian's packaged default, kept"

/* json.c: O[KEY] = V, taking V (NULL: its allocation failed); -ENOMEM when anything failed */
int plan_json_add(json_object *o, const char *key, json_object *v);
/* O[KEY] = the string S, or null when S is NULL */
int plan_json_add_str(json_object *o, const char *key, const char *s);
/* append V to the array A, taking V (NULL: its allocation failed) */
int plan_json_append(json_object *a, json_object *v);

/* plan.c: the small containers the parts of the plan share */
/* a warning for the plan's warnings, once however often it is given; 0 or -ENOMEM */
_printf_(2, 3) int plan_warnf(na_plan *p, const char *fmt, ...);
/* close an open_memstream() stream: 0 with *buf its whole text, or -ENOMEM and *buf NULL */
int plan_memstream_close(FILE *f, char **buf);
/* S (NULL: false) is in LIST, ignoring case */
bool plan_in_list_ci(char *const *list, const char *s);
/* add a file to the plan, taking CONTENT (NULL: making it ran out of memory: -ENOMEM) */
int plan_add_file(na_plan *p, const char *path, unsigned mode, char *content, bool needs_disk);

/* rules.c: the matching rules' role, labels (split by NodeRestriction), taints into P;
 * *ret_ip_glob the node_ip_interface of the last rule that names one, or NULL */
int plan_rules(na_plan *p, const na_config *c, const hw_inventory *inv, const char **ret_ip_glob);
/* P's node name from the template TMPL, falling back to the MAC or the machine-id */
int plan_node_name(na_plan *p, const char *tmpl, const hw_inventory *inv, char **ret);
/* P's node IP: the first IPv4 address of the first interface IFACE_GLOB matches, or of the
 * one with the default route when IFACE_GLOB is NULL */
int plan_node_ip(na_plan *p, const char *iface_glob, const hw_inventory *inv);

/* plan.c: K3s's default-runtime (nvidia, where this K3s finds the runtime), or a warning */
int plan_default_runtime(na_plan *p, const plan_target *t);

/* render.c: K3s's config.yaml into P */
int plan_k3s_config(na_plan *p, const na_config *c);
/* render.c: the NVIDIA runtime for a standalone containerd: its drop-in, its main config
 * (unless someone else's is there: then a warning) */
int plan_containerd(na_plan *p, const na_config *c, const plan_target *t);

/*
 * disk.c: the data disk of data_disk (C's config) among INV's disks, into p->disk, and why
 * each disk looked at was taken or refused, into p->disk_decisions. Only disks that match
 * data_disk.match are candidates. The first candidate, in INV's order, holding an ext4
 * filesystem labelled data_disk.label is mounted as it is, in preference to any other.
 * Else the first candidate that is blank (no signature, known) or whose serial or WWN is in
 * allow_wipe_serials (case ignored) is to be formatted; a candidate with signatures, or
 * that could not be read, is never formatted otherwise. No disk: p->disk stays NULL, with
 * a warning. 0 or -ENOMEM.
 */
int plan_choose_disk(na_plan *p, const na_config *c, const hw_inventory *inv);
/* disk.c: plan_choose_disk(), and the chosen disk's mount unit into P */
int plan_data_disk(na_plan *p, const na_config *c, const hw_inventory *inv);
/* disk.c: what keeps K3s's node password and data dir across reboots: the data disk (bind
 * mounts for what is not under its mount point, K3s's unit requiring them), else an error
 * for servers and a warning for agents, unless the config says the root persists */
int plan_persistence(na_plan *p, const na_config *c);
/* plan.c: an error that makes the plan unusable (see na_plan.errors) */
_printf_(2, 3) int plan_errorf(na_plan *p, const char *fmt, ...);
plan_disk *plan_disk_free(plan_disk *d);
