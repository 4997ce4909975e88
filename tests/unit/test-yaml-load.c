/* SPDX-License-Identifier: MIT */
/* Unit tests of the one YAML document loader (node-agent/basic/yaml-load.c), as TAP:
 * documents and the end of the stream, where a syntax error is placed, the nesting and
 * alias bounds, map lookup and scalars. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/yaml-load.h"
#include "tap.h"

/* The first document of TEXT: its loader result; *problem on a syntax error. */
static int first(const char *text, yaml_document_t *doc, yaml_problem *problem)
{
	yaml_loader l;
	int r = yaml_loader_open(&l, text, strlen(text));

	if (r < 0)
		return r;
	r = yaml_loader_next(&l, doc, problem);
	yaml_loader_close(&l);
	return r;
}

static void test_stream(void)
{
	const char *text = "a: 1\n---\n---\nb: [x, y]\n";
	yaml_loader l;
	yaml_document_t d;
	yaml_problem p;
	int r, n = 0, empty = 0;

	ok(yaml_loader_open(&l, text, strlen(text)) == 0, "open");
	while ((r = yaml_loader_next(&l, &d, &p)) == 1 && n < 10) {
		n++;
		empty += yaml_document_is_empty(&d);
		yaml_document_delete(&d);
	}
	ok(r == 0 && n == 3 && empty == 1, "three documents, one of them empty, then the end");
	yaml_loader_close(&l);
	ok(first("", &d, &p) == 0, "an empty stream has no document");
	ok(first("# only a comment\n", &d, &p) == 0, "nor has a stream of comments");
}

static void test_problem(void)
{
	yaml_document_t d = {0};
	yaml_problem p = {0};
	int r;

	r = first("a: 1\nb: [1, 2\n", &d, &p);
	ok(r == -EBADMSG && p.line >= 2 && *p.problem,
	   "an unclosed flow sequence: -EBADMSG, a line");
	r = first("a: 1\nb: \"open\n", &d, &p);
	ok(r == -EBADMSG && p.line == 2 && p.column == 4,
	   "an unclosed quote is placed where the quoted scalar starts (2:4)");
	r = first("a: 1\nb: caf\xc3\n", &d, &p);
	ok(r == -EBADMSG && p.line == 2 && p.column == 8,
	   "invalid UTF-8 is placed from its byte offset, counting characters (2:8)");
	r = first("\xef\xbb\xbf"
		  "a: \x01\n",
		  &d, &p);
	ok(r == -EBADMSG && p.line == 1 && p.column == 4,
	   "a control character after a BOM: the BOM is not a column (1:4)");
	r = first("a: b: c\n", &d, &p);
	ok(r == -EBADMSG && p.context != NULL && p.problem != NULL,
	   "a problem always has its texts (the context maybe empty)");
}

static void test_bounded(void)
{
	yaml_document_t d;
	yaml_problem p;
	char *deep = NULL;
	size_t len = 0;
	FILE *f;

	ok(first("a: &x [1, 2]\nb: *x\nc: *x\n", &d, &p) == 1 && yaml_document_bounded(&d, 10, 100),
	   "a few aliases are within bounds");
	yaml_document_delete(&d);
	ok(first("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		 "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		 "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		 "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
		 &d, &p) == 1 &&
	       !yaml_document_bounded(&d, 100, 1000),
	   "aliases expanding to 10^4 values exceed a bound of 1000 (billion laughs)");
	ok(yaml_document_bounded(&d, 100, 1000000), "and fit a bound of 10^6");
	yaml_document_delete(&d);
	f = open_memstream(&deep, &len);
	for (int i = 0; i < 50; i++)
		fputc('[', f);
	for (int i = 0; i < 50; i++)
		fputc(']', f);
	fputc('\n', f);
	fclose(f);
	ok(first(deep, &d, &p) == 1 && !yaml_document_bounded(&d, 20, 1000000) &&
	       yaml_document_bounded(&d, 60, 1000000),
	   "50 levels of nesting exceed a depth of 20 and fit 60");
	yaml_document_delete(&d);
	free(deep);
}

static void test_lookup(void)
{
	yaml_document_t d;
	yaml_problem p;
	yaml_node_t *root, *meta;

	ok(first("kind: Secret\nmetadata: {name: x, labels: [a]}\n", &d, &p) == 1, "load");
	root = yaml_document_get_root_node(&d);
	meta = yaml_map_get(&d, root, "metadata");
	ok(!strcmp(yaml_scalar(yaml_map_get(&d, root, "kind")), "Secret"), "map_get + scalar");
	ok(!strcmp(yaml_scalar(yaml_map_get(&d, meta, "name")), "x"), "a nested mapping");
	ok(!yaml_scalar(yaml_map_get(&d, meta, "labels")), "a sequence is no scalar");
	ok(!yaml_map_get(&d, root, "missing") && !yaml_map_get(&d, NULL, "kind") &&
	       !yaml_map_get(&d, yaml_map_get(&d, root, "kind"), "x"),
	   "no such key, no map, a scalar asked for a key: NULL");
	yaml_document_erase(&d);
	ok(!yaml_document_get_root_node(&d), "erase deletes the document");
}

int main(void)
{
	test_stream();
	test_problem();
	test_bounded();
	test_lookup();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
