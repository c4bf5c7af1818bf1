/* Supervision by upstream's health contract, with the fake gateway: started
 * by /startupz (HTML catch-all fallback), never waiting for /readyz, the
 * liveness watchdog, the doctor pass on exit 78, the environment handshake,
 * `restart`, and sd_notify. Only "eventually" assertions with generous
 * bounds: the CI machine is slow and noisy. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gateway_util.h"

TestSuite(health, .fini = gw_fini);

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

Test(health, an_older_gateway_without_startupz_is_started_by_healthz)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	/* Every unknown path, /startupz too, answers 200 with HTML: a status
	 * code alone would call it started, the body says it is no answer. */
	gw_start(&g, "--env", "FAKE_HTML_CATCHALL=1", NULL);
	gw_wait_running(&g);
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "started")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "startup_fallback")));
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "startupz"), "status"), 200);
	cJSON_Delete(st);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	cr_assert(strstr(r.out, "no /startupz here"), "%s", r.out);
	run_result_free(&r);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "no /startupz: judged by /healthz"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(health, detach_waits_for_startupz_not_for_readyz)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	/* /startupz says "starting" (503) for 2 s, then "started"; /readyz
	 * fails for good: a broken channel account. */
	long t0 = gw_now_ms();
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "gateway", "--detach", "--gateway-cmd",
			    FAKE_GATEWAY, "--liveness-interval", "1", "--liveness-failures", "2",
			    "--env", "FAKE_STARTUP_DELAY_MS=2000", "--env",
			    "FAKE_READY_FAILING=telegram", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert_geq(gw_now_ms() - t0, 1900, "returned before /startupz said started");
	run_result_free(&r);

	/* Several liveness checks later: still the first run, degraded. */
	gw_sleep_ms(5000);
	int code;
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(code, 0);
	cr_assert_eq(gw_json_num(st, "restarts"), 0);
	cr_assert_str_eq(json_str(st, "health"), "degraded");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "live")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "started")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(st, "ready")));
	cJSON *failing = cJSON_GetObjectItem(st, "failing");
	cr_assert_eq(cJSON_GetArraySize(failing), 1);
	cr_assert_str_eq(cJSON_GetArrayItem(failing, 0)->valuestring, "telegram");
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "readyz"), "status"), 503);
	/* The watchdog checked meanwhile and is content. */
	cJSON *wd = cJSON_GetObjectItem(st, "watchdog");
	cr_assert_gt(gw_json_num(wd, "checked_at_ms"), 0);
	cr_assert_eq(gw_json_num(wd, "failures"), 0);
	cJSON_Delete(st);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strstr(r.out, "running, degraded: telegram"), "%s", r.out);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "list", NULL), 0);
	cr_assert(strstr(r.out, "degraded"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

Test(health, a_gateway_that_hangs_after_start_is_restarted)
{
	struct gw g;

	gw_init(&g, "main");
	/* Checks every second, 1 s each, two failures restart: the hang is
	 * found within seconds, SIGTERM is ignored (a hung event loop), the
	 * grace ends in SIGKILL. */
	pid_t launcher = gw_start(&g, "--liveness-interval", "1", "--liveness-failures", "2",
				  "--liveness-timeout", "1", "--grace", "1", "--env",
				  "FAKE_HANG_AFTER_MS=1500", NULL);
	gw_wait_running(&g);
	long deadline = gw_now_ms() + 90000;
	double restarts = 0;
	cJSON *st = NULL;
	while (gw_now_ms() < deadline) {
		cJSON_Delete(st);
		st = gw_status_json(&g, NULL);
		restarts = gw_json_num(st, "restarts");
		if (restarts >= 1)
			break;
		gw_sleep_ms(250);
	}
	cr_assert_geq(restarts, 1, "never restarted: %s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_json_num(st, "supervisor_pid"), launcher);
	cJSON *wd = cJSON_GetObjectItem(st, "watchdog");
	cr_assert(strstr(json_str(wd, "last_restart_reason"), "not live"), "%s",
		  json_str(wd, "last_restart_reason"));
	cJSON_Delete(st);
	cr_assert_geq(gw_fake_log_count(&g, "hanging"), 1);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "checks in a row failed") && strstr(log, "restarting it"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(health, exit_78_runs_the_doctor_once_and_a_fixed_config_starts)
{
	struct gw g;

	gw_init(&g, "main");
	gw_start(&g, "--env", "FAKE_MODE=exit78", "--env", "FAKE_DOCTOR=fix", NULL);
	gw_wait_running(&g);
	cr_assert_eq(gw_fake_log_count(&g, "doctor --fix --yes --non-interactive"), 1);
	cr_assert_eq(gw_fake_log_count(&g, "exit exit78"), 1);
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert_eq(gw_json_num(st, "restarts"), 1);
	cJSON_Delete(st);
	gw_cleanup(&g);
}

Test(health, exit_78_after_the_doctor_stops_with_78)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--env", "FAKE_MODE=exit78", NULL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 78, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_fake_log_count(&g, "doctor --fix"), 1);
	cr_assert_eq(gw_fake_log_count(&g, "start mode=exit78"), 2);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "again after `openclaw doctor --fix`"), "%s", log);
	free(log);
	gw_cleanup(&g);

	/* A failing doctor stops it at once: no retry. */
	gw_init(&g, "main");
	launcher = gw_start(&g, "--env", "FAKE_MODE=exit78", "--env", "FAKE_DOCTOR=fail", NULL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 78, "%s", gw_launcher_log(&g, 0));
	cr_assert_eq(gw_fake_log_count(&g, "doctor --fix"), 1);
	cr_assert_eq(gw_fake_log_count(&g, "start mode=exit78"), 1);
	log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "exited with status 1"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(health, the_environment_has_the_handshake_and_no_service_markers)
{
	struct gw g;
	char path[PATH_MAX + 32];

	gw_init(&g, "main");
	/* The launcher itself runs as if under systemd. */
	g.launcher_env[0] = "INVOCATION_ID=0123456789abcdef";
	g.launcher_env[1] = "JOURNAL_STREAM=8:12345";
	g.launcher_env[2] = "SYSTEMD_EXEC_PID=1";
	g.launcher_env[3] = "OPENCLAW_SYSTEMD_UNIT=openclaw-gateway.service";
	gw_start(&g, "--env", "OPENCLAW_SERVICE_MARKER=openclaw", "--env",
		 "OPENCLAW_SERVICE_KIND=gateway", "--env", "JOURNAL_STREAM=1:2", NULL);
	gw_wait_running(&g);
	snprintf(path, sizeof(path), "%s/fake-gateway.env", g.state_dir);
	char *env = read_text_file(path);
	cr_assert_not_null(env);
	cr_assert(strstr(env, "OPENCLAW_NO_RESPAWN=1\n"), "%s", env);
	cr_assert(strstr(env, "OPENCLAW_SUPERVISOR_MODE=external\n"), "%s", env);
	cr_assert(strstr(env, "OPENCLAW_DISABLE_BONJOUR=1\n"), "%s", env);
	const char *markers[] = {"INVOCATION_ID", "JOURNAL_STREAM",	   "SYSTEMD_EXEC_PID",
				 "NOTIFY_SOCKET", "OPENCLAW_SYSTEMD_UNIT", "OPENCLAW_SERVICE_"};
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		cr_assert_null(strstr(env, markers[i]), "%s leaked: %s", markers[i], env);
	free(env);
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "--env OPENCLAW_SERVICE_MARKER: not passed"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(health, restart_keeps_the_supervisor_and_counts)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t first = gw_status_pid(&g, "child_pid");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "restart", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "restarted"), "%s", r.out);
	run_result_free(&r);
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert_eq(gw_json_num(st, "supervisor_pid"), launcher);
	cr_assert_eq(gw_json_num(st, "restarts"), 1);
	cr_assert_neq(gw_json_num(st, "child_pid"), first);
	cJSON_Delete(st);
	cr_assert(gw_wait_pid_gone(first, 10));
	gw_cleanup(&g);

	/* Nothing runs: nothing to restart. */
	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "restart", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "not running"), "%s", r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* Reads datagrams from FD until every one of WANT (NULL-ended) was seen
 * or TIMEOUT_MS passed; all of them, newline-joined, in BUF. */
static bool notify_wait(int fd, char *buf, size_t len, const char *const *want, long timeout_ms)
{
	long deadline = gw_now_ms() + timeout_ms;
	size_t n = strlen(buf);

	for (;;) {
		bool all = true;

		for (const char *const *w = want; *w; w++)
			all = all && strstr(buf, *w);
		if (all)
			return true;
		if (gw_now_ms() >= deadline)
			return false;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t got = recv(fd, buf + n, len - n - 2, 0);
		if (got > 0) {
			n += (size_t)got;
			buf[n++] = '\n';
			buf[n] = '\0';
		}
	}
}

Test(health, sd_notify_tells_systemd)
{
	struct gw g;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char env[PATH_MAX + 32], *buf = calloc(1, 65536);

	gw_init(&g, "main");
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/notify.sock", g.home);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", addr.sun_path);
	g.launcher_env[0] = env;
	g.launcher_env[1] = "WATCHDOG_USEC=1000000";
	pid_t launcher = gw_start(&g, "--env", "FAKE_READY_FAILING=telegram", NULL);
	const char *const started[] = {"READY=1", "STATUS=gateway degraded", "WATCHDOG=1", NULL};
	cr_assert(notify_wait(fd, buf, 65536, started, 120000), "got: %s\n%s", buf,
		  gw_launcher_log(&g, 0));
	kill(launcher, SIGTERM);
	const char *const stopping[] = {"STOPPING=1", NULL};
	cr_assert(notify_wait(fd, buf, 65536, stopping, 60000), "got: %s", buf);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 0, "%s", gw_launcher_log(&g, 0));
	/* The socket is the launcher's, not the gateway's. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/fake-gateway.env", g.state_dir);
	char *text = read_text_file(path);
	cr_assert_null(strstr(text, "NOTIFY_SOCKET"), "%s", text);
	cr_assert_null(strstr(text, "WATCHDOG_USEC"), "%s", text);
	free(text);
	close(fd);
	free(buf);
	gw_cleanup(&g);
}

Test(health, sigusr2_reaches_the_gateway_and_sigusr1_never_does)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, NULL);
	gw_wait_running(&g);
	pid_t init = gw_status_pid(&g, "init_pid");
	/* SIGUSR1 would open Node's inspector: neither the supervisor nor the
	 * sandbox's init passes it on, and it kills neither. */
	kill(launcher, SIGUSR1);
	kill(init, SIGUSR1);
	kill(launcher, SIGUSR2);
	long deadline = gw_now_ms() + 30000;
	while (gw_fake_log_count(&g, "got SIGUSR2") < 1 && gw_now_ms() < deadline)
		gw_sleep_ms(100);
	cr_assert_eq(gw_fake_log_count(&g, "got SIGUSR2"), 1, "%s", gw_launcher_log(&g, 0));
	gw_sleep_ms(1000);
	cr_assert_eq(gw_fake_log_count(&g, "got SIGUSR1"), 0);
	cr_assert_eq(gw_wait_status(&g, 0, 10), 0);
	cr_assert(gw_pid_alive(launcher));
	char *log = gw_launcher_log(&g, 0);
	cr_assert(strstr(log, "SIGUSR1 ignored"), "%s", log);
	free(log);
	gw_cleanup(&g);
}
