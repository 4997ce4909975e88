/* SPDX-License-Identifier: MIT */
/*
 * Inventory JSON (schema node-agent/inventory/v1) -> hw_inventory, for `plan --inventory`
 * and fleet reports. Strict about types, lenient about absent optional keys (older or
 * newer writers); every problem names the file and the JSON path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/parse-util.h"
#include "inventory/inventory-json.h"
#include "inventory/inventory-schema.h"

#define INVENTORY_MAX_BYTES (16 * 1024 * 1024)
/* Sizes and counts above 2^60 (1 EiB) are junk, and would overflow fleet totals. */
#define INVENTORY_MAX_INT (INT64_C(1) << 60)

typedef struct reader {
	const char *file;
	const na_log *log;
	int n_errors;
} reader;

__attribute__((format(printf, 3, 4))) static void rerr(reader *r, const char *jpath,
						       const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	if (r->n_errors++ >= 20 || !r->log)
		return;
	va_start(ap, fmt);
	k = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (k >= 0)
		na_logf(r->log, LOG_ERR, "%s: %s: %s", r->file, jpath, msg);
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

static char *rstr(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		rerr(r, where, "\"%s\" must be a string or null", key);
		return NULL;
	}
	return strdup(json_object_get_string(v));
}

static int64_t rint64(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v) /* absent or null: json-c gives NULL for both */
		return HW_UNKNOWN;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
		rerr(r, where, "\"%s\" must be a non-negative integer or null", key);
		return HW_UNKNOWN;
	}
	if (json_object_get_int64(v) > INVENTORY_MAX_INT) {
		rerr(r, where, "\"%s\" is out of range", key);
		return HW_UNKNOWN;
	}
	return json_object_get_int64(v);
}

static hw_tri rtri(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);

	if (!v)
		return HW_TRI_UNKNOWN;
	if (!json_object_is_type(v, json_type_boolean)) {
		rerr(r, where, "\"%s\" must be true, false or null", key);
		return HW_TRI_UNKNOWN;
	}
	return json_object_get_boolean(v) ? HW_TRI_TRUE : HW_TRI_FALSE;
}

static uint16_t rhex4(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	uint32_t x;

	if (!v)
		return 0;
	if (parse_hex_digits(json_object_is_type(v, json_type_string) ? json_object_get_string(v)
								      : "",
			     4, false, &x) < 0) {
		rerr(r, where, "\"%s\" must be 4 hex digits", key);
		return 0;
	}
	return (uint16_t)x;
}

static char **rstrv(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	char **out;
	size_t n;

	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_array)) {
		rerr(r, where, "\"%s\" must be a list of strings or null", key);
		return NULL;
	}
	n = json_object_array_length(v);
	out = calloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; out && i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			rerr(r, where, "\"%s\"[%zu] must be a string", key, i);
			continue;
		}
		out[k] = strdup(json_object_get_string(e));
		if (!out[k]) {
			rerr(r, where, "out of memory");
			break;
		}
		k++;
	}
	return out;
}

static uint32_t rpci_class(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	const char *s =
	    v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

	uint32_t x;

	if (s && parse_hex_digits(s, 4, true, &x) == 0)
		return x << 8;
	if (v)
		rerr(r, where, "\"%s\" must be 4 hex digits", key);
	return 0;
}

static int16_t rrev2(reader *r, json_object *o, const char *key, const char *where)
{
	json_object *v = get(o, key);
	uint32_t x;

	if (!v)
		return -1;
	if (json_object_is_type(v, json_type_string) &&
	    parse_hex_digits(json_object_get_string(v), 2, true, &x) == 0)
		return (int16_t)x;
	rerr(r, where, "\"%s\" must be 2 lower-case hex digits or null", key);
	return -1;
}

/* Whether s or v is one of the field's allowed values (any, when it has no list). */
static bool string_allowed(const schema_field *f, const char *s)
{
	for (const char *const *x = f->values; x && *x; x++)
		if (strcmp(*x, s) == 0)
			return true;
	return !f->values;
}

static bool int_allowed(const schema_field *f, int64_t v)
{
	for (const int64_t *x = f->ints; x && *x != HW_UNKNOWN; x++)
		if (*x == v)
			return true;
	return !f->ints;
}

/*
 * Where problems are reported: a field's at the path of its object ("$", "cpu",
 * "disks[2]"), the message naming the key. A section or list of the document has a path
 * of its own ("boot", "gpus", "gpus[3]"); one within a part (a disk's filesystems) is named
 * in the message at the part's path, and so are the fields of its objects.
 */
static void container_err(reader *r, const char *where, bool root, const char *key, size_t idx,
			  const char *what)
{
	char path[64];

	if (root && idx == SIZE_MAX)
		rerr(r, key, "%s", what);
	else if (root) {
		snprintf(path, sizeof(path), "%s[%zu]", key, idx);
		rerr(r, path, "%s", what);
	} else if (idx == SIZE_MAX)
		rerr(r, where, "\"%s\" %s", key, what);
	else
		rerr(r, where, "\"%s\"[%zu] %s", key, idx, what);
}

static int read_fields(reader *r, const schema_table *t, json_object *o, void *obj,
		       const char *where, bool root);

/* A section: an object, or absent/null (unknown: its fields read as absent). */
static int read_object(reader *r, const schema_field *f, json_object *o, void *p, const char *where,
		       bool root)
{
	json_object *v = get(o, f->key);

	if (v && !json_object_is_type(v, json_type_object)) {
		container_err(r, where, root, f->key, SIZE_MAX, "must be an object or null");
		v = NULL;
	}
	return read_fields(r, f->object, v, p, root ? f->key : where, false);
}

/* A list of objects into the array at f's offset in holder and its count; entries that are
 * not objects are left out. */
static int read_list(reader *r, const schema_field *f, json_object *o, void *holder,
		     const char *where, bool root)
{
	const schema_list *l = f->list;
	json_object *v = get(o, f->key);
	char **array = (char **)((char *)holder + f->offset); /* where the array pointer is */
	size_t *count = (size_t *)((char *)holder + l->count_offset), n = 0;

	if (v && !json_object_is_type(v, json_type_array)) {
		container_err(r, where, root, f->key, SIZE_MAX,
			      l->nullable ? "must be a list or null" : "must be a list");
		v = NULL;
	} else if (v && json_object_array_length(v) > l->max) {
		char what[64];

		snprintf(what, sizeof(what), "more than %zu entries", l->max);
		container_err(r, where, root, f->key, SIZE_MAX, what);
		v = NULL;
	}
	if (v)
		n = json_object_array_length(v);
	else if (l->nullable)
		return 0;
	*array = calloc(n + 1, l->elem_size);
	if (!*array)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		char path[64];
		int k;

		if (!json_object_is_type(e, json_type_object)) {
			container_err(r, where, root, f->key, i, "must be an object");
			continue;
		}
		if (root)
			snprintf(path, sizeof(path), "%s[%zu]", f->key, i);
		k = read_fields(r, l->table, e, *array + (*count)++ * l->elem_size,
				root ? path : where, false);
		if (k < 0)
			return k;
	}
	return 0;
}

static int read_field(reader *r, const schema_field *f, json_object *o, void *obj,
		      const char *where, bool root)
{
	void *p = (char *)obj + f->offset;

	switch (f->kind) {
	case SCHEMA_STRING: {
		char *s = rstr(r, o, f->key, where);

		if (s && !string_allowed(f, s)) {
			rerr(r, where, "\"%s\" must be %s or null", f->key, f->allowed);
			free(s);
			s = NULL;
		}
		*(char **)p = s;
		break;
	}
	case SCHEMA_INT: {
		int64_t v = rint64(r, o, f->key, where);

		if (v != HW_UNKNOWN && !int_allowed(f, v)) {
			rerr(r, where, "\"%s\" must be %s or null", f->key, f->allowed);
			v = HW_UNKNOWN;
		}
		*(int64_t *)p = v;
		break;
	}
	case SCHEMA_TRI:
		*(hw_tri *)p = rtri(r, o, f->key, where);
		break;
	case SCHEMA_BOOL:
		*(bool *)p = rtri(r, o, f->key, where) == HW_TRI_TRUE;
		break;
	case SCHEMA_HEX4:
		*(uint16_t *)p = rhex4(r, o, f->key, where);
		break;
	case SCHEMA_STRV:
		*(char ***)p = rstrv(r, o, f->key, where);
		break;
	case SCHEMA_PCI_CLASS:
		*(uint32_t *)p = rpci_class(r, o, f->key, where);
		break;
	case SCHEMA_REV2:
		*(int16_t *)p = rrev2(r, o, f->key, where);
		break;
	case SCHEMA_OBJECT:
		return read_object(r, f, o, p, where, root);
	case SCHEMA_OPT_OBJECT: {
		json_object *v = get(o, f->key);

		/* not known: every field as when absent (unknown), then the flag */
		*(bool *)p = v && json_object_is_type(v, json_type_object);
		if (!*(bool *)p) {
			int k = read_fields(r, f->object, NULL, p, where, false);

			if (v && !json_object_is_type(v, json_type_null))
				container_err(r, where, root, f->key, SIZE_MAX,
					      "must be an object or null");
			return k;
		}
		return read_fields(r, f->object, v, p, root ? f->key : where, false);
	}
	case SCHEMA_LIST:
		return read_list(r, f, o, obj, where, root);
	}
	return 0;
}

/* The fields of table t from the object o (NULL: all absent) into the struct at obj. */
static int read_fields(reader *r, const schema_table *t, json_object *o, void *obj,
		       const char *where, bool root)
{
	for (size_t i = 0; i < t->n_fields; i++) {
		int k = read_field(r, &t->fields[i], o, obj, where, root);

		if (k < 0)
			return k;
	}
	return 0;
}

int inventory_from_json(json_object *root, const char *file, const na_log *log, hw_inventory **ret)
{
	reader r = {.file = file, .log = log};
	hw_inventory *inv;
	json_object *schema = get(root, "schema");
	int k;

	if (!root || !json_object_is_type(root, json_type_object)) {
		rerr(&r, "$", "not a JSON object");
		return -EINVAL;
	}
	if (!schema || !json_object_is_type(schema, json_type_string) ||
	    strcmp(json_object_get_string(schema), INVENTORY_SCHEMA) != 0) {
		rerr(&r, "schema", "expected \"%s\"", INVENTORY_SCHEMA);
		return -EINVAL;
	}
	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	k = read_fields(&r, &inventory_schema, root, inv, "$", true);
	if (k < 0) {
		hw_inventory_free(inv);
		return k;
	}
	/* v1 always carries the PCI ids */
	for (size_t i = 0; i < inv->n_pci_devices; i++)
		inv->pci_devices[i].has_ids = true;
	if (r.n_errors > 0) {
		hw_inventory_free(inv);
		return -EINVAL;
	}
	*ret = inv;
	return 0;
}

/* *ret may be NULL: the text was the JSON literal null. */
int inventory_parse_json(const char *file, const char *buf, size_t len, const na_log *log,
			 json_object **ret)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	const char *nul;
	size_t off;

	if (len > INVENTORY_MAX_BYTES) {
		na_logf(log, LOG_ERR, "%s: larger than %d bytes", file, INVENTORY_MAX_BYTES);
		return -EINVAL;
	}
	/* JSON text never holds a raw NUL; json-c would stop reading at one */
	nul = memchr(buf, '\0', len);
	if (nul) {
		na_logf(log, LOG_ERR, "%s: not JSON text: NUL byte at byte %zu", file,
			(size_t)(nul - buf));
		return -EINVAL;
	}
	for (off = 0; off < len && is_json_space(buf[off]); off++)
		;
	if (off == len) {
		na_logf(log, LOG_ERR, "%s: empty file, expected a JSON object", file);
		return -EINVAL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = (size_t)tok->char_offset;
	if (!root && jerr == json_tokener_continue) {
		/* a top-level number or literal ends only with the input: json-c wants a NUL
		 * to know; an object or array cut short stays incomplete */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		off = len;
	}
	json_tokener_free(tok);
	/* a top-level JSON null parses to root == NULL with success: inventory_from_json()
	 * says "not a JSON object" */
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			na_logf(log, LOG_ERR,
				"%s: invalid JSON: truncated (the file ends inside the value)",
				file);
		else
			na_logf(log, LOG_ERR, "%s: invalid JSON at byte %zu: %s", file, off,
				json_tokener_error_desc(jerr));
		json_object_put(root);
		return -EINVAL;
	}
	/* anything after the value must be whitespace */
	while (off < len && is_json_space(buf[off]))
		off++;
	if (off < len) {
		na_logf(log, LOG_ERR, "%s: invalid JSON at byte %zu: data after the value", file,
			off);
		json_object_put(root);
		return -EINVAL;
	}
	*ret = root;
	return 0;
}

int inventory_read_json(const char *file, const na_log *log, json_object **ret)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	/* any readable file, a pipe or /dev/stdin too, but no directory */
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* bounded: a larger file (or /dev/zero) stops one byte past the limit */
	r = read_full_fd(fd, INVENTORY_MAX_BYTES, &buf, &len);
	if (r == -EFBIG) {
		na_logf(log, LOG_ERR, "%s: larger than %d bytes", file, INVENTORY_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	return inventory_parse_json(file, buf, len, log, ret);
}

int inventory_load(const char *file, const na_log *log, hw_inventory **ret)
{
	json_object *root = NULL;
	int r;

	r = inventory_read_json(file, log, &root);
	if (r < 0)
		return r;
	r = inventory_from_json(root, file, log, ret);
	json_object_put(root);
	return r;
}
