/* SPDX-License-Identifier: MIT */
/*
 * `node-agent run`, the boot job: detect -> config -> report -> [credentials] -> plan ->
 * apply -> join -> gitops. Progress goes to systemd and the journal (journal.c); each stage's
 * result goes to STATE_DIR/state.json (state.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "basic/json-util.h"
#include "apply/apply.h"
#include "basic/fileio.h"
#include "basic/dl.h"
#include "config/config.h"
#include "fleet/diff.h"
#include "gitops/gitops.h"
#include "hw.h"
#include "inventory/inventory-json.h"
#include "join/join.h"
#include "plan/plan.h"
#include "report/deliver.h"
#include "run/run-internal.h"
#include "serve/serve.h"

/* Progress of the join: both systemctl status and the journal show it. */
static void join_progress(void *userdata, int prio, const char *msg)
{
	(void)userdata;
	run_notify("join: %s", msg);
	run_log(prio, "join", "%s", msg);
}

static char *join_path(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", strcmp(a, "/") ? a : "", b) < 0)
		return NULL;
	return s;
}

/* The config as it is kept for later commands: the ticket of cluster.credentials, which a
 * later command has no use for, replaced (it is [A-Za-z0-9.]: no YAML syntax to mind). */
static char *config_copy_text(const na_config *cfg)
{
	static const char stand_in[] = "redacted";
	const char *t = cfg->credentials.ticket, *p = cfg->text;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!t || !*t)
		return strdup(cfg->text);
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	for (const char *m; (m = strstr(p, t)); p = m + strlen(t))
		fprintf(f, "%.*s%s", (int)(m - p), p, stand_in);
	fputs(p, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Spool the report in STATE_DIR/spool and send the spool, oldest first (deliver.h): within
 * a time budget, so a dead collector never holds up the boot. *ret_msg says what happened. */
static int report_inventory(const na_config *cfg, const char *inventory_json, const char *node_json,
			    const char *machine_id, const char *inv_path, char **ret_msg)
{
	const char *bad = NULL, *slash = strrchr(inv_path, '/');
	deliver_stats ds = {0};
	deliver_opts o;
	char *spool = NULL;
	int r;

	if (deliver_opts_init(&o, &bad) < 0)
		run_log(LOG_WARNING, "report", "ignoring %s: not a number in range", bad);
	if (!slash || asprintf(&spool, "%.*s/spool", (int)(slash - inv_path), inv_path) < 0)
		return -ENOMEM;
	o.url = cfg->report_url;
	o.ca_file = cfg->report_ca_file;
	o.ca_pem = cfg->report_ca_pem;
	o.spool_dir = spool;
	o.log = run_stage_log("report");
	o.node_json = node_json;
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

/* One line on the system console, best effort (a machine without one has no reader). */
static void console_line(const char *fmt, ...) _printf_(1, 2);
static void console_line(const char *fmt, ...)
{
	_cleanup_close_ int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *line = NULL;
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		line = NULL;
		return;
	}
	(void)!dprintf(fd, "\r\n%s\r\n", line);
}

/* The same inventory again with the node's name, role and `joined`, so that a collector
 * such as node-agent serve sees the node join; a failure only warns (it stays spooled). */
static void report_joined(const na_config *cfg, const na_plan *plan, const char *inv_json,
			  const char *machine_id, const char *inv_path)
{
	_cleanup_(json_object_putp) json_object *node = json_object_new_object();
	_cleanup_free_ char *msg = NULL;
	const char *text;

	if (!node)
		return;
	json_object_object_add(node, "name", json_object_new_string(plan->node_name));
	json_object_object_add(node, "role", json_object_new_string(na_role_name(plan->role)));
	json_object_object_add(node, "joined", json_object_new_boolean(true));
	text = json_object_to_json_string_ext(node, JSON_C_TO_STRING_PLAIN);
	if (report_inventory(cfg, inv_json, text, machine_id, inv_path, &msg) < 0)
		run_log(LOG_WARNING, "report", "the node's join not reported: %s",
			msg ? msg : "out of memory");
	else
		run_log(LOG_INFO, "report", "the node's join reported: %s", msg ? msg : "");
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
	char *inv_path = NULL, *inv_json = NULL, *source = NULL, *state_dir = NULL;
	run_credentials creds = {0};
	int r, ret = 1;
	bool live, joined = false, have_creds = false;

	state_dir =
	    o->state_dir ? strdup(o->state_dir) : join_path(o->target, "/var/lib/node-agent");
	if (!state_dir || asprintf(&inv_path, "%s/inventory.json", state_dir) < 0 ||
	    asprintf(&st.path, "%s/state.json", state_dir) < 0) {
		free(state_dir);
		free(inv_path);
		return 1;
	}
	run_state_begin(&st);

	/* detect */
	run_notify("detect: reading the hardware");
	r = hw_ctx_new(o->root, &ctx);
	if (r >= 0)
		r = hw_inventory_collect(ctx, &inv);
	live = ctx && hw_ctx_is_live(ctx);
	hw_ctx_free(ctx);
	if (r < 0) {
		run_stage_result(&st, "detect", "failed", "%s", strerror(-r));
		goto out;
	}
	for (char **w = inv->warnings; w && *w; w++)
		run_log(LOG_WARNING, "detect", "%s", *w);
	j = inventory_to_json(inv);
	const char *js = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE)
			   : NULL;
	if (js && asprintf(&inv_json, "%s\n", js) < 0)
		inv_json = NULL;
	/* the code `node-agent serve` lists this machine under: which box a pending entry is */
	{
		serve_identity id = {0};
		char code[7];

		if (j && serve_identity_from_json(j, &id) >= 0 &&
		    serve_machine_code(&id, 0, code) >= 0) {
			run_log(LOG_NOTICE, "detect",
				"machine code %s (as node-agent serve lists it)", code);
			/* on the screen too (a `quiet` kernel shows no journal there): the
			 * person at the box reads it and finds the box on the fleet page */
			if (live && (!o->target || !strcmp(o->target, "/")))
				console_line("node-agent: this machine is %s in node-agent serve",
					     code);
		}
		serve_identity_done(&id);
	}
	json_object_put(j);
	/* what changed since the last boot: the old one kept as inventory.json.previous, logged */
	if (inv_json && access(inv_path, F_OK) == 0) {
		hw_inventory *prev = NULL;
		char **lines = NULL, *prev_path = NULL;

		/* a previous inventory this version cannot read is no news */
		if (inventory_load(inv_path, NULL, &prev) == 0 &&
		    inventory_diff_lines(prev, inv, &lines) > 0)
			for (char **l = lines; *l; l++)
				run_log(LOG_NOTICE, "detect",
					"hardware changed since the last run: %s", *l);
		if (asprintf(&prev_path, "%s.previous", inv_path) >= 0 &&
		    rename(inv_path, prev_path) < 0)
			run_log(LOG_WARNING, "detect", "cannot keep %s: %m", prev_path);
		free(prev_path);
		inventory_diff_lines_free(lines);
		hw_inventory_free(prev);
	}
	r = inv_json ? write_atomic(inv_path, inv_json, 0644) : -ENOMEM;
	if (r < 0) {
		run_stage_result(&st, "detect", "failed", "cannot write %s: %s", inv_path,
				 strerror(-r));
		goto out;
	}
	run_stage_result(&st, "detect", "ok",
			 "%zu CPU threads, %zu GPU(s), %zu disk(s), %zu NIC(s); %s",
			 (size_t)(inv->cpu.threads > 0 ? inv->cpu.threads : 0), inv->n_gpus,
			 inv->n_disks, inv->n_nics, inv_path);

	/* config */
	run_notify("config: looking for the node config");
	r = run_discover_config(o, inv, live, &cfg, &source);
	if (r < 0) {
		run_stage_result(&st, "config", "failed", "no valid config%s%s; nothing joined",
				 source ? " from " : "", source ? source : "");
		goto out;
	}
	run_stage_result(&st, "config", "ok", "%s (%zu rules)", source, cfg->n_rules);
	/* a copy for later commands on this node (the servers' node-agent roles timer) */
	{
		char *copy = NULL, *text = cfg->text ? config_copy_text(cfg) : NULL;
		if (text && asprintf(&copy, "%s/config.yaml", state_dir) >= 0 &&
		    (r = write_atomic(copy, text, 0600)) < 0)
			run_log(LOG_WARNING, "config", "cannot keep a copy in %s: %s", copy,
				strerror(-r));
		free(copy);
		free(text);
	}

	/* report: a dead collector never blocks the node */
	if (cfg->report_url) {
		char *msg = NULL;
		run_notify("report: sending the inventory to %s", cfg->report_url);
		r = report_inventory(cfg, inv_json, NULL, inv->machine_id, inv_path, &msg);
		run_stage_result(&st, "report", r == 0 ? "ok" : "failed", "%s",
				 msg ? msg : cfg->report_url);
		free(msg);
	} else
		run_stage_result(&st, "report", "skipped", "no report.url in the config");

	/* an inventory-only config (serve's, for a machine not accepted yet): nothing to
	 * join, so nothing is written either, the data disk least of all */
	if (na_config_inventory_only(cfg)) {
		static const char *const stages[] = {"plan", "apply", "join", "gitops"};

		for (size_t i = 0; i < ELEMENTSOF(stages); i++)
			run_stage_result(&st, stages[i], "skipped",
					 "inventory only: the config names no cluster");
		ret = 0;
		goto out;
	}

	/* credentials: node-agent serve's config names no server and no token, it hands them
	 * to this machine if it is accepted */
	if (cfg->credentials.url) {
		char *msg = NULL;

		run_notify("credentials: asking node-agent serve for them");
		r = inv_json ? run_credentials_redeem(cfg, inv_json, &creds, &msg) : -ENOMEM;
		if (r >= 0)
			r = run_credentials_apply(cfg, &creds, o->target);
		run_stage_result(&st, "credentials", r < 0 ? "failed" : "ok", "%s",
				 msg ? msg : strerror(-r));
		free(msg);
		if (r < 0)
			goto out;
		have_creds = true;
	}

	/* plan and apply */
	run_notify("plan: deciding what this node becomes");
	r = plan_target_probe(o->target, &tgt);
	if (r >= 0)
		r = plan_compute(cfg, inv, &tgt, &plan);
	if (r < 0) {
		run_stage_result(&st, "plan", "failed", "%s", strerror(-r));
		goto out;
	}
	for (char **w = plan->warnings; w && *w; w++)
		run_log(LOG_WARNING, "plan", "%s", *w);
	if (plan->errors && plan->errors[0]) {
		for (char **e = plan->errors; *e; e++)
			run_log(LOG_ERR, "plan", "refused: %s", *e);
		run_stage_result(&st, "plan", "failed", "refused: %s", plan->errors[0]);
		goto out;
	}
	/* serve ran the same plan code on this inventory: a difference is a config or a
	 * version that differs, and joining with a token for another role would fail later */
	if (have_creds && plan->role != creds.role) {
		run_stage_result(
		    &st, "plan", "failed",
		    "refused: node-agent serve gives this machine the role %s, its own "
		    "plan says %s; nothing joined",
		    na_role_name(creds.role), na_role_name(plan->role));
		goto out;
	}
	run_stage_result(&st, "plan", "ok", "node %s, role %s, %zu labels, %zu files",
			 plan->node_name, na_role_name(plan->role), plan->labels.n, plan->n_files);
	run_notify("apply: writing the node's files");
	{
		apply_result res;
		na_log l = run_stage_log("apply");

		if (have_creds) {
			char *err = NULL;

			r = run_credentials_write(cfg, &creds, o->target, &err);
			if (r < 0) {
				run_stage_result(&st, "apply", "failed",
						 "the credentials from node-agent serve: %s",
						 err ? err : strerror(-r));
				free(err);
				goto out;
			}
		}
		r = apply_plan(plan, o->target, false, &l, &res);
		if (r < 0 || res.failed) {
			run_stage_result(&st, "apply", "failed", "%u changed, %u failed",
					 res.changed, res.failed);
			goto out;
		}
		/* the data disk is mounted now: a node password kept there is K3s's own */
		if (have_creds) {
			char *msg = NULL;

			r = run_node_password_write(&creds, o->target, &msg);
			run_log(r < 0 ? LOG_ERR : LOG_INFO, "apply", "node password: %s",
				msg ? msg : strerror(-r));
			free(msg);
			if (r < 0) {
				run_stage_result(
				    &st, "apply", "failed",
				    "the node password from node-agent serve cannot be "
				    "written");
				goto out;
			}
		}
		run_stage_result(&st, "apply", "ok", "%u changed, %u unchanged", res.changed,
				 res.unchanged);
	}

	/* join: K3s itself comes with the image, when the image has it */
	run_notify("join: joining the cluster as %s", na_role_name(plan->role));
	{
		join_opts jo = {.target = o->target,
				.start_units = !o->no_start,
				.ready_timeout_s = o->join_timeout_s,
				.log = {.fn = join_progress}};
		char *msg = NULL;

		r = join_cluster(cfg, plan, &jo, &msg);
		run_stage_result(&st, "join",
				 r < 0	 ? "failed"
				 : r > 0 ? "skipped"
					 : "ok",
				 "%s", msg ? msg : strerror(-r));
		free(msg);
		if (r < 0)
			goto out;
		joined = r == 0;
	}
	/* the collector (node-agent serve) learns that the node joined from its reports */
	if (joined && cfg->report_url)
		report_joined(cfg, plan, inv_json, inv->machine_id, inv_path);
	/* the server-init of serve's cluster: its server URL and CA hash let serve hand out
	 * tokens to the other nodes; failing that, the node stays joined and it says so */
	if (joined && have_creds && plan->role == ROLE_SERVER_INIT) {
		char *msg = NULL;

		run_notify("credentials: telling node-agent serve about the cluster");
		r = run_cluster_announce(cfg, &creds, plan, inv, o->target, &msg);
		run_log(r < 0 ? LOG_WARNING : LOG_INFO, "credentials", "%s",
			msg ? msg : strerror(-r));
		free(msg);
	}

	/* gitops: the cluster-init server points the cluster at its Git repository */
	if (plan->role != ROLE_SERVER_INIT)
		run_stage_result(&st, "gitops", "skipped",
				 "only the server-init node bootstraps GitOps");
	else if (!cfg->gitops.present)
		run_stage_result(&st, "gitops", "skipped", "no gitops section in the config");
	else if (!joined)
		run_stage_result(&st, "gitops", "skipped", "the node did not join a cluster");
	else {
		char *msg = NULL;
		na_log l = run_stage_log("gitops");

		run_notify("gitops: writing the %s manifests", cfg->gitops.engine);
		r = gitops_stage(cfg, o->target, &l, &msg);
		run_stage_result(&st, "gitops",
				 r < 0	 ? "failed"
				 : r > 0 ? "skipped"
					 : "ok",
				 "%s", msg ? msg : strerror(-r));
		free(msg);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	run_state_end(&st, ret == 0);
	if (ret == 0) {
		if (plan)
			run_notify("done: node %s (%s); inventory in %s", plan->node_name,
				   na_role_name(plan->role), inv_path);
		else
			run_notify("done: inventory only (the config names no cluster); "
				   "inventory in %s",
				   inv_path);
		if (getenv("NOTIFY_SOCKET") && dl_systemd() == 0)
			sym_sd_notify(0, "READY=1");
	}
	free(inv_path);
	free(inv_json);
	free(source);
	free(state_dir);
	run_credentials_done(&creds);
	plan_free(plan);
	plan_target_done(&tgt);
	na_config_free(cfg);
	hw_inventory_free(inv);
	return ret;
}
