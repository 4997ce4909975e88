/* SPDX-License-Identifier: MIT */
/*
 * Node config (schema node-agent/config/v1): libyaml's document loader gives every node
 * its line and column, and a walk over the tree checks each key against the schema.
 * Every problem is reported as FILE:LINE:COLUMN with what was expected; unknown keys are
 * errors, because a typo must not silently change a node's role.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config.h"
#include "kube/k8s.h"
#include "basic/parse-util.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define MAX_ERRORS	 50
#define MAX_ENTRIES	 1000	/* keys of one mapping, items of one list */
#define MAX_VALUES	 100000 /* entries walked in all, counting every use of an alias */

const char *na_role_name(na_role r)
{
	switch (r) {
	case ROLE_AGENT:
		return "agent";
	case ROLE_SERVER:
		return "server";
	case ROLE_SERVER_INIT:
		return "server-init";
	default:
		return NULL;
	}
}

typedef struct parser {
	const char *path;
	FILE *errors;
	unsigned n_errors;
	size_t n_values;
	yaml_document_t *doc;
	na_config *cfg;
	/* an allocation failed: the config is refused (-ENOMEM), not loaded without a value */
	bool oom;
	/* top-level keys and their values, for problems that involve several keys */
	yaml_node_t *cluster_key, *cluster, *rules_key, *disk_key, *disk, *gitops_key, *gitops;
} parser;

__attribute__((format(printf, 3, 4))) static void err(parser *p, const yaml_node_t *n,
						      const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	p->n_errors++;
	if (p->n_errors > MAX_ERRORS || !p->errors)
		return;
	fprintf(p->errors, "%s:%zu:%zu: ", p->path, n ? n->start_mark.line + 1 : 1,
		n ? n->start_mark.column + 1 : 1);
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		p->oom = true;
	/* messages quote values from the file: one line per problem, no terminal controls */
	for (const char *c = r >= 0 ? msg : "out of memory"; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fprintf(p->errors, "\\x%02x", (unsigned char)*c);
		else
			fputc(*c, p->errors);
	if (r >= 0)
		free(msg);
	fputc('\n', p->errors);
}

static yaml_node_t *node(parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* The value of `key` in mapping `map`, or NULL. */
static yaml_node_t *map_get(parser *p, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = node(p, a->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return node(p, a->value);
	}
	return NULL;
}

/* A mapping that lacks `key`; a value that is not a mapping has been reported already. */
static bool map_lacks(parser *p, const yaml_node_t *map, const char *key)
{
	return map && map->type == YAML_MAPPING_NODE && !map_get(p, map, key);
}

/*
 * Bounds on the walk, so that a small file cannot cost minutes or gigabytes: an alias
 * repeats all that it names wherever it is used (rules: [*r, *r, ...] with a rule of many
 * labels), and the check for duplicate rule names is quadratic.
 */
static bool within_bounds(parser *p, const yaml_node_t *n, size_t entries, const char *where)
{
	if (p->n_values > MAX_VALUES)
		return false;
	if (entries > MAX_ENTRIES) {
		err(p, n, "%s: more than %d entries", where, MAX_ENTRIES);
		return false;
	}
	p->n_values += entries;
	if (p->n_values > MAX_VALUES) {
		err(p, n, "more than %d values in all (an alias counts each time it is used)",
		    MAX_VALUES);
		return false;
	}
	return true;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		return "a scalar";
	default:
		return "nothing";
	}
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "null") || !strcmp(v, "~") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* "\0" in a double-quoted scalar: C code would see only the text before it. */
static bool has_nul(parser *p, const yaml_node_t *n, const char *what)
{
	if (strlen((const char *)n->data.scalar.value) == n->data.scalar.length)
		return false;
	err(p, n, "%s: \"%s\\0...\" contains a NUL character", what,
	    (const char *)n->data.scalar.value);
	return true;
}

/* A string value. Plain scalars that YAML reads as something else are still text here,
 * except null, which is "missing". */
static const char *str(parser *p, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		err(p, n, "%s: expected a string, found %s", what, node_kind(n));
		return NULL;
	}
	if (is_null(n)) {
		err(p, n, "%s: expected a string, found null", what);
		return NULL;
	}
	if (has_nul(p, n, what))
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* strdup() that marks the parse as failed for want of memory. */
static char *pdup(parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d)
		p->oom = true;
	return d;
}

static char *dup_str(parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = str(p, n, what);

	return s ? pdup(p, s) : NULL;
}

static bool get_int(parser *p, const yaml_node_t *n, const char *what, int64_t max, int64_t *ret)
{
	const char *v;
	int64_t x;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		err(p, n, "%s: expected a whole number", what);
		return false;
	}
	v = (const char *)n->data.scalar.value;
	if (parse_int64(v, 0, max, &x) < 0) {
		err(p, n, "%s: expected a whole number from 0 to %lld, found \"%s\"", what,
		    (long long)max, v);
		return false;
	}
	*ret = x;
	return true;
}

static bool get_bool(parser *p, const yaml_node_t *n, const char *what, bool *ret)
{
	const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(v, "true") || !strcmp(v, "false"))) {
		*ret = v[0] == 't';
		return true;
	}
	err(p, n, "%s: expected true or false", what);
	return false;
}

/* fnmatch() accepts almost anything; reject what is certainly a mistake. */
static bool glob_valid(const char *g, const char **why)
{
	for (const char *s = g; *s; s++) {
		if (*s == '\\') {
			if (!s[1]) {
				*why = "ends in a lone backslash";
				return false;
			}
			s++;
		} else if (*s == '[') {
			const char *c = s + 1;
			if (*c == '!' || *c == '^')
				c++;
			if (*c == ']')
				c++;
			c = strchr(c, ']');
			if (!c) {
				*why = "has a '[' without a closing ']'";
				return false;
			}
			s = c;
		}
	}
	return true;
}

static char *dup_glob(parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = str(p, n, what), *why;

	if (!s)
		return NULL;
	if (!glob_valid(s, &why)) {
		err(p, n, "%s: bad glob \"%s\": %s", what, s, why);
		return NULL;
	}
	return pdup(p, s);
}

/* A list of strings; a single string is not silently taken as a list of one. */
static char **str_list(parser *p, const yaml_node_t *n, const char *what,
		       bool (*check)(parser *, const yaml_node_t *, const char *, const char *))
{
	size_t count = 0, m = 0;
	char **v;

	if (n->type != YAML_SEQUENCE_NODE)
		err(p, n, "%s: expected a list, found %s", what, node_kind(n));
	else
		count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > 0 && !within_bounds(p, n, count, what))
		count = 0;
	v = calloc(count + 1, sizeof(char *));
	if (!v)
		p->oom = true;
	for (size_t i = 0; v && i < count; i++) {
		const yaml_node_t *item = node(p, n->data.sequence.items.start[i]);
		const char *s = item ? str(p, item, what) : NULL;

		if (s && (!check || check(p, item, what, s)) && (v[m] = pdup(p, s)))
			m++;
	}
	return v;
}

static bool check_taint(parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	const char *why;

	if (k8s_taint_valid(s, &why))
		return true;
	err(p, n, "%s: bad taint \"%s\": %s", what, s, why);
	return false;
}

static bool check_mac(parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	bool good = strlen(s) == 17;

	for (size_t i = 0; good && i < 17; i++)
		good = i % 3 == 2 ? s[i] == ':' : strchr("0123456789abcdefABCDEF", s[i]) && s[i];
	if (!good)
		err(p, n, "%s: \"%s\" is not a MAC address like aa:bb:cc:dd:ee:ff", what, s);
	return good;
}

/*
 * Walk a mapping: `fn` is called for each key; unknown keys are reported by fn returning
 * false, with the list of keys that are valid in that place.
 */
typedef bool (*key_fn)(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data);
static bool labels_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data);

typedef struct key_ref {
	const char *key;
	size_t pos;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
	const key_ref *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * For each pair of mapping `n`, the position of the first pair with the same key (its own
 * when the key is unique). Sorted, so that a mapping reached through many aliases does not
 * cost the square of its size each time.
 */
static size_t *first_of_keys(parser *p, const yaml_node_t *n, size_t count)
{
	key_ref *refs = calloc(count ? count : 1, sizeof(*refs));
	size_t *first = calloc(count ? count : 1, sizeof(*first));
	size_t m = 0;

	if (!refs || !first) {
		free(refs);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		const yaml_node_t *k = node(p, n->data.mapping.pairs.start[i].key);

		first[i] = i;
		if (k && k->type == YAML_SCALAR_NODE)
			refs[m++] = (key_ref){(const char *)k->data.scalar.value, i};
	}
	qsort(refs, m, sizeof(*refs), key_ref_cmp);
	for (size_t j = 1; j < m; j++)
		if (!strcmp(refs[j].key, refs[j - 1].key))
			first[refs[j].pos] = first[refs[j - 1].pos];
	free(refs);
	return first;
}

static void walk_map(parser *p, yaml_node_t *n, const char *where, const char *valid, key_fn fn,
		     void *data)
{
	size_t count, *first;

	if (n->type != YAML_MAPPING_NODE) {
		err(p, n, "%s: expected a mapping, found %s", where, node_kind(n));
		return;
	}
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (!within_bounds(p, n, count, where))
		return;
	first = first_of_keys(p, n, count);
	if (!first) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *a = &n->data.mapping.pairs.start[i];
		yaml_node_t *k = node(p, a->key), *v = node(p, a->value);
		const char *key;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err(p, k, "%s: keys must be strings", where);
			continue;
		}
		if (has_nul(p, k, where))
			continue;
		key = (const char *)k->data.scalar.value;
		if (first[i] != i) {
			yaml_node_t *kb = node(p, n->data.mapping.pairs.start[first[i]].key);
			err(p, k, "%s: duplicate key \"%s\" (first at line %zu)", where, key,
			    kb->start_mark.line + 1);
			continue;
		}
		/* "token" is a fine label name */
		if (fn != labels_key && (!strcmp(key, "token") || !strcmp(key, "agent-token") ||
					 !strcmp(key, "agent_token"))) {
			err(p, k,
			    "%s: a token must not be written into the config (it is served to "
			    "every node and often kept in Git); put it in a file and set "
			    "token_file",
			    where);
			continue;
		}
		if (!fn(p, key, k, v, data))
			err(p, k, "%s: unknown key \"%s\" (expected one of: %s)", where, key,
			    valid);
	}
	free(first);
}

/* https:// only for anything that carries or reveals secrets. */
static char *secure_url(parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = str(p, n, what);

	if (!s)
		return NULL;
	if (strncmp(s, "https://", 8) != 0 || !s[8]) {
		err(p, n, "%s: \"%s\" must be an https:// URL%s", what, s,
		    strncmp(s, "http://", 7) == 0 ? " (plain http would expose it on the network)"
						  : "");
		return NULL;
	}
	return pdup(p, s);
}

static char *abs_path(parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = str(p, n, what);

	if (!s)
		return NULL;
	if (s[0] != '/') {
		err(p, n, "%s: \"%s\" must be an absolute path", what, s);
		return NULL;
	}
	return pdup(p, s);
}

/* --- cluster --- */

static bool cluster_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "server"))
		c->server = secure_url(p, v, "cluster.server");
	else if (!strcmp(key, "token_file"))
		c->token_file = abs_path(p, v, "cluster.token_file");
	else if (!strcmp(key, "ca_file"))
		c->server_ca_file = abs_path(p, v, "cluster.ca_file");
	else
		return false;
	return true;
}

/* --- rules --- */

static bool match_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_match *m = data;

	if (!strcmp(key, "gpu_vendor")) {
		const char *s = str(p, v, "match.gpu_vendor");
		if (s && strcmp(s, "nvidia") && strcmp(s, "amd") && strcmp(s, "intel"))
			err(p, v, "match.gpu_vendor: expected nvidia, amd or intel, found \"%s\"",
			    s);
		else if (s)
			m->gpu_vendor = pdup(p, s);
	} else if (!strcmp(key, "gpu_model"))
		m->gpu_model = dup_glob(p, v, "match.gpu_model");
	else if (!strcmp(key, "min_gpus"))
		get_int(p, v, "match.min_gpus", 64, &m->min_gpus);
	else if (!strcmp(key, "min_memory_gib"))
		get_int(p, v, "match.min_memory_gib", 1 << 20, &m->min_memory_gib);
	else if (!strcmp(key, "min_cpu_threads"))
		get_int(p, v, "match.min_cpu_threads", 1 << 16, &m->min_cpu_threads);
	else if (!strcmp(key, "dmi_product"))
		m->dmi_product = dup_glob(p, v, "match.dmi_product");
	else if (!strcmp(key, "serial")) {
		strv_free(m->serial);
		m->serial = str_list(p, v, "match.serial", NULL);
	} else if (!strcmp(key, "mac")) {
		strv_free(m->mac);
		m->mac = str_list(p, v, "match.mac", check_mac);
	} else
		return false;
	return true;
}

static bool labels_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_rule *r = data;
	const char *why, *value;
	na_kv *nl;

	if (!k8s_label_key_valid(key, &why)) {
		err(p, k, "labels: bad label key \"%s\": %s", key, why);
		return true;
	}
	if (v->type != YAML_SCALAR_NODE) {
		err(p, v, "labels.%s: expected a string value, found %s", key, node_kind(v));
		return true;
	}
	if (has_nul(p, v, "labels"))
		return true;
	value = is_null(v) ? "" : (const char *)v->data.scalar.value;
	if (!k8s_label_value_valid(value, &why)) {
		err(p, v, "labels.%s: bad label value \"%s\": %s", key, value, why);
		return true;
	}
	/* doubling: n_labels is 0 or a power of two exactly when the array is full */
	if (!(r->n_labels & (r->n_labels - 1))) {
		nl = reallocarray(r->labels, r->n_labels ? 2 * r->n_labels : 1, sizeof(*nl));
		if (!nl) {
			p->oom = true;
			return true;
		}
		r->labels = nl;
	}
	r->labels[r->n_labels].key = pdup(p, key);
	r->labels[r->n_labels].value = pdup(p, value);
	if (!r->labels[r->n_labels].key || !r->labels[r->n_labels].value) {
		free(r->labels[r->n_labels].key);
		free(r->labels[r->n_labels].value);
		return true;
	}
	r->n_labels++;
	return true;
}

static bool rule_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_rule *r = data;

	if (!strcmp(key, "name")) {
		r->name = dup_str(p, v, "rules[].name");
	} else if (!strcmp(key, "match")) {
		r->has_match = true;
		walk_map(p, v, "match",
			 "gpu_vendor, gpu_model, min_gpus, min_memory_gib, min_cpu_threads, "
			 "dmi_product, serial, mac",
			 match_key, &r->match);
	} else if (!strcmp(key, "role")) {
		const char *s = str(p, v, "rules[].role");
		if (!s)
			;
		else if (!strcmp(s, "agent"))
			r->role = ROLE_AGENT;
		else if (!strcmp(s, "server"))
			r->role = ROLE_SERVER;
		else if (!strcmp(s, "server-init"))
			r->role = ROLE_SERVER_INIT;
		else
			err(p, v,
			    "rules[].role: expected server-init, server or agent, found \"%s\"", s);
	} else if (!strcmp(key, "node_role")) {
		const char *s = str(p, v, "rules[].node_role"), *why;
		if (s && !k8s_label_key_valid(s, &why))
			err(p, v, "rules[].node_role: \"%s\" cannot be a label name: %s", s, why);
		else if (s && strchr(s, '/'))
			err(p, v, "rules[].node_role: give the role name only, without a '/'");
		else if (s)
			r->node_role = pdup(p, s);
	} else if (!strcmp(key, "labels")) {
		if (v->type != YAML_MAPPING_NODE)
			err(p, v,
			    "rules[].labels: expected a mapping of label keys to values, "
			    "found %s",
			    node_kind(v));
		else
			walk_map(p, v, "labels", "", labels_key, r);
	} else if (!strcmp(key, "taints")) {
		strv_free(r->taints);
		r->taints = str_list(p, v, "rules[].taints", check_taint);
	} else if (!strcmp(key, "node_ip_interface")) {
		r->node_ip_interface = dup_glob(p, v, "rules[].node_ip_interface");
	} else
		return false;
	return true;
}

static void parse_rules(parser *p, yaml_node_t *n)
{
	na_config *c = p->cfg;

	if (n->type != YAML_SEQUENCE_NODE) {
		err(p, n, "rules: expected a list of rules, found %s", node_kind(n));
		return;
	}
	if (!within_bounds(
		p, n, (size_t)(n->data.sequence.items.top - n->data.sequence.items.start), "rules"))
		return;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *rn = node(p, *i);
		na_rule *nr;

		if (!rn)
			continue;
		nr = reallocarray(c->rules, c->n_rules + 1, sizeof(*nr));
		if (!nr) {
			p->oom = true;
			return;
		}
		c->rules = nr;
		na_rule *r = &c->rules[c->n_rules++];
		memset(r, 0, sizeof(*r));
		r->match.min_gpus = r->match.min_memory_gib = r->match.min_cpu_threads = -1;
		walk_map(p, rn, "rules[]",
			 "name, match, role, node_role, labels, taints, node_ip_interface",
			 rule_key, r);
		if (map_lacks(p, rn, "name"))
			err(p, rn, "rules[]: every rule needs a name");
		for (size_t j = 0; r->name && j + 1 < c->n_rules; j++)
			if (c->rules[j].name && !strcmp(c->rules[j].name, r->name))
				err(p, map_get(p, rn, "name"),
				    "rules[]: a rule named \"%s\" already exists", r->name);
	}
}

/* --- containerd, data_disk, gitops, report --- */

static bool containerd_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "nvidia")) {
		const char *s = str(p, v, "containerd.nvidia");
		if (s && !strcmp(s, "auto"))
			c->containerd_nvidia = true;
		else if (s && (!strcmp(s, "off") || !strcmp(s, "false")))
			c->containerd_nvidia = false;
		else if (s)
			err(p, v, "containerd.nvidia: expected auto or off, found \"%s\"", s);
	} else if (!strcmp(key, "config_version")) {
		int64_t x;
		if (get_int(p, v, "containerd.config_version", 3, &x)) {
			if (x != 2 && x != 3)
				err(p, v,
				    "containerd.config_version: expected 2 (containerd 1.x) or "
				    "3 (containerd 2.x)");
			else
				c->containerd_config_version = (int)x;
		}
	} else
		return false;
	return true;
}

static bool disk_match_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_data_disk *d = data;

	if (!strcmp(key, "min_size_gib"))
		get_int(p, v, "data_disk.match.min_size_gib", INT64_C(1) << 30, &d->min_size_gib);
	else if (!strcmp(key, "max_size_gib"))
		get_int(p, v, "data_disk.match.max_size_gib", INT64_C(1) << 30, &d->max_size_gib);
	else if (!strcmp(key, "rotational")) {
		bool b;
		if (get_bool(p, v, "data_disk.match.rotational", &b))
			d->rotational = b ? HW_TRI_TRUE : HW_TRI_FALSE;
	} else if (!strcmp(key, "transport")) {
		const char *s = str(p, v, "data_disk.match.transport");
		static const char *const ok[] = {"nvme", "sata", "usb", "virtio", "scsi", "mmc"};
		bool found = false;
		for (size_t i = 0; s && i < sizeof(ok) / sizeof(ok[0]); i++)
			found = found || !strcmp(s, ok[i]);
		if (s && !found)
			err(p, v,
			    "data_disk.match.transport: expected nvme, sata, usb, virtio, scsi "
			    "or mmc, found \"%s\"",
			    s);
		else if (s)
			d->transport = pdup(p, s);
	} else if (!strcmp(key, "model"))
		d->model = dup_glob(p, v, "data_disk.match.model");
	else if (!strcmp(key, "serial")) {
		strv_free(d->serial);
		d->serial = str_list(p, v, "data_disk.match.serial", NULL);
	} else
		return false;
	return true;
}

/* A normalised absolute path other than "/": it becomes Where= of a mount unit, where
 * systemd wants exactly that, and a line break would start a new unit setting. */
static bool mount_point_valid(const char *s)
{
	if (!strcmp(s, "/") || strstr(s, "//") || s[strlen(s) - 1] == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (const char *c = s; (c = strchr(c, '/')); c++)
		if ((c[1] == '.' && (!c[2] || c[2] == '/')) ||
		    (c[1] == '.' && c[2] == '.' && (!c[3] || c[3] == '/')))
			return false;
	return true;
}

static bool disk_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_data_disk *d = data;

	if (!strcmp(key, "match"))
		walk_map(p, v, "data_disk.match",
			 "min_size_gib, max_size_gib, rotational, transport, model, serial",
			 disk_match_key, d);
	else if (!strcmp(key, "allow_wipe_serials")) {
		strv_free(d->allow_wipe_serials);
		d->allow_wipe_serials = str_list(p, v, "data_disk.allow_wipe_serials", NULL);
	} else if (!strcmp(key, "mount")) {
		free(d->mount);
		d->mount = abs_path(p, v, "data_disk.mount");
		if (d->mount && !mount_point_valid(d->mount)) {
			err(p, v, "data_disk.mount: \"%s\" is not a usable mount point", d->mount);
			free(d->mount);
			d->mount = NULL;
		}
	} else if (!strcmp(key, "label")) {
		const char *s = str(p, v, "data_disk.label");
		if (s && (strlen(s) == 0 || strlen(s) > 16 || strpbrk(s, " /\\\"'")))
			err(p, v,
			    "data_disk.label: an ext4 label is 1 to 16 characters without "
			    "spaces, quotes or slashes");
		else if (s) {
			free(d->label);
			d->label = pdup(p, s);
		}
	} else
		return false;
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

/* A Go duration as Flux's CRDs accept it: ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$ */
static bool duration_valid(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
		if (*s == '.') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s))
				s++;
		}
		if (!strncmp(s, "ms", 2))
			s += 2;
		else if (*s == 's' || *s == 'm' || *s == 'h')
			s++;
		else
			return false;
	}
	return true;
}

/* The parts of git-check-ref-format(1) a typo would break: no spaces, controls, "..",
 * "~^:?*[\\", "@{", leading '-' or '/', trailing '/', '.' or ".lock". */
static bool git_ref_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' || s[n - 1] == '.' ||
	    strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") ||
	    (n >= 5 && !strcmp(s + n - 5, ".lock")))
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("~^:?*[\\", *c))
			return false;
	return true;
}

/* A directory of the repository: relative, no ".." component, no controls. */
static bool repo_path_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 1024 || s[0] == '/')
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (const char *c = s; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (c[0] == '.' && c[1] == '.' && (!c[2] || c[2] == '/'))
			return false;
	}
	return true;
}

static bool gitops_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_gitops *g = data;

	if (!strcmp(key, "engine")) {
		const char *s = str(p, v, "gitops.engine");
		if (s && strcmp(s, "flux") && strcmp(s, "argocd"))
			err(p, v, "gitops.engine: expected flux or argocd, found \"%s\"", s);
		else if (s)
			g->engine = pdup(p, s);
	} else if (!strcmp(key, "install_url"))
		g->install_url = secure_url(p, v, "gitops.install_url");
	else if (!strcmp(key, "install_sha256")) {
		const char *s = str(p, v, "gitops.install_sha256");
		if (s && !is_hex64(s))
			err(p, v, "gitops.install_sha256: expected 64 lower-case hex digits");
		else if (s)
			g->install_sha256 = pdup(p, s);
	} else if (!strcmp(key, "repository")) {
		const char *s = str(p, v, "gitops.repository");
		if (s && strncmp(s, "https://", 8) && strncmp(s, "ssh://", 6))
			err(p, v,
			    "gitops.repository: \"%s\" must be an https:// or ssh:// URL (write "
			    "git@host:path as ssh://git@host/path)",
			    s);
		else if (s)
			g->repository = pdup(p, s);
	} else if (!strcmp(key, "branch") || !strcmp(key, "tag")) {
		const char *s = str(p, v, !strcmp(key, "tag") ? "gitops.tag" : "gitops.branch");
		if (s && !git_ref_valid(s))
			err(p, v, "gitops.%s: \"%s\" is not a usable git branch or tag name", key,
			    s);
		else if (s && !strcmp(key, "tag"))
			g->tag = pdup(p, s);
		else if (s)
			g->branch = pdup(p, s);
	} else if (!strcmp(key, "path")) {
		const char *s = str(p, v, "gitops.path");
		if (s && !repo_path_valid(s))
			err(p, v,
			    "gitops.path: \"%s\" must be a path inside the repository "
			    "(relative, without \"..\")",
			    s);
		else if (s)
			g->path = pdup(p, s);
	} else if (!strcmp(key, "credentials_file"))
		g->credentials_file = abs_path(p, v, "gitops.credentials_file");
	else if (!strcmp(key, "install_ca_file"))
		g->install_ca_file = abs_path(p, v, "gitops.install_ca_file");
	else if (!strcmp(key, "interval")) {
		const char *s = str(p, v, "gitops.interval");
		if (s && !duration_valid(s))
			err(p, v,
			    "gitops.interval: expected a duration like 1m, 30s or 1h30m, "
			    "found \"%s\"",
			    s);
		else if (s)
			g->interval = pdup(p, s);
	} else
		return false;
	return true;
}

static bool report_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	if (!strcmp(key, "url"))
		p->cfg->report_url = secure_url(p, v, "report.url");
	else if (!strcmp(key, "ca_file"))
		p->cfg->report_ca_file = abs_path(p, v, "report.ca_file");
	else if (!strcmp(key, "ca_pem")) {
		/* a CA certificate is public: pinning the collector's CA in the config is fine */
		const char *s = str(p, v, "report.ca_pem");
		if (s && !strstr(s, "-----BEGIN CERTIFICATE-----"))
			err(p, v,
			    "report.ca_pem: expected PEM certificates (-----BEGIN "
			    "CERTIFICATE-----)");
		else if (s)
			p->cfg->report_ca_pem = pdup(p, s);
	} else
		return false;
	return true;
}

/* ${hostname} ${serial} ${uuid} ${mac} ${product} and literal text. */
static bool node_name_valid(parser *p, const yaml_node_t *n, const char *t)
{
	static const char *const vars[] = {"hostname", "serial", "uuid", "mac", "product"};

	for (const char *s = t; (s = strstr(s, "${"));) {
		const char *e = strchr(s, '}');
		bool known = false;

		if (!e) {
			err(p, n, "node_name: \"${\" without a closing \"}\"");
			return false;
		}
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			known = known || ((size_t)(e - s - 2) == strlen(vars[i]) &&
					  !strncmp(s + 2, vars[i], strlen(vars[i])));
		if (!known) {
			err(p, n,
			    "node_name: unknown variable \"%.*s\" (expected ${hostname}, "
			    "${serial}, "
			    "${uuid}, ${mac} or ${product})",
			    (int)(e - s + 1), s);
			return false;
		}
		s = e + 1;
	}
	return true;
}

static bool top_key(parser *p, const char *key, yaml_node_t *k, yaml_node_t *v, void *data)
{
	na_config *c = p->cfg;

	if (!strcmp(key, "schema")) {
		const char *s = str(p, v, "schema");
		if (s && strcmp(s, CONFIG_SCHEMA))
			err(p, v, "schema: expected \"%s\", found \"%s\"", CONFIG_SCHEMA, s);
		*(bool *)data = true;
	} else if (!strcmp(key, "cluster")) {
		p->cluster_key = k;
		p->cluster = v;
		walk_map(p, v, "cluster", "server, token_file, ca_file", cluster_key, NULL);
	} else if (!strcmp(key, "node_name")) {
		const char *s = str(p, v, "node_name");
		if (s && node_name_valid(p, v, s))
			c->node_name = pdup(p, s);
	} else if (!strcmp(key, "rules")) {
		p->rules_key = k;
		parse_rules(p, v);
	} else if (!strcmp(key, "containerd"))
		walk_map(p, v, "containerd", "nvidia, config_version", containerd_key, NULL);
	else if (!strcmp(key, "data_disk")) {
		c->data_disk.present = true;
		p->disk_key = k;
		p->disk = v;
		walk_map(p, v, "data_disk", "match, allow_wipe_serials, mount, label", disk_key,
			 &c->data_disk);
	} else if (!strcmp(key, "gitops")) {
		c->gitops.present = true;
		p->gitops_key = k;
		p->gitops = v;
		walk_map(
		    p, v, "gitops",
		    "engine, install_url, install_sha256, install_ca_file, repository, branch, "
		    "tag, path, credentials_file, interval",
		    gitops_key, &c->gitops);
	} else if (!strcmp(key, "report"))
		walk_map(p, v, "report", "url, ca_file, ca_pem", report_key, NULL);
	else
		return false;
	return true;
}

/*
 * Problems that involve several keys. They are reported at the key of the section
 * concerned, and "is required" looks at which keys are written, so that a value already
 * reported as invalid is not called missing as well.
 */
static void check_whole(parser *p)
{
	na_config *c = p->cfg;
	bool init = false;

	for (size_t i = 0; i < c->n_rules; i++)
		init = init || c->rules[i].role == ROLE_SERVER_INIT;
	if (map_get(p, p->cluster, "server") && map_lacks(p, p->cluster, "token_file"))
		err(p, p->cluster_key, "cluster: a server needs a token_file to join it");
	if (!map_get(p, p->cluster, "server") && !init && c->n_rules > 0)
		err(p, p->cluster_key ? p->cluster_key : p->rules_key,
		    "cluster.server is missing and no rule makes a server-init node: nodes would "
		    "have no cluster to join");
	if (map_lacks(p, p->disk, "mount"))
		err(p, p->disk_key, "data_disk: mount is required");
	if (c->data_disk.present && c->data_disk.min_size_gib >= 0 &&
	    c->data_disk.max_size_gib >= 0 && c->data_disk.max_size_gib < c->data_disk.min_size_gib)
		err(p, p->disk_key, "data_disk.match: max_size_gib is below min_size_gib");
	if (c->gitops.present) {
		na_gitops *g = &c->gitops;
		if (map_lacks(p, p->gitops, "engine") || map_lacks(p, p->gitops, "install_url") ||
		    map_lacks(p, p->gitops, "install_sha256") ||
		    map_lacks(p, p->gitops, "repository"))
			err(p, p->gitops_key,
			    "gitops: engine, install_url, install_sha256 and "
			    "repository are required");
		if (g->branch && g->tag)
			err(p, p->gitops_key, "gitops: give branch or tag, not both");
	}
}

/*
 * A syntax error from libyaml. Reader errors (bad UTF-8, control characters) carry only a
 * byte offset, not a mark; an input that ends inside a token (an unclosed quote) is shown
 * where that token starts, because the end of the file is never where the mistake is.
 */
static void yaml_error(parser *p, const yaml_parser_t *yp, const char *data, size_t len)
{
	yaml_mark_t at = yp->problem_mark;

	if (yp->error == YAML_READER_ERROR) {
		size_t bom = len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;

		at.line = at.column = 0;
		for (size_t i = bom; i < yp->problem_offset && i < len; i++) {
			if (data[i] == '\n') {
				at.line++;
				at.column = 0;
			} else if (((unsigned char)data[i] & 0xc0) != 0x80) {
				at.column++; /* libyaml counts characters, not bytes */
			}
		}
	} else if (yp->error == YAML_SCANNER_ERROR && yp->context && yp->problem &&
		   !strcmp(yp->problem, "found unexpected end of stream")) {
		at = yp->context_mark;
	}
	p->n_errors++;
	if (p->errors)
		fprintf(p->errors, "%s:%zu:%zu: invalid YAML: %s%s%s\n", p->path, at.line + 1,
			at.column + 1, yp->problem ? yp->problem : "syntax error",
			yp->context ? " " : "", yp->context ? yp->context : "");
}

int na_config_parse(const char *path, const char *data, size_t len, FILE *errors, na_config **ret)
{
	yaml_parser_t yp;
	yaml_document_t doc;
	parser p = {.path = path, .errors = errors, .doc = &doc};
	na_config *c;
	yaml_node_t *root;
	bool have_schema = false;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path) {
		free(c);
		return -ENOMEM;
	}
	c->containerd_nvidia = true;
	c->data_disk.min_size_gib = c->data_disk.max_size_gib = -1;
	c->data_disk.rotational = HW_TRI_UNKNOWN;
	p.cfg = c;

	if (!yaml_parser_initialize(&yp)) {
		na_config_free(c);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
	if (!yaml_parser_load(&yp, &doc)) {
		/* libyaml leaves error unset when its copy of a default tag fails to allocate */
		int r =
		    yp.error == YAML_MEMORY_ERROR || yp.error == YAML_NO_ERROR ? -ENOMEM : -EINVAL;

		if (r == -EINVAL)
			yaml_error(&p, &yp, data, len);
		yaml_parser_delete(&yp);
		na_config_free(c);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		err(&p, NULL, "empty file: expected a mapping with schema: %s", CONFIG_SCHEMA);
	} else {
		walk_map(&p, root, "config",
			 "schema, cluster, node_name, rules, containerd, data_disk, gitops, report",
			 top_key, &have_schema);
		if (root->type == YAML_MAPPING_NODE && !have_schema)
			err(&p, root, "config: schema: %s is required", CONFIG_SCHEMA);
		if (root->type == YAML_MAPPING_NODE)
			check_whole(&p);
	}
	yaml_document_delete(&doc);
	/* one document only: a second one would be silently ignored otherwise */
	if (p.n_errors == 0 && !p.oom) {
		yaml_document_t more;
		if (yaml_parser_load(&yp, &more)) {
			yaml_node_t *r2 = yaml_document_get_root_node(&more);
			if (r2)
				err(&p, r2, "only one YAML document is allowed");
			yaml_document_delete(&more);
		} else if (yp.error == YAML_MEMORY_ERROR || yp.error == YAML_NO_ERROR) {
			p.oom = true;
		} else {
			yaml_error(&p, &yp, data, len);
		}
	}
	yaml_parser_delete(&yp);
	if (p.oom) {
		na_config_free(c);
		return -ENOMEM;
	}
	if (p.n_errors > MAX_ERRORS && errors)
		fprintf(errors, "%s: %u more errors not shown\n", path, p.n_errors - MAX_ERRORS);
	if (p.n_errors > 0) {
		na_config_free(c);
		return -EINVAL;
	}
	if (!c->data_disk.label && c->data_disk.present)
		c->data_disk.label = pdup(&p, "node-data");
	/* kept so the boot job can leave a copy for later commands (node-agent roles) */
	c->text = strndup(data, len);
	if (p.oom || !c->text) {
		na_config_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

int na_config_load(const char *path, FILE *errors, na_config **ret)
{
	char *buf;
	ssize_t k;
	size_t len = 0;
	int fd, r;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (S_ISDIR(st.st_mode))
			return -EISDIR; /* the caller says so, as for ENOENT */
		if (errors)
			fprintf(errors, "%s: not a regular file\n", path);
		return -EINVAL;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while ((k = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len)) > 0 &&
	       len + (size_t)k <= CONFIG_MAX_BYTES)
		len += (size_t)k;
	r = k < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && k > 0) {
		if (errors)
			fprintf(errors, "%s:1:1: larger than %d bytes\n", path, CONFIG_MAX_BYTES);
		r = -EINVAL;
	}
	if (r == 0)
		r = na_config_parse(path, buf, len, errors, ret);
	free(buf);
	return r;
}

static void match_done(na_match *m)
{
	free(m->gpu_vendor);
	free(m->gpu_model);
	free(m->dmi_product);
	strv_free(m->serial);
	strv_free(m->mac);
}

na_config *na_config_free(na_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->server);
	free(c->token_file);
	free(c->server_ca_file);
	free(c->text);
	free(c->node_name);
	for (size_t i = 0; i < c->n_rules; i++) {
		na_rule *r = &c->rules[i];
		free(r->name);
		match_done(&r->match);
		free(r->node_role);
		for (size_t j = 0; j < r->n_labels; j++) {
			free(r->labels[j].key);
			free(r->labels[j].value);
		}
		free(r->labels);
		strv_free(r->taints);
		free(r->node_ip_interface);
	}
	free(c->rules);
	free(c->data_disk.transport);
	free(c->data_disk.model);
	strv_free(c->data_disk.serial);
	strv_free(c->data_disk.allow_wipe_serials);
	free(c->data_disk.mount);
	free(c->data_disk.label);
	free(c->gitops.engine);
	free(c->gitops.install_url);
	free(c->gitops.install_sha256);
	free(c->gitops.repository);
	free(c->gitops.branch);
	free(c->gitops.tag);
	free(c->gitops.path);
	free(c->gitops.credentials_file);
	free(c->gitops.interval);
	free(c->gitops.install_ca_file);
	free(c->report_url);
	free(c->report_ca_file);
	free(c->report_ca_pem);
	free(c);
	return NULL;
}
