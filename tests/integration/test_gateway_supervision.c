/* Supervision with the fake gateway: restarts with backoff, no retry on exit
 * 78, crash-loop stop, SIGTERM forwarding, grace then SIGKILL, SIGHUP
 * restart, SIGKILL of the launcher, stale lock takeover. Only "eventually"
 * assertions: the CI machine is slow and noisy. */
#include <dirent.h>
#include <sched.h>

#include "gateway_util.h"

TestSuite(supervision, .fini = gw_fini);

Test(supervision, restarts_a_crashing_gateway_until_it_runs)
{
	struct gw g;
	int code;

	gw_init(&g, "main");
	gw_start(&g, "--env", "FAKE_MODE=crash-then-run", "--env", "FAKE_CRASHES=2", NULL);
	gw_wait_running(&g);
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(gw_json_num(st, "restarts"), 2);
	cr_assert_eq(gw_json_num(st, "last_exit"), 1);
	cJSON_Delete(st);
	cr_assert_eq(gw_fake_log_count(&g, "start mode=crash-then-run"), 3);
	char *log = gw_launcher_log(&g, 0);
	/* Backoff: the first restart after 1 s, the second after 2 s. */
	cr_assert(strstr(log, "restarting in 1 s"), "%s", log);
	cr_assert(strstr(log, "restarting in 2 s"), "%s", log);
	/* The host's warnings (cgroup limits off here) are said once, not at
	 * every restart. */
	const char *warning = strstr(log, "sandbox: warning:");
	cr_assert(!warning || !strstr(warning + 1, "sandbox: warning:"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(supervision, exit_78_is_not_retried)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--no-doctor", "--env", "FAKE_MODE=exit78", NULL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 78, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_fake_log_count(&g, "start mode=exit78"), 1);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "78") && strstr(log, "not restarting"), "%s", log);
	free(log);
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "failed");
	cr_assert_eq(gw_json_num(st, "last_exit"), 78);
	cJSON_Delete(st);
	gw_cleanup(&g);
}

Test(supervision, a_crash_loop_stops_with_a_clear_message)
{
	struct gw g;

	gw_init(&g, "main");
	/* 5 crashes with 1+2+4+8 s of backoff: ~15 s, well inside 2 min. */
	pid_t launcher = gw_start(&g, "--env", "FAKE_MODE=crash", NULL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 150), 4, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_fake_log_count(&g, "start mode=crash"), 5);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "crash loop"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(supervision, sigterm_is_forwarded_and_the_exit_is_clean)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t child = gw_status_pid(&g, "child_pid");
	kill(launcher, SIGTERM);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 0, "%s", gw_launcher_log(&g, 0));
	cr_assert(gw_wait_pid_gone(child, 10));
	cr_assert_eq(gw_fake_log_count(&g, "stop on signal"), 1);
	gw_cleanup(&g);
}

Test(supervision, a_gateway_ignoring_sigterm_is_killed_after_the_grace)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--grace", "2", "--env", "FAKE_MODE=ignore-term", NULL);
	gw_wait_running(&g);
	pid_t child = gw_status_pid(&g, "child_pid");
	pid_t init = gw_status_pid(&g, "init_pid");
	kill(launcher, SIGTERM);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 6, "%s", gw_launcher_log(&g, 0));
	cr_assert(gw_wait_pid_gone(child, 10));
	cr_assert(gw_wait_pid_gone(init, 10));
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "did not stop within 2 s"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(supervision, sighup_restarts_the_gateway)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t first = gw_status_pid(&g, "child_pid");
	kill(launcher, SIGHUP);
	long deadline = gw_now_ms() + 120000;
	pid_t second = first;
	double restarts = 0;
	int code = -1;
	while (gw_now_ms() < deadline) {
		cJSON *st = gw_status_json(&g, &code);
		second = (pid_t)gw_json_num(st, "child_pid");
		restarts = gw_json_num(st, "restarts");
		cJSON_Delete(st);
		if (code == 0 && restarts == 1 && second > 0 && second != first)
			break;
		gw_sleep_ms(250);
	}
	cr_assert_eq(code, 0, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(restarts, 1);
	cr_assert_neq(second, first);
	cr_assert(gw_wait_pid_gone(first, 10));
	cr_assert_eq(gw_fake_log_count(&g, "start mode=run"), 2);
	gw_cleanup(&g);
}

Test(supervision, sigkill_of_the_launcher_leaves_nothing_and_the_lock_is_taken_over)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t child = gw_status_pid(&g, "child_pid");
	pid_t init = gw_status_pid(&g, "init_pid");
	kill(launcher, SIGKILL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 30), 128 + SIGKILL);
	cr_assert(gw_wait_pid_gone(init, 20), "sandbox init %ld survived", (long)init);
	cr_assert(gw_wait_pid_gone(child, 20), "gateway %ld survived", (long)child);
	/* The state file still says "ready", the lock file names a dead pid:
	 * status must not believe either. */
	cr_assert_eq(gw_wait_status(&g, 3, 20), 3);

	/* The next launcher takes the stale lock over and says so. */
	gw_start(&g, NULL);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 1));
	char *log = gw_launcher_log(&g, 1);
	char want[64];
	snprintf(want, sizeof(want), "launcher pid %ld", (long)launcher);
	cr_assert(strstr(log, "taking over") && strstr(log, want), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(supervision, sigterm_during_backoff_stops_at_once)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--env", "FAKE_MODE=crash", NULL);
	/* Wait for the first "restarting in" line, then stop it in the gap. */
	long deadline = gw_now_ms() + 60000;
	char *log = NULL;
	while (gw_now_ms() < deadline) {
		free(log);
		log = gw_launcher_log(&g, 0);
		if (log && strstr(log, "restarting in"))
			break;
		gw_sleep_ms(50);
	}
	cr_assert(log && strstr(log, "restarting in"), "%s", log);
	free(log);
	kill(launcher, SIGTERM);
	int code = gw_wait_exit(&g, launcher, 30);
	/* Either in the gap (0) or the restart won the race and the stop
	 * went through the grace path (0 too). */
	cr_assert_eq(code, 0, "%s", gw_launcher_log(&g, 0));
	gw_cleanup(&g);
}

/* The launcher's host pid: the only child of the process that made its pid
 * namespace. */
static pid_t child_of(pid_t parent)
{
	char path[96];
	char *text;
	long pid;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)parent, (long)parent);
	text = read_text_file(path);
	pid = text ? strtol(text, NULL, 10) : 0;
	free(text);
	return (pid_t)pid;
}

/* In a child of the test, never returns: enters the pid namespace whose
 * pid 1 is LAUNCHER and leaves an orphan there, which reports on FD its
 * host pid and its parent as it sees it (1: reparented to the launcher),
 * then exits and needs reaping. */
static void leave_an_orphan(pid_t launcher, int fd)
{
	char path[64], self[32] = "";
	pid_t mid, parent;
	int ns;

	snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long)launcher);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWPID) < 0 || (mid = fork()) < 0)
		_exit(1);
	if (mid > 0) {
		waitpid(mid, NULL, 0);
		_exit(0);
	}
	if (fork() != 0)
		_exit(0); /* the orphan's parent goes first */
	parent = getppid();
	for (int i = 0; i < 1000 && getppid() == parent; i++)
		gw_sleep_ms(10);
	/* /proc is the host's: "self" is the host pid. */
	if (readlink("/proc/self", self, sizeof(self) - 1) < 0)
		_exit(1);
	dprintf(fd, "%s %ld\n", self, (long)getppid());
	_exit(0);
}

static bool wait_reaped(pid_t pid, int timeout_s)
{
	char path[64];
	long deadline = gw_now_ms() + timeout_s * 1000L;

	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	while (access(path, F_OK) == 0) {
		if (gw_now_ms() >= deadline)
			return false;
		gw_sleep_ms(100);
	}
	return true;
}

/* As a container's entrypoint, pid 1 of its pid namespace, the launcher
 * inherits every orphan there: it must reap them and still keep its own
 * gateway's bookkeeping straight. */
Test(supervision, as_pid_1_it_reaps_orphans_and_still_stops_cleanly)
{
	struct gw g;
	int report[2];
	long orphan = 0, seen_parent = 0;
	FILE *f;

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	gw_init(&g, "main");
	g.as_pid1 = true;
	gw_sync(&g);
	pid_t outer = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t launcher = child_of(outer);
	cr_assert_gt(launcher, 0);

	cr_assert_eq(pipe(report), 0);
	pid_t helper = fork();
	cr_assert_geq(helper, 0);
	if (helper == 0)
		leave_an_orphan(launcher, report[1]);
	close(report[1]);
	f = fdopen(report[0], "r");
	cr_assert_eq(fscanf(f, "%ld %ld", &orphan, &seen_parent), 2, "no orphan");
	fclose(f);
	waitpid(helper, NULL, 0);
	cr_assert_eq(seen_parent, 1, "the orphan went to %ld, not the launcher", seen_parent);
	cr_assert(wait_reaped((pid_t)orphan, 20), "orphan %ld left as a zombie", orphan);

	cr_assert_eq(gw_wait_status(&g, 0, 10), 0, "%s", gw_launcher_log(&g, 0));
	/* Its lock file says pid 1, which is another process out here (the
	 * host's init): `stop` from outside must refuse, not signal it. */
	struct run_result r;
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "stop", "--timeout", "5", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "another pid namespace"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_status(&g, 0, 10), 0, "%s", gw_launcher_log(&g, 0));
	kill(outer, SIGTERM);
	cr_assert_eq(gw_wait_exit(&g, outer, 60), 0, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_fake_log_count(&g, "stop on signal"), 1);
	gw_cleanup(&g);
}

/* The readiness probe is a fork of the supervisor that never execs: it must
 * not keep the instance lock (a SIGKILLed launcher would block its
 * successor until the probe noticed), the signalfd or the sandbox's pidfd. */
Test(supervision, the_readiness_probe_holds_no_fd_of_the_supervisor)
{
	struct gw g;
	pid_t probe = 0, init = 0;
	char path[96], target[PATH_MAX];
	struct dirent *e;
	DIR *d;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--grace", "1", "--env", "FAKE_LISTEN_DELAY_MS=60000", NULL);
	for (long deadline = gw_now_ms() + 60000; !probe && gw_now_ms() < deadline;) {
		init = gw_status_pid(&g, "init_pid");
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)launcher,
			 (long)launcher);
		char *kids = read_text_file(path);
		for (char *p = kids; init > 0 && p && *p;) {
			char *end;
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid != init)
				probe = (pid_t)pid;
			p = end;
		}
		free(kids);
		gw_sleep_ms(100);
	}
	cr_assert_gt(probe, 0, "no probe child: %s", gw_launcher_log(&g, 0));
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)probe);
	d = opendir(path);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char link[PATH_MAX + 300];
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		cr_expect_null(strstr(target, ".lock"), "probe holds %s", target);
		cr_expect_null(strstr(target, "pidfd"), "probe holds %s", target);
		cr_expect_null(strstr(target, "signalfd"), "probe holds %s", target);
	}
	closedir(d);
	gw_cleanup(&g);
}
