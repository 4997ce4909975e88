/* SPDX-License-Identifier: MIT */
/*
 * yaml2json: read one YAML document on stdin with libyaml's parser and print it as compact
 * JSON, resolving plain scalars by the YAML 1.2 core schema (null, booleans, integers);
 * quoted scalars stay strings. The tests use it to check that `--format yaml` says exactly
 * what `--format json` says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static regex_t int_re;

static json_object *scalar(yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_object_new_string(v);
	if (!strcmp(v, "null") || !strcmp(v, "~") || !*v)
		return NULL;
	if (!strcmp(v, "true"))
		return json_object_new_boolean(1);
	if (!strcmp(v, "false"))
		return json_object_new_boolean(0);
	if (regexec(&int_re, v, 0, NULL, 0) == 0)
		return json_object_new_int64(strtoll(v, NULL, 10));
	return json_object_new_string(v);
}

static json_object *convert(yaml_document_t *d, yaml_node_t *n, int depth)
{
	json_object *o;

	if (!n || depth > 64)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(n);
	case YAML_SEQUENCE_NODE:
		o = json_object_new_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
			json_object_array_add(o, convert(d, yaml_document_get_node(d, *i), depth + 1));
		return o;
	case YAML_MAPPING_NODE:
		o = json_object_new_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);
			if (!k || k->type != YAML_SCALAR_NODE)
				continue;
			json_object_object_add(o, (const char *)k->data.scalar.value,
					       convert(d, yaml_document_get_node(d, p->value), depth + 1));
		}
		return o;
	default:
		return NULL;
	}
}

int main(void)
{
	yaml_parser_t p;
	yaml_document_t d;
	json_object *o;

	regcomp(&int_re, "^[-+]?[0-9]+$", REG_EXTENDED | REG_NOSUB);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, stdin);
	if (!yaml_parser_load(&p, &d)) {
		fprintf(stderr, "yaml2json: %s at line %zu column %zu\n", p.problem ? p.problem : "error",
			p.problem_mark.line + 1, p.problem_mark.column + 1);
		return 2;
	}
	o = convert(&d, yaml_document_get_root_node(&d), 0);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	regfree(&int_re);
	return 0;
}
