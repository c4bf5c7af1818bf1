/* `gateway`, `status`, `stop`, `list` with the fake gateway: the life cycle,
 * the environment, the lock, --detach, refusals. Supervision under failure
 * (restarts, crash loop, signals) is in test_gateway_supervision.c. */
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>

#include "gateway_util.h"

TestSuite(gateway, .fini = gw_fini);

Test(gateway, starts_ready_reports_status_and_stops)
{
	struct gw g;
	struct run_result r;
	int code;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "never healthy: %s", gw_launcher_log(&g, 0));

	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "running");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "healthy")));
	cr_assert_eq(gw_json_num(st, "supervisor_pid"), launcher);
	pid_t child = (pid_t)gw_json_num(st, "child_pid");
	cr_assert_gt(child, 0);
	cr_assert(gw_pid_alive(child));
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "ports"), "base"), g.base);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "healthz"), "status"), 200);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "readyz"), "status"), 200);
	cJSON_Delete(st);

	/* The gateway got the profile's environment and nothing of ours. */
	char path[PATH_MAX + 32], want[64];
	snprintf(path, sizeof(path), "%s/fake-gateway.env", g.state_dir);
	char *env = read_text_file(path);
	cr_assert_not_null(env);
	snprintf(want, sizeof(want), "OPENCLAW_GATEWAY_PORT=%u\n", g.base);
	cr_assert(strstr(env, want), "%s", env);
	cr_assert(strstr(env, "OPENCLAW_STATE_DIR="), "%s", env);
	cr_assert(strstr(env, "OPENCLAW_GATEWAY_TOKEN="), "%s", env);
	cr_assert(strstr(env, "NODE_COMPILE_CACHE="), "%s", env);
	cr_assert_null(strstr(env, "OPENCLAW_GATEWAY_URL"), "leaked: %s", env);
	cr_assert_null(strstr(env, "XDG_RUNTIME_DIR"), "leaked: %s", env);
	free(env);

	/* Human status names the pids and the probes. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strstr(r.out, "running, healthy"), "%s", r.out);
	cr_assert(strstr(r.out, "/readyz"), "%s", r.out);
	run_result_free(&r);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "stop", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "stop: %s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_exit(&g, launcher, 30), 0, "%s", gw_launcher_log(&g, 0));
	cr_assert(gw_wait_pid_gone(child, 10));
	cr_assert_eq(gw_wait_status(&g, 3, 10), 3);
	cr_assert_eq(gw_fake_log_count(&g, "stop on signal"), 1);
	gw_cleanup(&g);
}

/* The launcher's child: `stop`, its stderr in <home>/stop.err. */
static pid_t start_stop(struct gw *g)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct run_result r;
		char path[PATH_MAX + 16];

		if (gw_ocr(g, &r, "--profile", g->profile, "stop", NULL) < 0)
			_exit(126);
		snprintf(path, sizeof(path), "%s/stop.err", g->home);
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(r.err ? r.err : "", f);
			fclose(f);
		}
		_exit(r.exit_code);
	}
	return pid;
}

/* The supervisor lets its lock go a little before its process ends (more
 * than a little in a sanitizer build on a loaded box); stop must return
 * only once it has exited. Held in its exit (ptrace's exit stop comes
 * after its last close), it no longer holds the lock, and stop must still
 * be waiting; let go, stop returns and nothing of the profile is left. */
Test(gateway, stop_waits_until_the_supervisor_has_exited, .timeout = 300)
{
	struct gw g;
	int status;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "never healthy: %s", gw_launcher_log(&g, 0));
	pid_t init = gw_status_pid(&g, "init_pid");
	cr_assert_gt(init, 0);
	cr_assert_eq(ptrace(PTRACE_SEIZE, launcher, NULL, (void *)PTRACE_O_TRACEEXIT), 0,
		     "ptrace: %s", strerror(errno));

	pid_t stopper = start_stop(&g);
	for (;;) { /* passes every other stop on, as if untraced */
		cr_assert_eq(waitpid(launcher, &status, __WALL), launcher);
		cr_assert(WIFSTOPPED(status), "the supervisor ended without an exit stop");
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			break;
		ptrace(PTRACE_CONT, launcher, NULL,
		       (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status)));
	}
	/* In its exit now: the lock is free, status says stopped, and stop,
	 * which used to return at its next look (0.1 s), waits, saying every
	 * 5 s what it waits for. Asserted once it is let go: a test that
	 * stops here must not leave it held. */
	int stopped = gw_wait_status(&g, 3, 60);
	bool init_alive = gw_pid_alive(init);
	if (stopped == 3)
		gw_sleep_ms(6000);
	pid_t early = waitpid(stopper, &status, WNOHANG);
	cr_assert_eq(ptrace(PTRACE_DETACH, launcher, NULL, NULL), 0);
	cr_assert_eq(stopped, 3);
	cr_assert_not(init_alive);
	cr_assert_eq(early, 0, "stop returned while the supervisor (pid %ld) was still exiting",
		     (long)launcher);
	char path[PATH_MAX + 16], want[64];
	snprintf(path, sizeof(path), "%s/stop.err", g.home);
	cr_assert_eq(gw_wait_exit(&g, stopper, 90), 0, "stop: %s", read_text_file(path));
	char *said = read_text_file(path);
	snprintf(want, sizeof(want), "supervisor %ld still running", (long)launcher);
	cr_assert(said && strstr(said, "main: stopping, ") && strstr(said, want), "%s", said);
	free(said);
	/* Nothing left the moment stop returned: no waiting here. */
	cr_assert_not(gw_pid_alive(launcher), "stop returned before the supervisor exited");
	cr_assert_not(gw_pid_alive(init));
	/* Its code is LeakSanitizer's (it refuses to run under ptrace). */
	cr_assert_neq(gw_wait_exit(&g, launcher, 30), -1);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(log && strstr(log, "gateway stopped"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(gateway, second_launcher_is_refused_naming_the_pid)
{
	struct gw g;
	struct run_result r;
	char pid[32];

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	snprintf(pid, sizeof(pid), "pid %ld", (long)launcher);
	cr_assert(strstr(r.err, "already running") && strstr(r.err, pid), "%s", r.err);
	run_result_free(&r);
	/* The first one is unharmed. */
	cr_assert_eq(gw_wait_status(&g, 0, 10), 0);
	gw_cleanup(&g);
}

Test(gateway, status_exit_codes)
{
	struct gw g;

	gw_init(&g, "main");
	cr_assert_eq(gw_wait_status(&g, 3, 1), 3); /* never started */
	/* Live but /startupz still says starting: running, not started: 1. */
	gw_start(&g, "--env", "FAKE_STARTUP_DELAY_MS=600000", NULL);
	/* Until it listens, status exits 1 too (not live): wait for live. */
	long deadline = gw_now_ms() + 60000;
	int code;
	cJSON *st = NULL;
	for (;;) {
		cJSON_Delete(st);
		st = gw_status_json(&g, &code);
		if (cJSON_IsTrue(cJSON_GetObjectItem(st, "live")) || gw_now_ms() >= deadline)
			break;
		gw_sleep_ms(250);
	}
	cr_assert_eq(code, 1);
	/* Probed now: the supervisor's checks start once the gateway has. */
	cr_assert_str_eq(cJSON_GetObjectItem(st, "probe_source")->valuestring, "now");
	cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "starting");
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "healthz"), "status"), 200);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "startupz"), "status"), 503);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "live")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(st, "started")));
	cr_assert_str_eq(cJSON_GetObjectItem(st, "health")->valuestring, "starting");
	cJSON_Delete(st);
	gw_cleanup(&g);
}

Test(gateway, detach_returns_when_ready_and_stop_ends_it)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "rescue");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "gateway", "--detach", "--gateway-cmd",
			    FAKE_GATEWAY, "--env", "FAKE_READY_DELAY_MS=1500", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "gateway started"), "%s", r.out);
	run_result_free(&r);
	/* Started means started: no polling needed. */
	cr_assert_eq(gw_wait_status(&g, 0, 0), 0);
	cJSON *st = gw_status_json(&g, NULL);
	pid_t sup = (pid_t)gw_json_num(st, "supervisor_pid");
	pid_t child = (pid_t)gw_json_num(st, "child_pid");
	cJSON_Delete(st);

	/* The supervisor's log is in the launcher's log dir, out of the
	 * payload's reach; status names it. */
	st = gw_status_json(&g, NULL);
	const char *log = cJSON_GetStringValue(cJSON_GetObjectItem(st, "log"));
	cr_assert(log && strncmp(log, g.home, strlen(g.home)) == 0 && !strstr(log, ".openclaw-"),
		  "log %s", log ? log : "(none)");
	char *text = read_text_file(log);
	cJSON_Delete(st);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "gateway started"), "%s", text);
	cr_assert(strstr(text, "fake-gateway: pid"), "gateway output not logged: %s", text);
	free(text);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "stop", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_not(gw_pid_alive(sup));
	cr_assert_not(gw_pid_alive(child));
	cr_assert_eq(gw_wait_status(&g, 3, 0), 3);
	gw_cleanup(&g);
}

Test(gateway, detach_failure_prints_the_log_tail)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "gateway", "--detach", "--gateway-cmd",
			    FAKE_GATEWAY, "--no-doctor", "--env", "FAKE_MODE=exit78", NULL),
		     0);
	cr_assert_eq(r.exit_code, 78, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "fake-gateway: exit78"), "no log tail: %s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_status(&g, 3, 10), 3);
	gw_cleanup(&g);
}

Test(gateway, list_shows_every_profile)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	gw_setup_profile(&g, "rescue", g.base + 120 < 65000 ? g.base + 120 : g.base - 120);
	gw_start(&g, NULL);
	gw_wait_running(&g);
	cr_assert_eq(gw_ocr(&g, &r, "list", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "main") && strstr(r.out, "rescue"), "%s", r.out);
	cr_assert(strstr(r.out, "healthy"), "%s", r.out);
	cr_assert(strstr(r.out, "stopped"), "%s", r.out);
	run_result_free(&r);

	cr_assert_eq(gw_ocr(&g, &r, "list", "--json", NULL), 0);
	cJSON *arr = cJSON_Parse(r.out);
	cr_assert(cJSON_IsArray(arr), "%s", r.out);
	int running = 0, stopped = 0;
	cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *state = cJSON_GetObjectItem(it, "state")->valuestring;
		running += strcmp(state, "running") == 0;
		stopped += strcmp(state, "stopped") == 0;
	}
	cr_assert_eq(running, 1, "%s", r.out);
	cr_assert_eq(stopped, 1, "%s", r.out);
	cJSON_Delete(arr);
	run_result_free(&r);
	gw_cleanup(&g);
}

Test(gateway, refuses_a_profile_that_breaks_the_checklist)
{
	struct gw g;
	struct run_result r;
	char config[PATH_MAX + 32], text[512];

	gw_init(&g, "main");
	/* A hand-made rescue whose block overlaps main's (the seed's "20 apart"). */
	snprintf(config, sizeof(config), "%s/.openclaw-rescue/openclaw.json", g.home);
	snprintf(text, sizeof(text), "{ gateway: { mode: 'local', port: %u, bind: 'loopback' } }\n",
		 g.base + 20);
	write_text_file(config, text);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "rescue"), "%s", r.err);
	cr_assert(strstr(r.err, "refusing"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_status(&g, 3, 0), 3);
	gw_cleanup(&g);
}

Test(gateway, a_profile_never_set_up_is_refused_with_a_hint)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "other", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL),
	    0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "openclaw-run --profile other setup"), "%s", r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* Bad numbers are usage errors (exit 2) that name the option, and start
 * nothing: a base whose block passes 65535, seconds that are not seconds. */
Test(gateway, bad_numbers_are_usage_errors)
{
	static const char *const cases[][4] = {
	    {"gateway", "--port", "65500", "--port"},
	    {"gateway", "--port", "80", "--port"},
	    {"gateway", "--grace", "-1", "--grace"},
	    {"gateway", "--start-grace", "soon", "--start-grace"},
	    {"gateway", "--liveness-failures", "0", "--liveness-failures"},
	    {"restart", "--timeout", "x", "--timeout"},
	    {"exec", "--port", "65500", "--port"},
	    {"stop", "--timeout", "1e3", "--timeout"},
	};
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", cases[i][0], cases[i][1],
				    cases[i][2], "--", "/bin/true", NULL),
			     0);
		cr_assert_eq(r.exit_code, 2, "%s %s %s: %s%s", cases[i][0], cases[i][1],
			     cases[i][2], r.out, r.err);
		cr_assert(strstr(r.err, cases[i][3]), "%s", r.err);
		run_result_free(&r);
	}
	cr_assert_eq(gw_status_pid(&g, "supervisor_pid"), -1, "something was started");
	gw_cleanup(&g);
}

Test(gateway, stop_of_a_stopped_profile_is_fine)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "stop", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "not running"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

Test(gateway, a_port_taken_by_a_stranger_is_named)
{
	struct gw g;
	struct run_result r;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char want[64];

	gw_init(&g, "main");
	addr.sin_port = htons((uint16_t)g.base);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	snprintf(want, sizeof(want), "port %u is already in use", g.base);
	cr_assert(strstr(r.err, want), "%s", r.err);
	run_result_free(&r);
	close(fd);
	gw_cleanup(&g);
}

/* A launcher SIGKILLed leaves its state file; the next one holds the lock
 * before it writes its own. In between, status must not show the dead
 * run's pids, phase or uptime as the new one's. */
Test(gateway, status_ignores_the_state_file_of_a_previous_supervisor)
{
	struct gw g;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char lock[PATH_MAX], pid[32];

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	gw_lock_path(&g, lock, sizeof(lock));
	kill(launcher, SIGKILL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 30), 128 + SIGKILL);
	cr_assert_eq(gw_wait_status(&g, 3, 20), 3);

	/* Stand in for the next launcher: take the lock, name ourselves. */
	int fd = open(lock, O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s", lock);
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	cr_assert_eq(ftruncate(fd, 0), 0);
	cr_assert_eq(pwrite(fd, pid, (size_t)n, 0), n);

	int code;
	cJSON *st = gw_status_json(&g, &code);
	close(fd); /* before any assertion: gw_fini's `stop` would signal us */
	cr_assert_str_eq(cJSON_GetObjectItem(st, "state")->valuestring, "starting");
	cr_assert_eq(gw_json_num(st, "supervisor_pid"), getpid());
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(st, "child_pid")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(st, "init_pid")));
	cr_assert_eq(gw_json_num(st, "uptime_s"), 0);
	cr_assert_eq(code, 1); /* running, not healthy (yet) */
	cJSON_Delete(st);
	gw_cleanup(&g);
}

/* Stands in for a --detach caller and its daemon: A takes the lock and
 * names itself; on SIGTERM it names B (which shares the lock) and goes,
 * as the caller does when its daemon takes over. B goes on SIGTERM (or
 * after 30 s, so a failing test leaves nothing). */
static void lock_handoff(const char *lock, int ready_fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	struct timespec limit = {30, 0};
	char pid[32];
	sigset_t term;
	pid_t b;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644), n;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) < 0 || pwrite(fd, pid, (size_t)n, 0) != n ||
	    (b = fork()) < 0)
		_exit(1);
	if (b == 0)
		_exit(sigtimedwait(&term, NULL, &limit) == SIGTERM ? 0 : 1);
	if (write(ready_fd, "x", 1) != 1 || sigtimedwait(&term, NULL, &limit) != SIGTERM)
		_exit(1);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)b);
	_exit(ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) == n ? 0 : 1);
}

Test(gateway, stop_follows_the_lock_to_its_new_holder)
{
	struct gw g;
	struct run_result r;
	char lock[PATH_MAX], x;
	int ready[2];

	gw_init(&g, "main");
	gw_lock_path(&g, lock, sizeof(lock));
	cr_assert_eq(pipe(ready), 0);
	pid_t a = fork();
	cr_assert_geq(a, 0);
	if (a == 0)
		lock_handoff(lock, ready[1]);
	close(ready[1]);
	cr_assert_eq(read(ready[0], &x, 1), 1);
	close(ready[0]);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "stop", "--timeout", "5", NULL), 0);
	int status;
	waitpid(a, &status, 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.err, "still running"), "%s", r.err);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	run_result_free(&r);
	gw_cleanup(&g);
}
