/* The sandbox, proved from inside: `openclaw-run exec` runs tests/helpers/probe
 * against a temp HOME holding two profiles, once launched by root (payload as
 * --user nobody) and once by an unprivileged user (setpriv to 65534). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sandbox_fx.h"

/* ---- the checks, shared by both launch modes ------------------------------ */

static void check_privileges(struct fx *f)
{
	static const char *const zero_sets[] = {
	    "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
	struct run_result r;

	PROBE_RUN(f, &r, "status");
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	for (size_t i = 0; i < 5; i++) {
		char *line = strstr(r.out, zero_sets[i]);

		cr_assert_not_null(line, "%s missing in %s", zero_sets[i], r.out);
		line += strlen(zero_sets[i]);
		cr_assert_eq(strtoull(line, NULL, 16), 0, "%s not empty: %s", zero_sets[i], r.out);
	}
	cr_assert(strstr(r.out, "NoNewPrivs:\t1"), "%s", r.out);
	cr_assert(strstr(r.out, "Seccomp:\t2"), "%s", r.out);
	run_result_free(&r);
}

static void check_filesystem_view(struct fx *f)
{
	char secret[PATH_MAX + 16], mine[PATH_MAX + 16], tmpfile[PATH_MAX + 16];
	struct run_result r;

	snprintf(secret, sizeof(secret), "%s/secret.txt", f->home);
	PROBE_RUN(f, &r, "exists", f->other);
	cr_assert_str_eq(r.out, "no\n", "other profile visible: %s%s", r.out, r.err);
	run_result_free(&r);
	PROBE_RUN(f, &r, "exists", secret);
	cr_assert_str_eq(r.out, "no\n", "real HOME visible: %s", r.out);
	run_result_free(&r);
	PROBE_RUN(f, &r, "exists", "/root");
	cr_assert_str_eq(r.out, "no\n", "exit %d: %s", r.exit_code, r.err);
	run_result_free(&r);

	/* A write in the state dir lands on the host. */
	snprintf(mine, sizeof(mine), "%s/probe-wrote.txt", f->state);
	PROBE_RUN(f, &r, "write", mine);
	cr_assert_str_eq(r.out, "ok\n", "%s%s", r.out, r.err);
	run_result_free(&r);
	char *text = read_text_file(mine);
	cr_assert_not_null(text);
	cr_assert_str_eq(text, "probe\n");
	free(text);

	/* Writes elsewhere fail, or stay in the sandbox's private /tmp. */
	PROBE_RUN(f, &r, "write", "/usr/probe-wrote.txt");
	cr_assert_str_eq(r.out, "error EROFS\n", "%s", r.out);
	run_result_free(&r);
	PROBE_RUN(f, &r, "write", "/probe-wrote.txt");
	cr_assert_str_eq(r.out, "error EROFS\n", "%s", r.out);
	run_result_free(&r);
	PROBE_RUN(f, &r, "write", "/etc/passwd");
	cr_assert(strncmp(r.out, "error ", 6) == 0, "%s", r.out);
	run_result_free(&r);
	snprintf(tmpfile, sizeof(tmpfile), "%s/leak.txt", f->home);
	PROBE_RUN(f, &r, "write", tmpfile);
	run_result_free(&r);
	cr_assert(!path_exists(tmpfile), "a write outside the profile reached the host");

	/* The host's zone link is a link inside too: ICU names the zone from
	 * its target, and scans all of zoneinfo when given a plain file. */
	char zone[PATH_MAX];
	ssize_t n = readlink("/etc/localtime", zone, sizeof(zone) - 1);
	if (n > 0 && (zone[n] = '\0', strstr(zone, "/usr/share/zoneinfo/"))) {
		cr_assert_eq(run_probe_opts(f, &r, "a", NULL,
					    (const char *const[]){"/usr/bin/readlink",
								  "/etc/localtime", NULL}),
			     0);
		cr_assert_eq(r.exit_code, 0, "%s", r.err);
		cr_assert(strncmp(r.out, zone, (size_t)n) == 0 && r.out[n] == '\n',
			  "inside: %s, host: %s", r.out, zone);
		run_result_free(&r);
	}
}

static void check_processes_and_names(struct fx *f)
{
	struct run_result r;
	char *second;

	PROBE_RUN(f, &r, "pids");
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strncmp(r.out, "1 sandbox-init\n", 15) == 0, "pid 1: %s", r.out);
	second = r.out + 15;
	cr_assert(strstr(second, " probe\n"), "%s", r.out);
	cr_assert_null(strchr(strchr(second, '\n') + 1, '\n'), "other processes: %s", r.out);
	run_result_free(&r);

	PROBE_RUN(f, &r, "hostname");
	cr_assert_str_eq(r.out, "openclaw-a\n");
	run_result_free(&r);

	PROBE_RUN(f, &r, "cwd");
	cr_assert(strstr(r.out, "/.openclaw-a/workspace\n"), "%s", r.out); /* made by setup */
	run_result_free(&r);
}

static void check_bind_ports(struct fx *f)
{
	char inside[16], outside[16];
	struct run_result r;

	snprintf(inside, sizeof(inside), "%u", f->base + 2);
	snprintf(outside, sizeof(outside), "%u", f->base + 200);
	PROBE_RUN(f, &r, "bind", inside);
	cr_assert_str_eq(r.out, "ok\n", "bind %s: %s%s", inside, r.out, r.err);
	run_result_free(&r);
	PROBE_RUN(f, &r, "bind", outside);
	cr_assert_str_eq(r.out, "error EACCES\n", "bind %s: %s", outside, r.out);
	run_result_free(&r);
	PROBE_RUN(f, &r, "bind", "0");
	cr_assert_str_eq(r.out, "ok\n");
	run_result_free(&r);
}

static void check_syscalls(struct fx *f)
{
	static const char *const killed[] = {
	    "mount",
	    "umount2",
	    "pivot_root",
	    "chroot",
	    "kexec_load",
	    "kexec_file_load",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "bpf",
	    "perf_event_open",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "keyctl",
	    "add_key",
	    "request_key",
	    "reboot",
	    "swapon",
	    "swapoff",
	    "setns",
	    "unshare",
	    "open_by_handle_at",
	    "userfaultfd",
	    "acct",
	    "settimeofday",
	    "clock_settime",
	    "quotactl",
	};
	static const char *const failing[][2] = {
	    {"io_uring_setup", "ret=-1 errno=ENOSYS\n"},
	    {"clone3", "ret=-1 errno=ENOSYS\n"},
	    {"clone-newuser", "ret=-1 errno=EPERM\n"},
	    {"kcmp", "ret=-1 errno=EPERM\n"}, /* unlisted */
	};
	struct run_result r;

	for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		PROBE_RUN(f, &r, "syscall", killed[i]);
		cr_expect_eq(r.exit_code, SIGSYS_RC, "%s: exit %d, out %s", killed[i], r.exit_code,
			     r.out);
		run_result_free(&r);
	}
	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		PROBE_RUN(f, &r, "syscall", failing[i][0]);
		cr_expect_str_eq(r.out, failing[i][1], "%s", failing[i][0]);
		run_result_free(&r);
	}
}

/* ---- asynchronous runs: signals and the host's view ----------------------- */

struct bg {
	pid_t pid;
	int err_fd;
	pid_t init_pid, child_pid;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Starts `exec --json-status -- probe sleep` and waits for its status line. */
static void bg_start(struct fx *f, struct bg *b)
{
	const char *const opts[] = {"--json-status", NULL};
	const char *const args[] = {f->probe, "sleep", NULL};
	char *argv[64], *envp[8], home_var[PATH_MAX + 8], buf[8192];
	size_t len = 0;
	long deadline = now_ms() + 60000;
	int p[2];

	build_argv(f, "a", opts, args, argv, 64);
	build_env(f, home_var, sizeof(home_var), envp);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	b->pid = fork();
	cr_assert_geq(b->pid, 0);
	if (b->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(p[1], 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	b->err_fd = p[0];
	b->init_pid = b->child_pid = 0;
	while (!b->child_pid && now_ms() < deadline) {
		struct pollfd pfd = {b->err_fd, POLLIN, 0};
		ssize_t n;
		char *line;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(b->err_fd, buf + len, sizeof(buf) - len - 1);
		cr_assert_gt(n, 0, "launcher ended early: %.*s", (int)len, buf);
		len += (size_t)n;
		buf[len] = '\0';
		if ((line = strstr(buf, "{\"child-pid\"")) && strchr(line, '\n')) {
			cJSON *j = cJSON_Parse(line);

			cr_assert_not_null(j, "bad JSON: %s", line);
			b->child_pid = cJSON_GetObjectItem(j, "child-pid")->valueint;
			b->init_pid = cJSON_GetObjectItem(j, "init-pid")->valueint;
			cr_assert_not_null(cJSON_GetObjectItem(j, "user-namespace"));
			cr_assert_not_null(cJSON_GetObjectItem(j, "pid-namespace"));
			cJSON_Delete(j);
		}
	}
	cr_assert_gt(b->child_pid, 0, "no status line: %s", buf);
}

static int bg_wait(struct bg *b)
{
	int status;

	while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(b->err_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Gone, or a zombie nobody reaps yet: either way no longer running. */
static bool process_gone(pid_t pid)
{
	char path[64], *text, *state;
	bool gone;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = read_text_file(path);
	if (!text)
		return true;
	state = strstr(text, "State:");
	gone = state && strchr(state, 'Z') && strchr(state, 'Z') < strchr(state, '\n');
	free(text);
	return gone;
}

static unsigned host_uid_of(pid_t pid)
{
	char path[64], *text, *line;
	unsigned uid = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = read_text_file(path);
	cr_assert_not_null(text, "payload %d not found on the host", (int)pid);
	line = strstr(text, "\nUid:");
	cr_assert_not_null(line);
	uid = (unsigned)strtoul(line + 5, NULL, 10);
	free(text);
	return uid;
}

static void check_sigterm_and_host_uid(struct fx *f)
{
	struct bg b;

	bg_start(f, &b);
	cr_assert_eq(host_uid_of(b.child_pid), NOBODY, "payload is not the unprivileged uid");
	cr_assert_eq(host_uid_of(b.init_pid), NOBODY, "init is not the unprivileged uid");
	kill(b.pid, SIGTERM);
	cr_assert_eq(bg_wait(&b), 143);
}

static void check_sigkill_leaves_nothing(struct fx *f)
{
	long deadline;
	struct bg b;

	bg_start(f, &b);
	kill(b.pid, SIGKILL);
	cr_assert_eq(bg_wait(&b), 128 + SIGKILL);
	deadline = now_ms() + 30000; /* generous: only bounds a failure */
	while ((!process_gone(b.init_pid) || !process_gone(b.child_pid)) && now_ms() < deadline)
		usleep(20000);
	cr_assert(process_gone(b.init_pid), "init %d survived its launcher", (int)b.init_pid);
	cr_assert(process_gone(b.child_pid), "payload %d survived", (int)b.child_pid);
}

static void check_bad_input(struct fx *f)
{
	const char *const none[] = {NULL};
	const char *const nonexist[] = {"/nonexistent/cmd", NULL};
	struct run_result r;

	cr_assert_eq(run_probe_opts(f, &r, "a", NULL, none), 0);
	cr_assert_eq(r.exit_code, 2);
	cr_assert(strstr(r.err, "no command"), "%s", r.err);
	run_result_free(&r);

	cr_assert_eq(
	    run_probe_opts(f, &r, "missing", NULL, (const char *const[]){f->probe, "id", NULL}), 0);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "does not exist") && strstr(r.err, "setup"), "%s", r.err);
	run_result_free(&r);

	cr_assert_eq(
	    run_probe_opts(f, &r, "file", NULL, (const char *const[]){f->probe, "id", NULL}), 0);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "is not a directory"), "%s", r.err);
	run_result_free(&r);

	cr_assert_eq(run_probe_opts(f, &r, "a", NULL, nonexist), 0);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "openclaw-run: sandbox: execve /nonexistent/cmd: No such file"),
		  "%s", r.err);
	run_result_free(&r);
}

static void check_exit_codes_and_net(struct fx *f)
{
	const char *const net_none[] = {"--net=none", "--json-status", NULL};
	char port[16];
	struct run_result r;

	PROBE_RUN(f, &r, "exit", "42");
	cr_assert_eq(r.exit_code, 42);
	run_result_free(&r);

	snprintf(port, sizeof(port), "%u", f->base + 1);
	cr_assert_eq(run_probe_opts(f, &r, "a", net_none,
				    (const char *const[]){f->probe, "bind", port, NULL}),
		     0);
	cr_assert_str_eq(r.out, "ok\n", "%s", r.err);
	cr_assert(strstr(r.err, "\"net-namespace\""), "%s", r.err);
	cr_assert(strstr(r.err, "{\"exit-code\": 0}"), "%s", r.err);
	run_result_free(&r);
}

/* The workspace comes from the config, which the payload can rewrite: it is
 * pinned only by setup, which refuses a symlink in its path (planted in a
 * workspace it could write), another profile's state dir and the real HOME;
 * a profile setup never pinned gets no sandbox at all. */
static void check_workspace_redirects(struct fx *f)
{
	char path[PATH_MAX + 32], link[PATH_MAX + 32], config[PATH_MAX + 128];
	const char *const args[] = {f->probe, "exists", f->other, NULL};
	const char *fmt = "{\"agents\": {\"defaults\": {\"workspace\": \"%s%s\"}}}\n";
	const struct {
		const char *profile, *why;
	} cases[] = {{"c", "symlink"}, {"e", "nested"}, {"d", "nested"}};
	struct run_result r;

	snprintf(link, sizeof(link), "%s/ws-c/link", f->home);
	snprintf(path, sizeof(path), "%s/ws-c", f->home);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(symlink(f->other, link), 0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].profile;

		/* One at a time: each alone beside a and b. */
		snprintf(config, sizeof(config), fmt,
			 *p == 'c'   ? link
			 : *p == 'e' ? f->other
				     : f->home,
			 *p == 'e' ? "/ws" : "");
		snprintf(path, sizeof(path), "%s/.openclaw-%s/openclaw.json", f->home, p);
		write_text_file(path, config);
		cr_assert_eq(nftw(f->home, chown_entry, 16, FTW_PHYS), 0);
		/* Never set up: refused before anything is mounted. */
		cr_assert_eq(run_probe_opts(f, &r, p, NULL, args), 0);
		cr_assert_eq(r.exit_code, 1, "%s: stdout: %s stderr: %s", p, r.out, r.err);
		cr_assert_str_eq(r.out, "", "profile %s ran unpinned", p);
		run_result_free(&r);
		/* And setup will not pin what the config names. */
		fx_setup_run(f, p, &r);
		cr_assert_eq(r.exit_code, 1, "%s: %s%s", p, r.out, r.err);
		cr_assert(strstr(r.err, cases[i].why), "%s: %s", p, r.err);
		run_result_free(&r);
		snprintf(path, sizeof(path), "%s/.openclaw-%s", f->home, p);
		tmpdir_remove(path);
	}
}

BOTH_MODES(privileges)
BOTH_MODES(filesystem_view)
BOTH_MODES(processes_and_names)
BOTH_MODES(bind_ports)
BOTH_MODES(syscalls)
BOTH_MODES(sigterm_and_host_uid)
BOTH_MODES(sigkill_leaves_nothing)
BOTH_MODES(bad_input)
BOTH_MODES(exit_codes_and_net)
BOTH_MODES(workspace_redirects)

/* ---- the limits warning, once per boot ------------------------------------ */

/* `openclaw-run check` as the fixture's unprivileged user. */
static void run_check(const struct fx *f, struct run_result *r)
{
	char *argv[] = {(char *)"/usr/bin/setpriv",
			(char *)"--reuid=65534",
			(char *)"--regid=65534",
			(char *)"--clear-groups",
			(char *)f->bin,
			(char *)"check",
			NULL};
	char *envp[8], home_var[PATH_MAX + 8];

	build_env(f, home_var, sizeof(home_var), envp);
	cr_assert_eq(run_argv(r, envp, argv, 120), 0);
}

/* Rootless on a host whose cgroups it cannot use (v1 and hybrid hosts, a v2
 * cgroup not delegated): the first exec of a boot says which limits are off,
 * the next ones do not, `check` always does; a note from another boot does
 * not count. */
Test(sandbox_unprivileged, limits_warning_once_per_boot_and_always_in_check, .fini = fx_cleanup)
{
	const char *const args[] = {the_fx.probe, "status", NULL};
	char note[PATH_MAX + 64];
	struct run_result r;

	if (geteuid() != 0)
		cr_skip_test("needs root to switch to uid 65534");
	fx_init(&the_fx, true);
	fx_setup(&the_fx, "a");
	run_check(&the_fx, &r);
	if (!strstr(r.out, "limits-off: "))
		cr_skip_test("uid 65534 can use this host's cgroups: no warning to say");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);

	cr_assert_eq(run_probe_opts(&the_fx, &r, "a", NULL, args), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.err, "limits are off: "), "first exec, no warning: %s", r.err);
	run_result_free(&r);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(run_probe_opts(&the_fx, &r, "a", NULL, args), 0);
		cr_assert_eq(r.exit_code, 0, "%s", r.err);
		cr_assert(!strstr(r.err, "limits are off"), "said again: %s", r.err);
		run_result_free(&r);
	}
	run_check(&the_fx, &r);
	cr_assert(strstr(r.out, "limits-off: ") && strstr(r.out, "limits are off: "), "%s", r.out);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);

	/* Said in another boot: said again in this one. */
	snprintf(note, sizeof(note), "%s/.config/openclaw-run/limits-warned", the_fx.home);
	cr_assert_eq(access(note, F_OK), 0, "no note at %s", note);
	write_text_file(note, "00000000-0000-0000-0000-000000000000\n");
	cr_assert_eq(chown(note, NOBODY, NOBODY), 0);
	cr_assert_eq(run_probe_opts(&the_fx, &r, "a", NULL, args), 0);
	cr_assert(strstr(r.err, "limits are off: "), "not said after a reboot: %s", r.err);
	run_result_free(&r);
}
