/* SPDX-License-Identifier: MIT */
/*
 * Fleet report: inventories of many nodes as one table (Markdown, CSV, JSON, HTML).
 * Every value comes from the inventories; unknown values stay unknown ("-", empty CSV
 * field, JSON null) and are left out of totals. Each format escapes for its reader:
 * Markdown table cells, RFC 4180 fields, HTML text and attributes; JSON through json-c.
 * This file loads the inventories and prepares the rows and totals that every format
 * (markdown.c, csv.c, html.c, json.c) writes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "fleet/report-internal.h"
#include "inventory/health.h"
#include "inventory/inventory-json.h"
#include "inventory/output.h"

/* a + b for sizes and counts: never overflows, stays at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

int report_parse_format(const char *s, report_format *ret)
{
	static const char *const names[] = {"markdown", "csv", "html", "json"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (report_format)i;
			return 0;
		}
	if (strcmp(s, "md") == 0) {
		*ret = REPORT_MARKDOWN;
		return 0;
	}
	return -EINVAL;
}

const char *report_disk_type(const hw_disk *d)
{
	const char *t = d->transport ? d->transport : "";

	if (strcmp(t, "nvme") == 0)
		return "NVMe SSD";
	if (strcmp(t, "usb") == 0)
		return d->removable == HW_TRI_TRUE ? "USB stick" : "USB disk";
	if (strcmp(t, "mmc") == 0)
		return "eMMC/SD";
	/* a VM's disk: its "rotational" flag says nothing about the host's storage */
	if (strcmp(t, "virtio") == 0 || strcmp(t, "xen") == 0)
		return "virtual disk";
	if (strcmp(t, "loop") == 0)
		return "loop device";
	if (d->rotational == HW_TRI_TRUE)
		return "HDD";
	if (d->rotational == HW_TRI_FALSE)
		return strcmp(t, "sata") == 0 ? "SATA SSD" : "SSD";
	return "disk";
}

void report_format_speed(int64_t mbps, char *buf, size_t n)
{
	if (mbps < 0)
		snprintf(buf, n, "-");
	else if (mbps >= 1000 && mbps % 1000 == 0)
		snprintf(buf, n, "%" PRId64 " Gb/s", mbps / 1000);
	else if (mbps >= 1000)
		snprintf(buf, n, "%.1f Gb/s", (double)mbps / 1000);
	else
		snprintf(buf, n, "%" PRId64 " Mb/s", mbps);
}

char *report_system_model(const hw_system *s)
{
	const char *name = s->product, *type = NULL;
	size_t vl = fleet_known(s->vendor) ? strlen(s->vendor) : 0;
	char *out = NULL;

	if (!fleet_known(s->vendor) && !fleet_known(name))
		return NULL;
	/* Lenovo keeps the machine type (20L5CTO1WW) in product_name and the model name
	 * (ThinkPad T480) in product_version, which then starts with product_family */
	if (fleet_known(s->vendor) && strcasecmp(s->vendor, "LENOVO") == 0 && fleet_known(name) &&
	    fleet_known(s->version) && fleet_known(s->family) &&
	    strncmp(s->version, s->family, strlen(s->family)) == 0 &&
	    strcmp(s->version, name) != 0) {
		type = name;
		name = s->version;
	}
	if (!fleet_known(name))
		return strdup(s->vendor);
	/* "HP" + "HP EliteDesk 800 G2": the vendor once */
	if (vl && strncasecmp(name, s->vendor, vl) == 0 && name[vl] == ' ')
		vl = 0;
	if (asprintf(&out, "%s%s%s%s%s%s", vl ? s->vendor : "", vl ? " " : "", name,
		     type ? " (" : "", type ? type : "", type ? ")" : "") < 0)
		return NULL;
	return out;
}

/* --- one node, prepared once for every format --- */

__attribute__((format(printf, 3, 4))) static int list_add(char ***v, size_t *n, const char *fmt,
							  ...)
{
	char **nv, *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static void list_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Whether anything about the machine's condition is known: a disk's own report, the memory
 * controller's counts, a battery, a PCIe link, the DIMM slots. */
static bool health_known(const hw_inventory *inv)
{
	for (size_t i = 0; i < inv->n_disks; i++)
		if (inv->disks[i].health.known || inv->disks[i].pcie_link.known)
			return true;
	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->gpus[i].pcie_link.known)
			return true;
	return inv->memory.errors_corrected >= 0 || inv->memory.slots_total >= 0 ||
	       inv->n_batteries > 0;
}

static int row_health(const hw_inventory *inv, fleet_row *w)
{
	health_problem *p = NULL;
	int n = health_problems(inv, &p), r = 0;

	if (n < 0)
		return n;
	w->severity = n > 0 ? p[0].severity : health_known(inv) ? HEALTH_OK : HEALTH_UNKNOWN;
	w->health = health_name(w->severity);
	for (int i = 0; i < n && r >= 0; i++)
		r = list_add(&w->problems, &w->n_problems, "%s: %s", health_name(p[i].severity),
			     p[i].text);
	health_problems_free(p, (size_t)n);
	return r;
}

int fleet_row_build(const report_node *node, fleet_row *w)
{
	const hw_inventory *inv = node->inv;
	char a[64];

	*w = (fleet_row){.node = node, .memory_bytes = HW_UNKNOWN};
	if ((fleet_known(inv->system.vendor) || fleet_known(inv->system.product)) &&
	    !(w->system = report_system_model(&inv->system)))
		return -ENOMEM;
	/* installed RAM is what people call a machine's memory; MemTotal when unknown */
	if (inv->memory.physical_bytes > 0) {
		w->memory_bytes = inv->memory.physical_bytes;
		w->memory_source = "physical";
	} else if (inv->memory.total_bytes > 0) {
		w->memory_bytes = inv->memory.total_bytes;
		w->memory_source = "total";
	}
	for (size_t i = 0; i < inv->n_disks; i++) {
		const hw_disk *d = &inv->disks[i];
		output_format_bytes(d->size_bytes, a, sizeof(a));
		if (d->size_bytes >= 0)
			w->storage_bytes = sat_add(w->storage_bytes, d->size_bytes);
		if (list_add(&w->disks, &w->n_disks, "%s %s", d->size_bytes >= 0 ? a : "?",
			     report_disk_type(d)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const hw_gpu *g = &inv->gpus[i];
		int r;

		if (fleet_known(g->model))
			r = list_add(&w->gpu_models, &w->n_gpu_models, "%s", g->model);
		else
			r = list_add(&w->gpu_models, &w->n_gpu_models, "GPU %04x:%04x",
				     g->vendor_id, g->device_id);
		output_format_bytes(g->memory_bytes, a, sizeof(a));
		if (r < 0 ||
		    list_add(&w->gpus, &w->n_gpus, "%s%s%s%s", w->gpu_models[i],
			     g->memory_bytes >= 0 ? " (" : "", g->memory_bytes >= 0 ? a : "",
			     g->memory_bytes >= 0 ? ")" : "") < 0)
			return -ENOMEM;
	}
	if (row_health(inv, w) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n_nics; i++) {
		const hw_nic *n = &inv->nics[i];
		const char *state;

		if (n->is_virtual) /* veth, bridges, ifb: not hardware */
			continue;
		report_format_speed(n->speed_mbps, a, sizeof(a));
		state = n->speed_mbps >= 0			  ? a
			: n->link && strcmp(n->link, "down") == 0 ? "link down"
								  : "speed unknown";
		if (list_add(&w->nics, &w->n_nics, "%s %s%s%s",
			     fleet_known(n->name) ? n->name : "?", n->wireless ? "Wi-Fi" : "",
			     n->wireless && n->speed_mbps >= 0 ? " " : "",
			     n->wireless && n->speed_mbps < 0 ? "" : state) < 0)
			return -ENOMEM;
	}
	return 0;
}

void fleet_row_done(fleet_row *w)
{
	free(w->system);
	list_free(w->disks, w->n_disks);
	list_free(w->gpus, w->n_gpus);
	list_free(w->gpu_models, w->n_gpu_models);
	list_free(w->nics, w->n_nics);
	list_free(w->problems, w->n_problems);
}

static int cmp_gpu_count(const void *x, const void *y)
{
	const fleet_gpu_count *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->model, b->model);
}

static int totals_build(const fleet_row *rows, size_t n, fleet_totals *t)
{
	*t = (fleet_totals){.nodes = (int64_t)n};
	for (size_t i = 0; i < n; i++) {
		const hw_inventory *inv = rows[i].node->inv;

		if (inv->cpu.cores >= 0)
			t->cores = sat_add(t->cores, inv->cpu.cores);
		if (inv->cpu.threads >= 0)
			t->threads = sat_add(t->threads, inv->cpu.threads);
		if (rows[i].memory_bytes >= 0)
			t->memory_bytes = sat_add(t->memory_bytes, rows[i].memory_bytes);
		t->storage_bytes = sat_add(t->storage_bytes, rows[i].storage_bytes);
		t->disks = sat_add(t->disks, (int64_t)inv->n_disks);
		t->failing += rows[i].severity == HEALTH_FAILING;
		t->warning += rows[i].severity == HEALTH_WARNING;
		t->gpus = sat_add(t->gpus, (int64_t)inv->n_gpus);
		for (size_t g = 0; g < rows[i].n_gpu_models; g++) {
			const char *m = rows[i].gpu_models[g];
			size_t k;

			/* linear: a fleet has a handful of GPU models */
			for (k = 0; k < t->n_models && strcmp(t->models[k].model, m) != 0; k++)
				;
			if (k == t->n_models) {
				fleet_gpu_count *v = realloc(t->models, (k + 1) * sizeof(*v));
				if (!v)
					return -ENOMEM;
				t->models = v;
				t->models[t->n_models++] = (fleet_gpu_count){.model = m};
			}
			t->models[k].count++;
		}
	}
	if (t->n_models)
		qsort(t->models, t->n_models, sizeof(*t->models), cmp_gpu_count);
	return 0;
}

bool fleet_source_date(char *buf, size_t n, bool date_only)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	struct tm tm;
	time_t t;
	uint64_t v;

	/* up to 12 digits, as before: 999999999999 is still a year gmtime_r() can represent */
	if (!s || parse_uint64(s, 0, UINT64_C(999999999999), &v) < 0)
		return false;
	t = (time_t)v;
	if (!gmtime_r(&t, &tm))
		return false;
	return strftime(buf, n, date_only ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

int report_write(FILE *f, report_format fmt, const report_node *nodes, size_t n)
{
	fleet_row *rows = calloc(n + 1, sizeof(*rows));
	fleet_totals t = {0};
	int r = -ENOMEM;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (fleet_row_build(&nodes[i], &rows[i]) < 0)
			goto out;
	/* problems first: failing nodes, then warnings, then notes; the given order within
	 * (an insertion sort is stable) */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && rows[j].severity > HEALTH_OK &&
				   rows[j].severity > rows[j - 1].severity;
		     j--) {
			fleet_row tmp = rows[j];
			rows[j] = rows[j - 1];
			rows[j - 1] = tmp;
		}
	if (totals_build(rows, n, &t) < 0)
		goto out;
	r = 0;
	switch (fmt) {
	case REPORT_MARKDOWN:
		fleet_write_markdown(f, rows, n, &t);
		break;
	case REPORT_CSV:
		fleet_write_csv(f, rows, n);
		break;
	case REPORT_HTML:
		fleet_write_html(f, rows, n, &t);
		break;
	case REPORT_JSON:
		r = fleet_write_json(f, rows, n, &t);
		break;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
out:
	for (size_t i = 0; i < n; i++)
		fleet_row_done(&rows[i]);
	free(rows);
	free(t.models);
	return r;
}

/* --- the inventories --- */

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void report_inputs_done(report_inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->files[i]);
	free(in->files);
	*in = (report_inputs){0};
}

/* takes PATH, even when it fails */
static int add_file(report_inputs *in, char *path)
{
	char **v;

	if (!path)
		return -ENOMEM;
	if (in->n >= REPORT_MAX_FILES) {
		free(path);
		return -E2BIG;
	}
	v = realloc(in->files, (in->n + 1) * sizeof(char *));
	if (!v) {
		free(path);
		return -ENOMEM;
	}
	in->files = v;
	in->files[in->n++] = path;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR: every *.json regular file directly in it (not hidden), in byte order of names. */
static int add_dir(report_inputs *in, const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = in->n;
	int r = 0;

	if (!d)
		return -errno;
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *path;

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		/* follows symlinks: a link to an inventory counts, one to a directory not */
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			     de->d_name) < 0)
			path = NULL;
		r = add_file(in, path);
	}
	if (r >= 0 && errno)
		r = -errno;
	if (r < 0)
		return r;
	if (in->n == first)
		return -ENOENT;
	qsort(in->files + first, in->n - first, sizeof(char *), cmp_str);
	return 0;
}

int report_inputs_add(report_inputs *in, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return add_dir(in, path);
	return add_file(in, strdup(path));
}

/* The role a node has, when its inventory says so (optional; not written by `inventory`). */
static int read_role(const char *file, json_object *root, const na_log *log, char **ret)
{
	static const char *const keys[] = {"role", "node_role"};

	*ret = NULL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		json_object *v = NULL;

		if (!json_object_object_get_ex(root, keys[i], &v) || !v)
			continue;
		if (!json_object_is_type(v, json_type_string)) {
			na_logf(log, LOG_ERR, "%s: %s: must be a string or null", file, keys[i]);
			return -EINVAL;
		}
		*ret = strdup(json_object_get_string(v));
		return *ret ? 0 : -ENOMEM;
	}
	return 0;
}

int report_load(const char *file, const na_log *log, report_node *ret)
{
	json_object *root = NULL;
	hw_inventory *inv = NULL;
	char *role = NULL;
	int r;

	r = inventory_read_json(file, log, &root);
	if (r >= 0)
		r = inventory_from_json(root, file, log, &inv);
	if (r >= 0)
		r = read_role(file, root, log, &role);
	json_object_put(root);
	if (r < 0) {
		hw_inventory_free(inv);
		return r;
	}
	*ret = (report_node){.file = file, .role = role, .inv = inv};
	return 0;
}

int report_node_summary(json_object *inventory, json_object **ret)
{
	report_node node = {0};
	fleet_row w;
	char *role = NULL;
	hw_inventory *inv = NULL;
	json_object *o = NULL;
	int r;

	r = inventory_from_json(inventory, "inventory", NULL, &inv);
	if (r >= 0)
		r = read_role("inventory", inventory, NULL, &role);
	if (r >= 0) {
		node = (report_node){.role = role, .inv = inv};
		r = fleet_row_build(&node, &w);
		if (r >= 0 && !(o = fleet_node_json(&w)))
			r = -ENOMEM;
		fleet_row_done(&w);
	}
	free(role);
	hw_inventory_free(inv);
	if (r < 0)
		return r;
	*ret = o;
	return 0;
}

void report_node_done(report_node *node)
{
	free((char *)node->role);
	hw_inventory_free((hw_inventory *)node->inv);
	*node = (report_node){0};
}
