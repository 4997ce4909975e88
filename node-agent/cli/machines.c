/* SPDX-License-Identifier: MIT */
/* `node-agent machines list|show ID|accept ID|retire ID`: the JSON API of `node-agent serve`
 * through libcurl (basic/fetch.h), over HTTPS. The token is read from a file, never from
 * argv. Whom to trust: --ca FILE; else, on the serve machine, the certificate serve made
 * in its default state dir (public, 0644) when it is there; else the system's CAs (an
 * operator's certificate from a real CA, https.cert in serve.yaml). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fetch.h"
#include "basic/fileio.h"
#include "basic/json-util.h"
#include "cli/cmd.h"
#include "serve/serve.h"

#define MACHINES_DEFAULT_SERVER "https://127.0.0.1:8443"
#define MACHINES_DEFAULT_CA	SERVE_DEFAULT_STATE "/" SERVE_TLS_CERT_FILE
#define MACHINES_MAX_BYTES	(16u * 1024 * 1024)

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

int cmd_machines(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'}, {"token-file", required_argument, NULL, 't'},
	    {"ca", required_argument, NULL, 'C'},     {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	const char *server = MACHINES_DEFAULT_SERVER, *token_file = NULL, *verb, *id = NULL;
	const char *ca = NULL;
	_cleanup_(erase_and_freep) char *token = NULL;
	_cleanup_free_ char *url = NULL;
	_cleanup_(fetch_result_done) fetch_result res = {.retry_after_s = -1};
	_cleanup_json_ json_object *doc = NULL;
	out_format fmt = FMT_TABLE;
	bool post;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:t:f:h", opts, NULL)) >= 0) {
		if (c == 's')
			server = optarg;
		else if (c == 't')
			token_file = optarg;
		else if (c == 'C')
			ca = optarg;
		else if (c == 'f') {
			if (cmd_parse_format(optarg, &fmt) < 0 || fmt == FMT_YAML) {
				fprintf(stderr, "node-agent machines: --format: table or json\n");
				return EXIT_USAGE;
			}
		} else
			return cmd_help_or_usage_error(c);
	}
	verb = optind < argc ? argv[optind++] : NULL;
	if (verb && strcmp(verb, "list"))
		id = optind < argc ? argv[optind++] : NULL;
	if (!verb ||
	    (strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "accept") &&
	     strcmp(verb, "retire")) ||
	    (strcmp(verb, "list") && !id) || optind < argc) {
		fprintf(stderr, "usage: node-agent machines list|show ID|accept ID|retire ID "
				"[--server URL] [--ca FILE] [--token-file FILE] "
				"[--format table|json]\n");
		return EXIT_USAGE;
	}
	post = !strcmp(verb, "accept") || !strcmp(verb, "retire");
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
	if ((id && strspn(id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
		       strlen(id)) ||
	    asprintf(&url, "%s/api/machines%s%s%s%s", server, id ? "/" : "", id ? id : "",
		     post ? "/" : "", post ? verb : "") < 0) {
		url = NULL;
		fprintf(stderr, "node-agent machines: bad machine ID \"%s\"\n", id ? id : "");
		return EXIT_USAGE;
	}
	if (!ca && access(MACHINES_DEFAULT_CA, R_OK) == 0)
		ca = MACHINES_DEFAULT_CA;
	fetch_opts fo = {.bearer_token = token,
			 .ca_file = ca,
			 .no_redirects = true,
			 .max_bytes = MACHINES_MAX_BYTES,
			 .method = post ? "POST" : NULL};
	r = fetch_url(url, post ? "" : NULL, 0, &fo, &res);
	if (r < 0) {
		fprintf(stderr, "node-agent machines: %s: %s%s%s\n", url, res.error,
			res.body ? ": " : "", res.body ? res.body : "");
		return 1;
	}
	doc = json_tokener_parse(res.body ? res.body : "");
	if (!doc || print(doc, !strcmp(verb, "list"), fmt) < 0) {
		fprintf(stderr, "node-agent machines: %s: not a JSON document of serve\n", url);
		return 1;
	}
	return 0;
}
