/* SPDX-License-Identifier: MIT */
/* STATE_DIR/state.json: each stage's result as it happens, for `node-agent status`. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "run/run-internal.h"

char *run_now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

void run_state_save(run_state *st)
{
	const char *s = json_object_to_json_string_ext(
	    st->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *c = NULL;

	if (s && asprintf(&c, "%s\n", s) >= 0)
		write_atomic(st->path, c, 0644);
	free(c);
}

void run_stage_result(run_state *st, const char *stage, const char *result, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char *msg = NULL, *at = run_now_rfc3339();
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
	run_state_save(st);
	run_log(!strcmp(result, "failed") ? LOG_ERR : LOG_INFO, stage, "%s%s%s", result,
		msg ? ": " : "", msg ? msg : "");
	free(msg);
	free(at);
}

int run_state_read(const char *path, json_object **ret)
{
	_cleanup_free_ char *text = NULL;
	json_object *o;
	int r = read_full_file(path, STATE_MAX_BYTES, &text, NULL);

	if (r < 0)
		return r;
	o = json_tokener_parse(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

/* The last failed stage of the previous run, the one that stopped it; NULL when it ended
 * well or there is none. */
static char *last_failed_stage(const char *path, char **ret_msg)
{
	json_object *prev = NULL, *res, *stages;
	char *stage = NULL;

	*ret_msg = NULL;
	if (run_state_read(path, &prev) == 0 && json_object_object_get_ex(prev, "result", &res) &&
	    !strcmp(json_object_get_string(res), "failed") &&
	    json_object_object_get_ex(prev, "stages", &stages))
		for (size_t i = 0; i < json_object_array_length(stages); i++) {
			json_object *stg = json_object_array_get_idx(stages, i), *a, *b, *m;
			if (json_object_object_get_ex(stg, "result", &b) &&
			    !strcmp(json_object_get_string(b), "failed") &&
			    json_object_object_get_ex(stg, "stage", &a)) {
				free(stage);
				free(*ret_msg);
				stage = strdup(json_object_get_string(a));
				*ret_msg = strdup(json_object_object_get_ex(stg, "message", &m)
						      ? json_object_get_string(m)
						      : "failed");
			}
		}
	json_object_put(prev);
	return stage;
}

void run_state_begin(run_state *st)
{
	_cleanup_free_ char *resumed_from = NULL, *last_msg = NULL, *t = NULL;

	/* every stage is idempotent, so a run after a failure redoes the cheap ones and goes
	 * on from where the last one stopped */
	resumed_from = last_failed_stage(st->path, &last_msg);
	if (resumed_from)
		run_log(LOG_NOTICE, "run", "resuming: the last run stopped at %s (%s)",
			resumed_from, last_msg ? last_msg : "failed");
	st->root = json_object_new_object();
	st->stages = json_object_new_array();
	json_object_object_add(st->root, "schema", json_object_new_string(STATE_SCHEMA));
	t = run_now_rfc3339();
	json_object_object_add(st->root, "started_at", t ? json_object_new_string(t) : NULL);
	json_object_object_add(st->root, "stages", json_object_get(st->stages));
	if (resumed_from)
		json_object_object_add(st->root, "resumed_from",
				       json_object_new_string(resumed_from));
}

void run_state_end(run_state *st, bool ok)
{
	_cleanup_free_ char *t = run_now_rfc3339();

	json_object_object_add(st->root, "finished_at", t ? json_object_new_string(t) : NULL);
	json_object_object_add(st->root, "result", json_object_new_string(ok ? "ok" : "failed"));
	run_state_save(st);
	json_object_put(st->stages);
	json_object_put(st->root);
	free(st->path);
	*st = (run_state){0};
}
