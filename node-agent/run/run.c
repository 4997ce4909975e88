/* SPDX-License-Identifier: MIT */
/*
 * `node-agent run`, the boot job: detect -> config -> report -> plan -> apply -> join.
 * Progress goes to systemd (sd_notify STATUS=) and to the journal with structured fields
 * (NODE_AGENT_STAGE=...); each stage's result goes to STATE_DIR/state.json.
 */
#define _GNU_SOURCE
#include <blkid.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "apply/apply.h"
#include "config/config.h"
#include "report/deliver.h"
#include "fleet/diff.h"
#include "basic/dl.h"
#include "basic/fetch.h"
#include "hw.h"
#include "gitops/gitops.h"
#include "inventory/inventory-json.h"
#include "join/join.h"
#include "inventory/output.h"
#include "plan/plan.h"
#include "run/run.h"

#define STATE_SCHEMA	"node-agent/state/v1"
#define NODEAGENT_LABEL "NODEAGENT"

/* --- logging and progress --- */

static bool to_journal(void)
{
	/* stderr already goes to the journal: send structured entries there instead */
	return getenv("JOURNAL_STREAM") && dl_systemd() == 0;
}

__attribute__((format(printf, 3, 4))) static void log_stage(int prio, const char *stage,
							    const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (to_journal()) {
		char *m = NULL, *p = NULL, *s = NULL;
		if (asprintf(&m, "MESSAGE=%s: %s", stage, msg) >= 0 &&
		    asprintf(&p, "PRIORITY=%d", prio) >= 0 &&
		    asprintf(&s, "NODE_AGENT_STAGE=%s", stage) >= 0) {
			struct iovec iov[] = {
			    {m, strlen(m)},
			    {p, strlen(p)},
			    {s, strlen(s)},
			    {(char *)"SYSLOG_IDENTIFIER=node-agent", 28},
			};
			sym_sd_journal_sendv(iov, 4);
		}
		free(m);
		free(p);
		free(s);
	} else
		fprintf(stderr, "node-agent: %s%s: %s\n",
			prio <= LOG_ERR	      ? "error: "
			: prio <= LOG_WARNING ? "warning: "
					      : "",
			stage, msg);
	free(msg);
}

__attribute__((format(printf, 1, 2))) static void status(const char *fmt, ...)
{
	char *msg = NULL, *line = NULL;
	va_list ap;

	if (!getenv("NOTIFY_SOCKET") || dl_systemd() < 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && asprintf(&line, "STATUS=%s", msg) >= 0)
		sym_sd_notify(0, line);
	free(line);
	free(msg);
}

/* Progress of the join: both systemctl status and the journal show it. */
static void join_progress(void *userdata, int prio, const char *msg)
{
	(void)userdata;
	status("join: %s", msg);
	log_stage(prio, "join", "%s", msg);
}

/* A stage's log lines, one journal entry each; the indentation meant for a terminal goes. */
static void stage_line(void *userdata, int prio, const char *msg)
{
	log_stage(prio, userdata, "%s", msg + strspn(msg, " "));
}

static na_log stage_log(const char *stage)
{
	return (na_log){.fn = stage_line, .userdata = (void *)stage};
}

/* --- state.json --- */

typedef struct run_state {
	json_object *root;
	json_object *stages;
	char *path;
} run_state;

static char *now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

static void state_save(run_state *st)
{
	const char *s = json_object_to_json_string_ext(
	    st->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *c = NULL;

	if (s && asprintf(&c, "%s\n", s) >= 0)
		write_atomic(st->path, c, 0644);
	free(c);
}

__attribute__((format(printf, 4, 5))) static void
stage_result(run_state *st, const char *stage, const char *result, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char *msg = NULL, *at = now_rfc3339();
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	json_object_object_add(o, "stage", json_object_new_string(stage));
	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "message", msg ? json_object_new_string(msg) : NULL);
	json_object_object_add(o, "at", at ? json_object_new_string(at) : NULL);
	json_object_array_add(st->stages, o);
	state_save(st);
	log_stage(!strcmp(result, "failed") ? LOG_ERR : LOG_INFO, stage, "%s%s%s", result,
		  msg ? ": " : "", msg ? msg : "");
	free(msg);
	free(at);
}

/* --- config discovery --- */

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

char *run_config_url_from_cmdline(const char *cmdline, const char *mac, const char *uuid,
				  const char *serial, const char *hostname, const char **ret_err)
{
	const char *p = cmdline, *v = NULL;
	char *out = NULL;
	size_t len = 0, n;
	FILE *f;

	*ret_err = NULL;
	while (p && (p = strstr(p, "nodeagent.config="))) {
		if (p == cmdline || isspace((unsigned char)p[-1]))
			v = p + strlen("nodeagent.config=");
		p++;
	}
	if (!v)
		return NULL;
	n = strcspn(v, " \t\n");
	if (n == 0) {
		*ret_err = "nodeagent.config= is empty";
		return NULL;
	}
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n;) {
		static const char *const names[] = {"mac", "uuid", "serial", "hostname"};
		const char *vals[] = {mac, uuid, serial, hostname};
		bool done = false;

		for (size_t k = 0; k < 4 && !done; k++) {
			size_t l = strlen(names[k]);
			if (i + l + 3 <= n && v[i] == '$' && v[i + 1] == '{' &&
			    !strncmp(v + i + 2, names[k], l) && v[i + 2 + l] == '}') {
				if (!vals[k]) {
					static char err[64];
					snprintf(err, sizeof(err),
						 "${%s} in nodeagent.config is unknown here",
						 names[k]);
					*ret_err = err;
				} else
					url_escape(f, vals[k]);
				i += l + 3;
				done = true;
			}
		}
		if (!done)
			fputc(v[i++], f);
	}
	fclose(f);
	if (*ret_err) {
		free(out);
		return NULL;
	}
	return out;
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
		int r;

		status("config: fetching %s (attempt %u)", url, attempt);
		r = fetch_url(url, NULL, 0, NULL, &fr);
		if (r == 0) {
			ef = open_memstream(&errs, &errs_len);
			r = na_config_parse(url, fr.body, fr.len, ef, ret);
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
			log_stage(LOG_ERR, "config", "%s; giving up after %u attempts", fr.error,
				  attempt);
			status("config: failed: %s", fr.error);
			fetch_result_done(&fr);
			free(errs);
			return -ETIMEDOUT;
		}
		unsigned wait = delay_ms + jitter_ms(delay_ms / 4 + 1);
		if (fr.retry_after_s > 0 && (unsigned)fr.retry_after_s * 1000 > wait)
			wait = (unsigned)fr.retry_after_s * 1000;
		log_stage(LOG_WARNING, "config", "%s; attempt %u, retrying in %.1f s", fr.error,
			  attempt, wait / 1000.0);
		status("config: %s; retrying in %.0f s (attempt %u)", fr.error, wait / 1000.0,
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

static int discover_config(const run_opts *o, const hw_inventory *inv, bool live, na_config **ret,
			   char **ret_source)
{
	char *cmdline = NULL, *path = NULL, *url = NULL;
	const char *err = NULL;
	fetch_result fr;
	int r;

	if (o->config) {
		*ret_source = strdup(o->config);
		if (strstr(o->config, "://"))
			return config_fetch_loop(o->config, o->config_timeout_s, ret);
		return na_config_load(o->config, stderr, ret);
	}
	/* 1. the kernel command line */
	if (asprintf(&path, "file://%s/proc/cmdline", strcmp(o->root, "/") ? o->root : "") >= 0 &&
	    fetch_url(path, NULL, 0, NULL, &fr) == 0) {
		cmdline = fr.body;
		url = run_config_url_from_cmdline(cmdline, config_mac(inv), inv->system.uuid,
						  inv->system.serial, inv->hostname, &err);
	}
	free(path);
	free(cmdline);
	if (err) {
		log_stage(LOG_ERR, "config", "%s", err);
		return -EINVAL;
	}
	if (url) {
		*ret_source = url;
		return config_fetch_loop(url, o->config_timeout_s, ret);
	}
	/* 2. a filesystem labelled NODEAGENT */
	if (live) {
		char *body = NULL, *where = NULL;
		if (config_from_labelled_fs(&body, &where) == 0) {
			FILE *ef = stderr;
			r = na_config_parse(where ? where : NODEAGENT_LABEL, body, strlen(body), ef,
					    ret);
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
		return na_config_load(path, stderr, ret);
	}
	free(path);
	log_stage(LOG_ERR, "config",
		  "no config: no nodeagent.config= on the kernel command line, no filesystem "
		  "labelled %s, no /etc/node-agent/config.yaml",
		  NODEAGENT_LABEL);
	return -ENOENT;
}

/* --- the pipeline --- */

static char *join_path(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", strcmp(a, "/") ? a : "", b) < 0)
		return NULL;
	return s;
}

/* Spool the report in STATE_DIR/spool and send the spool, oldest first (deliver.h): within
 * a time budget, so a dead collector never holds up the boot. *ret_msg says what happened. */
static int report_inventory(const na_config *cfg, const char *inventory_json,
			    const char *machine_id, const char *inv_path, char **ret_msg)
{
	const char *bad = NULL, *slash = strrchr(inv_path, '/');
	deliver_stats ds = {0};
	deliver_opts o;
	char *spool = NULL;
	int r;

	if (deliver_opts_init(&o, &bad) < 0)
		log_stage(LOG_WARNING, "report", "ignoring %s: not a number in range", bad);
	if (!slash || asprintf(&spool, "%.*s/spool", (int)(slash - inv_path), inv_path) < 0)
		return -ENOMEM;
	o.url = cfg->report_url;
	o.ca_file = cfg->report_ca_file;
	o.ca_pem = cfg->report_ca_pem;
	o.spool_dir = spool;
	o.log = stage_log("report");
	/* the boot job tries briefly and goes on to the join; node-agent-report.timer sends
	 * what is left in the spool later */
	if (!getenv("NODE_AGENT_REPORT_BUDGET_MS"))
		o.budget_ms = 15000;
	r = deliver_report(&o, inventory_json, machine_id, &ds);
	if (asprintf(ret_msg, "%s: %u delivered, %u spooled, %u rejected, %u dropped%s%s",
		     cfg->report_url, ds.delivered, ds.spooled, ds.rejected, ds.dropped,
		     r < 0 ? "; " : "", r < 0 ? strerror(-r) : "") < 0)
		*ret_msg = NULL;
	free(spool);
	return r;
}

int run_pipeline(const run_opts *o)
{
	run_state st = {0};
	hw_ctx *ctx = NULL;
	hw_inventory *inv = NULL;
	na_config *cfg = NULL;
	na_plan *plan = NULL;
	plan_target tgt = {0};
	json_object *j;
	char *inv_path = NULL, *inv_json = NULL, *source = NULL, *state_dir = NULL, *t;
	char *resumed_from = NULL;
	int r, ret = 1;
	bool live, joined = false;

	state_dir =
	    o->state_dir ? strdup(o->state_dir) : join_path(o->target, "/var/lib/node-agent");
	if (!state_dir || asprintf(&inv_path, "%s/inventory.json", state_dir) < 0 ||
	    asprintf(&st.path, "%s/state.json", state_dir) < 0) {
		free(state_dir);
		free(inv_path);
		return 1;
	}
	/* every stage is idempotent, so a run after a failure redoes the cheap ones and goes
	 * on from where the last one stopped */
	{
		json_object *prev = json_object_from_file(st.path), *res, *stages;
		const char *last_msg = NULL;
		if (prev && json_object_object_get_ex(prev, "result", &res) &&
		    !strcmp(json_object_get_string(res), "failed") &&
		    json_object_object_get_ex(prev, "stages", &stages))
			for (size_t i = 0; i < json_object_array_length(stages); i++) {
				json_object *stg = json_object_array_get_idx(stages, i), *a, *b, *m;
				if (json_object_object_get_ex(stg, "result", &b) &&
				    !strcmp(json_object_get_string(b), "failed") &&
				    json_object_object_get_ex(stg, "stage", &a)) {
					/* the last failed stage is the one that stopped it */
					free(resumed_from);
					resumed_from = strdup(json_object_get_string(a));
					last_msg = json_object_object_get_ex(stg, "message", &m)
						       ? json_object_get_string(m)
						       : "failed";
				}
			}
		if (resumed_from)
			log_stage(LOG_NOTICE, "run", "resuming: the last run stopped at %s (%s)",
				  resumed_from, last_msg);
		json_object_put(prev);
	}
	st.root = json_object_new_object();
	st.stages = json_object_new_array();
	json_object_object_add(st.root, "schema", json_object_new_string(STATE_SCHEMA));
	t = now_rfc3339();
	json_object_object_add(st.root, "started_at", json_object_new_string(t));
	free(t);
	json_object_object_add(st.root, "stages", json_object_get(st.stages));
	if (resumed_from)
		json_object_object_add(st.root, "resumed_from",
				       json_object_new_string(resumed_from));
	free(resumed_from);

	/* detect */
	status("detect: reading the hardware");
	r = hw_ctx_new(o->root, &ctx);
	if (r >= 0)
		r = hw_inventory_collect(ctx, &inv);
	live = ctx && hw_ctx_is_live(ctx);
	hw_ctx_free(ctx);
	if (r < 0) {
		stage_result(&st, "detect", "failed", "%s", strerror(-r));
		goto out;
	}
	for (char **w = inv->warnings; w && *w; w++)
		log_stage(LOG_WARNING, "detect", "%s", *w);
	j = inventory_to_json(inv);
	const char *js = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE)
			   : NULL;
	if (js && asprintf(&inv_json, "%s\n", js) < 0)
		inv_json = NULL;
	json_object_put(j);
	/* what changed since the last boot: the old one kept as inventory.json.previous, logged */
	if (inv_json && access(inv_path, F_OK) == 0) {
		hw_inventory *prev = NULL;
		char **lines = NULL, *prev_path = NULL;

		/* a previous inventory this version cannot read is no news */
		if (inventory_load(inv_path, NULL, &prev) == 0 &&
		    inventory_diff_lines(prev, inv, &lines) > 0)
			for (char **l = lines; *l; l++)
				log_stage(LOG_NOTICE, "detect",
					  "hardware changed since the last run: %s", *l);
		if (asprintf(&prev_path, "%s.previous", inv_path) >= 0 &&
		    rename(inv_path, prev_path) < 0)
			log_stage(LOG_WARNING, "detect", "cannot keep %s: %m", prev_path);
		free(prev_path);
		inventory_diff_lines_free(lines);
		hw_inventory_free(prev);
	}
	r = inv_json ? write_atomic(inv_path, inv_json, 0644) : -ENOMEM;
	if (r < 0) {
		stage_result(&st, "detect", "failed", "cannot write %s: %s", inv_path,
			     strerror(-r));
		goto out;
	}
	stage_result(&st, "detect", "ok",
		     "%zu CPU threads, %zu GPU(s), %zu disk(s), %zu NIC(s); %s",
		     (size_t)(inv->cpu.threads > 0 ? inv->cpu.threads : 0), inv->n_gpus,
		     inv->n_disks, inv->n_nics, inv_path);

	/* config */
	status("config: looking for the node config");
	r = discover_config(o, inv, live, &cfg, &source);
	if (r < 0) {
		stage_result(&st, "config", "failed", "no valid config%s%s; nothing joined",
			     source ? " from " : "", source ? source : "");
		goto out;
	}
	stage_result(&st, "config", "ok", "%s (%zu rules)", source, cfg->n_rules);
	/* a copy for later commands on this node (the servers' node-agent roles timer) */
	{
		char *copy = NULL;
		if (cfg->text && asprintf(&copy, "%s/config.yaml", state_dir) >= 0 &&
		    (r = write_atomic(copy, cfg->text, 0600)) < 0)
			log_stage(LOG_WARNING, "config", "cannot keep a copy in %s: %s", copy,
				  strerror(-r));
		free(copy);
	}

	/* report: a dead collector never blocks the node */
	if (cfg->report_url) {
		char *msg = NULL;
		status("report: sending the inventory to %s", cfg->report_url);
		r = report_inventory(cfg, inv_json, inv->machine_id, inv_path, &msg);
		stage_result(&st, "report", r == 0 ? "ok" : "failed", "%s",
			     msg ? msg : cfg->report_url);
		free(msg);
	} else
		stage_result(&st, "report", "skipped", "no report.url in the config");

	/* plan and apply */
	status("plan: deciding what this node becomes");
	r = plan_target_probe(o->target, &tgt);
	if (r >= 0)
		r = plan_compute(cfg, inv, &tgt, &plan);
	if (r < 0) {
		stage_result(&st, "plan", "failed", "%s", strerror(-r));
		goto out;
	}
	for (char **w = plan->warnings; w && *w; w++)
		log_stage(LOG_WARNING, "plan", "%s", *w);
	stage_result(&st, "plan", "ok", "node %s, role %s, %zu labels, %zu files", plan->node_name,
		     na_role_name(plan->role), plan->labels.n, plan->n_files);
	status("apply: writing the node's files");
	{
		apply_result res;
		na_log l = stage_log("apply");

		r = apply_plan(plan, o->target, false, &l, &res);
		if (r < 0 || res.failed) {
			stage_result(&st, "apply", "failed", "%u changed, %u failed", res.changed,
				     res.failed);
			goto out;
		}
		stage_result(&st, "apply", "ok", "%u changed, %u unchanged", res.changed,
			     res.unchanged);
	}

	/* join: K3s itself comes with the image, when the image has it */
	status("join: joining the cluster as %s", na_role_name(plan->role));
	{
		join_opts jo = {.target = o->target,
				.start_units = !o->no_start,
				.ready_timeout_s = o->join_timeout_s,
				.log = {.fn = join_progress}};
		char *msg = NULL;

		r = join_cluster(cfg, plan, &jo, &msg);
		stage_result(&st, "join",
			     r < 0   ? "failed"
			     : r > 0 ? "skipped"
				     : "ok",
			     "%s", msg ? msg : strerror(-r));
		free(msg);
		if (r < 0)
			goto out;
		joined = r == 0;
	}

	/* gitops: the cluster-init server points the cluster at its Git repository */
	if (plan->role != ROLE_SERVER_INIT)
		stage_result(&st, "gitops", "skipped",
			     "only the server-init node bootstraps GitOps");
	else if (!cfg->gitops.present)
		stage_result(&st, "gitops", "skipped", "no gitops section in the config");
	else if (!joined)
		stage_result(&st, "gitops", "skipped", "the node did not join a cluster");
	else {
		char *msg = NULL;
		na_log l = stage_log("gitops");

		status("gitops: writing the %s manifests", cfg->gitops.engine);
		r = gitops_stage(cfg, o->target, &l, &msg);
		stage_result(&st, "gitops",
			     r < 0   ? "failed"
			     : r > 0 ? "skipped"
				     : "ok",
			     "%s", msg ? msg : strerror(-r));
		free(msg);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	t = now_rfc3339();
	json_object_object_add(st.root, "finished_at", json_object_new_string(t));
	json_object_object_add(st.root, "result", json_object_new_string(ret ? "failed" : "ok"));
	free(t);
	state_save(&st);
	if (ret == 0) {
		status("done: node %s (%s); inventory in %s", plan ? plan->node_name : "?",
		       plan ? na_role_name(plan->role) : "?", inv_path);
		if (getenv("NOTIFY_SOCKET") && dl_systemd() == 0)
			sym_sd_notify(0, "READY=1");
	}
	json_object_put(st.stages);
	json_object_put(st.root);
	free(st.path);
	free(inv_path);
	free(inv_json);
	free(source);
	free(state_dir);
	plan_free(plan);
	plan_target_done(&tgt);
	na_config_free(cfg);
	hw_inventory_free(inv);
	return ret;
}

int run_status(const char *state_dir, bool json)
{
	char *path = NULL;
	json_object *o, *stages;
	int r = 0;

	if (asprintf(&path, "%s/state.json", state_dir) < 0)
		return 1;
	o = json_object_from_file(path);
	if (!o) {
		fprintf(stderr, "node-agent: no state in %s: node-agent run has not run here\n",
			path);
		free(path);
		return 1;
	}
	if (json)
		output_json(stdout, o);
	else {
		json_object *v;
		printf("last run: %s, started %s, finished %s\n",
		       json_object_object_get_ex(o, "result", &v) ? json_object_get_string(v)
								  : "running",
		       json_object_object_get_ex(o, "started_at", &v) ? json_object_get_string(v)
								      : "?",
		       json_object_object_get_ex(o, "finished_at", &v) ? json_object_get_string(v)
								       : "-");
		if (json_object_object_get_ex(o, "stages", &stages))
			for (size_t i = 0; i < json_object_array_length(stages); i++) {
				json_object *s = json_object_array_get_idx(stages, i), *a, *b, *c;
				json_object_object_get_ex(s, "stage", &a);
				json_object_object_get_ex(s, "result", &b);
				json_object_object_get_ex(s, "message", &c);
				printf("  %-8s %-8s %s\n", json_object_get_string(a),
				       json_object_get_string(b),
				       c ? json_object_get_string(c) : "");
			}
	}
	if (json_object_object_get_ex(o, "result", &stages) &&
	    strcmp(json_object_get_string(stages), "ok"))
		r = 1;
	json_object_put(o);
	free(path);
	return r;
}
