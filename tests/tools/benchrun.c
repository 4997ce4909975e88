/* SPDX-License-Identifier: MIT */
/*
 * TEST TOOL (tests/bench/): run several commands in turn, round after round, and print for
 * each its wall time and CPU time (user + system, from wait4()) per run: minimum, median
 * and mean, in milliseconds.
 *
 *   benchrun [-r RUNS] [-w WARMUP] COMMAND...
 *
 * Each COMMAND is one argument, split into words at spaces (no quoting: the benchmark's
 * command lines need none), run with stdout and stderr on /dev/null. Running the commands
 * in turn rather than one after the other means a burst of load from elsewhere falls on
 * all of them alike, and the medians of the per-run times are not moved by a few runs that
 * waited for a CPU, as means are. Output, one line per command:
 *   wall_min wall_median wall_mean cpu_min cpu_median cpu_mean COMMAND
 * Exit status 1 when a command cannot be started or exits non-zero.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct command {
	const char *line;
	char **argv;
	double *wall, *cpu;
} command;

static char **split_words(const char *s)
{
	char *copy = strdup(s), *save = NULL;
	char **v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	size_t n = 0;

	if (!copy || !v) {
		free(copy);
		free(v);
		return NULL;
	}
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		v[n++] = w;
	if (n == 0) {
		free(copy);
		free(v);
		return NULL;
	}
	return v; /* the words point into copy, kept for the life of the program */
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One run of C: 0 and its times, or -1. */
static int run_once(const command *c, double *ret_wall, double *ret_cpu)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int status, r;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = now_ms();
	r = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		fprintf(stderr, "benchrun: %s: %s\n", c->argv[0], strerror(r));
		return -1;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	t1 = now_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "benchrun: %s: exit status %d\n", c->line,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -1;
	}
	*ret_wall = t1 - t0;
	*ret_cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* min, median and mean of V[0..n), sorting V */
static void stats(double *v, int n, double *min, double *median, double *mean)
{
	double sum = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (int i = 0; i < n; i++)
		sum += v[i];
	*min = v[0];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*mean = sum / n;
}

static int parse_count(const char *s, int min, int max, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*ret = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 30, warmup = 3, opt, n;
	command *cmds;

	while ((opt = getopt(argc, argv, "r:w:")) >= 0) {
		if ((opt == 'r' && parse_count(optarg, 1, 100000, &runs) < 0) ||
		    (opt == 'w' && parse_count(optarg, 0, 1000, &warmup) < 0) ||
		    (opt != 'r' && opt != 'w')) {
			fprintf(stderr, "usage: benchrun [-r RUNS] [-w WARMUP] COMMAND...\n");
			return 2;
		}
	}
	n = argc - optind;
	if (n < 1) {
		fprintf(stderr, "usage: benchrun [-r RUNS] [-w WARMUP] COMMAND...\n");
		return 2;
	}
	cmds = calloc((size_t)n, sizeof(*cmds));
	if (!cmds)
		return 1;
	for (int i = 0; i < n; i++) {
		cmds[i].line = argv[optind + i];
		cmds[i].argv = split_words(cmds[i].line);
		cmds[i].wall = calloc((size_t)runs, sizeof(double));
		cmds[i].cpu = calloc((size_t)runs, sizeof(double));
		if (!cmds[i].argv || !cmds[i].wall || !cmds[i].cpu)
			return 1;
	}
	for (int round = -warmup; round < runs; round++)
		for (int i = 0; i < n; i++) {
			double wall, cpu;

			if (run_once(&cmds[i], &wall, &cpu) < 0)
				return 1;
			if (round >= 0) {
				cmds[i].wall[round] = wall;
				cmds[i].cpu[round] = cpu;
			}
		}
	for (int i = 0; i < n; i++) {
		double wmin, wmed, wmean, cmin, cmed, cmean;

		stats(cmds[i].wall, runs, &wmin, &wmed, &wmean);
		stats(cmds[i].cpu, runs, &cmin, &cmed, &cmean);
		printf("%.3f %.3f %.3f %.3f %.3f %.3f %s\n", wmin, wmed, wmean, cmin, cmed, cmean,
		       cmds[i].line);
	}
	return 0;
}
