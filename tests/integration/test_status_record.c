/* `status` answers from the supervisor's record (the liveness watchdog's
 * latest check in the state file) while it can be believed, and asks the
 * gateway itself otherwise: the gateway turning unhealthy is seen within a
 * bounded time, `--probe` asks now, a record whose supervisor is gone or
 * stopped is never reported healthy, and exit 0 never comes with a state
 * of "starting". Deadlines only bound failures: no timed assertions. */
#include <sys/stat.h>

#include "gateway_util.h"

TestSuite(status_record, .fini = gw_fini);

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* <state>/fake-unhealthy: while it exists, /healthz answers 503. */
static void set_unhealthy(struct gw *g, bool on)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/fake-unhealthy", g->state_dir);
	if (on)
		write_text_file(path, "1\n");
	else
		unlink(path);
}

/* `status --json` until PRED holds (or TIMEOUT_S passes); the last answer
 * and its exit code. */
static cJSON *status_until(struct gw *g, bool (*pred)(const cJSON *, int), int timeout_s, int *code)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;
	cJSON *st = NULL;

	for (;;) {
		cJSON_Delete(st);
		st = gw_status_json(g, code);
		if (pred(st, *code) || gw_now_ms() >= deadline)
			return st;
		gw_sleep_ms(200);
	}
}

static bool unhealthy_from_record(const cJSON *st, int code)
{
	return code == 1 && strcmp(json_str(st, "health"), "unhealthy") == 0 &&
	       strcmp(json_str(st, "probe_source"), "supervisor") == 0;
}

Test(status_record, a_running_gateway_is_answered_from_the_record_and_seen_unhealthy)
{
	struct gw g;
	struct run_result r;
	int code;

	gw_init(&g, "main");
	/* Checked every second; never restarted for it (1000 failures). */
	gw_start(&g, "--liveness-interval", "1", "--liveness-failures", "1000",
		 "--liveness-timeout", "1", NULL);
	gw_wait_running(&g);
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(json_str(st, "probe_source"), "supervisor");
	cr_assert_str_eq(json_str(st, "health"), "healthy");
	cr_assert_gt(gw_json_num(st, "probed_at_ms"), 0);
	cr_assert_geq(gw_json_num(st, "probe_age_ms"), -1000);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "live")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "ready")));
	cr_assert(cJSON_IsArray(cJSON_GetObjectItem(st, "failing")));
	cJSON_Delete(st);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strstr(r.out, "running, healthy (probed ") && strstr(r.out, "by its supervisor"),
		  "%s", r.out);
	run_result_free(&r);

	/* The gateway turns unhealthy: the supervisor's next checks say so,
	 * and status with them, within a bound. */
	set_unhealthy(&g, true);
	st = status_until(&g, unhealthy_from_record, 60, &code);
	cr_assert(unhealthy_from_record(st, code), "never seen unhealthy: %d %s", code,
		  cJSON_Print(st));
	cr_assert_str_eq(json_str(st, "state"), "running");
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(st, "live")));
	cr_assert_eq(gw_json_num(st, "restarts"), 0);
	cJSON_Delete(st);

	/* And healthy again. */
	set_unhealthy(&g, false);
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0, "%s", gw_launcher_log(&g, 0));
	gw_cleanup(&g);
}

Test(status_record, probe_asks_the_gateway_now)
{
	struct gw g;
	struct run_result r;
	int code;

	gw_init(&g, "main");
	/* One check an hour: the record stays the one made at the start. */
	gw_start(&g, "--liveness-interval", "3600", NULL);
	gw_wait_running(&g);
	set_unhealthy(&g, true);

	/* The record is fresh and says healthy: status believes it. */
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(json_str(st, "probe_source"), "supervisor");
	cJSON_Delete(st);

	/* --probe asks now. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", "--probe", "--json", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	st = cJSON_Parse(r.out);
	cr_assert_not_null(st, "%s", r.out);
	cr_assert_str_eq(json_str(st, "probe_source"), "now");
	cr_assert_str_eq(json_str(st, "health"), "unhealthy");
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "healthz"), "status"), 503);
	cJSON_Delete(st);
	run_result_free(&r);

	set_unhealthy(&g, false);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", "--probe", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "running, healthy (probed now)"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

static bool healthy_from_record(const cJSON *st, int code)
{
	return code == 0 && strcmp(json_str(st, "health"), "healthy") == 0 &&
	       strcmp(json_str(st, "probe_source"), "supervisor") == 0;
}

/* Started before ready (channels still connecting): the supervisor checks
 * a live, not-ready gateway again sooner than its interval, so the record
 * turns ready long before the next regular check (ten minutes here). */
Test(status_record, the_record_follows_readiness_after_the_start)
{
	struct gw g;
	struct run_result r;
	int code;

	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "gateway", "--detach", "--gateway-cmd",
			    FAKE_GATEWAY, "--liveness-interval", "600", "--env",
			    "FAKE_READY_DELAY_MS=3000", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cJSON *st = status_until(&g, healthy_from_record, 90, &code);
	cr_assert(healthy_from_record(st, code), "still not ready by the record: %d %s", code,
		  cJSON_Print(st));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "ready")));
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "readyz"), "status"), 200);
	cJSON_Delete(st);
	gw_cleanup(&g);
}

static bool probed_now_for_age(const cJSON *st, int code)
{
	(void)code;
	return strcmp(json_str(st, "probe_source"), "now") == 0 &&
	       strstr(json_str(st, "probe_note"), "old");
}

/* A supervisor that is alive but keeps no record fresh (stopped here with
 * SIGSTOP): once its last check is too old, status asks now and says why. */
Test(status_record, a_stale_record_is_replaced_by_a_probe)
{
	struct gw g;
	struct run_result r;
	int code;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--liveness-interval", "1", "--liveness-timeout", "1", NULL);
	gw_wait_running(&g);
	cr_assert_eq(kill(launcher, SIGSTOP), 0);
	cJSON *st = status_until(&g, probed_now_for_age, 90, &code);
	bool seen = probed_now_for_age(st, code);
	/* The gateway itself never stopped answering. */
	set_unhealthy(&g, true);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	kill(launcher, SIGCONT); /* before any assertion */
	cr_assert(seen, "the stale record was still believed: %s", cJSON_Print(st));
	cr_assert_eq(code, 0);
	cr_assert_str_eq(json_str(st, "health"), "healthy");
	cJSON_Delete(st);
	/* Asked now, not the stale record: the flag set after it shows. */
	cr_assert_eq(r.exit_code, 1, "%s", r.out);
	cr_assert(strstr(r.out, "unhealthy (probed now: the supervisor's last check is"), "%s",
		  r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* The supervisor SIGKILLed; a process it had passed its lock to still
 * holds it (the test stands in for one). Its record said healthy. */
Test(status_record, a_killed_supervisors_record_is_not_reported_healthy)
{
	struct gw g;
	struct run_result r;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char lock[PATH_MAX];
	int code;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--liveness-interval", "3600", NULL);
	gw_wait_running(&g);
	gw_lock_path(&g, lock, sizeof(lock));
	kill(launcher, SIGKILL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 30), 128 + SIGKILL);
	/* Nothing holds the lock: stopped, whatever the record says. */
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(code, 3, "%s", cJSON_Print(st));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(st, "healthy")));
	cJSON_Delete(st);

	/* The lock file still names the dead supervisor (SIGKILL leaves it). */
	int fd = open(lock, O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s", lock);
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	st = gw_status_json(&g, &code);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "status", NULL), 0);
	close(fd); /* before any assertion: gw_fini's `stop` must find no lock */
	cr_assert_eq(code, 1, "%s", cJSON_Print(st));
	cr_assert_str_eq(json_str(st, "state"), "supervisor-gone");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "supervisor_gone")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(st, "healthy")));
	cr_assert_str_neq(json_str(st, "health"), "healthy");
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(st, "supervisor_pid")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(st, "child_pid")));
	cJSON_Delete(st);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.out, "supervisor gone"), "%s", r.out);
	cr_assert_null(strstr(r.out, "healthy"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* The state file's phase, read as the supervisor wrote it. */
static char *state_phase(struct gw *g, char *buf, size_t len)
{
	char path[PATH_MAX];
	cJSON *st = gw_status_json(g, NULL);

	snprintf(path, sizeof(path), "%s", json_str(st, "state_file"));
	cJSON_Delete(st);
	char *text = read_text_file(path);
	cJSON *o = text ? cJSON_Parse(text) : NULL;

	snprintf(buf, len, "%s", o ? json_str(o, "phase") : "");
	cJSON_Delete(o);
	free(text);
	return buf;
}

/* Exit 0 means the supervisor saw the run start: never with a state of
 * "starting", never before the state file says started. */
Test(status_record, exit_0_only_once_the_supervisor_says_started)
{
	struct gw g;
	long deadline;
	int code = -1, samples = 0;
	char phase[32];

	gw_init(&g, "main");
	gw_start(&g, "--env", "FAKE_STARTUP_DELAY_MS=1500", NULL);
	deadline = gw_now_ms() + 120000;
	while (code != 0 && gw_now_ms() < deadline) {
		cJSON *st = gw_status_json(&g, &code);
		const char *state = json_str(st, "state");

		samples++;
		if (code == 0) {
			cr_assert_str_eq(state, "running", "exit 0 with state %s", state);
			cr_assert_str_eq(state_phase(&g, phase, sizeof(phase)), "started");
		} else {
			cr_assert_str_neq(state, "running", "exit %d while running and healthy",
					  code);
		}
		cJSON_Delete(st);
		gw_sleep_ms(50);
	}
	cr_assert_eq(code, 0, "never started: %s", gw_launcher_log(&g, 0));
	cr_assert_gt(samples, 1);
	gw_cleanup(&g);
}
