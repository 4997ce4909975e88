/* SPDX-License-Identifier: MIT */
/*
 * The data-disk decision out of memory (node-agent/plan/disk.c), as TAP: this program runs
 * itself with tests/tools/failmalloc.so preloaded (built beside it; skipped when it is not)
 * and makes each allocation of plan_data_disk() fail in turn, for a decision of each kind.
 * Every run must give -ENOMEM or the same plan as without failures (glibc's vasprintf()
 * does without the realloc() that shrinks its buffer), never a half one, and under
 * AddressSanitizer neither crash nor leak.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"
#include "plan/plan-internal.h"
#include "tap.h"

#define GIB INT64_C(1073741824)

/* opened (and not found) just before the decision: failmalloc counts from there on */
#define ARM_PATH "/nonexistent/test-plan-disk-oom/arm-failmalloc"

static char *gpt_signatures[] = {(char *)"gpt", (char *)"PMBR", NULL};
static char *no_signatures[] = {NULL};
static char *allow_list[] = {(char *)"SN-ALLOWED", NULL};
static hw_filesystem our_fs = {.type = (char *)"ext4",
			       .label = (char *)"node-data",
			       .uuid = (char *)"2b1f4a6e-0d7c-4e39-9a51-7c3e8f0a9d12"};
#define NVME_AT(n, s, sig, has)                                                                    \
	{                                                                                          \
		.name = (char *)(n), .serial = (char *)(s), .size_bytes = 512 * GIB,               \
		.transport = (char *)"nvme", .signatures = (sig), .has_signatures = (has),         \
	}
/* the first n of these: a disk not taken, one refused, one allowed, one blank, ours */
static hw_disk oom_disks[] = {
    {.name = (char *)"sda", .size_bytes = 512 * GIB, .transport = (char *)"sata"},
    NVME_AT("nvme0n1", "SN0", gpt_signatures, HW_TRI_TRUE),
    NVME_AT("nvme1n1", "SN-ALLOWED", gpt_signatures, HW_TRI_TRUE),
    NVME_AT("nvme2n1", NULL, no_signatures, HW_TRI_FALSE),
    {.name = (char *)"nvme3n1",
     .size_bytes = 512 * GIB,
     .transport = (char *)"nvme",
     .filesystems = &our_fs,
     .n_filesystems = 1,
     .signatures = gpt_signatures,
     .has_signatures = HW_TRI_TRUE},
};
static const struct {
	const char *what;
	size_t n_disks;
	bool allow;
} oom_cases[] = {
    {"refused, none taken", 2, false},
    {"allowed", 3, true},
    {"blank", 4, false},
    {"ours", 5, true},
};

static bool same_strv(char *const *a, char *const *b)
{
	for (; a && *a && b && *b; a++, b++)
		if (strcmp(*a, *b))
			return false;
	return !(a && *a) && !(b && *b);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* compared without allocating: failmalloc is still counting */
static bool same_plan(const na_plan *a, const na_plan *b)
{
	const plan_disk *x = a->disk, *y = b->disk;

	if (!same_strv(a->disk_decisions, b->disk_decisions) ||
	    !same_strv(a->warnings, b->warnings) || !same_strv(a->units, b->units) ||
	    a->n_files != b->n_files || !x != !y)
		return false;
	for (size_t i = 0; i < a->n_files; i++)
		if (!same_str(a->files[i].path, b->files[i].path) ||
		    !same_str(a->files[i].content, b->files[i].content))
			return false;
	return !x || (same_str(x->device, y->device) && same_str(x->action, y->action) &&
		      same_str(x->reason, y->reason) && same_str(x->serial, y->serial) &&
		      same_str(x->fs_uuid, y->fs_uuid) && same_str(x->fs_label, y->fs_label) &&
		      same_str(x->mount, y->mount) && same_str(x->unit, y->unit) &&
		      x->wipe_allowed == y->wipe_allowed);
}

/* In the child, under failmalloc: 0 for the same plan as without failures, 2 for -ENOMEM,
 * 1 for anything else (a crash, or a leak under LeakSanitizer, is neither). */
static int oom_child(const char *which)
{
	size_t i = strtoul(which, NULL, 10);
	na_config c = {.data_disk = {
			   .present = true,
			   .min_size_gib = -1,
			   .max_size_gib = -1,
			   .rotational = HW_TRI_UNKNOWN,
			   .transport = (char *)"nvme",
			   .mount = (char *)"/var/lib/rancher",
			   .label = (char *)"node-data",
		       }};
	hw_inventory inv = {.machine_id = (char *)"0f1e2d3c4b5a69788796a5b4c3d2e1f0",
			    .disks = oom_disks};
	na_plan *ref, *p;
	int r, fd, rc;

	if (i >= ELEMENTSOF(oom_cases))
		return 1;
	inv.n_disks = oom_cases[i].n_disks;
	c.data_disk.allow_wipe_serials = oom_cases[i].allow ? allow_list : NULL;
	ref = calloc(1, sizeof(*ref));
	p = calloc(1, sizeof(*p));
	if (!ref || !p || plan_data_disk(ref, &c, &inv) < 0)
		return 1;
	fd = open(ARM_PATH, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	r = plan_data_disk(p, &c, &inv);
	rc = r == -ENOMEM ? 2 : r == 0 && same_plan(ref, p) ? 0 : 1;
	plan_free(p);
	plan_free(ref);
	return rc;
}

/* Run this program as the child for case I with allocation FAIL failing (0: none); its
 * exit status, 128 + the signal that ended it, or -1. */
static int oom_run(const char *self, const char *shim, size_t i, unsigned long fail,
		   const char *count_file)
{
	char which[32], nth[32];
	const char *asan = getenv("ASAN_OPTIONS");
	char *asan_opts = NULL;
	pid_t pid;
	int status;

	snprintf(which, sizeof(which), "%zu", i);
	snprintf(nth, sizeof(nth), "%lu", fail);
	/* ASan must not insist on coming first in the preload order */
	if (asprintf(&asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
		     asan && *asan ? ":" : "") < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("ASAN_OPTIONS", asan_opts, 1);
		setenv("LD_PRELOAD", shim, 1);
		setenv("FAILMALLOC_AFTER_OPEN", ARM_PATH, 1);
		setenv("FAILMALLOC_FAIL", nth, 1);
		setenv("FAILMALLOC_REPORT", count_file, 1);
		execl(self, self, "--oom-child", which, (char *)NULL);
		_exit(127);
	}
	free(asan_opts);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_out_of_memory(void)
{
	char self[4096], count_file[] = "/tmp/test-plan-disk-oom.XXXXXX";
	char *shim = NULL, *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd;

	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		ok(0, "out of memory: /proc/self/exe");
		return;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (asprintf(&shim, "%.*s/failmalloc.so", (int)(slash - self), self) < 0)
		abort();
	if (access(shim, R_OK) < 0) {
		printf("ok %d # SKIP out of memory: %s is not built\n", ++n_tests, shim);
		free(shim);
		return;
	}
	fd = mkstemp(count_file);
	if (fd < 0)
		abort();
	close(fd);
	for (size_t i = 0; i < ELEMENTSOF(oom_cases); i++) {
		unsigned long total = 0, enomem = 0, same = 0, bad = 0;
		int rc = oom_run(self, shim, i, 0, count_file);
		FILE *f = fopen(count_file, "re");
		char what[128];

		if (!f || fscanf(f, "%lu", &total) != 1)
			total = 0;
		if (f)
			fclose(f);
		snprintf(what, sizeof(what), "out of memory, %s: %lu allocations to fail",
			 oom_cases[i].what, total);
		ok(rc == 0 && total > 0, what);
		for (unsigned long k = 1; k <= total; k++) {
			rc = oom_run(self, shim, i, k, count_file);
			if (rc == 2)
				enomem++;
			else if (rc == 0)
				same++;
			else if (++bad <= 3)
				printf("#   allocation %lu: exit %d\n", k, rc);
		}
		snprintf(what, sizeof(what),
			 "out of memory, %s: -ENOMEM %lu times, the same plan %lu times",
			 oom_cases[i].what, enomem, same);
		ok(bad == 0 && enomem > total / 2, what);
	}
	unlink(count_file);
	free(shim);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--oom-child"))
		return oom_child(argv[2]);
	test_out_of_memory();
	printf("1..%d\n", n_tests);
	return n_failed ? 1 : 0;
}
