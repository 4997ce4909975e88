/* SPDX-License-Identifier: MIT */
/* `node-agent machines list|show ID|accept ID|retire ID|wake ID|rules --config FILE`: the
 * JSON API of `node-agent serve` through libcurl (basic/fetch.h), over HTTPS. The token is
 * read from a file, never from argv. Whom to trust: --ca FILE; else, on the serve machine, the
 * certificate serve made in its default state dir (public, 0644) when it is there; else the
 * system's CAs (an operator's certificate from a real CA, https.cert in serve.yaml). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fetch.h"
#include "basic/fileio.h"
#include "basic/json-util.h"
#include "inventory/inventory-json.h"
#include "cli/cmd.h"
#include "serve/serve.h"

#define MACHINES_DEFAULT_SERVER "https://127.0.0.1:8443"
#define MACHINES_DEFAULT_CA	SERVE_DEFAULT_STATE "/" SERVE_TLS_CERT_FILE
#define MACHINES_MAX_BYTES	(16u * 1024 * 1024)
#define MACHINES_MAX_PREVIEW	100000 /* machines read by `rules` */

static const char *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : "-";
}

static void table_row(json_object *m)
{
	json_object *id = NULL;

	json_object_object_get_ex(m, "id", &id);
	printf("%-5s %-7s %-11s %-24s %-16s %s\n", id ? json_object_get_string(id) : "-",
	       field(m, "code"), field(m, "state"), field(m, "product"), field(m, "serial"),
	       field(m, "accepted_by"));
}

/* "Boot: ..." of a machine's document: where its last boot got, and why it stopped there. */
static void boot_line(json_object *doc)
{
	json_object *boot, *d = NULL, *stopped = NULL;

	if (!json_object_object_get_ex(doc, "boot", &boot) ||
	    !json_object_is_type(boot, json_type_object)) {
		printf("Boot: no network boot seen\n");
		return;
	}
	json_object_object_get_ex(boot, "diagnosis", &d);
	json_object_object_get_ex(boot, "stopped", &stopped);
	printf("Boot: started %s, reached %s", field(boot, "started_at"),
	       field(boot, "reached_text"));
	if (d && json_object_is_type(d, json_type_object))
		printf("%s %s [%s]\n", json_object_get_boolean(stopped) ? "; stopped:" : ":",
		       field(d, "text"), field(d, "code"));
	else
		printf(", still booting\n");
}

/* "Cluster: ..." when serve handed the machine credentials (serve/cluster.c): never a secret. */
static void cluster_line(json_object *doc)
{
	json_object *c, *tpm = NULL;

	if (!json_object_object_get_ex(doc, "credentials", &c) ||
	    !json_object_is_type(c, json_type_object))
		return;
	json_object_object_get_ex(c, "tpm_pinned", &tpm);
	printf("Cluster: role %s, node %s, TPM key %s\n", field(c, "role"), field(c, "node_name"),
	       json_object_get_boolean(tpm) ? "pinned" : "none");
}

static int print(json_object *doc, bool list, out_format fmt)
{
	json_object *ms = NULL, *v;

	if (fmt == FMT_JSON) {
		printf("%s\n", json_object_to_json_string_ext(
				   doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	printf("%-5s %-7s %-11s %-24s %-16s %s\n", "ID", "CODE", "STATE", "PRODUCT", "SERIAL",
	       "ACCEPTED_BY");
	if (!list) {
		table_row(doc);
		boot_line(doc);
		cluster_line(doc);
		if (json_object_object_get_ex(doc, "events", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *e = json_object_array_get_idx(v, i);
				printf("  %s %s %s\n", field(e, "at"), field(e, "kind"),
				       field(e, "detail"));
			}
		return 0;
	}
	if (!json_object_object_get_ex(doc, "machines", &ms) ||
	    !json_object_is_type(ms, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(ms); i++)
		table_row(json_object_array_get_idx(ms, i));
	return 0;
}

/* GET (or POST with an empty body) SERVER PATH as JSON: 0, or 1 with the problem said. */
static int api_call(const char *server, const char *path, const char *ca, const char *token,
		    bool post, json_object **ret)
{
	_cleanup_free_ char *url = NULL;
	_cleanup_(fetch_result_done) fetch_result res = {.retry_after_s = -1};
	fetch_opts fo = {.bearer_token = token,
			 .ca_file = ca,
			 .no_redirects = true,
			 .max_bytes = MACHINES_MAX_BYTES,
			 .method = post ? "POST" : NULL};

	if (asprintf(&url, "%s%s", server, path) < 0) {
		url = NULL;
		fprintf(stderr, "node-agent machines: out of memory\n");
		return 1;
	}
	if (fetch_url(url, post ? "" : NULL, 0, &fo, &res) < 0) {
		fprintf(stderr, "node-agent machines: %s: %s%s%s\n", url, res.error,
			res.body ? ": " : "", res.body ? res.body : "");
		return 1;
	}
	*ret = json_tokener_parse(res.body ? res.body : "");
	if (!*ret || !json_object_is_type(*ret, json_type_object)) {
		json_object_put(*ret);
		*ret = NULL;
		fprintf(stderr, "node-agent machines: %s: not a JSON document of serve\n", url);
		return 1;
	}
	return 0;
}

/* The answer of POST /api/machines/ID/wake: which MACs, and the NICs' Wake-on-LAN. */
static int print_wake(json_object *doc, out_format fmt)
{
	json_object *sent, *dest, *m = NULL;

	if (fmt == FMT_JSON)
		return print(doc, false, fmt);
	if (!json_object_object_get_ex(doc, "sent", &sent) ||
	    !json_object_is_type(sent, json_type_array) ||
	    !json_object_object_get_ex(doc, "destinations", &dest))
		return -EBADMSG;
	json_object_object_get_ex(doc, "machine", &m);
	printf("wake sent to machine %s on %s, UDP port 9, to %s:\n", field(m, "code"),
	       field(doc, "interface"),
	       json_object_to_json_string_ext(dest, JSON_C_TO_STRING_PLAIN));
	for (size_t i = 0; i < json_object_array_length(sent); i++) {
		json_object *e = json_object_array_get_idx(sent, i), *en = NULL;

		json_object_object_get_ex(e, "wol_enabled", &en);
		printf("  %s %-10s wol_enabled: %s\n", field(e, "mac"), field(e, "nic"),
		       !en			     ? "unknown"
		       : json_object_get_boolean(en) ? "magic"
						     : "no magic");
		if (strcmp(field(e, "warning"), "-"))
			fprintf(stderr, "node-agent machines wake: warning: %s\n",
				field(e, "warning"));
	}
	return 0;
}

/* The rule of C that would accept the machine whose document is DOC: its name, "no rule",
 * or "no inventory" (never reported, or an inventory this node-agent cannot read). */
static const char *preview_rule(const serve_config *c, json_object *doc)
{
	json_object *inv;
	hw_inventory *hw = NULL;
	const char *rule;

	if (!json_object_object_get_ex(doc, "inventory", &inv) ||
	    inventory_from_json(inv, "inventory", NULL, &hw) < 0)
		return "no inventory";
	rule = serve_config_accepting_rule(c, hw);
	hw_inventory_free(hw);
	return rule ? rule : "no rule";
}

/*
 * `machines rules --config FILE`: which machine each acceptance rule of a candidate
 * serve.yaml would accept, changing nothing. A verb of its own rather than `accept
 * --dry-run`: accept acts on one machine with a token, this reads them all without one,
 * and a forgotten --dry-run must not be one keystroke away from accepting.
 */
static int rules_preview(const char *config, const char *server, const char *ca, out_format fmt)
{
	_cleanup_(serve_config_freep) serve_config *c = NULL;
	_cleanup_json_ json_object *list = NULL, *out = NULL;
	na_log log = na_log_stream(stderr);
	json_object *ms, *rows;
	size_t n;
	int r = serve_config_load(config, &log, &c);

	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r < 0) {
		fprintf(stderr, "node-agent machines rules: %s: %s\n", config, strerror(-r));
		return EXIT_USAGE;
	}
	if (api_call(server, "/api/machines", ca, NULL, false, &list))
		return 1;
	if (!json_object_object_get_ex(list, "machines", &ms) ||
	    !json_object_is_type(ms, json_type_array)) {
		fprintf(stderr, "node-agent machines rules: %s: not serve's machine list\n",
			server);
		return 1;
	}
	n = json_object_array_length(ms);
	if (n > MACHINES_MAX_PREVIEW)
		n = MACHINES_MAX_PREVIEW;
	out = json_object_new_object();
	rows = json_object_new_array();
	if (!out || !rows) {
		json_object_put(rows);
		return 1;
	}
	json_object_object_add(out, "schema",
			       json_object_new_string("node-agent/accept-preview/v1"));
	json_object_object_add(out, "config", json_object_new_string(config));
	json_object_object_add(out, "machines", rows);
	/* discovered machines first: those the rules are for */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			json_object *m = json_object_array_get_idx(ms, i), *id, *row;
			_cleanup_json_ json_object *doc = NULL;
			_cleanup_free_ char *path = NULL;

			if ((pass == 0) != !strcmp(field(m, "state"), "discovered"))
				continue;
			if (!json_object_object_get_ex(m, "id", &id) ||
			    asprintf(&path, "/api/machines/%" PRId64, json_object_get_int64(id)) <
				0) {
				path = NULL;
				return 1;
			}
			if (api_call(server, path, ca, NULL, false, &doc))
				return 1;
			row = json_object_new_object();
			if (!row)
				return 1;
			json_object_object_add(row, "id", json_object_get(id));
			json_object_object_add(row, "code",
					       json_object_new_string(field(m, "code")));
			json_object_object_add(row, "state",
					       json_object_new_string(field(m, "state")));
			json_object_object_add(row, "product",
					       json_object_new_string(field(m, "product")));
			json_object_object_add(row, "rule",
					       json_object_new_string(preview_rule(c, doc)));
			json_object_array_add(rows, row);
		}
	if (fmt == FMT_JSON) {
		printf("%s\n", json_object_to_json_string_ext(
				   out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	printf("%-5s %-7s %-11s %-24s %s\n", "ID", "CODE", "STATE", "PRODUCT", "RULE");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *id = NULL;

		json_object_object_get_ex(row, "id", &id);
		printf("%-5s %-7s %-11s %-24s %s\n", id ? json_object_get_string(id) : "-",
		       field(row, "code"), field(row, "state"), field(row, "product"),
		       field(row, "rule"));
	}
	return 0;
}

static int machines_usage(void)
{
	fprintf(stderr, "usage: node-agent machines list|show ID|accept ID|retire ID|wake ID "
			"[--server URL] [--ca FILE] [--token-file FILE] "
			"[--format table|json]\n"
			"       node-agent machines rules --config FILE [--server URL] [--ca FILE] "
			"[--format table|json]\n");
	return EXIT_USAGE;
}

int cmd_machines(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"token-file", required_argument, NULL, 't'},
	    {"ca", required_argument, NULL, 'C'},
	    {"format", required_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *server = MACHINES_DEFAULT_SERVER, *token_file = NULL, *verb, *id = NULL;
	const char *ca = NULL, *config = NULL;
	_cleanup_(erase_and_freep) char *token = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_object *doc = NULL;
	out_format fmt = FMT_TABLE;
	bool post, rules, wake;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:f:h", opts, NULL)) >= 0) {
		if (c == 's')
			server = optarg;
		else if (c == 't')
			token_file = optarg;
		else if (c == 'C')
			ca = optarg;
		else if (c == 'c')
			config = optarg;
		else if (c == 'f') {
			if (cmd_parse_format(optarg, &fmt) < 0 || fmt == FMT_YAML) {
				fprintf(stderr, "node-agent machines: --format: table or json\n");
				return EXIT_USAGE;
			}
		} else
			return cmd_help_or_usage_error(c);
	}
	verb = optind < argc ? argv[optind++] : NULL;
	rules = verb && !strcmp(verb, "rules");
	if (verb && strcmp(verb, "list") && !rules)
		id = optind < argc ? argv[optind++] : NULL;
	if (!verb ||
	    (strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "accept") &&
	     strcmp(verb, "retire") && strcmp(verb, "wake") && !rules) ||
	    (strcmp(verb, "list") && !rules && !id) || optind < argc)
		return machines_usage();
	if (!rules && config) {
		fprintf(stderr, "node-agent machines %s: --config is an option of machines rules\n",
			verb);
		return EXIT_USAGE;
	}
	if (rules && !config) {
		fprintf(stderr, "node-agent machines rules: --config FILE (a candidate serve.yaml) "
				"is required\n");
		return EXIT_USAGE;
	}
	wake = !strcmp(verb, "wake");
	post = !strcmp(verb, "accept") || !strcmp(verb, "retire") || wake;
	if (post && !token_file) {
		fprintf(stderr, "node-agent machines %s: --token-file FILE is required\n", verb);
		return EXIT_USAGE;
	}
	if (token_file) {
		size_t len;
		r = read_full_file(token_file, 4096, &token, &len);
		if (r < 0) {
			fprintf(stderr, "node-agent machines: %s: %s\n", token_file, strerror(-r));
			return 1;
		}
		while (len > 0 && strchr("\r\n \t", token[len - 1]))
			token[--len] = '\0';
	}
	if (!ca && access(MACHINES_DEFAULT_CA, R_OK) == 0)
		ca = MACHINES_DEFAULT_CA;
	if (rules)
		return rules_preview(config, server, ca, fmt);
	if ((id && strspn(id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
		       strlen(id)) ||
	    asprintf(&path, "/api/machines%s%s%s%s", id ? "/" : "", id ? id : "", post ? "/" : "",
		     post ? verb : "") < 0) {
		path = NULL;
		fprintf(stderr, "node-agent machines: bad machine ID \"%s\"\n", id ? id : "");
		return EXIT_USAGE;
	}
	if (api_call(server, path, ca, token, post, &doc))
		return 1;
	r = wake ? print_wake(doc, fmt) : print(doc, !strcmp(verb, "list"), fmt);
	if (r < 0) {
		fprintf(stderr, "node-agent machines: %s%s: not a JSON document of serve\n", server,
			path);
		return 1;
	}
	return 0;
}
