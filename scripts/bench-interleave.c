/* bench-interleave: time commands against each other, interleaved.
 *
 *   bench-interleave RUNS WARMUP 'CMD A ARGS' 'CMD B ARGS' ['CMD C ARGS'...]
 *
 * Each iteration runs every command once, in an order that rotates from one
 * iteration to the next, and times it (fork + execv + wait, CLOCK_MONOTONIC;
 * the commands' output goes to /dev/null). On a noisy host, load drifts over
 * seconds: back-to-back blocks of one command then the other (hyperfine)
 * catch different moments, while the ratio of two runs a few milliseconds
 * apart does not. So the figure is the median of the per-iteration ratios
 * of each command to the second one (the reference), with its 25th-75th
 * percentiles as the spread. Commands are split at spaces (no quoting).
 * A command that exits non-zero stops the run, unless BENCH_ANY_EXIT=1
 * (`status` of a stopped profile exits 3). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8
#define MAX_ARGS 128

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int split(char *line, char **argv)
{
	int n = 0;

	for (char *tok = strtok(line, " "); tok && n < MAX_ARGS - 1; tok = strtok(NULL, " "))
		argv[n++] = tok;
	argv[n] = NULL;
	return n;
}

/* Runs argv once; its wall time in ms, or a negative number if it failed. */
static double run(char **argv, int devnull, int any_exit)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(devnull, 1);
		dup2(devnull, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127 ||
	    (WEXITSTATUS(status) != 0 && !any_exit))
		return -1;
	return now_ms() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[(int)(p * (n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
	char *cmds[MAX_CMDS][MAX_ARGS];
	int runs, warmup, n_cmds = argc - 3, devnull = open("/dev/null", O_WRONLY);
	const char *any = getenv("BENCH_ANY_EXIT");
	double *t[MAX_CMDS], *ratio;

	if (argc < 5 || n_cmds > MAX_CMDS || (runs = atoi(argv[1])) < 1 ||
	    (warmup = atoi(argv[2])) < 0) {
		fprintf(stderr, "usage: bench-interleave RUNS WARMUP 'CMD A' 'CMD B' [...]\n");
		return 2;
	}
	for (int c = 0; c < n_cmds; c++) {
		split(argv[3 + c], cmds[c]);
		t[c] = calloc((size_t)runs, sizeof(double));
	}
	ratio = calloc((size_t)runs, sizeof(double));
	for (int i = -warmup; i < runs; i++) {
		for (int k = 0; k < n_cmds; k++) {
			int c = (i + warmup + k) % n_cmds; /* rotate who goes first */
			double ms = run(cmds[c], devnull, any && *any == '1');

			if (ms < 0) {
				fprintf(stderr, "bench-interleave: '%s' failed\n", argv[3 + c]);
				return 1;
			}
			if (i >= 0)
				t[c][i] = ms;
		}
	}
	/* One line per command: name median p10 p90 ratio-median ratio-p25 ratio-p75. */
	for (int c = 0; c < n_cmds; c++) {
		double med, p10, p90, r50, r25, r75;

		for (int i = 0; i < runs; i++)
			ratio[i] = t[c][i] / t[1][i];
		r25 = pct(ratio, runs, 0.25);
		r50 = pct(ratio, runs, 0.5);
		r75 = pct(ratio, runs, 0.75);
		p10 = pct(t[c], runs, 0.1);
		med = pct(t[c], runs, 0.5);
		p90 = pct(t[c], runs, 0.9);
		printf("%d %.3f %.3f %.3f %.3f %.3f %.3f\n", c, med, p10, p90, r50, r25, r75);
	}
	return 0;
}
