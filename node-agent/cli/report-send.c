/* SPDX-License-Identifier: MIT */
/* `node-agent report-send`: spool an inventory file as a report and send the spool, as the
 * report stage of `run` does (report/deliver.h); for tests and manual use. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/macro.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "report/deliver.h"

typedef struct send_args {
	const char *config, *state_dir, *inventory, *url, *ca_file;
} send_args;

static void log_stderr(void *userdata, int prio, const char *msg)
{
	fprintf(stderr, "node-agent: %sreport: %s\n", prio <= LOG_WARNING ? "warning: " : "", msg);
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, send_args *a)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"inventory", required_argument, NULL, 'i'},
	    {"url", required_argument, NULL, 'u'},
	    {"ca-file", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	/* every option but --help sets the string of its letter */
	static const char letters[] = "csiua";
	const char **slots[] = {&a->config, &a->state_dir, &a->inventory, &a->url, &a->ca_file};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:i:u:h", opts, NULL)) >= 0) {
		const char *l = c > 0 ? strchr(letters, c) : NULL;

		if (l)
			*slots[l - letters] = optarg;
		else if (c == 'h') {
			printf(
			    "Usage: node-agent report-send (--config FILE | --url URL [--ca-file "
			    "PEM])\n"
			    "       [--state-dir DIR] [--inventory FILE]\n"
			    "Spool the inventory FILE as a report in DIR/spool (default\n"
			    "/var/lib/node-agent) and send the spool to report.url, oldest first.\n"
			    "Without --inventory only the spool is sent.\n");
			return 0;
		} else
			return EXIT_USAGE;
	}
	if ((!a->config && !a->url) || optind < argc) {
		fprintf(stderr, "usage: node-agent report-send (--config FILE | --url URL) "
				"[--state-dir DIR] [--inventory FILE]\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* The collector and its CA: --url and --ca-file over the config's report.* */
static int collector_opts(const send_args *a, deliver_opts *o, na_config **ret_cfg)
{
	_cleanup_(na_config_freep) na_config *cfg = NULL;
	na_log l = na_log_stream(stderr);
	int r;

	if (a->config) {
		r = na_config_load(a->config, &l, &cfg);
		if (r < 0) {
			if (r != -EINVAL)
				fprintf(stderr, "node-agent: %s: %s\n", a->config, strerror(-r));
			return EXIT_USAGE;
		}
		if (!a->url && !cfg->report_url) {
			fprintf(stderr, "node-agent: %s has no report.url\n", a->config);
			return EXIT_USAGE;
		}
		o->ca_file = cfg->report_ca_file;
		o->ca_pem = cfg->report_ca_pem;
	}
	o->url = a->url ? a->url : cfg->report_url;
	if (a->ca_file) {
		o->ca_file = a->ca_file;
		o->ca_pem = NULL;
	}
	*ret_cfg = TAKE_PTR(cfg);
	return -1;
}

int cmd_report_send(int argc, char **argv)
{
	send_args a = {0};
	_cleanup_(na_config_freep) na_config *cfg = NULL;
	_cleanup_free_ char *inv = NULL, *spool = NULL;
	const char *bad = NULL;
	deliver_opts o;
	deliver_stats st;
	size_t len;
	int r;

	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	if (deliver_opts_init(&o, &bad) < 0) {
		fprintf(stderr, "node-agent: %s must be a number in range\n", bad);
		return EXIT_USAGE;
	}
	r = collector_opts(&a, &o, &cfg);
	if (r >= 0)
		return r;
	if (asprintf(&spool, "%s/spool", a.state_dir ? a.state_dir : "/var/lib/node-agent") < 0) {
		spool = NULL;
		fprintf(stderr, "node-agent: report-send: %s\n", strerror(ENOMEM));
		return EXIT_FAILURE;
	}
	if (a.inventory) {
		r = deliver_read_file(a.inventory, &inv, &len);
		if (r < 0 || strlen(inv) != len) {
			fprintf(stderr, "node-agent: %s: %s\n", a.inventory,
				r < 0 ? strerror(-r) : "contains a NUL byte");
			return EXIT_USAGE;
		}
	}
	o.spool_dir = spool;
	o.log = (na_log){.fn = log_stderr};
	r = deliver_report(&o, inv, NULL, &st);
	if (r == -EINVAL && inv) {
		fprintf(stderr, "node-agent: %s: not a JSON object\n", a.inventory);
		return EXIT_USAGE;
	}
	printf("delivered %u, spooled %u, rejected %u, set aside %u, dropped %u; %u attempts, "
	       "waited %u ms (initial delay %u ms)\n",
	       st.delivered, st.spooled, st.rejected, st.corrupt, st.dropped, st.attempts,
	       st.waited_ms, st.delay_ms);
	if (r < 0 && r != -EAGAIN)
		fprintf(stderr, "node-agent: report: %s\n", strerror(-r));
	return r < 0 ? EXIT_FAILURE : 0;
}
