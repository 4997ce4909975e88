/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of basic/yaml-emit.c, as TAP: every string that Go's YAML readers (go-yaml v2,
 * a YAML 1.1 reader, under sigs.k8s.io/yaml and K3s; v3) would take for something else, or
 * that YAML's syntax would take apart, is quoted; ordinary strings stay plain; and whatever
 * is emitted, as a value and as a key, parses back (libyaml) to the very same string.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/yaml-emit.h"

static int n_tests, n_failed;

__attribute__((format(printf, 2, 3))) static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %d - ", cond ? "" : "not ", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* S for a test's name: in quotes, with tabs and line breaks as \t and \n. */
static const char *shown(const char *s)
{
	static char buf[256];
	size_t o = 0;

	buf[o++] = '"';
	for (; *s && o < sizeof(buf) - 4; s++) {
		if (*s == '\n' || *s == '\t') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : 't';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Each would be misread by a Go YAML reader, or breaks YAML's syntax as a plain scalar. */
static const char *const quoted[] = {
	/* null */
	"", "~", "null", "Null", "NULL",
	/* YAML 1.1 booleans, every spelling go-yaml v2 resolves (and more) */
	"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
	"OFF", "true", "True", "TRUE", "false", "False", "FALSE", "yEs", "oN",
	/* numbers: decimal, hex, octal (YAML 1.1 0755 and 1.2 0o17), binary, 1_000, floats */
	"0", "42", "0x1F", "0o17", "0755", "0b101", "1_000", "1e3", "6.02e+23", "+1", "-1", ".5",
	"1.", "+.5", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
	/* YAML 1.1 sexagesimal numbers and timestamps */
	"1:20", "190:20:30.15", "-1:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
	"2001-12-14 21:59:43.10 -5",
	/* leading and trailing spaces */
	" leading", "trailing ", " ", "\tindent",
	/* indicators that cannot start a plain scalar */
	"-", "- item", "--", "---", "...", "?", "? key", ":", ":x", ",", ",x", "[a]", "]", "{a}",
	"}", "#comment", "&anchor", "*alias", "!tag", "!!str", "|", "|-", ">", ">-", "'single'",
	"\"double\"", "%YAML", "@at", "`tick",
	/* what breaks a plain scalar inside */
	"key: value", "a #comment", "trailing:", "a\tb", "line\nbreak", "two\n\nlines\n",
	/* YAML 1.1's value key and merge key */
	"=", "<<",
	/* conservative: not misread by Go, quoted all the same (and so byte for byte what the
	 * agent has always written: K3s node-label entries, servers, addresses) */
	"site=home", "https://10.0.0.10:6443", "nvidia.com/gpu:NoSchedule", "192.168.1.41",
	"20l5cto1ww-pf1a2b3c", "caf\xc3\xa9", "a~b", "a\\b", "50%",
};

/* Ordinary strings that every reader takes for strings. */
static const char *const plain[] = {
	"node-agent",
	"v1.2.3",
	"app.kubernetes.io/managed-by",
	"GitRepository",
	"Intel Corporation",
	"ThinkPad T480 (20L5CTO1WW)",
	"/etc/node-agent/k3s-token",
	"/run/credentials/k3s.service/k3s-token",
	"known_hosts",
	"user@example.com",
	"a b c",
	"yesterday",
	"nope",
	"onion",
	"offline",
	"truely",
	"nullable",
	"y2k",
	"x1",
	"inf",
	"nan",
	"NaN",
	"Infinity",
	"_1000",
	"e3",
	"x",
};

/* The one scalar of the one-entry mapping in TEXT, key (KEY) or value. */
static char *parse_back(const char *text, int key, yaml_scalar_style_t *ret_style)
{
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root, *n = NULL;
	char *s = NULL;

	if (!yaml_parser_initialize(&p))
		return NULL;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	if (yaml_parser_load(&p, &d)) {
		root = yaml_document_get_root_node(&d);
		if (root && root->type == YAML_MAPPING_NODE &&
		    root->data.mapping.pairs.top - root->data.mapping.pairs.start == 1)
			n = yaml_document_get_node(&d, key ? root->data.mapping.pairs.start->key
							   : root->data.mapping.pairs.start->value);
		if (n && n->type == YAML_SCALAR_NODE) {
			s = strndup((char *)n->data.scalar.value, n->data.scalar.length);
			*ret_style = n->data.scalar.style;
		}
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	return s;
}

static char *emit_pair(const char *k, const char *v)
{
	yaml_emit m;
	char *text = NULL;

	if (yaml_emit_open_string(&m, 0, -1) < 0)
		return NULL;
	yaml_emit_document_start(&m);
	yaml_emit_mapping_start(&m, false);
	yaml_emit_pair(&m, k, v);
	yaml_emit_mapping_end(&m);
	yaml_emit_document_end(&m);
	if (yaml_emit_close_string(&m, &text) < 0)
		return NULL;
	return text;
}

/* S as a value and as a key: plain exactly when WANT_PLAIN, read back unchanged. */
static void round_trip(const char *s, int want_plain)
{
	for (int key = 0; key < 2; key++) {
		char *text = key ? emit_pair(s, "v") : emit_pair("k", s);
		yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
		char *back = text ? parse_back(text, key, &style) : NULL;
		int good = back && !strcmp(back, s) &&
			   (style == YAML_PLAIN_SCALAR_STYLE) == (want_plain != 0);

		ok(good, "%s as a %s: %s, read back the same", shown(s), key ? "key" : "value",
		   want_plain ? "plain" : "quoted");
		if (!good)
			printf("#   emitted: %s", text ? text : "(nothing)\n");
		free(back);
		free(text);
	}
}

static void rule(void)
{
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
		ok(!yaml_plain_ok(quoted[i]), "yaml_plain_ok(%s) is false", shown(quoted[i]));
		round_trip(quoted[i], 0);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		ok(yaml_plain_ok(plain[i]), "yaml_plain_ok(%s) is true", shown(plain[i]));
		round_trip(plain[i], 1);
	}
}

/* The exact text for a few, the way K3s's config.yaml and --format yaml have them. */
static void golden(void)
{
	static const char want[] = "---\n"
				   "token-file: /etc/node-agent/k3s-token\n"
				   "server: \"https://10.0.0.10:6443\"\n"
				   "node-name: \"20l5cto1ww-pf1a2b3c\"\n"
				   "cluster-init: true\n"
				   "node-label:\n"
				   "- \"site=home\"\n"
				   "- \"on\"\n"
				   "empty: []\n"
				   "none: {}\n"
				   "gpu: null\n"
				   "count: 2\n"
				   "content: |\n"
				   "  line one\n"
				   "  line two\n";
	json_object *o = json_tokener_parse(
		"{\"token-file\": \"/etc/node-agent/k3s-token\", \"server\": "
		"\"https://10.0.0.10:6443\", \"node-name\": \"20l5cto1ww-pf1a2b3c\", "
		"\"cluster-init\": true, \"node-label\": [\"site=home\", \"on\"], \"empty\": [], "
		"\"none\": {}, \"gpu\": null, \"count\": 2, \"content\": \"line one\\nline two\\n\"}");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = f && o ? yaml_write_json(f, o) : -ENOMEM;

	if (f)
		fclose(f);
	ok(r == 0 && text && !strcmp(text, want), "yaml_write_json: the exact text");
	if (!text || strcmp(text, want))
		printf("# got:\n%s", text ? text : "(nothing)\n");
	free(text);
	json_object_put(o);
}

static void cap(void)
{
	yaml_emit m;
	char *text = NULL;
	int r = yaml_emit_open_string(&m, 64, -1);

	if (r == 0) {
		yaml_emit_document_start(&m);
		yaml_emit_sequence_start(&m, false);
		for (int i = 0; i < 100; i++)
			yaml_emit_string(&m, "sixteen bytes...");
		yaml_emit_sequence_end(&m);
		yaml_emit_document_end(&m);
		r = yaml_emit_close_string(&m, &text);
	}
	ok(r == -EFBIG && !text, "a stream over its cap: -EFBIG, no text");
}

/* A loaded document with %YAML and %TAG directives goes out once, nothing freed twice. */
static void document(void)
{
	static const char in[] = "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\n"
				 "apiVersion: v1\nkind: !e!thing ConfigMap\n";
	yaml_parser_t p;
	yaml_document_t d;
	yaml_emit m;
	char *text = NULL;
	int r = -EINVAL;

	if (!yaml_parser_initialize(&p))
		return;
	yaml_parser_set_input_string(&p, (const unsigned char *)in, strlen(in));
	if (yaml_parser_load(&p, &d)) {
		r = yaml_emit_open_string(&m, 0, -1);
		if (r == 0) {
			yaml_emit_yaml_document(&m, &d);
			r = yaml_emit_close_string(&m, &text);
		} else {
			yaml_document_delete(&d);
		}
	}
	yaml_parser_delete(&p);
	ok(r == 0 && text && strstr(text, "apiVersion: v1") &&
		   strstr(text, "!<tag:example.com,2000:thing> ConfigMap"),
	   "yaml_emit_yaml_document: a document with directives, its tags in full");
	free(text);
}

int main(void)
{
	rule();
	golden();
	cap();
	document();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
