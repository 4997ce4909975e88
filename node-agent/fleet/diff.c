/* SPDX-License-Identifier: MIT */
/*
 * Hardware changes between two inventories of one machine. Matching follows what stays
 * put when a machine is serviced: a disk keeps its serial (or WWN) when the kernel
 * renames it, a GPU keeps its model when it moves slot, a NIC keeps its MAC. Values that
 * are unknown on either side never count as a change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleet/diff.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"
#include "fleet/report.h"

#define EXIT_USAGE  2
#define DIFF_SCHEMA "node-agent/diff/v1"

typedef struct changes {
	inventory_change *v;
	size_t n;
	size_t cap;
	bool oom;
} changes;

static bool known(const char *s)
{
	return s && *s;
}

/* Both known and different. */
static bool str_changed(const char *a, const char *b)
{
	return known(a) && known(b) && strcmp(a, b) != 0;
}

static bool str_same(const char *a, const char *b)
{
	return known(a) && known(b) && strcmp(a, b) == 0;
}

static bool i64_changed(int64_t a, int64_t b)
{
	return a >= 0 && b >= 0 && a != b;
}

/* Input strings go into one-line messages: control characters become '?'. */
static void clean_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jint(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

__attribute__((format(printf, 7, 8))) static void add(changes *c, bool warning, const char *kind,
						      const char *subject, json_object *old_value,
						      json_object *new_value, const char *fmt, ...)
{
	inventory_change *x;
	va_list ap;
	char *msg = NULL;
	int r;

	if (c->oom)
		goto fail;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		inventory_change *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			goto fail;
		c->v = v;
		c->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		goto fail;
	x = &c->v[c->n];
	*x = (inventory_change){
	    .kind = kind,
	    .subject = strdup(subject ? subject : "?"),
	    .message = msg,
	    .old_value = old_value,
	    .new_value = new_value,
	    .warning = warning,
	};
	if (!x->subject) {
		free(msg);
		goto fail;
	}
	clean_line(x->subject);
	clean_line(x->message);
	c->n++;
	return;
fail:
	c->oom = true;
	json_object_put(old_value);
	json_object_put(new_value);
}

/* --- system, cpu, memory --- */

static void diff_system(changes *c, const hw_system *a, const hw_system *b)
{
	if (str_changed(a->serial, b->serial))
		add(c, true, "system-serial", "system", jstr(a->serial), jstr(b->serial),
		    "system serial changed from %s to %s: this looks like a different machine",
		    a->serial, b->serial);
	if (str_changed(a->uuid, b->uuid))
		add(c, true, "system-uuid", "system", jstr(a->uuid), jstr(b->uuid),
		    "system UUID changed from %s to %s: this looks like a different machine",
		    a->uuid, b->uuid);
	if (str_changed(a->vendor, b->vendor) || str_changed(a->product, b->product)) {
		char *ma = report_system_model(a), *mb = report_system_model(b);
		add(c, true, "system-model", "system", jstr(ma), jstr(mb),
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
	json_object_object_add(o, "model", jstr(cpu->model));
	json_object_object_add(o, "sockets", jint(cpu->sockets));
	json_object_object_add(o, "cores", jint(cpu->cores));
	json_object_object_add(o, "threads", jint(cpu->threads));
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
	if (asprintf(&s, "%s%s%s%s", known(cpu->model) ? cpu->model : "unknown model",
		     counts[0] ? " (" : "", counts[0] ? counts + 2 : "", counts[0] ? ")" : "") < 0)
		return NULL;
	return s;
}

static void diff_cpu(changes *c, const hw_cpu *a, const hw_cpu *b)
{
	char *ta, *tb;

	if (!str_changed(a->model, b->model) && !i64_changed(a->sockets, b->sockets) &&
	    !i64_changed(a->cores, b->cores) && !i64_changed(a->threads, b->threads))
		return;
	ta = cpu_text(a);
	tb = cpu_text(b);
	if (!ta || !tb)
		c->oom = true;
	else
		add(c, false, "cpu-changed", "cpu", cpu_json(a), cpu_json(b),
		    "cpu changed from %s to %s", ta, tb);
	free(ta);
	free(tb);
}

static void diff_memory(changes *c, const hw_memory *a, const hw_memory *b)
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
	add(c, y < x, y < x ? "memory-shrank" : "memory-grew", "memory", jint(x), jint(y),
	    "memory %s from %s to %s (%s)", y < x ? "shrank" : "grew", sa, sb, what);
}

/* --- disks --- */

static char *disk_text(const hw_disk *d)
{
	char size[32], *s = NULL;

	output_format_bytes(d->size_bytes, size, sizeof(size));
	if (asprintf(&s, "%s, %s %s, serial %s", known(d->model) ? d->model : "unknown model",
		     d->size_bytes >= 0 ? size : "unknown size", report_disk_type(d),
		     known(d->serial) ? d->serial
		     : known(d->wwn)  ? d->wwn
				      : "unknown") < 0)
		return NULL;
	return s;
}

static json_object *disk_json(const hw_disk *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", jstr(d->name));
	json_object_object_add(o, "model", jstr(d->model));
	json_object_object_add(o, "serial", jstr(d->serial));
	json_object_object_add(o, "wwn", jstr(d->wwn));
	json_object_object_add(o, "size_bytes", jint(d->size_bytes));
	json_object_object_add(o, "type", json_object_new_string(report_disk_type(d)));
	return o;
}

static void disk_event(changes *c, const char *kind, bool warning, const hw_disk *a,
		       const hw_disk *b)
{
	char *ta = a ? disk_text(a) : NULL, *tb = b ? disk_text(b) : NULL;
	const hw_disk *d = b ? b : a;
	const char *name = known(d->name) ? d->name : "?";

	if ((a && !ta) || (b && !tb))
		c->oom = true;
	else if (a && b)
		add(c, warning, kind, name, disk_json(a), disk_json(b),
		    "disk %s replaced: was %s, now %s", name, ta, tb);
	else
		add(c, warning, kind, name, a ? disk_json(a) : NULL, b ? disk_json(b) : NULL,
		    "disk %s %s (%s)", name, a ? "removed" : "added", a ? ta : tb);
	free(ta);
	free(tb);
}

/* Entries with nothing that identifies them cannot be told apart across inventories
 * (not even from themselves): they are left out rather than reported added and removed. */
static bool disk_identifiable(const hw_disk *d)
{
	return known(d->serial) || known(d->wwn) || known(d->name);
}

static bool gpu_identifiable(const hw_gpu *g)
{
	return known(g->model) || g->vendor_id;
}

static bool nic_identifiable(const hw_nic *n)
{
	return !n->is_virtual && (known(n->mac) || known(n->name));
}

typedef bool (*disk_match_fn)(const hw_disk *a, const hw_disk *b);

static bool disk_same_serial(const hw_disk *a, const hw_disk *b)
{
	return str_same(a->serial, b->serial);
}

static bool disk_same_wwn(const hw_disk *a, const hw_disk *b)
{
	return str_same(a->wwn, b->wwn);
}

static bool disk_same_name(const hw_disk *a, const hw_disk *b)
{
	return str_same(a->name, b->name);
}

static void diff_disks(changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
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
		if (str_changed(x->serial, y->serial) || str_changed(x->wwn, y->wwn)) {
			disk_event(c, "disk-replaced", true, x, y);
			continue;
		}
		if (i64_changed(x->size_bytes, y->size_bytes)) {
			output_format_bytes(x->size_bytes, sa, sizeof(sa));
			output_format_bytes(y->size_bytes, sb, sizeof(sb));
			add(c, y->size_bytes < x->size_bytes, "disk-resized",
			    known(y->name) ? y->name : "?", jint(x->size_bytes),
			    jint(y->size_bytes),
			    "disk %s size changed from %s to %s (%" PRId64 " to %" PRId64 " bytes)",
			    known(y->name) ? y->name : "?", sa, sb, x->size_bytes, y->size_bytes);
		}
	}
	for (size_t j = 0; j < b->n_disks; j++)
		if (!used_b[j])
			disk_event(c, "disk-added", false, NULL, &b->disks[j]);
}

/* --- GPUs --- */

static bool gpu_same_model(const hw_gpu *a, const hw_gpu *b)
{
	if (str_same(a->model, b->model))
		return true;
	/* the name can change with its source (driver installed, newer pci.ids); the IDs
	 * do not */
	return a->vendor_id && a->vendor_id == b->vendor_id && a->device_id == b->device_id;
}

static json_object *gpu_json(const hw_gpu *g)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "pci_address", jstr(g->pci_address));
	json_object_object_add(o, "model", jstr(g->model));
	json_object_object_add(o, "memory_bytes", jint(g->memory_bytes));
	return o;
}

static const char *gpu_name(const hw_gpu *g)
{
	return known(g->model) ? g->model : "unknown model";
}

static void diff_gpus(changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
		      bool *used_b)
{
	for (size_t i = 0; i < a->n_gpus; i++)
		match_a[i] = -1;
	for (size_t j = 0; j < b->n_gpus; j++)
		used_b[j] = !gpu_identifiable(&b->gpus[j]);
	/* same slot and model first, then the same model in another slot */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->n_gpus; i++)
			for (size_t j = 0; match_a[i] < 0 && j < b->n_gpus; j++) {
				const hw_gpu *x = &a->gpus[i], *y = &b->gpus[j];
				if (used_b[j] || !gpu_same_model(x, y) ||
				    (pass == 0 && !str_same(x->pci_address, y->pci_address)))
					continue;
				match_a[i] = (int)j;
				used_b[j] = true;
			}
	for (size_t i = 0; i < a->n_gpus; i++) {
		const hw_gpu *x = &a->gpus[i], *y;
		const char *addr = known(x->pci_address) ? x->pci_address : "?";

		if (!gpu_identifiable(x))
			continue;
		if (match_a[i] < 0) {
			add(c, true, "gpu-missing", addr, gpu_json(x), NULL, "gpu %s missing (%s)",
			    addr, gpu_name(x));
			continue;
		}
		y = &b->gpus[match_a[i]];
		if (str_changed(x->pci_address, y->pci_address))
			add(c, false, "gpu-moved", y->pci_address, gpu_json(x), gpu_json(y),
			    "gpu %s moved to %s (%s)", addr, y->pci_address, gpu_name(y));
	}
	for (size_t j = 0; j < b->n_gpus; j++)
		if (!used_b[j]) {
			const hw_gpu *y = &b->gpus[j];
			const char *addr = known(y->pci_address) ? y->pci_address : "?";
			add(c, false, "gpu-added", addr, NULL, gpu_json(y), "gpu %s added (%s)",
			    addr, gpu_name(y));
		}
}

/* --- NICs --- */

static json_object *nic_json(const hw_nic *n)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", jstr(n->name));
	json_object_object_add(o, "mac", jstr(n->mac));
	json_object_object_add(o, "driver", jstr(n->driver));
	json_object_object_add(o, "speed_mbps", jint(n->speed_mbps));
	return o;
}

static const char *or_unknown(const char *s)
{
	return known(s) ? s : "unknown";
}

static void diff_nics(changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
		      bool *used_b)
{
	for (size_t i = 0; i < a->n_nics; i++)
		match_a[i] = -1;
	for (size_t j = 0; j < b->n_nics; j++)
		used_b[j] = !nic_identifiable(&b->nics[j]); /* veth, bridges, ifb: not hardware */
	/* by MAC; then by name, where a different MAC means another card in its place (or
	 * the same name given to another card) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->n_nics; i++) {
			const hw_nic *x = &a->nics[i];
			if (!nic_identifiable(x))
				continue;
			for (size_t j = 0; match_a[i] < 0 && j < b->n_nics; j++) {
				const hw_nic *y = &b->nics[j];
				bool same = pass == 0 ? known(x->mac) && known(y->mac) &&
							    strcasecmp(x->mac, y->mac) == 0
						      : str_same(x->name, y->name);
				if (used_b[j] || !same)
					continue;
				match_a[i] = (int)j;
				used_b[j] = true;
			}
		}
	for (size_t i = 0; i < a->n_nics; i++) {
		const hw_nic *x = &a->nics[i], *y;
		const char *name = known(x->name) ? x->name : "?";

		if (!nic_identifiable(x))
			continue;
		if (match_a[i] < 0) {
			add(c, true, "nic-removed", name, nic_json(x), NULL,
			    "nic %s removed (MAC %s, driver %s)", name, or_unknown(x->mac),
			    or_unknown(x->driver));
			continue;
		}
		y = &b->nics[match_a[i]];
		name = known(y->name) ? y->name : name;
		if (known(x->mac) && known(y->mac) && strcasecmp(x->mac, y->mac) != 0) {
			bool same_driver = !str_changed(x->driver, y->driver);
			add(c, true, "nic-replaced", name, nic_json(x), nic_json(y),
			    "nic %s replaced: MAC changed from %s to %s (driver %s%s%s)", name,
			    x->mac, y->mac, or_unknown(x->driver), same_driver ? "" : ", now ",
			    same_driver ? "" : y->driver);
			continue;
		}
		if (str_changed(x->driver, y->driver))
			add(c, false, "nic-driver", name, jstr(x->driver), jstr(y->driver),
			    "nic %s driver changed from %s to %s", name, x->driver, y->driver);
		if (i64_changed(x->speed_mbps, y->speed_mbps)) {
			char sa[32], sb[32];
			report_format_speed(x->speed_mbps, sa, sizeof(sa));
			report_format_speed(y->speed_mbps, sb, sizeof(sb));
			add(c, y->speed_mbps < x->speed_mbps, "nic-speed", name,
			    jint(x->speed_mbps), jint(y->speed_mbps),
			    "nic %s speed changed from %s to %s", name, sa, sb);
		}
	}
	for (size_t j = 0; j < b->n_nics; j++)
		if (!used_b[j]) {
			const hw_nic *y = &b->nics[j];
			const char *name = known(y->name) ? y->name : "?";
			add(c, false, "nic-added", name, NULL, nic_json(y),
			    "nic %s added (MAC %s, driver %s)", name, or_unknown(y->mac),
			    or_unknown(y->driver));
		}
}

/* --- API --- */

static size_t max3(size_t a, size_t b, size_t c)
{
	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

inventory_change *inventory_changes_free(inventory_change *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].subject);
		free(v[i].message);
		json_object_put(v[i].old_value);
		json_object_put(v[i].new_value);
	}
	free(v);
	return NULL;
}

int inventory_diff_compute(const hw_inventory *a, const hw_inventory *b,
			   inventory_change **ret_changes, size_t *ret_n)
{
	changes c = {0};
	size_t na = max3(a->n_disks, a->n_gpus, a->n_nics) + 1;
	size_t nb = max3(b->n_disks, b->n_gpus, b->n_nics) + 1;
	int *match_a = calloc(na, sizeof(int));
	bool *used_b = calloc(nb, sizeof(bool));

	if (!match_a || !used_b) {
		free(match_a);
		free(used_b);
		return -ENOMEM;
	}
	diff_system(&c, &a->system, &b->system);
	diff_cpu(&c, &a->cpu, &b->cpu);
	diff_memory(&c, &a->memory, &b->memory);
	diff_disks(&c, a, b, match_a, used_b);
	memset(used_b, 0, nb * sizeof(bool));
	diff_gpus(&c, a, b, match_a, used_b);
	memset(used_b, 0, nb * sizeof(bool));
	diff_nics(&c, a, b, match_a, used_b);
	free(match_a);
	free(used_b);
	if (c.oom || c.n > INT32_MAX) {
		inventory_changes_free(c.v, c.n);
		return -ENOMEM;
	}
	if (c.n == 0) {
		free(c.v);
		c.v = NULL;
	}
	*ret_changes = c.v;
	*ret_n = c.n;
	return (int)c.n;
}

int inventory_diff(const hw_inventory *a, const hw_inventory *b, FILE *out)
{
	inventory_change *v = NULL;
	size_t n = 0;
	int r;

	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; out && i < n; i++)
		if (fprintf(out, "%s\n", v[i].message) < 0) {
			r = -EIO;
			break;
		}
	inventory_changes_free(v, n);
	return r;
}

char **inventory_diff_lines_free(char **lines)
{
	for (char **l = lines; l && *l; l++)
		free(*l);
	free(lines);
	return NULL;
}

int inventory_diff_lines(const hw_inventory *a, const hw_inventory *b, char ***ret_lines)
{
	inventory_change *v = NULL;
	size_t n = 0;
	char **lines;
	int r;

	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0)
		return r;
	lines = calloc(n + 1, sizeof(char *));
	if (!lines) {
		inventory_changes_free(v, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		lines[i] = v[i].message;
		v[i].message = NULL;
	}
	inventory_changes_free(v, n);
	*ret_lines = lines;
	return r;
}

json_object *inventory_changes_to_json(const char *old_file, const char *new_file,
				       const inventory_change *v, size_t n)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return NULL;
	}
	json_object_object_add(o, "schema", json_object_new_string(DIFF_SCHEMA));
	json_object_object_add(o, "old", jstr(old_file));
	json_object_object_add(o, "new", jstr(new_file));
	json_object_object_add(o, "changes", arr);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		if (!e || json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(e, "kind", json_object_new_string(v[i].kind));
		json_object_object_add(e, "subject", json_object_new_string(v[i].subject));
		json_object_object_add(e, "severity",
				       json_object_new_string(v[i].warning ? "warning" : "notice"));
		json_object_object_add(e, "message", json_object_new_string(v[i].message));
		json_object_object_add(e, "old", json_object_get(v[i].old_value));
		json_object_object_add(e, "new", json_object_get(v[i].new_value));
	}
	return o;
}

/* --- node-agent diff --- */

static int load(const char *file, hw_inventory **ret)
{
	na_log l = na_log_stream(stderr);
	int r = inventory_load(file, &l, ret);

	if (r == -EINVAL)
		fprintf(stderr, "node-agent diff: %s: not a valid inventory\n", file);
	else if (r < 0)
		fprintf(stderr, "node-agent diff: %s: %s\n", file, strerror(-r));
	return r;
}

int diff_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	hw_inventory *a = NULL, *b = NULL;
	inventory_change *v = NULL;
	size_t n = 0;
	bool json = false;
	int c, r, ret = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") == 0)
				json = false;
			else {
				fprintf(stderr,
					"node-agent diff: unknown format \"%s\" (text or json)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: node-agent diff OLD NEW [--format text|json]\n"
			       "Hardware changes between two inventories of one machine.\n"
			       "Exit status: 0 no changes, 1 changes, 2 usage or invalid input.\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: node-agent diff OLD NEW [--format text|json]\n");
		return EXIT_USAGE;
	}
	/* both files are checked, so one run names every bad input */
	r = load(argv[optind], &a);
	if (load(argv[optind + 1], &b) < 0 || r < 0)
		goto out;
	r = inventory_diff_compute(a, b, &v, &n);
	if (r < 0) {
		fprintf(stderr, "node-agent diff: %s\n", strerror(-r));
		ret = EXIT_FAILURE;
		goto out;
	}
	if (json) {
		json_object *j = inventory_changes_to_json(argv[optind], argv[optind + 1], v, n);
		r = j ? output_json(stdout, j) : -ENOMEM;
		json_object_put(j);
	} else
		for (size_t i = 0; i < n && r >= 0; i++)
			if (printf("%s\n", v[i].message) < 0)
				r = -EIO;
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "node-agent diff: cannot write output: %s\n",
			strerror(r < 0 ? -r : errno));
		ret = EXIT_USAGE;
		goto out;
	}
	ret = n > 0 ? 1 : 0;
out:
	inventory_changes_free(v, n);
	hw_inventory_free(a);
	hw_inventory_free(b);
	return ret;
}
