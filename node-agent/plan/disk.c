/* SPDX-License-Identifier: MIT */
/* The data disk: which disk, whether it is mounted as it is or formatted first (never one
 * that holds anything unless the config names it), and its mount unit. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "inventory/health.h"
#include "plan/plan-internal.h"

char *plan_unit_name_from_path(const char *path, const char *suffix)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *s = path;

	if (!f)
		return NULL;
	while (*s == '/')
		s++;
	if (!*s)
		fputc('-', f);
	for (; *s; s++) {
		if (*s == '/') {
			while (s[1] == '/')
				s++;
			if (s[1])
				fputc('-', f);
		} else if (isalnum((unsigned char)*s) || *s == ':' || *s == '_' ||
			   (*s == '.' && ftell(f) > 0)) /* only a leading '.' is escaped */
			fputc(*s, f);
		else
			fprintf(f, "\\x%02x", (unsigned char)*s);
	}
	fputs(suffix, f);
	return plan_memstream_close(f, &out) < 0 ? NULL : out;
}

/* A stable filesystem UUID for a disk of this machine: the same plan every boot. */
static char *stable_uuid(const char *machine, const char *disk)
{
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
	unsigned char b[16];
	char *out = NULL;

	for (const char *s = machine ? machine : ""; *s; s++)
		h1 = (h1 ^ (unsigned char)*s) * 0x100000001b3ULL;
	for (const char *s = disk ? disk : ""; *s; s++) {
		h1 = (h1 ^ (unsigned char)*s) * 0x100000001b3ULL;
		h2 = (h2 ^ (unsigned char)*s) * 0x100000001b3ULL;
	}
	h2 ^= h1 * 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(h1 >> (8 * i));
		b[8 + i] = (unsigned char)(h2 >> (8 * i));
	}
	b[6] = (b[6] & 0x0f) | 0x80; /* RFC 9562 version 8: custom */
	b[8] = (b[8] & 0x3f) | 0x80; /* variant */
	if (asprintf(&out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		     b[12], b[13], b[14], b[15]) < 0)
		return NULL;
	return out;
}

static bool disk_matches(const na_data_disk *m, const hw_disk *d)
{
	const int64_t gib = INT64_C(1) << 30;

	if (m->min_size_gib >= 0 && (d->size_bytes < 0 || d->size_bytes < m->min_size_gib * gib))
		return false;
	if (m->max_size_gib >= 0 && (d->size_bytes < 0 || d->size_bytes > m->max_size_gib * gib))
		return false;
	if (m->rotational != HW_TRI_UNKNOWN && d->rotational != m->rotational)
		return false;
	if (m->transport && (!d->transport || strcmp(m->transport, d->transport)))
		return false;
	if (m->model && (!d->model || fnmatch(m->model, d->model, FNM_CASEFOLD)))
		return false;
	if (m->serial && !plan_in_list_ci(m->serial, d->serial))
		return false;
	return true;
}

static const hw_filesystem *our_filesystem(const na_data_disk *m, const hw_disk *d)
{
	for (size_t i = 0; i < d->n_filesystems; i++)
		if (d->filesystems[i].type && !strcmp(d->filesystems[i].type, "ext4") &&
		    d->filesystems[i].label && !strcmp(d->filesystems[i].label, m->label))
			return &d->filesystems[i];
	return NULL;
}

__attribute__((format(printf, 2, 3))) static int decision(na_plan *p, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r, n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	r = strv_add(&p->disk_decisions, s);
	free(s);
	return r;
}

/* A failing disk (its own health report says so) is never the data disk: neither formatted
 * nor mounted, its data left as it is. True (with its decision) when D is refused so. */
static bool refuse_failing(na_plan *p, const hw_disk *d, int *r)
{
	if (health_disk(d) != HEALTH_FAILING)
		return false;
	*r = decision(p,
		      "%s: refused: its health is \"failing\" (its own %s report); a failing "
		      "disk is never the data disk, and what it holds is left as it is",
		      d->name,
		      d->health.source && !strcmp(d->health.source, "nvme") ? "NVMe health log"
									    : "SMART");
	return true;
}

static char *signature_list(const hw_disk *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (char **s = d->signatures; s && *s; s++)
		fprintf(f, "%s%s", s == d->signatures ? "" : ", ", *s);
	if (!d->signatures)
		fputs("unknown (the disk could not be read)", f);
	return plan_memstream_close(f, &out) < 0 ? NULL : out;
}

plan_disk *plan_disk_free(plan_disk *d)
{
	if (!d)
		return NULL;
	free(d->device);
	free(d->action);
	free(d->reason);
	free(d->serial);
	free(d->fs_uuid);
	free(d->fs_label);
	free(d->mount);
	free(d->unit);
	strv_free(d->persists);
	strv_free(d->bind_dirs);
	free(d);
	return NULL;
}

int plan_choose_disk(na_plan *p, const na_config *c, const hw_inventory *inv)
{
	const na_data_disk *m = &c->data_disk;
	const hw_disk *pick = NULL;
	const hw_filesystem *fs = NULL;
	const char *why = NULL;
	plan_disk *pd;
	int r = 0;

	/* a disk already carrying our filesystem is the data disk: mount it, never format */
	for (size_t i = 0; i < inv->n_disks && !pick && r >= 0; i++) {
		const hw_disk *d = &inv->disks[i];
		if (disk_matches(m, d) && (fs = our_filesystem(m, d)) &&
		    !refuse_failing(p, d, &r)) {
			pick = d;
			why = "already holds the ext4 filesystem labelled for node data";
			r = decision(p, "%s: mount: %s \"%s\"", d->name, why, m->label);
		}
	}
	if (!pick)
		fs = NULL;
	for (size_t i = 0; i < inv->n_disks && !pick && r >= 0; i++) {
		const hw_disk *d = &inv->disks[i];
		char *sigs;

		if (!disk_matches(m, d)) {
			r = decision(p, "%s: not a candidate: does not match data_disk.match",
				     d->name);
			continue;
		}
		if (our_filesystem(m, d) || refuse_failing(p, d, &r))
			continue;
		if (d->has_signatures == HW_TRI_FALSE) {
			pick = d;
			why = "blank: no partition table or filesystem signature";
			r = decision(p, "%s: format: %s", d->name, why);
			break;
		}
		if (plan_in_list_ci(m->allow_wipe_serials, d->serial) ||
		    plan_in_list_ci(m->allow_wipe_serials, d->wwn)) {
			pick = d;
			why = "has signatures, but its serial or WWN is in allow_wipe_serials";
			r = decision(p, "%s: format: %s", d->name, why);
			break;
		}
		sigs = signature_list(d);
		if (!sigs)
			return -ENOMEM;
		r = decision(
		    p, "%s: refused: signatures %s and serial %s is not in allow_wipe_serials",
		    d->name, sigs, d->serial ? d->serial : "(unknown)");
		free(sigs);
	}
	if (r < 0)
		return r;
	if (!pick)
		return plan_warnf(p,
				  "data_disk: no disk can be used (see disk_decisions); nothing is "
				  "formatted or mounted");
	if (health_disk(pick) == HEALTH_WARNING)
		r = plan_warnf(p,
			       "data_disk: %s is the data disk, and its health is \"warning\": "
			       "back up what it holds and plan its replacement",
			       pick->name);
	if (r < 0)
		return r;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->device = strdup(pick->name);
	pd->action = strdup(fs ? "mount" : "format");
	pd->reason = strdup(why);
	pd->wipe_allowed = !fs && pick->has_signatures != HW_TRI_FALSE;
	pd->serial = pick->serial ? strdup(pick->serial) : NULL;
	pd->fs_label = strdup(m->label);
	pd->fs_uuid = fs && fs->uuid
			  ? strdup(fs->uuid)
			  : stable_uuid(inv->machine_id, pick->serial ? pick->serial : pick->name);
	pd->mount = strdup(m->mount);
	pd->unit = plan_unit_name_from_path(m->mount, ".mount");
	if (!pd->device || !pd->action || !pd->reason || (pick->serial && !pd->serial) ||
	    !pd->fs_label || !pd->fs_uuid || !pd->mount || !pd->unit) {
		plan_disk_free(pd);
		return -ENOMEM;
	}
	p->disk = pd;
	return 0;
}

/* A mount unit that K3s's units come after; REQUIRES: the mount it needs first, or NULL. */
static char *mount_unit_text(const char *head, const char *desc, const char *requires,
			     const char *what, const char *where, const char *type,
			     const char *options)
{
	char *out = NULL;

	if (asprintf(&out,
		     MANAGED_MARK ": %s.\n"
				  "[Unit]\n"
				  "Description=%s\n"
				  "%s%s%s"
				  "Before=k3s.service k3s-agent.service\n"
				  "\n"
				  "[Mount]\n"
				  "What=%s\n"
				  "Where=%s\n"
				  "Type=%s\n"
				  "Options=%s\n"
				  "\n"
				  "[Install]\n"
				  "WantedBy=local-fs.target\n",
		     head, desc, requires ? "RequiresMountsFor=" : "", requires ? requires : "",
		     requires ? "\n" : "", what, where, type, options) < 0)
		return NULL;
	return out;
}

static char *mount_unit(const plan_disk *d)
{
	_cleanup_free_ char *head = NULL, *desc = NULL, *what = NULL;

	if (asprintf(&head, "the node's data disk (%s, serial %s)", d->device,
		     d->serial ? d->serial : "unknown") < 0 ||
	    asprintf(&desc, "node-agent data disk for %s", d->mount) < 0 ||
	    asprintf(&what, "/dev/disk/by-uuid/%s", d->fs_uuid) < 0)
		return NULL;
	return mount_unit_text(head, desc, NULL, what, d->mount, "ext4", "defaults,noatime");
}

int plan_data_disk(na_plan *p, const na_config *c, const hw_inventory *inv)
{
	char *path = NULL;
	int r;

	r = plan_choose_disk(p, c, inv);
	if (r < 0 || !p->disk)
		return r;
	/* the mount unit is written once the data disk is ready */
	if (asprintf(&path, "/etc/systemd/system/%s", p->disk->unit) < 0)
		return -ENOMEM;
	r = plan_add_file(p, path, 0644, mount_unit(p->disk), true);
	free(path);
	if (r < 0)
		return r;
	return strv_add(&p->units, p->disk->unit);
}

/* --- what survives a reboot --- */

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* A bind mount of SOURCE (on the data disk) onto WHERE, once the disk is mounted. */
static char *bind_unit(const plan_disk *d, const char *source, const char *where)
{
	_cleanup_free_ char *head = NULL, *desc = NULL;

	if (asprintf(&head, "%s kept on the data disk (%s)", where, d->device) < 0 ||
	    asprintf(&desc, "node-agent: %s on the data disk", where) < 0)
		return NULL;
	return mount_unit_text(head, desc, d->mount, source, where, "none", "bind");
}

static int persist_on_disk(na_plan *p, plan_disk *d)
{
	static const char *const paths[] = {PLAN_PERSIST_PATHS};
	const char *unit = p->role == ROLE_AGENT ? "k3s-agent.service" : "k3s.service";
	_cleanup_free_ char *dropin = NULL, *content = NULL;
	int r = 0;

	for (size_t i = 0; i < ELEMENTSOF(paths) && r >= 0; i++) {
		_cleanup_free_ char *source = NULL, *unit_name = NULL, *unit_path = NULL;

		r = strv_add(&d->persists, paths[i]);
		if (r < 0 || path_under(paths[i], d->mount))
			continue; /* on the disk as it is */
		/* <mount>/node-agent/<path>: one tree for what node-agent keeps there */
		if (asprintf(&source, "%s%snode-agent%s", d->mount,
			     d->mount[strlen(d->mount) - 1] == '/' ? "" : "/", paths[i]) < 0)
			return -ENOMEM;
		unit_name = plan_unit_name_from_path(paths[i], ".mount");
		if (!unit_name || asprintf(&unit_path, "/etc/systemd/system/%s", unit_name) < 0)
			return -ENOMEM;
		r = strv_add(&d->bind_dirs, source);
		if (r >= 0)
			r = plan_add_file(p, unit_path, 0644, bind_unit(d, source, paths[i]), true);
		if (r >= 0)
			r = strv_add(&p->units, unit_name);
	}
	if (r < 0)
		return r;
	/* K3s starts only with its state in place: RequiresMountsFor= pulls in the mounts
	 * and orders it after them, and a failed mount keeps it from starting on RAM */
	if (asprintf(&dropin, "/etc/systemd/system/%s.d/10-node-agent-state.conf", unit) < 0 ||
	    asprintf(&content,
		     MANAGED_MARK ": K3s's state is on the data disk (%s).\n"
				  "[Unit]\n"
				  "RequiresMountsFor=%s %s\n",
		     d->device, paths[0], paths[1]) < 0)
		return -ENOMEM;
	return plan_add_file(p, dropin, 0644, TAKE_PTR(content), true);
}

int plan_persistence(na_plan *p, const na_config *c)
{
	const char *why;

	if (p->disk)
		return persist_on_disk(p, p->disk);
	if (c->persistent_root)
		return 0;
	why = c->data_disk.present ? "no disk matched data_disk (see disk_decisions)"
				   : "the config has no data_disk";
	if (p->role != ROLE_AGENT)
		return plan_errorf(
		    p,
		    "role %s (rule %s) needs a data disk that keeps K3s's server state "
		    "(/var/lib/rancher/k3s/server: etcd, CA keys, token) and node password "
		    "(/etc/rancher/node) across reboots, but %s: without one, the next boot %s. "
		    "Give this machine a data disk, or set persistent_root: true if its root "
		    "is installed on disk",
		    na_role_name(p->role), p->role_rule ? p->role_rule : "?", why,
		    p->role == ROLE_SERVER_INIT
			? "creates a second cluster with a new CA"
			: "rejoins etcd under a name it already holds and is refused");
	return plan_warnf(
	    p,
	    "%s: nothing keeps K3s's node password (/etc/rancher/node) across reboots; after a "
	    "reboot the server refuses this node under the same name (\"Node password "
	    "rejected\") until its Node is deleted. Give it a data disk, or delete the Node "
	    "(kubectl delete node %s) before it boots again",
	    why, p->node_name);
}
