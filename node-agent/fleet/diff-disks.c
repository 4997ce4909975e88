/* SPDX-License-Identifier: MIT */
/* Disks matched by serial, then WWN, then kernel name: a disk keeps its serial (or WWN) when
 * the kernel renames it. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fleet/diff-internal.h"
#include "fleet/report.h"
#include "inventory/output.h"

static char *disk_text(const hw_disk *d)
{
	char size[32], *s = NULL;

	output_format_bytes(d->size_bytes, size, sizeof(size));
	if (asprintf(&s, "%s, %s %s, serial %s", diff_known(d->model) ? d->model : "unknown model",
		     d->size_bytes >= 0 ? size : "unknown size", report_disk_type(d),
		     diff_known(d->serial) ? d->serial
		     : diff_known(d->wwn)  ? d->wwn
					   : "unknown") < 0)
		return NULL;
	return s;
}

static json_object *disk_json(const hw_disk *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", diff_jstr(d->name));
	json_object_object_add(o, "model", diff_jstr(d->model));
	json_object_object_add(o, "serial", diff_jstr(d->serial));
	json_object_object_add(o, "wwn", diff_jstr(d->wwn));
	json_object_object_add(o, "size_bytes", diff_jint(d->size_bytes));
	json_object_object_add(o, "type", json_object_new_string(report_disk_type(d)));
	return o;
}

static void disk_event(diff_changes *c, const char *kind, bool warning, const hw_disk *a,
		       const hw_disk *b)
{
	char *ta = a ? disk_text(a) : NULL, *tb = b ? disk_text(b) : NULL;
	const hw_disk *d = b ? b : a;
	const char *name = diff_known(d->name) ? d->name : "?";

	if ((a && !ta) || (b && !tb))
		c->oom = true;
	else if (a && b)
		diff_add(c, warning, kind, name, disk_json(a), disk_json(b),
			 "disk %s replaced: was %s, now %s", name, ta, tb);
	else
		diff_add(c, warning, kind, name, a ? disk_json(a) : NULL, b ? disk_json(b) : NULL,
			 "disk %s %s (%s)", name, a ? "removed" : "added", a ? ta : tb);
	free(ta);
	free(tb);
}

static bool disk_identifiable(const hw_disk *d)
{
	return diff_known(d->serial) || diff_known(d->wwn) || diff_known(d->name);
}

typedef bool (*disk_match_fn)(const hw_disk *a, const hw_disk *b);

static bool disk_same_serial(const hw_disk *a, const hw_disk *b)
{
	return diff_str_same(a->serial, b->serial);
}

static bool disk_same_wwn(const hw_disk *a, const hw_disk *b)
{
	return diff_str_same(a->wwn, b->wwn);
}

static bool disk_same_name(const hw_disk *a, const hw_disk *b)
{
	return diff_str_same(a->name, b->name);
}

void diff_disks(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
		bool *used_b)
{
	static const disk_match_fn passes[] = {disk_same_serial, disk_same_wwn, disk_same_name};

	for (size_t i = 0; i < a->n_disks; i++)
		match_a[i] = -1;
	for (size_t j = 0; j < b->n_disks; j++)
		used_b[j] = !disk_identifiable(&b->disks[j]);
	for (size_t p = 0; p < sizeof(passes) / sizeof(passes[0]); p++)
		for (size_t i = 0; i < a->n_disks; i++)
			for (size_t j = 0; match_a[i] < 0 && j < b->n_disks; j++)
				if (!used_b[j] && passes[p](&a->disks[i], &b->disks[j])) {
					match_a[i] = (int)j;
					used_b[j] = true;
				}

	for (size_t i = 0; i < a->n_disks; i++) {
		const hw_disk *x = &a->disks[i], *y;
		char sa[32], sb[32];

		if (!disk_identifiable(x))
			continue;
		if (match_a[i] < 0) {
			disk_event(c, "disk-removed", true, x, NULL);
			continue;
		}
		y = &b->disks[match_a[i]];
		/* matched by name only: another disk in the same place when what identifies a
		 * disk is known on both sides and differs */
		if (diff_str_changed(x->serial, y->serial) || diff_str_changed(x->wwn, y->wwn)) {
			disk_event(c, "disk-replaced", true, x, y);
			continue;
		}
		diff_disk_health(c, x, y);
		diff_link(c, "disk", diff_known(y->name) ? y->name : "?", &x->pcie_link,
			  &y->pcie_link);
		if (diff_i64_changed(x->size_bytes, y->size_bytes)) {
			output_format_bytes(x->size_bytes, sa, sizeof(sa));
			output_format_bytes(y->size_bytes, sb, sizeof(sb));
			diff_add(c, y->size_bytes < x->size_bytes, "disk-resized",
				 diff_known(y->name) ? y->name : "?", diff_jint(x->size_bytes),
				 diff_jint(y->size_bytes),
				 "disk %s size changed from %s to %s (%" PRId64 " to %" PRId64
				 " bytes)",
				 diff_known(y->name) ? y->name : "?", sa, sb, x->size_bytes,
				 y->size_bytes);
		}
	}
	for (size_t j = 0; j < b->n_disks; j++)
		if (!used_b[j])
			disk_event(c, "disk-added", false, NULL, &b->disks[j]);
}
