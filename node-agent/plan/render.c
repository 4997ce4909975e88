/* SPDX-License-Identifier: MIT */
/* The files that configure K3s and a standalone containerd for the plan: K3s's config.yaml,
 * containerd's NVIDIA runtime drop-in and main config. No RuntimeClass: K3s creates
 * "nvidia" itself, the GPU Operator too, and a cluster on a standalone containerd applies its
 * own (README). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/output.h"
#include "plan/plan-internal.h"

#define K3S_CONFIG	   "/etc/rancher/k3s/config.yaml"
#define CONTAINERD_DROPIN  "/etc/containerd/conf.d/99-nvidia.toml"
#define NVIDIA_RUNTIME_BIN "/usr/bin/nvidia-container-runtime"

static json_object *k3s_config_json(const na_plan *p, const na_config *c)
{
	json_object *o = json_object_new_object(), *a;
	int r = 0;

	if (!o)
		return NULL;
	if (p->role != ROLE_SERVER_INIT && c->server)
		r = plan_json_add_str(o, "server", c->server);
	if (r >= 0 && na_config_token_file(c, p->role)) {
		/* node-agent's credential directory exists only while node-agent.service is
		 * active; K3s gets the same system credential through its own unit
		 * (LoadCredential=k3s-token, k3s-agent-token in init/k3s*.service), so it can
		 * restart alone */
		static const char ours[] = "/run/credentials/node-agent.service/";
		const char *tf = na_config_token_file(c, p->role);
		_cleanup_free_ char *theirs = NULL;

		if (!strncmp(tf, ours, strlen(ours)) &&
		    asprintf(&theirs, "/run/credentials/%s/%s",
			     p->role == ROLE_AGENT ? "k3s-agent.service" : "k3s.service",
			     tf + strlen(ours)) < 0)
			r = -ENOMEM, theirs = NULL;
		if (r >= 0)
			r = plan_json_add_str(o, "token-file", theirs ? theirs : tf);
	}
	/* the cluster node-agent serve creates: it chose the agent token as well, and hands it
	 * to the server-init to create the cluster with (agents join with it) */
	if (r >= 0 && p->role == ROLE_SERVER_INIT && c->credentials.url && c->agent_token_file)
		r = plan_json_add_str(o, "agent-token-file", c->agent_token_file);
	if (r >= 0 && p->role == ROLE_SERVER_INIT)
		r = plan_json_add(o, "cluster-init", json_object_new_boolean(1));
	if (r >= 0)
		r = plan_json_add_str(o, "node-name", p->node_name);
	if (r >= 0 && p->node_ip)
		r = plan_json_add_str(o, "node-ip", p->node_ip);
	if (r >= 0 && p->labels.n > p->label_owners.n) {
		a = json_object_new_array();
		for (size_t i = 0; a && i < p->labels.n && r >= 0; i++) {
			char *kv = NULL;
			/* another tool's key: K3s would put it back at every start */
			if (kv_get(&p->label_owners, p->labels.v[i].key))
				continue;
			if (asprintf(&kv, "%s=%s", p->labels.v[i].key, p->labels.v[i].value) < 0)
				r = -ENOMEM;
			else
				r = plan_json_append(a, json_object_new_string(kv));
			free(kv);
		}
		if (r < 0)
			json_object_put(a);
		else
			r = plan_json_add(o, "node-label", a);
	}
	if (r >= 0 && p->taints && p->taints[0]) {
		a = json_object_new_array();
		for (char **t = p->taints; a && *t && r >= 0; t++)
			r = plan_json_append(a, json_object_new_string(*t));
		if (r < 0)
			json_object_put(a);
		else
			r = plan_json_add(o, "node-taint", a);
	}
	if (r >= 0 && p->default_runtime)
		r = plan_json_add_str(o, "default-runtime", p->default_runtime);
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static char *k3s_config_text(const na_plan *p, const na_config *c)
{
	json_object *o = k3s_config_json(p, c);
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!o)
		return NULL;
	f = open_memstream(&out, &len);
	if (!f) {
		json_object_put(o);
		return NULL;
	}
	fprintf(f,
		MANAGED_MARK
		" from %s; changes here are replaced on the next boot.\n"
		"# Role: %s. Keys are k3s %s flags (see node-agent/k3s-config-keys.txt).\n",
		c->path, na_role_name(p->role), p->role == ROLE_AGENT ? "agent" : "server");
	r = output_yaml(f, o);
	json_object_put(o);
	if (plan_memstream_close(f, &out) < 0 || r < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The runtime "nvidia" that `nvidia-ctk runtime configure --runtime=containerd` adds (runc
 * v2 shim running nvidia-container-runtime), as a drop-in for config version 2 (containerd
 * 1.x) or 3 (containerd 2.x). containerd before 2.1 replaces a whole plugin section from an
 * import instead of merging it, and a CRI section whose default runtime is not defined
 * stops the CRI plugin from loading: so the drop-in carries the complete runtime set (runc
 * and nvidia) and names the default itself. BinaryName is the runtime where it was found
 * (the default only then); runc's options are the ones of the config in place, and nvidia
 * gets the same, as nvidia-ctk copies them: forcing SystemdCgroup would change every
 * container and mismatch a kubelet with cgroupDriver cgroupfs (Debian's default is unset:
 * false).
 */
static char *containerd_dropin(int version, const char *runtime, int systemd_cgroup, bool debian)
{
	const bool nvidia_default = runtime != NULL;
	const char *cg = systemd_cgroup < 0 ? ""
			 : systemd_cgroup   ? "  SystemdCgroup = true\n"
					    : "  SystemdCgroup = false\n";
	const char *plugin =
	    version == 3 ? "io.containerd.cri.v1.runtime" : "io.containerd.grpc.v1.cri";
	char *out = NULL;

	if (asprintf(
		&out,
		MANAGED_MARK
		": the NVIDIA runtime for containerd %s (config version %d),\n"
		"# as `nvidia-ctk runtime configure --runtime=containerd%s` defines it.\n"
		"version = %d\n"
		"\n"
		"%s%s%s"
		"[plugins.\"%s\".containerd]\n"
		"  default_runtime_name = \"%s\"\n"
		"\n"
		"[plugins.\"%s\".containerd.runtimes.runc]\n"
		"  runtime_type = \"io.containerd.runc.v2\"\n"
		"\n"
		"[plugins.\"%s\".containerd.runtimes.runc.options]\n"
		"%s"
		"\n"
		"[plugins.\"%s\".containerd.runtimes.nvidia]\n"
		"  privileged_without_host_devices = false\n"
		"  runtime_engine = \"\"\n"
		"  runtime_root = \"\"\n"
		"  runtime_type = \"io.containerd.runc.v2\"\n"
		"\n"
		"[plugins.\"%s\".containerd.runtimes.nvidia.options]\n"
		"  BinaryName = \"%s\"\n"
		"%s",
		version == 3 ? "2.x" : "1.x", version, nvidia_default ? " --set-as-default" : "",
		version, debian ? "[plugins.\"" : "", debian ? plugin : "",
		debian ? "\".cni]\n"
			 "  # Debian's packaged defaults, kept: this section replaces the main "
			 "file's\n"
			 "  bin_dir = \"/usr/lib/cni\"\n"
			 "  conf_dir = \"/etc/cni/net.d\"\n"
			 "\n"
		       : "",
		plugin, nvidia_default ? "nvidia" : "runc", plugin, plugin, cg, plugin, plugin,
		runtime ? runtime : NVIDIA_RUNTIME_BIN, cg) < 0)
		return NULL;
	return out;
}

static char *containerd_main_config(int version, bool debian)
{
	char *out = NULL;

	if (asprintf(&out,
		     MANAGED_MARK ": containerd reads its drop-ins from conf.d.\n"
				  "version = %d\n"
				  "imports = [\"/etc/containerd/conf.d/*.toml\"]\n"
				  "%s",
		     version,
		     debian ? "\n" DEBIAN_KEPT "\n"
			      "[plugins.\"io.containerd.internal.v1.opt\"]\n"
			      "  path = \"/var/lib/containerd/opt\"\n"
			    : "") < 0)
		return NULL;
	return out;
}

/* The container runtime's files: the NVIDIA runtime for a standalone containerd. */
int plan_containerd(na_plan *p, const na_config *c, const plan_target *t)
{
	int version = c->containerd_config_version ? c->containerd_config_version
		      : t->containerd_major >= 2   ? 3
						   : 2;
	bool debian = t->containerd_debian_settings;
	int r;

	r = plan_add_file(
	    p, CONTAINERD_DROPIN, 0644,
	    containerd_dropin(version, t->nvidia_runtime, t->runc_systemd_cgroup, debian), false);
	if (r >= 0 && t->containerd_cri_disabled)
		r = plan_warnf(
		    p,
		    "%s disables containerd's CRI plugin (disabled_plugins = [\"cri\"], as "
		    "docker's containerd.io package ships it): Kubernetes cannot use this "
		    "containerd, and %s has no effect, until \"cri\" is removed from "
		    "disabled_plugins",
		    CONTAINERD_CONFIG, CONTAINERD_DROPIN);
	if (r < 0)
		return r;
	if (t->containerd_config != CONTAINERD_CONFIG_FOREIGN)
		r = plan_add_file(p, CONTAINERD_CONFIG, 0644,
				  containerd_main_config(version, debian), false);
	else if (version == 2)
		r = plan_warnf(p,
			       "%s is not node-agent's and containerd 1.x replaces a whole plugin "
			       "section from an import: merge the runtimes of %s into it by hand",
			       CONTAINERD_CONFIG, CONTAINERD_DROPIN);
	else
		r = plan_warnf(
		    p,
		    "%s is not node-agent's: add imports = [\"/etc/containerd/conf.d/*.toml\"] "
		    "to it so containerd reads %s",
		    CONTAINERD_CONFIG, CONTAINERD_DROPIN);
	return r;
}

int plan_k3s_config(na_plan *p, const na_config *c)
{
	return plan_add_file(p, K3S_CONFIG, 0600, k3s_config_text(p, c), false);
}
