/* Helpers shared by the gateway integration tests: a temp HOME with a set-up
 * profile on a free port block, a launcher started in the background with
 * the fake gateway, polling "eventually" conditions, cleanup by pid.
 * Header-only (static) so each test binary gets its own copy. */
#ifndef OCR_TEST_GATEWAY_UTIL_H
#define OCR_TEST_GATEWAY_UTIL_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define FAKE_GATEWAY  OCR_HELPERS_DIR "/fake_gateway"
#define MAX_LAUNCHERS 4

struct gw {
	char *home;
	unsigned base;
	char profile[64];
	char state_dir[PATH_MAX];
	char runtime_env[PATH_MAX + 32]; /* XDG_RUNTIME_DIR=<home>/run: tests never share locks */
	char home_env[PATH_MAX + 8];
	char records_env[PATH_MAX + 48]; /* OPENCLAW_RUN_RECORDS_DIR=<home>/ocr-records */
	pid_t launchers[MAX_LAUNCHERS];
	int n_launchers;
	const char *also_stop;	     /* a second profile in the same HOME */
	bool as_pid1;		     /* gw_start runs the launcher as pid 1 of a new pid ns */
	const char *launcher_env[4]; /* more "K=V" for gw_start's launcher (NULL-ended) */
};

/* A copy of the test's struct gw that outlives a failed assertion (which
 * unwinds the test's stack): gw_fini, the suites' .fini, cleans up from it
 * so a failing test leaves no gateway behind. Criterion forks per test. */
static struct gw gw_shadow;
static inline void gw_cleanup(struct gw *g);
static inline void gw_sync(const struct gw *g)
{
	gw_shadow = *g;
}
static inline void gw_fini(void)
{
	if (gw_shadow.home)
		gw_cleanup(&gw_shadow);
}

static inline long gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void gw_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* openclaw-run with the test's HOME and runtime dir; args NULL-terminated. */
static inline int gw_ocr(struct gw *g, struct run_result *r, ...)
{
	char *argv[48];
	char *envp[10] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			  g->home_env,
			  g->runtime_env,
			  g->records_env,
			  (char *)"ASAN_OPTIONS=detect_leaks=1",
			  NULL};
	int argc = 0;

	/* launcher_env (e.g. OPENCLAW_STATE_DIR) applies here too. */
	for (int i = 0, n = 5; i < 4 && g->launcher_env[i]; i++)
		envp[n++] = (char *)g->launcher_env[i];
	const char *a;
	va_list ap;

	argv[argc++] = (char *)OCR_BIN;
	va_start(ap, r);
	while ((a = va_arg(ap, const char *)) && argc < 47)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return run_argv(r, envp, argv, 180);
}

static inline void gw_setup_profile(struct gw *g, const char *profile, unsigned base)
{
	struct run_result r;
	char port[16];

	snprintf(port, sizeof(port), "%u", base);
	cr_assert_eq(gw_ocr(g, &r, "--profile", profile, "setup", "--port", port, NULL), 0);
	cr_assert_eq(r.exit_code, 0, "setup %s: %s%s", profile, r.out, r.err);
	run_result_free(&r);
}

static inline void gw_init(struct gw *g, const char *profile)
{
	memset(g, 0, sizeof(*g));
	g->home = tmpdir_make("gw");
	g->base = free_port_base();
	snprintf(g->profile, sizeof(g->profile), "%s", profile);
	snprintf(g->home_env, sizeof(g->home_env), "HOME=%s", g->home);
	snprintf(g->runtime_env, sizeof(g->runtime_env), "XDG_RUNTIME_DIR=%s/run", g->home);
	snprintf(g->records_env, sizeof(g->records_env), "OPENCLAW_RUN_RECORDS_DIR=%s/ocr-records",
		 g->home);
	snprintf(g->state_dir, sizeof(g->state_dir), "%s/.openclaw-%s", g->home, profile);
	gw_sync(g);
	gw_setup_profile(g, profile, g->base);
}

/* gw_start's child with as_pid1: like a container runtime, put the
 * launcher as pid 1 of a new pid namespace with its own /proc (the sandbox
 * finds its children there); this process stays outside,
 * passes SIGTERM/SIGINT/SIGHUP on and exits with the launcher's code. */
static pid_t gw_pid1_inner;
static void gw_pid1_forward(int sig)
{
	kill(gw_pid1_inner, sig);
}
static inline void gw_become_pid1(void)
{
	sigset_t term, saved;
	int status;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigaddset(&term, SIGHUP);
	sigprocmask(SIG_BLOCK, &term, &saved);
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0 || (gw_pid1_inner = fork()) < 0)
		_exit(126);
	if (gw_pid1_inner == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			_exit(126);
		/* Never outlive the test's handle on it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return;
	}
	signal(SIGTERM, gw_pid1_forward);
	signal(SIGINT, gw_pid1_forward);
	signal(SIGHUP, gw_pid1_forward);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	while (waitpid(gw_pid1_inner, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Starts `openclaw-run --profile P gateway --gateway-cmd FAKE ARGS...` in the
 * background, its output in <home>/launcher-N.log; args NULL-terminated. */
static inline pid_t gw_start(struct gw *g, ...)
{
	char *argv[48], log[PATH_MAX + 32];
	char *envp[11] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", g->home_env,
			  g->runtime_env, g->records_env, (char *)"ASAN_OPTIONS=detect_leaks=1",
			  /* must not reach the gateway: its env is built from nothing */
			  (char *)"OPENCLAW_GATEWAY_URL=ws://127.0.0.1:1/leaked", NULL};
	int argc = 0;

	for (int i = 0, n = 6; i < 4 && g->launcher_env[i]; i++)
		envp[n++] = (char *)g->launcher_env[i];
	const char *a;
	va_list ap;
	pid_t pid;

	cr_assert_lt(g->n_launchers, MAX_LAUNCHERS);
	argv[argc++] = (char *)OCR_BIN;
	argv[argc++] = (char *)"--profile";
	argv[argc++] = g->profile;
	argv[argc++] = (char *)"gateway";
	argv[argc++] = (char *)"--gateway-cmd";
	argv[argc++] = (char *)FAKE_GATEWAY;
	va_start(ap, g);
	while ((a = va_arg(ap, const char *)) && argc < 47)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(log, sizeof(log), "%s/launcher-%d.log", g->home, g->n_launchers);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (g->as_pid1)
			gw_become_pid1();
		execve(argv[0], argv, envp);
		_exit(127);
	}
	g->launchers[g->n_launchers++] = pid;
	gw_sync(g);
	return pid;
}

static inline char *gw_launcher_log(struct gw *g, int n)
{
	char log[PATH_MAX + 32];

	snprintf(log, sizeof(log), "%s/launcher-%d.log", g->home, n);
	return read_text_file(log);
}

/* Waits up to TIMEOUT_S for PID to exit; its exit code (128+sig), or -1. */
static inline int gw_wait_exit(struct gw *g, pid_t pid, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;
	int status;

	while (gw_now_ms() < deadline) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			for (int i = 0; i < g->n_launchers; i++)
				if (g->launchers[i] == pid)
					g->launchers[i] = 0;
			gw_sync(g);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		gw_sleep_ms(100);
	}
	return -1;
}

/* `status` until it exits with WANT (or TIMEOUT_S passes); the last code. */
static inline int gw_wait_status(struct gw *g, int want, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;
	int code = -1;

	for (;;) {
		struct run_result r;

		cr_assert_eq(gw_ocr(g, &r, "--profile", g->profile, "status", NULL), 0);
		code = r.exit_code;
		run_result_free(&r);
		if (code == want || gw_now_ms() >= deadline)
			return code;
		gw_sleep_ms(250);
	}
}

/* Until `status` says the gateway runs and has started (120 s, a bound
 * for failures only); on failure, the first launcher's log says why. */
static inline void gw_wait_running(struct gw *g)
{
	int code = gw_wait_status(g, 0, 120);
	char *log;

	if (code == 0)
		return;
	log = gw_launcher_log(g, 0);
	cr_assert_fail("status still exits %d after 120 s; launcher log: %s", code,
		       log ? log : "(none)");
}

/* `status --json`, parsed (caller deletes). */
static inline cJSON *gw_status_json(struct gw *g, int *code)
{
	struct run_result r;
	cJSON *o;

	cr_assert_eq(gw_ocr(g, &r, "--profile", g->profile, "status", "--json", NULL), 0);
	if (code)
		*code = r.exit_code;
	o = cJSON_Parse(r.out);
	cr_assert_not_null(o, "status --json: not JSON: %s %s", r.out, r.err);
	run_result_free(&r);
	return o;
}

static inline double gw_json_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One pid from `status --json` ("child_pid", "init_pid", ...); -1 if null. */
static inline pid_t gw_status_pid(struct gw *g, const char *key)
{
	cJSON *st = gw_status_json(g, NULL);
	pid_t pid = (pid_t)gw_json_num(st, key);

	cJSON_Delete(st);
	return pid;
}

/* The profile's lock file: its state file's name with .lock. */
static inline void gw_lock_path(struct gw *g, char *buf, size_t len)
{
	cJSON *st = gw_status_json(g, NULL);

	snprintf(buf, len, "%s", cJSON_GetObjectItem(st, "state_file")->valuestring);
	cJSON_Delete(st);
	memcpy(strrchr(buf, '.'), ".lock", 6);
}

static inline bool gw_pid_alive(pid_t pid)
{
	char path[64];
	char *stat;
	bool alive;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	stat = read_text_file(path);
	/* A zombie is as good as gone: only its parent's wait is missing. */
	alive = stat && !strstr(stat, ") Z ");
	free(stat);
	return alive;
}

static inline bool gw_wait_pid_gone(pid_t pid, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;

	while (gw_pid_alive(pid)) {
		if (gw_now_ms() >= deadline)
			return false;
		gw_sleep_ms(100);
	}
	return true;
}

/* Counts lines of <state>/fake-gateway.log containing WHAT. */
static inline int gw_fake_log_count(struct gw *g, const char *what)
{
	char path[PATH_MAX + 32];
	char *text, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/fake-gateway.log", g->state_dir);
	text = read_text_file(path);
	for (p = text; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	free(text);
	return n;
}

/* Stops everything the test started, by pid, then removes HOME. */
static inline void gw_cleanup(struct gw *g)
{
	struct run_result r;

	for (int i = 0; i < g->n_launchers; i++) {
		pid_t pid = g->launchers[i];

		if (pid <= 0)
			continue;
		kill(pid, SIGTERM);
		if (gw_wait_exit(g, pid, 20) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	/* A detached supervisor is not our child: `stop` ends it. Not for a
	 * launcher in its own pid ns: the pid in its lock file (1) means
	 * another process here. */
	if (g->home && !g->as_pid1) {
		gw_ocr(g, &r, "--profile", g->profile, "stop", "--timeout", "20", NULL);
		run_result_free(&r);
		if (g->also_stop) {
			gw_ocr(g, &r, "--profile", g->also_stop, "stop", "--timeout", "20", NULL);
			run_result_free(&r);
		}
	}
	tmpdir_remove(g->home);
	free(g->home);
	g->home = NULL;
	gw_shadow.home = NULL;
}

#endif
