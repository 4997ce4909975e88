/* SPDX-License-Identifier: MIT */
/*
 * The node config's values as libyaml's document loader gives them, each node with its
 * line and column: strings, numbers, globs, lists, the walk over a mapping that checks
 * each key against the schema, and the reporting of every problem as FILE:LINE:COLUMN
 * with what was expected.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/parse-util.h"
#include "config/config-internal.h"

/* Messages quote values from the file: one line per problem, no terminal controls. */
static char *escape_controls(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *e = malloc(strlen(s) * 4 + 1), *o = e;

	if (!e)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else
			*o++ = (char)c;
	}
	*o = '\0';
	return e;
}

void config_err(config_parser *p, const yaml_node_t *n, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *text = NULL;
	va_list ap;
	int r;

	p->n_errors++;
	if (p->n_errors > CONFIG_MAX_ERRORS || !p->log)
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg = NULL; /* undefined after a failure */
	if (msg)
		text = escape_controls(msg);
	if (!text)
		p->oom = true;
	na_logf(p->log, LOG_ERR, "%s:%zu:%zu: %s", p->path, n ? n->start_mark.line + 1 : 1,
		n ? n->start_mark.column + 1 : 1, text ? text : "out of memory");
}

void config_yaml_error(config_parser *p, const yaml_problem *at)
{
	p->n_errors++;
	na_logf(p->log, LOG_ERR, "%s:%zu:%zu: invalid YAML: %s%s%s", p->path, at->line, at->column,
		at->problem, *at->context ? " " : "", at->context);
}

yaml_node_t *config_node(config_parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

yaml_node_t *config_map_get(config_parser *p, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = config_node(p, a->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return config_node(p, a->value);
	}
	return NULL;
}

bool config_map_lacks(config_parser *p, const yaml_node_t *map, const char *key)
{
	return map && map->type == YAML_MAPPING_NODE && !config_map_get(p, map, key);
}

/*
 * Bounds on the walk, so that a small file cannot cost minutes or gigabytes: an alias
 * repeats all that it names wherever it is used (rules: [*r, *r, ...] with a rule of many
 * labels), and the check for duplicate rule names is quadratic.
 */
bool config_within_bounds(config_parser *p, const yaml_node_t *n, size_t entries, const char *where)
{
	if (p->n_values > CONFIG_MAX_VALUES)
		return false;
	if (entries > CONFIG_MAX_ENTRIES) {
		config_err(p, n, "%s: more than %d entries", where, CONFIG_MAX_ENTRIES);
		return false;
	}
	p->n_values += entries;
	if (p->n_values > CONFIG_MAX_VALUES) {
		config_err(p, n,
			   "more than %d values in all (an alias counts each time it is used)",
			   CONFIG_MAX_VALUES);
		return false;
	}
	return true;
}

const char *config_node_kind(const yaml_node_t *n)
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

bool config_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "null") || !strcmp(v, "~") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* "\0" in a double-quoted scalar: C code would see only the text before it. */
bool config_has_nul(config_parser *p, const yaml_node_t *n, const char *what)
{
	if (strlen((const char *)n->data.scalar.value) == n->data.scalar.length)
		return false;
	config_err(p, n, "%s: \"%s\\0...\" contains a NUL character", what,
		   (const char *)n->data.scalar.value);
	return true;
}

/* Plain scalars that YAML reads as something else are still text here, except null,
 * which is "missing". */
const char *config_str(config_parser *p, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		config_err(p, n, "%s: expected a string, found %s", what, config_node_kind(n));
		return NULL;
	}
	if (config_is_null(n)) {
		config_err(p, n, "%s: expected a string, found null", what);
		return NULL;
	}
	if (config_has_nul(p, n, what))
		return NULL;
	return (const char *)n->data.scalar.value;
}

char *config_dup(config_parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d)
		p->oom = true;
	return d;
}

char *config_dup_str(config_parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = config_str(p, n, what);

	return s ? config_dup(p, s) : NULL;
}

bool config_get_int(config_parser *p, const yaml_node_t *n, const char *what, int64_t max,
		    int64_t *ret)
{
	const char *v;
	int64_t x;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		config_err(p, n, "%s: expected a whole number", what);
		return false;
	}
	v = (const char *)n->data.scalar.value;
	if (parse_int64(v, 0, max, &x) < 0) {
		config_err(p, n, "%s: expected a whole number from 0 to %lld, found \"%s\"", what,
			   (long long)max, v);
		return false;
	}
	*ret = x;
	return true;
}

bool config_get_bool(config_parser *p, const yaml_node_t *n, const char *what, bool *ret)
{
	const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(v, "true") || !strcmp(v, "false"))) {
		*ret = v[0] == 't';
		return true;
	}
	config_err(p, n, "%s: expected true or false", what);
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

char *config_dup_glob(config_parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = config_str(p, n, what), *why;

	if (!s)
		return NULL;
	if (!glob_valid(s, &why)) {
		config_err(p, n, "%s: bad glob \"%s\": %s", what, s, why);
		return NULL;
	}
	return config_dup(p, s);
}

/* https:// only for anything that carries or reveals secrets. */
char *config_secure_url(config_parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = config_str(p, n, what);

	if (!s)
		return NULL;
	if (strncmp(s, "https://", 8) != 0 || !s[8]) {
		config_err(p, n, "%s: \"%s\" must be an https:// URL%s", what, s,
			   strncmp(s, "http://", 7) == 0
			       ? " (plain http would expose it on the network)"
			       : "");
		return NULL;
	}
	return config_dup(p, s);
}

char *config_abs_path(config_parser *p, const yaml_node_t *n, const char *what)
{
	const char *s = config_str(p, n, what);

	if (!s)
		return NULL;
	if (s[0] != '/') {
		config_err(p, n, "%s: \"%s\" must be an absolute path", what, s);
		return NULL;
	}
	return config_dup(p, s);
}

/* A single string is not silently taken as a list of one. */
char **config_str_list(config_parser *p, const yaml_node_t *n, const char *what,
		       config_item_check check)
{
	size_t count = 0, m = 0;
	char **v;

	if (n->type != YAML_SEQUENCE_NODE)
		config_err(p, n, "%s: expected a list, found %s", what, config_node_kind(n));
	else
		count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > 0 && !config_within_bounds(p, n, count, what))
		count = 0;
	v = calloc(count + 1, sizeof(char *));
	if (!v)
		p->oom = true;
	for (size_t i = 0; v && i < count; i++) {
		const yaml_node_t *item = config_node(p, n->data.sequence.items.start[i]);
		const char *s = item ? config_str(p, item, what) : NULL;

		if (s && (!check || check(p, item, what, s)) && (v[m] = config_dup(p, s)))
			m++;
	}
	return v;
}

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
static size_t *first_of_keys(config_parser *p, const yaml_node_t *n, size_t count)
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
		const yaml_node_t *k = config_node(p, n->data.mapping.pairs.start[i].key);

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

static bool is_token_key(const char *key)
{
	return !strcmp(key, "token") || !strcmp(key, "agent-token") || !strcmp(key, "agent_token");
}

static void walk(config_parser *p, yaml_node_t *n, const char *where, const char *valid,
		 config_key_fn fn, void *data, bool schema)
{
	size_t count, *first;

	if (n->type != YAML_MAPPING_NODE) {
		config_err(p, n, "%s: expected a mapping, found %s", where, config_node_kind(n));
		return;
	}
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (!config_within_bounds(p, n, count, where))
		return;
	first = first_of_keys(p, n, count);
	if (!first) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *a = &n->data.mapping.pairs.start[i];
		yaml_node_t *k = config_node(p, a->key), *v = config_node(p, a->value);
		const char *key;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			config_err(p, k, "%s: keys must be strings", where);
			continue;
		}
		if (config_has_nul(p, k, where))
			continue;
		key = (const char *)k->data.scalar.value;
		if (first[i] != i) {
			yaml_node_t *kb = config_node(p, n->data.mapping.pairs.start[first[i]].key);
			config_err(p, k, "%s: duplicate key \"%s\" (first at line %zu)", where, key,
				   kb->start_mark.line + 1);
			continue;
		}
		if (schema && is_token_key(key)) {
			config_err(p, k,
				   "%s: a token must not be written into the config (it is served "
				   "to every node and often kept in Git); put it in a file and set "
				   "token_file",
				   where);
			continue;
		}
		if (!fn(p, key, k, v, data))
			config_err(p, k, "%s: unknown key \"%s\" (expected one of: %s)", where, key,
				   valid);
	}
	free(first);
}

void config_walk_map(config_parser *p, yaml_node_t *n, const char *where, const char *valid,
		     config_key_fn fn, void *data)
{
	walk(p, n, where, valid, fn, data, true);
}

void config_walk_names(config_parser *p, yaml_node_t *n, const char *where, config_key_fn fn,
		       void *data)
{
	walk(p, n, where, "", fn, data, false);
}
