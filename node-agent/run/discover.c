/* SPDX-License-Identifier: MIT */
/*
 * Where a node's config comes from, first found wins: --config, nodeagent.config= on the
 * kernel command line (fetched and retried until valid or the time is up), config.yaml on
 * a filesystem labelled NODEAGENT, /etc/node-agent/config.yaml.
 */
#define _GNU_SOURCE
#include <blkid.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "basic/fetch.h"
#include "run/run-internal.h"

static void url_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~:", c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

int run_config_url_from_cmdline(const char *cmdline, const char *mac, const char *uuid,
				const char *serial, const char *hostname, char **ret_url,
				char **ret_err)
{
	static const char *const names[] = {"mac", "uuid", "serial", "hostname"};
	const char *vals[] = {mac, uuid, serial, hostname};
	const char *p = cmdline, *v = NULL, *missing = NULL;
	_cleanup_free_ char *out = NULL;
	size_t len = 0, n;
	FILE *f;

	*ret_url = *ret_err = NULL;
	while (p && (p = strstr(p, "nodeagent.config="))) {
		if (p == cmdline || isspace((unsigned char)p[-1]))
			v = p + strlen("nodeagent.config=");
		p++;
	}
	if (!v)
		return 0;
	n = strcspn(v, " \t\n");
	if (n == 0)
		return (*ret_err = strdup("nodeagent.config= is empty")) ? -EINVAL : -ENOMEM;
	f = open_memstream(&out, &len);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		bool done = false;

		for (size_t k = 0; k < ELEMENTSOF(names) && !done; k++) {
			size_t l = strlen(names[k]);
			if (i + l + 3 <= n && v[i] == '$' && v[i + 1] == '{' &&
			    !strncmp(v + i + 2, names[k], l) && v[i + 2 + l] == '}') {
				if (!vals[k])
					missing = missing ? missing : names[k];
				else
					url_escape(f, vals[k]);
				i += l + 3;
				done = true;
			}
		}
		if (!done)
			fputc(v[i++], f);
	}
	if (fclose(f) != 0 || !out)
		return -ENOMEM;
	if (missing)
		return asprintf(ret_err, "${%s} in nodeagent.config is unknown here", missing) < 0
			   ? -ENOMEM
			   : -EINVAL;
	*ret_url = TAKE_PTR(out);
	return 1;
}

/* The MAC for ${mac}: the PXE interface, else the first physical NIC with link (as Talos
 * does), else the first physical NIC. */
static const char *config_mac(const hw_inventory *inv)
{
	if (inv->boot.pxe_mac)
		return inv->boot.pxe_mac;
	for (size_t i = 0; i < inv->n_nics; i++)
		if (!inv->nics[i].is_virtual && inv->nics[i].mac && inv->nics[i].link &&
		    !strcmp(inv->nics[i].link, "up"))
			return inv->nics[i].mac;
	for (size_t i = 0; i < inv->n_nics; i++)
		if (!inv->nics[i].is_virtual && inv->nics[i].mac)
			return inv->nics[i].mac;
	return NULL;
}

/* config.yaml on a filesystem labelled NODEAGENT (a USB stick, a small partition),
 * found with libblkid and mounted read-only for the time of one read. */
static int config_from_labelled_fs(char **ret_body, char **ret_where)
{
	blkid_cache cache = NULL;
	char *dev, *type = NULL, *body = NULL, *path = NULL;
	const char *mnt = "/run/node-agent/nodeagent-fs";
	fetch_result fr;
	int r;

	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	dev = blkid_evaluate_tag("LABEL", NODEAGENT_LABEL, &cache);
	if (!dev) {
		blkid_put_cache(cache);
		return -ENOENT;
	}
	type = blkid_get_tag_value(cache, "TYPE", dev);
	mkdir("/run/node-agent", 0700);
	mkdir(mnt, 0700);
	r = mount(dev, mnt, type ? type : "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL);
	if (r < 0) {
		r = -errno;
		goto out;
	}
	if (asprintf(&path, "file://%s/config.yaml", mnt) < 0) {
		r = -ENOMEM;
		umount(mnt);
		goto out;
	}
	r = fetch_url(path, NULL, 0, NULL, &fr);
	umount2(mnt, MNT_DETACH);
	if (r == 0) {
		body = fr.body;
		if (asprintf(ret_where, "%s (label %s)/config.yaml", dev, NODEAGENT_LABEL) < 0)
			*ret_where = NULL;
		*ret_body = body;
	} else
		fetch_result_done(&fr);
out:
	free(path);
	free(type);
	free(dev);
	blkid_put_cache(cache);
	return r;
}

static unsigned jitter_ms(unsigned max)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return max ? (unsigned)((ts.tv_nsec ^ getpid()) % max) : 0;
}

/* Fetch and validate until it works or the time is up: a node never goes on with a
 * config it could not read completely. */
static int config_fetch_loop(const char *url, int timeout_s, na_config **ret)
{
	struct timespec start, now;
	unsigned delay_ms = 1000;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned attempt = 1; attempt <= 1000; attempt++) {
		fetch_result fr;
		char *errs = NULL;
		size_t errs_len = 0;
		FILE *ef;
		na_log el;
		int r;

		run_notify("config: fetching %s (attempt %u)", url, attempt);
		r = fetch_url(url, NULL, 0, NULL, &fr);
		if (r == 0) {
			ef = open_memstream(&errs, &errs_len);
			el = na_log_stream(ef);
			r = na_config_parse(url, fr.body, fr.len, &el, ret);
			if (ef)
				fclose(ef);
			if (r == 0) {
				fetch_result_done(&fr);
				free(errs);
				return 0;
			}
			fetch_set_error(&fr, "invalid config: %.*s",
					(int)strcspn(errs ? errs : "?", "\n"), errs ? errs : "?");
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec + (time_t)(delay_ms / 1000) > timeout_s) {
			run_log(LOG_ERR, "config", "%s; giving up after %u attempts", fr.error,
				attempt);
			run_notify("config: failed: %s", fr.error);
			fetch_result_done(&fr);
			free(errs);
			return -ETIMEDOUT;
		}
		unsigned wait = delay_ms + jitter_ms(delay_ms / 4 + 1);
		if (fr.retry_after_s > 0 && (unsigned)fr.retry_after_s * 1000 > wait)
			wait = (unsigned)fr.retry_after_s * 1000;
		run_log(LOG_WARNING, "config", "%s; attempt %u, retrying in %.1f s", fr.error,
			attempt, wait / 1000.0);
		run_notify("config: %s; retrying in %.0f s (attempt %u)", fr.error, wait / 1000.0,
			   attempt);
		fetch_result_done(&fr);
		free(errs);
		nanosleep(
		    &(struct timespec){.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L},
		    NULL);
		delay_ms = delay_ms * 2 > 60000 ? 60000 : delay_ms * 2;
	}
	return -ETIMEDOUT;
}

int run_discover_config(const run_opts *o, const hw_inventory *inv, bool live, na_config **ret,
			char **ret_source)
{
	char *cmdline = NULL, *path = NULL, *url = NULL;
	_cleanup_free_ char *err = NULL;
	na_log to_stderr = na_log_stream(stderr);
	fetch_result fr;
	int r = 0;

	if (o->config) {
		*ret_source = strdup(o->config);
		if (strstr(o->config, "://"))
			return config_fetch_loop(o->config, o->config_timeout_s, ret);
		return na_config_load(o->config, &to_stderr, ret);
	}
	/* 1. the kernel command line */
	if (asprintf(&path, "file://%s/proc/cmdline", strcmp(o->root, "/") ? o->root : "") >= 0 &&
	    fetch_url(path, NULL, 0, NULL, &fr) == 0) {
		cmdline = fr.body;
		r = run_config_url_from_cmdline(cmdline, config_mac(inv), inv->system.uuid,
						inv->system.serial, inv->hostname, &url, &err);
	}
	free(path);
	free(cmdline);
	if (r < 0) {
		run_log(LOG_ERR, "config", "%s", err ? err : strerror(-r));
		return r;
	}
	if (url) {
		*ret_source = url;
		return config_fetch_loop(url, o->config_timeout_s, ret);
	}
	/* 2. a filesystem labelled NODEAGENT */
	if (live) {
		char *body = NULL, *where = NULL;
		if (config_from_labelled_fs(&body, &where) == 0) {
			r = na_config_parse(where ? where : NODEAGENT_LABEL, body, strlen(body),
					    &to_stderr, ret);
			free(body);
			*ret_source = where;
			return r;
		}
	}
	/* 3. /etc/node-agent/config.yaml */
	if (asprintf(&path, "%s/etc/node-agent/config.yaml", strcmp(o->root, "/") ? o->root : "") <
	    0)
		return -ENOMEM;
	if (access(path, F_OK) == 0) {
		*ret_source = path;
		return na_config_load(path, &to_stderr, ret);
	}
	free(path);
	run_log(LOG_ERR, "config",
		"no config: no nodeagent.config= on the kernel command line, no filesystem "
		"labelled %s, no /etc/node-agent/config.yaml",
		NODEAGENT_LABEL);
	return -ENOENT;
}
