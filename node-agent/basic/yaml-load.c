/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "yaml-load.h"

int yaml_loader_open(yaml_loader *l, const char *data, size_t len)
{
	*l = (yaml_loader){.data = data, .len = len};
	if (!yaml_parser_initialize(&l->parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&l->parser, (const unsigned char *)data, len);
	l->open = true;
	return 0;
}

void yaml_loader_close(yaml_loader *l)
{
	if (l->open)
		yaml_parser_delete(&l->parser);
	l->open = false;
}

static yaml_problem problem_of(const yaml_loader *l)
{
	const yaml_parser_t *yp = &l->parser;
	yaml_mark_t at = yp->problem_mark;

	if (yp->error == YAML_READER_ERROR) {
		size_t bom = l->len >= 3 && !memcmp(l->data, "\xef\xbb\xbf", 3) ? 3 : 0;

		at.line = at.column = 0;
		for (size_t i = bom; i < yp->problem_offset && i < l->len; i++) {
			if (l->data[i] == '\n') {
				at.line++;
				at.column = 0;
			} else if (((unsigned char)l->data[i] & 0xc0) != 0x80) {
				at.column++; /* libyaml counts characters, not bytes */
			}
		}
	} else if (yp->error == YAML_SCANNER_ERROR && yp->context && yp->problem &&
		   !strcmp(yp->problem, "found unexpected end of stream")) {
		at = yp->context_mark;
	}
	return (yaml_problem){.line = at.line + 1,
			      .column = at.column + 1,
			      .problem = yp->problem ? yp->problem : "syntax error",
			      .context = yp->context ? yp->context : ""};
}

int yaml_loader_next(yaml_loader *l, yaml_document_t *ret, yaml_problem *ret_problem)
{
	if (!yaml_parser_load(&l->parser, ret)) {
		/* which leaves *ret empty; libyaml leaves error unset when its copy of a
		 * default tag fails to allocate */
		if (l->parser.error == YAML_MEMORY_ERROR || l->parser.error == YAML_NO_ERROR)
			return -ENOMEM;
		*ret_problem = problem_of(l);
		return -EBADMSG;
	}
	if (!yaml_document_get_root_node(ret)) {
		yaml_document_delete(ret);
		return 0;
	}
	return 1;
}

bool yaml_document_is_empty(yaml_document_t *d)
{
	yaml_node_t *root = yaml_document_get_root_node(d);

	return !root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
			 root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
}

/* What one node amounts to, aliases followed: nesting height and node count. */
typedef struct shape {
	int height; /* 0: not computed yet, -1: being computed */
	uint64_t size;
} shape;

typedef struct shape_walk {
	yaml_document_t *d;
	shape *memo;
	int max_depth;
	uint64_t max_expanded;
} shape_walk;

static uint64_t add_capped(uint64_t a, uint64_t b, uint64_t cap)
{
	return a + b < cap ? a + b : cap;
}

/* Shape of node ID, memoised so that each node is walked once however many aliases name
 * it; false when too deep or when an alias refers to a node containing it. */
static bool node_shape(shape_walk *w, int id, int level)
{
	yaml_node_t *n = yaml_document_get_node(w->d, id);
	shape *me = n ? &w->memo[id - 1] : NULL;
	int best = 0;
	uint64_t size = 1;

	if (!n)
		return true;
	if (me->height < 0 || level > w->max_depth)
		return false;
	if (me->height > 0)
		return true;
	me->height = -1;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			if (!node_shape(w, *i, level + 1))
				return false;
			best = w->memo[*i - 1].height > best ? w->memo[*i - 1].height : best;
			size = add_capped(size, w->memo[*i - 1].size, w->max_expanded);
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			shape *k = &w->memo[p->key - 1], *v = &w->memo[p->value - 1];
			if (!node_shape(w, p->key, level + 1) ||
			    !node_shape(w, p->value, level + 1))
				return false;
			best = k->height > best ? k->height : best;
			best = v->height > best ? v->height : best;
			size = add_capped(size, k->size + v->size, w->max_expanded);
		}
	}
	me->height = best + 1;
	me->size = size;
	return true;
}

bool yaml_document_bounded(yaml_document_t *d, int max_depth, uint64_t max_expanded)
{
	size_t n = (size_t)(d->nodes.top - d->nodes.start);
	_cleanup_free_ shape *memo = NULL;
	shape_walk w = {.d = d, .max_depth = max_depth, .max_expanded = max_expanded};

	if (n == 0)
		return true;
	memo = calloc(n, sizeof(*memo));
	if (!memo)
		return false;
	w.memo = memo;
	return node_shape(&w, 1, 1) && memo[0].height <= max_depth && memo[0].size < max_expanded;
}

yaml_node_t *yaml_map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

const char *yaml_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

void yaml_document_erase(yaml_document_t *d)
{
	for (yaml_node_t *n = d->nodes.start; n && n < d->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE)
			explicit_bzero(n->data.scalar.value, n->data.scalar.length);
	yaml_document_delete(d);
}
