/* SPDX-License-Identifier: MIT */
/* Facts about the target root the plan is for: the NVIDIA runtime, the installed containerd
 * and whose /etc/containerd/config.toml it has. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/parse-util.h"
#include "plan/plan-internal.h"

/* Where K3s looks for the NVIDIA runtime: /usr/local/nvidia/toolkit first, then its PATH
 * (k3s pkg/agent/containerd/config_linux.go); the order of PLAN_RUNTIME_DIRS. */
static const char *const nvidia_runtime_paths[] = {
    "usr/local/nvidia/toolkit/nvidia-container-runtime",
    "usr/local/sbin/nvidia-container-runtime",
    "usr/local/bin/nvidia-container-runtime",
    "usr/sbin/nvidia-container-runtime",
    "usr/bin/nvidia-container-runtime",
    "sbin/nvidia-container-runtime",
    "bin/nvidia-container-runtime",
};

/* "k3s version v1.31.2+k3s1 (6da20424)" (or the bare version) -> {1, 31, 2}; false when the
 * text holds no version */
static bool parse_k3s_version(const char *text, int v[3])
{
	const char *p = strstr(text, "v1.");
	int n = 0;

	if (!p)
		return false;
	if (sscanf(p, "v%d.%d.%d%n", &v[0], &v[1], &v[2], &n) != 3 || n <= 0 || v[1] < 0 ||
	    v[1] > 999 || v[2] < 0 || v[2] > 999) {
		v[0] = v[1] = v[2] = 0;
		return false;
	}
	return true;
}

/* The K3s version the image carries, into T; an unreadable or unparsable file is "not
 * known" (the plan then assumes the oldest K3s), -ENOMEM is an error. */
static int k3s_version_probe(int root_fd, plan_target *t)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int fd = openat(root_fd, &PLAN_K3S_VERSION_FILE[1], O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return 0;
	r = read_full_fd(fd, 4096, &buf, &len);
	close(fd);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && buf)
		(void)parse_k3s_version(buf, t->k3s_version);
	return 0;
}

/* /etc/containerd/config.toml as Debian 12's containerd package ships it (a conffile). */
static const char debian_containerd_config[] = "version = 2\n"
					       "\n"
					       "[plugins]\n"
					       "  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
					       "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
					       "      bin_dir = \"/usr/lib/cni\"\n"
					       "      conf_dir = \"/etc/cni/net.d\"\n"
					       "  [plugins.\"io.containerd.internal.v1.opt\"]\n"
					       "    path = \"/var/lib/containerd/opt\"\n";

/* The installed containerd's major version from dpkg's status file: 0 when none, -errno when
 * the file cannot be read. */
static int containerd_major_from_dpkg(int root_fd)
{
	FILE *f;
	char line[512];
	bool in = false, installed = false;
	int major = 0;
	int fd = openat(root_fd, "var/lib/dpkg/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f) {
		int r = -errno;
		close(fd);
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Package: ", 9)) {
			if (in && installed && major)
				break;
			in = !strcmp(line + 9, "containerd\n") ||
			     !strcmp(line + 9, "containerd.io\n");
			installed = false;
			major = 0;
		} else if (in && !strncmp(line, "Status: ", 8))
			installed = strstr(line, " installed") != NULL;
		else if (in && !strncmp(line, "Version: ", 9)) {
			const char *v = line + 9;
			char digits[3];
			size_t n;
			int64_t m;

			if (strchr(v, ':'))
				v = strchr(v, ':') + 1; /* epoch */
			/* "1.6.20~ds1-1+b1": the digits before the first dot, 1 to 99 */
			n = strspn(v, "0123456789");
			major = 0;
			if (n > 0 && n < sizeof(digits) && v[n] == '.') {
				memcpy(digits, v, n);
				digits[n] = '\0';
				if (parse_int64(digits, 1, 99, &m) == 0)
					major = (int)m;
			}
		}
	}
	fclose(f);
	return in && installed ? major : 0;
}

/* What the plan needs from a containerd config: a line scan (containerd and the packages
 * write each key on a line of its own; a table header starts with '['). */
static void scan_containerd_config(const char *text, plan_target *t)
{
	bool runc_options = false;

	for (const char *l = text; *l;) {
		const char *e = strchrnul(l, '\n'), *v;
		size_t n;

		while (l < e && (*l == ' ' || *l == '\t'))
			l++;
		n = (size_t)(e - l);
		if (n && *l == '[')
			runc_options = memmem(l, n, "runtimes.runc.options]", 22) ||
				       memmem(l, n, "runtimes.\"runc\".options]", 24);
		else if (runc_options && n > 13 && !strncmp(l, "SystemdCgroup", 13)) {
			v = l + 13;
			while (v < e && (*v == ' ' || *v == '\t' || *v == '='))
				v++;
			if ((size_t)(e - v) >= 4 && !strncmp(v, "true", 4))
				t->runc_systemd_cgroup = 1;
			else if ((size_t)(e - v) >= 5 && !strncmp(v, "false", 5))
				t->runc_systemd_cgroup = 0;
		} else if (n > 16 && !strncmp(l, "disabled_plugins", 16) &&
			   (memmem(l, n, "\"cri\"", 5) || memmem(l, n, "grpc.v1.cri\"", 12)))
			t->containerd_cri_disabled = true;
		l = *e ? e + 1 : e;
	}
}

int plan_target_probe(const char *root, plan_target *ret)
{
	plan_target t = {.runc_systemd_cgroup = -1};
	int fd = open(root && *root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(nvidia_runtime_paths) / sizeof(nvidia_runtime_paths[0]); i++)
		if (faccessat(fd, nvidia_runtime_paths[i], X_OK, 0) == 0) {
			t.nvidia_runtime_dirs |= 1u << i;
			if (!t.nvidia_runtime &&
			    asprintf(&t.nvidia_runtime, "/%s", nvidia_runtime_paths[i]) < 0) {
				close(fd);
				return -ENOMEM;
			}
		}
	if (k3s_version_probe(fd, &t) < 0) {
		free(t.nvidia_runtime);
		close(fd);
		return -ENOMEM;
	}
	t.containerd_major = containerd_major_from_dpkg(fd);
	if (t.containerd_major < 0) {
		int r = t.containerd_major;
		free(t.nvidia_runtime);
		close(fd);
		return r;
	}
	int cfd = openat(fd, &CONTAINERD_CONFIG[1], O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (cfd >= 0) {
		int r = read_full_fd(cfd, 1 << 20, &buf, &len);
		if (r == -ENOMEM) {
			close(cfd);
			free(t.nvidia_runtime);
			close(fd);
			return r;
		}
		/* unreadable or larger than 1 MiB: someone else's, not to be replaced */
		if (r < 0)
			t.containerd_config = CONTAINERD_CONFIG_FOREIGN;
	}
	if (cfd >= 0 && buf) {
		scan_containerd_config(buf, &t);
		t.containerd_config =
		    !strncmp(buf, MANAGED_MARK, strlen(MANAGED_MARK)) ? CONTAINERD_CONFIG_OURS
		    : !strcmp(buf, debian_containerd_config) ? CONTAINERD_CONFIG_DEBIAN_DEFAULT
							     : CONTAINERD_CONFIG_FOREIGN;
		t.containerd_debian_settings =
		    t.containerd_config == CONTAINERD_CONFIG_DEBIAN_DEFAULT ||
		    (t.containerd_config == CONTAINERD_CONFIG_OURS && strstr(buf, DEBIAN_KEPT));
	}
	if (cfd >= 0)
		close(cfd);
	close(fd);
	*ret = t;
	return 0;
}

void plan_target_done(plan_target *t)
{
	free(t->nvidia_runtime);
}
