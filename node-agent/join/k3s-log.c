/* SPDX-License-Identifier: MIT */
/*
 * K3s failures that waiting longer cannot cure, read from its unit's journal: K3s retries
 * them for ever, so without this the join would end in a generic "not Ready within 600 s".
 *
 * - Node password. The agent sends /etc/rancher/node/password with its kubelet certificate
 *   requests; the server keeps its hash in the secret kube-system/<node>.node-password.k3s
 *   and answers 403 to a different one (k3s-io/k3s pkg/nodepassword, and the agent's
 *   message in pkg/agent/config/config.go). A RAM node that reboots has a new password
 *   under its old name (k3s-io/k3s#6455).
 * - etcd member name. A server whose etcd data is gone (with it db/etcd/name, its member
 *   name) rejoins under a node name a member of the cluster's etcd still carries, and
 *   exits (pkg/etcd/etcd.go, join(): "duplicate node name found", through "ETCD join
 *   failed").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/dl.h"
#include "basic/macro.h"
#include "join/join-internal.h"

static const struct {
	const char *needle;
	const char *remedy;
} known[] = {
    {"Node password rejected",
     "the server holds another node password for this node's name: /etc/rancher/node was "
     "lost (a RAM root without a data disk keeping it), or another machine uses the name. "
     "Give the node a data disk (data_disk keeps /etc/rancher/node and K3s's data dir), or "
     "delete the Node (kubectl delete node NAME: its password secret goes with it) before "
     "it boots again; a provisioning server that keeps the passwords of diskless nodes is "
     "the other remedy"},
    {"duplicate node name",
     "the cluster's etcd still lists a member of this name: this server's etcd data "
     "(/var/lib/rancher/k3s/server/db) is gone. Remove the old member (kubectl delete node "
     "NAME on a healthy server) before it joins again, and keep its state on a data disk"},
};

const char *join_k3s_diagnose(const char *line, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		if (memmem(line, len, known[i].needle, strlen(known[i].needle)))
			return known[i].remedy;
	return NULL;
}

/* "_BOOT_ID=<id>" for the journal, which stores boot IDs without dashes; NULL on ENOMEM. */
static char *boot_match(const char *boot_id)
{
	char *out = NULL, *w;

	if (asprintf(&out, "_BOOT_ID=%s", boot_id) < 0)
		return NULL;
	w = out + 9;
	for (const char *s = w; *s; s++)
		if (*s != '-')
			*w++ = *s;
	*w = '\0';
	return out;
}

int join_k3s_journal_scan(const char *unit, const char *boot_id, uint64_t since_usec, char **ret)
{
	_cleanup_free_ char *unit_match = NULL, *boot = NULL;
	sd_journal *j = NULL;
	int r, found = 0;

	*ret = NULL;
	r = dl_systemd();
	if (r < 0)
		return r;
	if (sym_sd_booted() <= 0)
		return -ENOMEDIUM;
	if (asprintf(&unit_match, "_SYSTEMD_UNIT=%s", unit) < 0)
		return -ENOMEM;
	if (boot_id && !(boot = boot_match(boot_id)))
		return -ENOMEM;
	r = sym_sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0)
		return r;
	r = sym_sd_journal_add_match(j, unit_match, 0);
	if (r >= 0 && boot)
		r = sym_sd_journal_add_match(j, boot, 0);
	if (r >= 0)
		r = sym_sd_journal_seek_tail(j);
	for (unsigned i = 0; r >= 0 && i < 500 && !found; i++) {
		const void *data;
		size_t len;
		const char *remedy;
		uint64_t t;

		r = sym_sd_journal_previous(j);
		if (r <= 0)
			break;
		if (sym_sd_journal_get_realtime_usec(j, &t) >= 0 && t < since_usec)
			break; /* from before this join: K3s may have been set right since */
		if (sym_sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8)
			continue;
		remedy = join_k3s_diagnose((const char *)data + 8, len - 8);
		if (!remedy)
			continue;
		/* the line as K3s wrote it, bounded, then what to do */
		if (asprintf(ret, "K3s: %.*s: %s", (int)(len - 8 > 500 ? 500 : len - 8),
			     (const char *)data + 8, remedy) < 0) {
			*ret = NULL;
			r = -ENOMEM;
		} else
			found = 1;
	}
	sym_sd_journal_close(j);
	return r < 0 ? r : found;
}
