/* SPDX-License-Identifier: MIT */
/* NICs matched by MAC, then by name; virtual links are not hardware and are left out. */
#include <strings.h>

#include "fleet/diff-internal.h"
#include "fleet/report.h"

static bool nic_identifiable(const hw_nic *n)
{
	return !n->is_virtual && (diff_known(n->mac) || diff_known(n->name));
}

static json_object *nic_json(const hw_nic *n)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "name", diff_jstr(n->name));
	json_object_object_add(o, "mac", diff_jstr(n->mac));
	json_object_object_add(o, "driver", diff_jstr(n->driver));
	json_object_object_add(o, "speed_mbps", diff_jint(n->speed_mbps));
	return o;
}

static const char *or_unknown(const char *s)
{
	return diff_known(s) ? s : "unknown";
}

void diff_nics(diff_changes *c, const hw_inventory *a, const hw_inventory *b, int *match_a,
	       bool *used_b)
{
	for (size_t i = 0; i < a->n_nics; i++)
		match_a[i] = -1;
	for (size_t j = 0; j < b->n_nics; j++)
		used_b[j] = !nic_identifiable(&b->nics[j]); /* veth, bridges, ifb: not hardware */
	/* by MAC; then by name, where a different MAC means another card in its place (or
	 * the same name given to another card) */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->n_nics; i++) {
			const hw_nic *x = &a->nics[i];
			if (!nic_identifiable(x))
				continue;
			for (size_t j = 0; match_a[i] < 0 && j < b->n_nics; j++) {
				const hw_nic *y = &b->nics[j];
				bool same = pass == 0 ? diff_known(x->mac) && diff_known(y->mac) &&
							    strcasecmp(x->mac, y->mac) == 0
						      : diff_str_same(x->name, y->name);
				if (used_b[j] || !same)
					continue;
				match_a[i] = (int)j;
				used_b[j] = true;
			}
		}
	for (size_t i = 0; i < a->n_nics; i++) {
		const hw_nic *x = &a->nics[i], *y;
		const char *name = diff_known(x->name) ? x->name : "?";

		if (!nic_identifiable(x))
			continue;
		if (match_a[i] < 0) {
			diff_add(c, true, "nic-removed", name, nic_json(x), NULL,
				 "nic %s removed (MAC %s, driver %s)", name, or_unknown(x->mac),
				 or_unknown(x->driver));
			continue;
		}
		y = &b->nics[match_a[i]];
		name = diff_known(y->name) ? y->name : name;
		if (diff_known(x->mac) && diff_known(y->mac) && strcasecmp(x->mac, y->mac) != 0) {
			bool same_driver = !diff_str_changed(x->driver, y->driver);
			diff_add(c, true, "nic-replaced", name, nic_json(x), nic_json(y),
				 "nic %s replaced: MAC changed from %s to %s (driver %s%s%s)", name,
				 x->mac, y->mac, or_unknown(x->driver), same_driver ? "" : ", now ",
				 same_driver ? "" : y->driver);
			continue;
		}
		if (diff_str_changed(x->driver, y->driver))
			diff_add(c, false, "nic-driver", name, diff_jstr(x->driver),
				 diff_jstr(y->driver), "nic %s driver changed from %s to %s", name,
				 x->driver, y->driver);
		if (diff_i64_changed(x->speed_mbps, y->speed_mbps)) {
			char sa[32], sb[32];
			report_format_speed(x->speed_mbps, sa, sizeof(sa));
			report_format_speed(y->speed_mbps, sb, sizeof(sb));
			diff_add(c, y->speed_mbps < x->speed_mbps, "nic-speed", name,
				 diff_jint(x->speed_mbps), diff_jint(y->speed_mbps),
				 "nic %s speed changed from %s to %s", name, sa, sb);
		}
	}
	for (size_t j = 0; j < b->n_nics; j++)
		if (!used_b[j]) {
			const hw_nic *y = &b->nics[j];
			const char *name = diff_known(y->name) ? y->name : "?";
			diff_add(c, false, "nic-added", name, NULL, nic_json(y),
				 "nic %s added (MAC %s, driver %s)", name, or_unknown(y->mac),
				 or_unknown(y->driver));
		}
}
