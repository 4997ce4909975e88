/* SPDX-License-Identifier: MIT */
/* The fleet report as JSON, schema node-agent/report/v1 (for tools), through json-c. */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>

#include "fleet/report-internal.h"
#include "inventory/output.h"

#define REPORT_SCHEMA "node-agent/report/v1"

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jint(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

static json_object *jtri(hw_tri v)
{
	return v == HW_TRI_UNKNOWN ? NULL : json_object_new_boolean(v == HW_TRI_TRUE);
}

static json_object *jsize(int64_t b)
{
	char s[32];

	if (b < 0)
		return NULL;
	output_format_bytes(b, s, sizeof(s));
	return json_object_new_string(s);
}

/* json-c's adders take ownership even of NULL values; a failed allocation shows up as a
 * missing key (null) or array entry */
static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

/* Appends V to ARR; -ENOMEM when V is NULL or cannot be added (V is put then) */
static int array_add(json_object *arr, json_object *v)
{
	if (v && json_object_array_add(arr, v) == 0)
		return 0;
	json_object_put(v);
	return -ENOMEM;
}

static json_object *disk_json(const hw_disk *d)
{
	json_object *x = json_object_new_object();

	if (x) {
		put(x, "name", jstr(d->name));
		put(x, "type", json_object_new_string(report_disk_type(d)));
		put(x, "size_bytes", jint(d->size_bytes));
		put(x, "size", jsize(d->size_bytes));
		put(x, "transport", jstr(d->transport));
		put(x, "rotational", jtri(d->rotational));
		put(x, "removable", jtri(d->removable));
		put(x, "model", jstr(d->model));
		put(x, "serial", jstr(d->serial));
	}
	return x;
}

static json_object *gpu_json(const hw_gpu *g)
{
	json_object *x = json_object_new_object();

	if (x) {
		put(x, "pci_address", jstr(g->pci_address));
		put(x, "vendor", jstr(g->vendor));
		put(x, "model", jstr(g->model));
		put(x, "memory_bytes", jint(g->memory_bytes));
		put(x, "memory", jsize(g->memory_bytes));
	}
	return x;
}

static json_object *nic_json(const hw_nic *n)
{
	json_object *x = json_object_new_object();
	char s[32];

	if (!x)
		return NULL;
	report_format_speed(n->speed_mbps, s, sizeof(s));
	put(x, "name", jstr(n->name));
	put(x, "mac", jstr(n->mac));
	put(x, "driver", jstr(n->driver));
	put(x, "speed_mbps", jint(n->speed_mbps));
	put(x, "speed", n->speed_mbps >= 0 ? json_object_new_string(s) : NULL);
	put(x, "link", jstr(n->link));
	put(x, "wireless", json_object_new_boolean(n->wireless));
	return x;
}

json_object *fleet_node_json(const fleet_row *w)
{
	const hw_inventory *inv = w->node->inv;
	json_object *o = json_object_new_object(), *x, *arr;

	if (!o)
		return NULL;
	put(o, "file", jstr(w->node->file));
	put(o, "hostname", jstr(inv->hostname));
	put(o, "role", jstr(w->node->role));
	put(o, "collected_at", jstr(inv->collected_at));
	put(o, "system", x = json_object_new_object());
	if (x) {
		put(x, "model", jstr(w->system));
		put(x, "vendor", jstr(inv->system.vendor));
		put(x, "product", jstr(inv->system.product));
		put(x, "serial", jstr(inv->system.serial));
		put(x, "uuid", jstr(inv->system.uuid));
		put(x, "virtual", jtri(inv->system.is_virtual));
	}
	put(o, "cpu", x = json_object_new_object());
	if (x) {
		put(x, "model", jstr(inv->cpu.model));
		put(x, "arch", jstr(inv->cpu.arch));
		put(x, "sockets", jint(inv->cpu.sockets));
		put(x, "cores", jint(inv->cpu.cores));
		put(x, "threads", jint(inv->cpu.threads));
	}
	put(o, "memory_bytes", jint(w->memory_bytes));
	put(o, "memory", jsize(w->memory_bytes));
	put(o, "memory_source", jstr(w->memory_source));
	put(o, "storage_bytes", jint(w->storage_bytes));
	put(o, "storage", jsize(w->storage_bytes));
	put(o, "disks", arr = json_object_new_array());
	for (size_t i = 0; arr && i < inv->n_disks; i++)
		if (array_add(arr, disk_json(&inv->disks[i])) < 0)
			break;
	put(o, "gpus", arr = json_object_new_array());
	for (size_t i = 0; arr && i < inv->n_gpus; i++)
		if (array_add(arr, gpu_json(&inv->gpus[i])) < 0)
			break;
	/* veth, bridges, ifb: not hardware */
	put(o, "nics", arr = json_object_new_array());
	for (size_t i = 0; arr && i < inv->n_nics; i++)
		if (!inv->nics[i].is_virtual && array_add(arr, nic_json(&inv->nics[i])) < 0)
			break;
	put(o, "health", jstr(w->health));
	put(o, "problems", arr = json_object_new_array());
	for (size_t i = 0; arr && i < w->n_problems; i++)
		if (array_add(arr, json_object_new_string(w->problems[i])) < 0)
			break;
	return o;
}

int fleet_write_json(FILE *f, const fleet_row *rows, size_t n, const fleet_totals *t)
{
	json_object *o = json_object_new_object(), *nodes = json_object_new_array(), *x, *m;
	char date[64];
	int r = -ENOMEM;

	if (!o || !nodes) {
		json_object_put(nodes);
		goto out;
	}
	put(o, "schema", json_object_new_string(REPORT_SCHEMA));
	put(o, "generated_at",
	    fleet_source_date(date, sizeof(date), false) ? json_object_new_string(date) : NULL);
	put(o, "nodes", nodes);
	for (size_t i = 0; i < n; i++)
		if (array_add(nodes, fleet_node_json(&rows[i])) < 0)
			goto out;
	put(o, "totals", x = json_object_new_object());
	if (!x)
		goto out;
	put(x, "nodes", json_object_new_int64(t->nodes));
	put(x, "cpu_cores", json_object_new_int64(t->cores));
	put(x, "cpu_threads", json_object_new_int64(t->threads));
	put(x, "memory_bytes", json_object_new_int64(t->memory_bytes));
	put(x, "memory", jsize(t->memory_bytes));
	put(x, "storage_bytes", json_object_new_int64(t->storage_bytes));
	put(x, "storage", jsize(t->storage_bytes));
	put(x, "disks", json_object_new_int64(t->disks));
	put(x, "gpus", json_object_new_int64(t->gpus));
	put(x, "nodes_failing", json_object_new_int64(t->failing));
	put(x, "nodes_warning", json_object_new_int64(t->warning));
	put(x, "gpus_by_model", m = json_object_new_array());
	for (size_t i = 0; m && i < t->n_models; i++) {
		json_object *e = json_object_new_object();

		if (array_add(m, e) < 0)
			goto out;
		put(e, "model", json_object_new_string(t->models[i].model));
		put(e, "count", json_object_new_int64(t->models[i].count));
	}
	r = output_json(f, o);
out:
	json_object_put(o);
	return r;
}
