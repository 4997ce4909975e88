/* SPDX-License-Identifier: MIT */
/*
 * What the body of POST /reports must be before anything is stored: one JSON value, a
 * node-agent/report/v1 envelope whose idempotency key agrees with the Idempotency-Key header
 * (deliver.c sends it as an sf-string, "KEY"), an inventory that names the machine (UUID,
 * serial or MAC) and that node-agent's own reader takes; and the acceptance rule it matches.
 * No database and no HTTP here, so the whole path can be fuzzed (tests/fuzz/fuzz-serve-http.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "inventory/inventory-json.h"
#include "report/deliver.h"
#include "report/report-internal.h"
#include "serve/serve.h"

void serve_report_done(serve_report *r)
{
	json_object_put(r->env);
	serve_identity_done(&r->id);
	*r = (serve_report){0};
}

int serve_report_parse(const serve_config *c, const char *body, size_t len, const char *key_header,
		       serve_report *ret, const char **ret_error)
{
	_cleanup_(serve_report_done) serve_report r = {0};
	json_object *o = report_parse_json(body ? body : "", body ? len : 0);
	hw_inventory *inv = NULL;

	if (!o) {
		*ret_error = "malformed JSON";
		return -EBADMSG;
	}
	json_object_put(o);
	if (report_envelope_check(body, len, &r.env, &r.key) < 0) {
		*ret_error =
		    "not a " DELIVER_SCHEMA " envelope (schema, idempotency_key, inventory)";
		return -EBADMSG;
	}
	if (key_header && (strlen(key_header) != strlen(r.key) + 2 ||
			   strncmp(key_header + 1, r.key, strlen(r.key)))) {
		*ret_error = "the Idempotency-Key header and the body disagree";
		return -EBADMSG;
	}
	json_object_object_get_ex(r.env, "inventory", &r.inventory);
	if (serve_identity_from_json(r.inventory, &r.id) < 0) {
		*ret_error = "the inventory names no UUID, serial or MAC";
		return -EBADMSG;
	}
	if (inventory_from_json(r.inventory, "report", NULL, &inv) < 0) {
		*ret_error = "the inventory is not a " INVENTORY_SCHEMA " one";
		return -EBADMSG;
	}
	r.rule = c ? serve_config_accepting_rule(c, inv) : NULL;
	hw_inventory_free(inv);
	*ret = r;
	r = (serve_report){0};
	return 0;
}
