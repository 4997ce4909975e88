/* SPDX-License-Identifier: MIT */
/*
 * Fleet report: inventories of many nodes as one table (Markdown, CSV, JSON, HTML).
 * Every value comes from the inventories; unknown values stay unknown ("-", empty CSV
 * field, JSON null) and are left out of totals. Each format escapes for its reader:
 * Markdown table cells, RFC 4180 fields, HTML text and attributes; JSON through json-c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inventory-json.h"
#include "output.h"
#include "parse-util.h"
#include "report.h"

#define EXIT_USAGE 2
#define REPORT_SCHEMA "node-agent/report/v1"
/* a fleet of homelab PCs is dozens; this bounds memory and time on a wrong directory */
#define REPORT_MAX_FILES 100000

static bool known(const char *s)
{
	return s && *s;
}

/* a + b for sizes and counts: never overflows, stays at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

int report_parse_format(const char *s, report_format *ret)
{
	static const char *const names[] = { "markdown", "csv", "html", "json" };

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
	size_t vl = known(s->vendor) ? strlen(s->vendor) : 0;
	char *out = NULL;

	if (!known(s->vendor) && !known(name))
		return NULL;
	/* Lenovo keeps the machine type (20L5CTO1WW) in product_name and the model name
	 * (ThinkPad T480) in product_version, which then starts with product_family */
	if (known(s->vendor) && strcasecmp(s->vendor, "LENOVO") == 0 && known(name) &&
	    known(s->version) && known(s->family) &&
	    strncmp(s->version, s->family, strlen(s->family)) == 0 &&
	    strcmp(s->version, name) != 0) {
		type = name;
		name = s->version;
	}
	if (!known(name))
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

typedef struct row {
	const report_node *node;
	char *system;
	int64_t memory_bytes;
	const char *memory_source; /* "physical" | "total" | NULL */
	int64_t storage_bytes;     /* sum of known disk sizes */
	char **disks;              /* "238.5 GiB NVMe SSD" */
	size_t n_disks;
	char **gpus; /* "NVIDIA GeForce RTX 3050 (8.0 GiB)" */
	size_t n_gpus;
	char **gpu_models; /* "NVIDIA GeForce RTX 3050", "GPU 1234:1111" when unnamed */
	size_t n_gpu_models;
	char **nics; /* "eth0 1 Gb/s" */
	size_t n_nics;
} row;

typedef struct gpu_count {
	const char *model;
	int64_t count;
} gpu_count;

typedef struct totals {
	int64_t nodes, cores, threads, memory_bytes, storage_bytes, disks, gpus;
	gpu_count *models;
	size_t n_models;
} totals;

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

static int row_build(const report_node *node, row *w)
{
	const hw_inventory *inv = node->inv;
	char a[64];

	*w = (row){ .node = node, .memory_bytes = HW_UNKNOWN };
	if ((known(inv->system.vendor) || known(inv->system.product)) &&
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

		if (known(g->model))
			r = list_add(&w->gpu_models, &w->n_gpu_models, "%s", g->model);
		else
			r = list_add(&w->gpu_models, &w->n_gpu_models, "GPU %04x:%04x", g->vendor_id,
				     g->device_id);
		output_format_bytes(g->memory_bytes, a, sizeof(a));
		if (r < 0 || list_add(&w->gpus, &w->n_gpus, "%s%s%s%s", w->gpu_models[i],
				      g->memory_bytes >= 0 ? " (" : "", g->memory_bytes >= 0 ? a : "",
				      g->memory_bytes >= 0 ? ")" : "") < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < inv->n_nics; i++) {
		const hw_nic *n = &inv->nics[i];
		const char *state;

		if (n->is_virtual) /* veth, bridges, ifb: not hardware */
			continue;
		report_format_speed(n->speed_mbps, a, sizeof(a));
		state = n->speed_mbps >= 0 ? a
			: n->link && strcmp(n->link, "down") == 0 ? "link down"
								  : "speed unknown";
		if (list_add(&w->nics, &w->n_nics, "%s %s%s%s", known(n->name) ? n->name : "?",
			     n->wireless ? "Wi-Fi" : "", n->wireless && n->speed_mbps >= 0 ? " " : "",
			     n->wireless && n->speed_mbps < 0 ? "" : state) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void row_done(row *w)
{
	free(w->system);
	list_free(w->disks, w->n_disks);
	list_free(w->gpus, w->n_gpus);
	list_free(w->gpu_models, w->n_gpu_models);
	list_free(w->nics, w->n_nics);
}

static int cmp_gpu_count(const void *x, const void *y)
{
	const gpu_count *a = x, *b = y;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->model, b->model);
}

static int totals_build(const row *rows, size_t n, totals *t)
{
	*t = (totals){ .nodes = (int64_t)n };
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
		t->gpus = sat_add(t->gpus, (int64_t)inv->n_gpus);
		for (size_t g = 0; g < rows[i].n_gpu_models; g++) {
			const char *m = rows[i].gpu_models[g];
			size_t k;

			/* linear: a fleet has a handful of GPU models */
			for (k = 0; k < t->n_models && strcmp(t->models[k].model, m) != 0; k++)
				;
			if (k == t->n_models) {
				gpu_count *v = realloc(t->models, (k + 1) * sizeof(*v));
				if (!v)
					return -ENOMEM;
				t->models = v;
				t->models[t->n_models++] = (gpu_count){ .model = m };
			}
			t->models[k].count++;
		}
	}
	if (t->n_models)
		qsort(t->models, t->n_models, sizeof(*t->models), cmp_gpu_count);
	return 0;
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org) as RFC 3339, or false when unset/invalid. */
static bool source_date(char *buf, size_t n, bool date_only)
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

/* --- escaping --- */

static void md_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc(' ', f);
		else if (strchr("\\|*_`[]~", *p))
			fprintf(f, "\\%c", *p);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
}

static void md_list(FILE *f, char **v, size_t n)
{
	if (n == 0)
		fputs("-", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("<br>", f);
		md_text(f, v[i]);
	}
}

static void csv_field(FILE *f, const char *s, bool last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	fputs(last ? "\r\n" : ",", f);
}

static void csv_int(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "%" PRId64, v);
	fputc(',', f);
}

static void csv_list(FILE *f, char **v, size_t n, bool last)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m) {
		csv_field(f, "", last);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s%s", i ? "; " : "", v[i]);
	fclose(m);
	csv_field(f, s, last);
	free(s);
}

/* nbsp: spaces become no-break spaces ("238.5 GiB NVMe SSD" stays on one line) */
static void html_text_ex(FILE *f, const char *s, bool nbsp)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case ' ':
			fputs(nbsp ? "&nbsp;" : " ", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
		}
	}
}

static void html_text(FILE *f, const char *s)
{
	html_text_ex(f, s, false);
}

/* --- Markdown --- */

static void md_size(FILE *f, int64_t b)
{
	char s[32];

	output_format_bytes(b, s, sizeof(s));
	fputs(s, f);
}

static void md_count(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "%" PRId64, v);
	else
		fputs("-", f);
}

static void write_markdown(FILE *f, const row *rows, size_t n, const totals *t)
{
	char date[64];

	fputs("## Fleet report\n\n", f);
	if (source_date(date, sizeof(date), true))
		fprintf(f, "Generated %s by `node-agent report` from %zu inventor%s.\n\n", date, n,
			n == 1 ? "y" : "ies");
	fputs("| Node | Role | System | CPU | Cores/Threads | Memory | Storage | Disks | GPUs | NICs |\n"
	      "|---|---|---|---|--:|--:|--:|---|---|---|\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;

		fputs("| ", f);
		md_text(f, known(inv->hostname) ? inv->hostname : "-");
		fputs(" | ", f);
		md_text(f, w->node->role);
		fputs(" | ", f);
		md_text(f, w->system ? w->system : "-");
		fputs(" | ", f);
		md_text(f, known(inv->cpu.model) ? inv->cpu.model : "-");
		fputs(" | ", f);
		md_count(f, inv->cpu.cores);
		fputs("/", f);
		md_count(f, inv->cpu.threads);
		fputs(" | ", f);
		md_size(f, w->memory_bytes);
		fputs(" | ", f);
		md_size(f, w->storage_bytes);
		fputs(" | ", f);
		md_list(f, w->disks, w->n_disks);
		fputs(" | ", f);
		md_list(f, w->gpus, w->n_gpus);
		fputs(" | ", f);
		md_list(f, w->nics, w->n_nics);
		fputs(" |\n", f);
	}
	fprintf(f, "| **Total: %" PRId64 " node%s** |  |  |  | **%" PRId64 "/%" PRId64 "** | **",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads);
	md_size(f, t->memory_bytes);
	fputs("** | **", f);
	md_size(f, t->storage_bytes);
	fprintf(f, "** | %" PRId64 " disk%s | %" PRId64 " GPU%s |  |\n", t->disks,
		t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s");
	if (t->n_models) {
		fputs("\n### GPUs by model\n\n| Model | Count |\n|---|--:|\n", f);
		for (size_t i = 0; i < t->n_models; i++) {
			fputs("| ", f);
			md_text(f, t->models[i].model);
			fprintf(f, " | %" PRId64 " |\n", t->models[i].count);
		}
	}
}

/* --- CSV (RFC 4180: CRLF, a header row, quotes doubled) --- */

static void write_csv(FILE *f, const row *rows, size_t n)
{
	char s[32];

	fputs("file,node,role,system_vendor,system_product,system_serial,system,cpu_model,"
	      "cpu_sockets,cpu_cores,cpu_threads,memory_bytes,memory,disk_count,storage_bytes,"
	      "storage,disks,gpu_count,gpus,nic_count,nics\r\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;

		csv_field(f, w->node->file, false);
		csv_field(f, inv->hostname, false);
		csv_field(f, w->node->role, false);
		csv_field(f, inv->system.vendor, false);
		csv_field(f, inv->system.product, false);
		csv_field(f, inv->system.serial, false);
		csv_field(f, w->system, false);
		csv_field(f, inv->cpu.model, false);
		csv_int(f, inv->cpu.sockets);
		csv_int(f, inv->cpu.cores);
		csv_int(f, inv->cpu.threads);
		csv_int(f, w->memory_bytes);
		output_format_bytes(w->memory_bytes, s, sizeof(s));
		csv_field(f, w->memory_bytes >= 0 ? s : "", false);
		csv_int(f, (int64_t)w->n_disks);
		csv_int(f, w->storage_bytes);
		output_format_bytes(w->storage_bytes, s, sizeof(s));
		csv_field(f, s, false);
		csv_list(f, w->disks, w->n_disks, false);
		csv_int(f, (int64_t)w->n_gpus);
		csv_list(f, w->gpus, w->n_gpus, false);
		csv_int(f, (int64_t)w->n_nics);
		csv_list(f, w->nics, w->n_nics, true);
	}
}

/* --- JSON, schema node-agent/report/v1 --- */

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
 * missing key, caught below by the key count check */
static void put(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *node_json(const row *w)
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
	for (size_t i = 0; arr && i < inv->n_disks; i++) {
		const hw_disk *d = &inv->disks[i];
		if (!(x = json_object_new_object()) || json_object_array_add(arr, x) < 0) {
			json_object_put(x);
			break;
		}
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
	put(o, "gpus", arr = json_object_new_array());
	for (size_t i = 0; arr && i < inv->n_gpus; i++) {
		const hw_gpu *g = &inv->gpus[i];
		if (!(x = json_object_new_object()) || json_object_array_add(arr, x) < 0) {
			json_object_put(x);
			break;
		}
		put(x, "pci_address", jstr(g->pci_address));
		put(x, "vendor", jstr(g->vendor));
		put(x, "model", jstr(g->model));
		put(x, "memory_bytes", jint(g->memory_bytes));
		put(x, "memory", jsize(g->memory_bytes));
	}
	put(o, "nics", arr = json_object_new_array());
	for (size_t i = 0; arr && i < inv->n_nics; i++) {
		const hw_nic *n = &inv->nics[i];
		char s[32];

		if (n->is_virtual)
			continue;
		if (!(x = json_object_new_object()) || json_object_array_add(arr, x) < 0) {
			json_object_put(x);
			break;
		}
		report_format_speed(n->speed_mbps, s, sizeof(s));
		put(x, "name", jstr(n->name));
		put(x, "mac", jstr(n->mac));
		put(x, "driver", jstr(n->driver));
		put(x, "speed_mbps", jint(n->speed_mbps));
		put(x, "speed", n->speed_mbps >= 0 ? json_object_new_string(s) : NULL);
		put(x, "link", jstr(n->link));
		put(x, "wireless", json_object_new_boolean(n->wireless));
	}
	return o;
}

static int write_json(FILE *f, const row *rows, size_t n, const totals *t)
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
	    source_date(date, sizeof(date), false) ? json_object_new_string(date) : NULL);
	put(o, "nodes", nodes);
	for (size_t i = 0; i < n; i++) {
		x = node_json(&rows[i]);
		if (!x || json_object_array_add(nodes, x) < 0) {
			json_object_put(x);
			goto out;
		}
	}
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
	put(x, "gpus_by_model", m = json_object_new_array());
	for (size_t i = 0; m && i < t->n_models; i++) {
		json_object *e = json_object_new_object();
		if (!e || json_object_array_add(m, e) < 0) {
			json_object_put(e);
			goto out;
		}
		put(e, "model", json_object_new_string(t->models[i].model));
		put(e, "count", json_object_new_int64(t->models[i].count));
	}
	r = output_json(f, o);
out:
	json_object_put(o);
	return r;
}

/* --- HTML: one page, inline CSS and JS, nothing fetched --- */

static const char html_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<meta name=\"generator\" content=\"node-agent report\">\n"
	"<title>Fleet report</title>\n"
	"<style>\n"
	":root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --line: #d0d7de;\n"
	"  --head: #f6f8fa; --stripe: #fafbfc; --hover: #eef4ff; --accent: #0969da; --pill: #ddf4ff; }\n"
	"@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0;\n"
	"  --line: #30363d; --head: #161b22; --stripe: #0d1117; --hover: #1c2d41; --accent: #4493f8;\n"
	"  --pill: #12263f; } body { background: #010409; } }\n"
	"body { font: 13.5px/1.45 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif;\n"
	"  color: var(--fg); margin: 1.5rem auto; padding: 0 1rem; max-width: 110rem; }\n"
	"h1 { font-size: 1.6rem; margin: 0 0 .3rem; }\n"
	"h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; }\n"
	".summary { color: var(--muted); margin: 0 0 1.4rem; }\n"
	".summary b { color: var(--fg); }\n"
	"table { border-collapse: collapse; width: 100%; }\n"
	"table.small { width: auto; min-width: 24rem; }\n"
	"th, td { text-align: left; vertical-align: top; padding: .4rem .5rem;\n"
	"  border-bottom: 1px solid var(--line); }\n"
	"thead th { position: sticky; top: 0; background: var(--head); white-space: nowrap;\n"
	"  font-weight: 600; }\n"
	"#fleet thead th { cursor: pointer; user-select: none; }\n"
	"#fleet thead th:hover, #fleet thead th:focus { color: var(--accent); outline: none; }\n"
	"#fleet thead th::after { content: \"\\2195\"; opacity: .3; margin-left: .35rem; }\n"
	"#fleet thead th[aria-sort=ascending]::after { content: \"\\25B2\"; opacity: 1; }\n"
	"#fleet thead th[aria-sort=descending]::after { content: \"\\25BC\"; opacity: 1; }\n"
	"tbody tr:nth-child(even) { background: var(--stripe); }\n"
	"tbody tr:hover { background: var(--hover); }\n"
	".num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }\n"
	"tfoot td { font-weight: 600; border-top: 2px solid var(--muted); border-bottom: none; }\n"
	"ul { margin: 0; padding: 0; list-style: none; }\n"
	"li + li { margin-top: .1rem; }\n"
	".file { color: var(--muted); font-size: .8em; }\n"
	".muted { color: var(--muted); }\n"
	".role { display: inline-block; padding: 0 .5rem; border-radius: 1rem;\n"
	"  background: var(--pill); color: var(--accent); }\n"
	"footer { color: var(--muted); margin-top: 2rem; font-size: .85em; }\n"
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<h1>Fleet report</h1>\n";

/* Click a header to sort (again to reverse); numeric columns compare data-sort values.
 * #sort=KEY or #sort=-KEY in the URL sorts on load (links, and the headless test). */
static const char html_script[] =
	"<script>\n"
	"(function () {\n"
	"  'use strict';\n"
	"  var table = document.getElementById('fleet');\n"
	"  var heads = table.tHead.rows[0].cells;\n"
	"  function value(cell) {\n"
	"    var v = cell.getAttribute('data-sort');\n"
	"    return v !== null ? v : cell.textContent.trim();\n"
	"  }\n"
	"  function sortBy(col, descending) {\n"
	"    var body = table.tBodies[0];\n"
	"    var numeric = heads[col].getAttribute('data-type') === 'number';\n"
	"    var rows = Array.prototype.map.call(body.rows, function (r, i) { return [r, i]; });\n"
	"    rows.sort(function (a, b) {\n"
	"      var x = value(a[0].cells[col]), y = value(b[0].cells[col]), c;\n"
	"      if (numeric) {\n"
	"        x = x === '' ? -1 : Number(x);\n"
	"        y = y === '' ? -1 : Number(y);\n"
	"        c = x < y ? -1 : x > y ? 1 : 0;\n"
	"      } else {\n"
	"        c = x.localeCompare(y, 'en', { numeric: true, sensitivity: 'base' });\n"
	"      }\n"
	"      return (descending ? -c : c) || a[1] - b[1];\n"
	"    });\n"
	"    rows.forEach(function (r) { body.appendChild(r[0]); });\n"
	"    for (var i = 0; i < heads.length; i++)\n"
	"      heads[i].setAttribute('aria-sort',\n"
	"        i !== col ? 'none' : descending ? 'descending' : 'ascending');\n"
	"  }\n"
	"  Array.prototype.forEach.call(heads, function (th, i) {\n"
	"    th.tabIndex = 0;\n"
	"    function toggle() { sortBy(i, th.getAttribute('aria-sort') === 'ascending'); }\n"
	"    th.addEventListener('click', toggle);\n"
	"    th.addEventListener('keydown', function (e) {\n"
	"      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); }\n"
	"    });\n"
	"  });\n"
	"  var m = /^#sort=(-?)([a-z_]+)$/.exec(location.hash);\n"
	"  if (m)\n"
	"    for (var i = 0; i < heads.length; i++)\n"
	"      if (heads[i].getAttribute('data-key') === m[2]) sortBy(i, m[1] === '-');\n"
	"})();\n"
	"</script>\n";

static void html_size_cell(FILE *f, int64_t b)
{
	char s[32];

	output_format_bytes(b, s, sizeof(s));
	if (b >= 0)
		fprintf(f, "<td class=\"num\" data-sort=\"%" PRId64 "\">%s</td>", b, s);
	else
		fputs("<td class=\"num muted\" data-sort=\"\">-</td>", f);
}

static void html_count_cell(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "<td class=\"num\" data-sort=\"%" PRId64 "\">%" PRId64 "</td>", v, v);
	else
		fputs("<td class=\"num muted\" data-sort=\"\">-</td>", f);
}

static void html_text_cell(FILE *f, const char *s)
{
	if (known(s)) {
		fputs("<td>", f);
		html_text(f, s);
		fputs("</td>", f);
	} else
		fputs("<td class=\"muted\">-</td>", f);
}

static void html_list_cell(FILE *f, char **v, size_t n, bool nbsp)
{
	fprintf(f, "<td data-sort=\"%zu\">", n);
	if (n == 0)
		fputs("<span class=\"muted\">-</span>", f);
	else {
		fputs("<ul>", f);
		for (size_t i = 0; i < n; i++) {
			fputs("<li>", f);
			html_text_ex(f, v[i], nbsp);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("</td>", f);
}

static void write_html(FILE *f, const row *rows, size_t n, const totals *t)
{
	/* lists (disks, GPUs, NICs) sort by how many entries they have */
	static const char *const cols[][3] = {
		{ "node", "Node", "" },
		{ "role", "Role", "" },
		{ "system", "System", "" },
		{ "cpu", "CPU", "" },
		{ "cores", "Cores", " data-type=\"number\" class=\"num\"" },
		{ "threads", "Threads", " data-type=\"number\" class=\"num\"" },
		{ "memory", "Memory", " data-type=\"number\" class=\"num\"" },
		{ "storage", "Storage", " data-type=\"number\" class=\"num\"" },
		{ "disks", "Disks", " data-type=\"number\"" },
		{ "gpus", "GPUs", " data-type=\"number\"" },
		{ "nics", "NICs", " data-type=\"number\"" },
	};
	char mem[32], sto[32], date[64];

	output_format_bytes(t->memory_bytes, mem, sizeof(mem));
	output_format_bytes(t->storage_bytes, sto, sizeof(sto));
	fputs(html_head, f);
	fprintf(f,
		"<p class=\"summary\"><b>%" PRId64 "</b> node%s &middot; <b>%" PRId64
		"</b> cores / <b>%" PRId64 "</b> threads &middot; <b>%s</b> memory &middot; "
		"<b>%s</b> storage in <b>%" PRId64 "</b> disk%s &middot; <b>%" PRId64
		"</b> GPU%s</p>\n",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads, mem, sto, t->disks,
		t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s");
	fputs("<table id=\"fleet\">\n<thead><tr>", f);
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		fprintf(f, "<th data-key=\"%s\"%s aria-sort=\"none\" scope=\"col\">%s</th>",
			cols[c][0], cols[c][2], cols[c][1]);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		const row *w = &rows[i];
		const hw_inventory *inv = w->node->inv;
		const char *base = strrchr(w->node->file, '/');

		fputs("<tr><td>", f);
		if (known(inv->hostname))
			html_text(f, inv->hostname);
		else
			fputs("<span class=\"muted\">-</span>", f);
		fputs("<div class=\"file\" title=\"", f);
		html_text(f, w->node->file);
		fputs("\">", f);
		html_text(f, base ? base + 1 : w->node->file);
		fputs("</div></td>", f);
		if (known(w->node->role)) {
			fputs("<td><span class=\"role\">", f);
			html_text(f, w->node->role);
			fputs("</span></td>", f);
		} else
			fputs("<td></td>", f);
		html_text_cell(f, w->system);
		html_text_cell(f, inv->cpu.model);
		html_count_cell(f, inv->cpu.cores);
		html_count_cell(f, inv->cpu.threads);
		html_size_cell(f, w->memory_bytes);
		html_size_cell(f, w->storage_bytes);
		html_list_cell(f, w->disks, w->n_disks, true);
		html_list_cell(f, w->gpus, w->n_gpus, false);
		html_list_cell(f, w->nics, w->n_nics, true);
		fputs("</tr>\n", f);
	}
	fprintf(f,
		"</tbody>\n<tfoot><tr><td>Total: %" PRId64 " node%s</td><td></td><td></td><td></td>"
		"<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64 "</td>"
		"<td class=\"num\">%s</td><td class=\"num\">%s</td><td>%" PRId64 " disk%s</td>"
		"<td>%" PRId64 " GPU%s</td><td></td></tr></tfoot>\n</table>\n",
		t->nodes, t->nodes == 1 ? "" : "s", t->cores, t->threads, mem, sto, t->disks,
		t->disks == 1 ? "" : "s", t->gpus, t->gpus == 1 ? "" : "s");
	if (t->n_models) {
		fputs("<h2>GPUs by model</h2>\n<table class=\"small\" id=\"gpus\">\n"
		      "<thead><tr><th scope=\"col\">Model</th><th scope=\"col\" class=\"num\">Count</th>"
		      "</tr></thead>\n<tbody>\n",
		      f);
		for (size_t i = 0; i < t->n_models; i++) {
			fputs("<tr><td>", f);
			html_text(f, t->models[i].model);
			fprintf(f, "</td><td class=\"num\">%" PRId64 "</td></tr>\n",
				t->models[i].count);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	fputs("<footer>Made by <code>node-agent report</code> from the nodes' inventories", f);
	if (source_date(date, sizeof(date), true))
		fprintf(f, " on %s", date);
	fputs(". Click a column header to sort.</footer>\n", f);
	fputs(html_script, f);
	fputs("</body>\n</html>\n", f);
}

int report_write(FILE *f, report_format fmt, const report_node *nodes, size_t n)
{
	row *rows = calloc(n + 1, sizeof(*rows));
	totals t = { 0 };
	int r = -ENOMEM;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (row_build(&nodes[i], &rows[i]) < 0)
			goto out;
	if (totals_build(rows, n, &t) < 0)
		goto out;
	r = 0;
	switch (fmt) {
	case REPORT_MARKDOWN:
		write_markdown(f, rows, n, &t);
		break;
	case REPORT_CSV:
		write_csv(f, rows, n);
		break;
	case REPORT_HTML:
		write_html(f, rows, n, &t);
		break;
	case REPORT_JSON:
		r = write_json(f, rows, n, &t);
		break;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
out:
	for (size_t i = 0; i < n; i++)
		row_done(&rows[i]);
	free(rows);
	free(t.models);
	return r;
}

/* --- node-agent report --- */

typedef struct inputs {
	char **files;
	size_t n;
} inputs;

static int add_file(inputs *in, char *path)
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
static int add_dir(inputs *in, const char *dir)
{
	DIR *d = opendir(dir);
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
	closedir(d);
	if (r < 0)
		return r;
	if (in->n == first)
		return -ENOENT;
	qsort(in->files + first, in->n - first, sizeof(char *), cmp_str);
	return 0;
}

static int cmp_host(const void *a, const void *b)
{
	const report_node *x = a, *y = b;

	return strcmp(x->inv->hostname, y->inv->hostname);
}

/* The same hostname on several nodes: a fresh install's "localhost", or a copy. */
static void warn_duplicates(const report_node *nodes, size_t n)
{
	report_node *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		if (known(nodes[i].inv->hostname))
			v[k++] = nodes[i];
	qsort(v, k, sizeof(*v), cmp_host);
	for (size_t i = 0, j; i < k; i = j) {
		for (j = i + 1; j < k && strcmp(v[i].inv->hostname, v[j].inv->hostname) == 0; j++)
			;
		if (j - i > 1) {
			fputs("node-agent report: warning: hostname \"", stderr);
			for (const char *p = v[i].inv->hostname; *p; p++)
				fputc((unsigned char)*p < 0x20 ? '?' : *p, stderr);
			fprintf(stderr, "\" is in %zu inventories\n", j - i);
		}
	}
	free(v);
}

/* The role a node has, when its inventory says so (optional; not written by `inventory`). */
static int read_role(const char *file, json_object *root, char **ret)
{
	static const char *const keys[] = { "role", "node_role" };

	*ret = NULL;
	for (size_t i = 0; i < 2; i++) {
		json_object *v = NULL;

		if (!json_object_object_get_ex(root, keys[i], &v) || !v)
			continue;
		if (!json_object_is_type(v, json_type_string)) {
			fprintf(stderr, "%s: %s: must be a string or null\n", file, keys[i]);
			return -EINVAL;
		}
		*ret = strdup(json_object_get_string(v));
		return *ret ? 0 : -ENOMEM;
	}
	return 0;
}

static int load_node(const char *file, report_node *node)
{
	json_object *root = NULL;
	hw_inventory *inv = NULL;
	char *role = NULL;
	int r;

	r = inventory_read_json(file, stderr, &root);
	if (r >= 0)
		r = inventory_from_json(root, file, stderr, &inv);
	if (r >= 0)
		r = read_role(file, root, &role);
	json_object_put(root);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s\n", file, strerror(-r));
		hw_inventory_free(inv);
		return r;
	}
	*node = (report_node){ .file = file, .role = role, .inv = inv };
	return 0;
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	report_format fmt = REPORT_MARKDOWN;
	inputs in = { 0 };
	report_node *nodes = NULL;
	size_t n_nodes = 0, n_bad = 0;
	int c, r, ret = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'f':
			if (report_parse_format(optarg, &fmt) < 0) {
				fprintf(stderr, "node-agent report: unknown format \"%s\" "
						"(markdown, csv, html or json)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: node-agent report FILE|DIR... [--format markdown|csv|html|json]\n"
			       "One table of many nodes' inventories (a DIR means its *.json files).\n");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: node-agent report FILE|DIR... "
				"[--format markdown|csv|html|json]\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			r = add_dir(&in, argv[i]);
			if (r == -ENOENT)
				fprintf(stderr, "%s: no *.json inventories in this directory\n", argv[i]);
			else if (r < 0)
				fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
		} else
			r = add_file(&in, strdup(argv[i]));
		if (r == -E2BIG)
			fprintf(stderr, "node-agent report: more than %d inventories\n",
				REPORT_MAX_FILES);
		if (r < 0)
			goto out;
	}
	nodes = calloc(in.n + 1, sizeof(*nodes));
	if (!nodes)
		goto out;
	/* every file is read, so one run names every bad input */
	for (size_t i = 0; i < in.n; i++) {
		if (load_node(in.files[i], &nodes[n_nodes]) < 0)
			n_bad++;
		else
			n_nodes++;
	}
	if (n_bad) {
		fprintf(stderr, "node-agent report: %zu of %zu inventor%s not usable; no report written\n",
			n_bad, in.n, in.n == 1 ? "y is" : "ies are");
		goto out;
	}
	warn_duplicates(nodes, n_nodes);
	r = report_write(stdout, fmt, nodes, n_nodes);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "node-agent report: cannot write the report: %s\n",
			strerror(r < 0 ? -r : errno));
		ret = EXIT_FAILURE;
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n_nodes; i++) {
		free((char *)nodes[i].role);
		hw_inventory_free((hw_inventory *)nodes[i].inv);
	}
	free(nodes);
	for (size_t i = 0; i < in.n; i++)
		free(in.files[i]);
	free(in.files);
	return ret;
}
