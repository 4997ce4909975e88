/* SPDX-License-Identifier: MIT */
/* Changes in what an inventory has once: the system's identity, the CPU, the memory. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fleet/diff-internal.h"
#include "fleet/report.h"
#include "inventory/output.h"

void diff_system(diff_changes *c, const hw_system *a, const hw_system *b)
{
	if (diff_str_changed(a->serial, b->serial))
		diff_add(c, true, "system-serial", "system", diff_jstr(a->serial),
			 diff_jstr(b->serial),
			 "system serial changed from %s to %s: this looks like a different machine",
			 a->serial, b->serial);
	if (diff_str_changed(a->uuid, b->uuid))
		diff_add(c, true, "system-uuid", "system", diff_jstr(a->uuid), diff_jstr(b->uuid),
			 "system UUID changed from %s to %s: this looks like a different machine",
			 a->uuid, b->uuid);
	if (diff_str_changed(a->vendor, b->vendor) || diff_str_changed(a->product, b->product)) {
		char *ma = report_system_model(a), *mb = report_system_model(b);
		diff_add(c, true, "system-model", "system", diff_jstr(ma), diff_jstr(mb),
			 "system model changed from %s to %s: this looks like a different machine",
			 ma ? ma : "?", mb ? mb : "?");
		free(ma);
		free(mb);
	}
}

static json_object *cpu_json(const hw_cpu *cpu)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "model", diff_jstr(cpu->model));
	json_object_object_add(o, "sockets", diff_jint(cpu->sockets));
	json_object_object_add(o, "cores", diff_jint(cpu->cores));
	json_object_object_add(o, "threads", diff_jint(cpu->threads));
	return o;
}

static char *cpu_text(const hw_cpu *cpu)
{
	char counts[96] = "", *s = NULL;
	size_t k = 0;

	/* unknown counts (-1) are left out */
	if (cpu->sockets > 1)
		k += (size_t)snprintf(counts + k, sizeof(counts) - k, ", %" PRId64 " sockets",
				      cpu->sockets);
	if (cpu->cores >= 0)
		k += (size_t)snprintf(counts + k, sizeof(counts) - k, ", %" PRId64 " cores",
				      cpu->cores);
	if (cpu->threads >= 0)
		snprintf(counts + k, sizeof(counts) - k, ", %" PRId64 " threads", cpu->threads);
	if (asprintf(&s, "%s%s%s%s", diff_known(cpu->model) ? cpu->model : "unknown model",
		     counts[0] ? " (" : "", counts[0] ? counts + 2 : "", counts[0] ? ")" : "") < 0)
		return NULL;
	return s;
}

void diff_cpu(diff_changes *c, const hw_cpu *a, const hw_cpu *b)
{
	char *ta, *tb;

	if (!diff_str_changed(a->model, b->model) && !diff_i64_changed(a->sockets, b->sockets) &&
	    !diff_i64_changed(a->cores, b->cores) && !diff_i64_changed(a->threads, b->threads))
		return;
	ta = cpu_text(a);
	tb = cpu_text(b);
	if (!ta || !tb)
		c->oom = true;
	else
		diff_add(c, false, "cpu-changed", "cpu", cpu_json(a), cpu_json(b),
			 "cpu changed from %s to %s", ta, tb);
	free(ta);
	free(tb);
}

void diff_memory(diff_changes *c, const hw_memory *a, const hw_memory *b)
{
	int64_t x, y, tolerance;
	const char *what;
	char sa[32], sb[32];

	if (a->physical_bytes > 0 && b->physical_bytes > 0) {
		/* present memory blocks: exact, the same on every boot */
		x = a->physical_bytes;
		y = b->physical_bytes;
		tolerance = 0;
		what = "installed";
	} else if (a->total_bytes > 0 && b->total_bytes > 0) {
		/* MemTotal moves by some MiB with the kernel version and its reservations */
		x = a->total_bytes;
		y = b->total_bytes;
		tolerance = x / 32 > (64 << 20) ? x / 32 : (64 << 20);
		what = "usable";
	} else
		return;
	if (x == y || (x > y ? x - y : y - x) <= tolerance)
		return;
	output_format_bytes(x, sa, sizeof(sa));
	output_format_bytes(y, sb, sizeof(sb));
	diff_add(c, y < x, y < x ? "memory-shrank" : "memory-grew", "memory", diff_jint(x),
		 diff_jint(y), "memory %s from %s to %s (%s)", y < x ? "shrank" : "grew", sa, sb,
		 what);
}
