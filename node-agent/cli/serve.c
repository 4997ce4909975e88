/* SPDX-License-Identifier: MIT */
/* `node-agent serve`: the operator's side (serve/serve.h), in the foreground; lines on
 * stderr (the journal under systemd), READY=1 once listening, a clean stop on SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "basic/dl.h"
#include "basic/fileio.h"
#include "basic/parse-util.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "serve/serve.h"

static void log_line(void *userdata, int prio, const char *msg)
{
	/* a <N> prefix: journald's priority for a line on stderr (SyslogLevelPrefix=) */
	if (prio <= LOG_INFO)
		fprintf(stderr, "<%d>node-agent serve: %s\n", prio, msg);
}

/* The first IPv4 address of IFACE: 0, -ENOENT, -errno. */
static int interface_address(const char *iface, char **ret)
{
	struct ifaddrs *all, *i;
	char buf[INET_ADDRSTRLEN];
	int r = -ENOENT;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (i = all; i && r == -ENOENT; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, iface) &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
			      sizeof(buf)))
			r = (*ret = strdup(buf)) ? 0 : -ENOMEM;
	freeifaddrs(all);
	return r;
}

static int usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: node-agent serve [--config FILE]\n"
		"Serve the node image, boot scripts and node configs to the machines of the\n"
		"LAN, take their reports (default config %s).\n",
		SERVE_DEFAULT_CONFIG);
	return status;
}

/* The node config handed to accepted machines, checked with the node's own parser. */
static int load_node_config(const serve_config *c, na_config **ret)
{
	_cleanup_(na_config_freep) na_config *nc = NULL;
	na_log l = na_log_stream(stderr);
	int r = na_config_load(c->node_config, &l, &nc);

	if (r == -EINVAL)
		fprintf(stderr, "node-agent serve: %s: node_config %s is invalid (above)\n",
			c->path, c->node_config);
	else if (r < 0)
		fprintf(stderr, "node-agent serve: %s: node_config %s: %s\n", c->path,
			c->node_config, strerror(-r));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(nc);
	return 0;
}

static int run(serve_config *c)
{
	_cleanup_free_ char *address = NULL, *db_path = NULL, *err = NULL;
	_cleanup_(na_config_freep) na_config *node_cfg = NULL;
	_cleanup_(serve_db_closep) serve_db *db = NULL;
	_cleanup_(serve_tls_done) serve_tls tls = {0};
	serve_netboot *netboot = NULL;
	serve_server s = {.c = c, .log = {.fn = log_line}};
	sigset_t sigs;
	int r, sig;

	/* the database holds the cluster's tokens and node passwords: nothing here is for
	 * other users */
	umask(0077);
	r = load_node_config(c, &node_cfg);
	if (r < 0)
		return r == -EINVAL ? EXIT_USAGE : 1;
	if (c->address)
		address = strdup(c->address);
	else if ((r = interface_address(c->interface, &address)) < 0) {
		fprintf(stderr, "node-agent serve: interface %s: no IPv4 address: %s\n",
			c->interface, strerror(-r));
		return 1;
	}
	if (!address || asprintf(&db_path, "%s/" SERVE_DB_FILE, c->state_dir) < 0)
		return 1;
	if (mkdir(c->state_dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "node-agent serve: state_dir %s: %m\n", c->state_dir);
		return 1;
	}
	r = serve_tls_load(c, address, &s.log, &tls);
	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r < 0) {
		fprintf(stderr, "node-agent serve: the HTTPS key and certificate: %s\n",
			strerror(-r));
		return 1;
	}
	r = serve_db_open(db_path, &db, &err);
	if (r < 0) {
		fprintf(stderr, "node-agent serve: %s: %s\n", db_path, err ? err : strerror(-r));
		return 1;
	}
	s.db = db;
	if (getenv(SERVE_BOOT_GRACE_ENV)) {
		int64_t grace;

		if (parse_int64(getenv(SERVE_BOOT_GRACE_ENV), 1, 24 * 3600, &grace) < 0) {
			fprintf(stderr, "node-agent serve: %s: seconds, 1 to 86400\n",
				SERVE_BOOT_GRACE_ENV);
			return EXIT_USAGE;
		}
		serve_db_set_boot_grace(db, grace);
	}
	s.node_config_text = node_cfg->text;
	s.node_cfg = node_cfg;
	s.tls = &tls;
	/* the signals are taken with sigwait() only: the HTTP thread inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	r = serve_http_start(&s, c->http_listen ? c->http_listen : address, address, &err);
	if (r < 0) {
		fprintf(stderr, "node-agent serve: %s\n", err ? err : strerror(-r));
		return 1;
	}
	if (c->netboot) {
		r = serve_netboot_start(&s, address, &netboot, &err);
		if (r < 0) {
			fprintf(stderr, "node-agent serve: network boot: %s\n",
				err ? err : strerror(-r));
			serve_http_stop(&s);
			return 1;
		}
		na_logf(&s.log, LOG_INFO, "network boot on %s: %sTFTP from %s", c->interface,
			c->proxy_dhcp ? "proxy DHCP (PXE, UEFI HTTP boot, iPXE), " : "",
			c->tftp_root);
	}
	na_logf(&s.log, LOG_INFO,
		"listening on %s and %s (machines fetch from %s), state in %s, certificate "
		"SHA-256 %s%s",
		s.base_url, s.tls_url, s.base_url, db_path, tls.sha256,
		c->https_cert	? ""
		: tls.generated ? " (made now)"
				: " (kept)");
	if (dl_systemd() >= 0)
		sym_sd_notify(0, "READY=1\nSTATUS=serving");
	if (sigwait(&sigs, &sig) != 0)
		sig = 0;
	na_logf(&s.log, LOG_INFO, "signal %d: stopping", sig);
	if (dl_systemd() >= 0)
		sym_sd_notify(0, "STOPPING=1");
	netboot = serve_netboot_stop(netboot);
	serve_http_stop(&s);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_(serve_config_freep) serve_config *c = NULL;
	const char *path = SERVE_DEFAULT_CONFIG;
	na_log l = na_log_stream(stderr);
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		if (opt == 'c')
			path = optarg;
		else if (opt == 'h')
			return usage(stdout, 0);
		else
			return usage(stderr, EXIT_USAGE);
	}
	r = cmd_no_operands("serve", argc, argv);
	if (r)
		return r;
	r = serve_config_load(path, &l, &c);
	if (r == -EINVAL)
		return EXIT_USAGE;
	if (r < 0) {
		fprintf(stderr, "node-agent serve: %s: %s\n", path, strerror(-r));
		return r == -ENOENT || r == -EISDIR ? EXIT_USAGE : 1;
	}
	return run(c);
}
