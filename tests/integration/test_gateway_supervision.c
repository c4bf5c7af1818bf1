/* Supervision with the fake gateway: restarts with backoff, no retry on exit
 * 78, crash-loop stop, SIGTERM forwarding, grace then SIGKILL, SIGHUP
 * restart, SIGKILL of the launcher, stale lock takeover. Only "eventually"
 * assertions: the CI machine is slow and noisy. */
#include "gateway_util.h"

TestSuite(supervision, .fini = gw_fini);

Test(supervision, restarts_a_crashing_gateway_until_it_runs)
{
	struct gw g;
	int code;

	gw_init(&g, "main");
	gw_start(&g, "--env", "FAKE_MODE=crash-then-run", "--env", "FAKE_CRASHES=2", NULL);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 0));
	cJSON *st = gw_status_json(&g, &code);
	cr_assert_eq(gw_json_num(st, "restarts"), 2);
	cr_assert_eq(gw_json_num(st, "last_exit"), 1);
	cJSON_Delete(st);
	cr_assert_eq(gw_fake_log_count(&g, "start mode=crash-then-run"), 3);
	char *log = gw_launcher_log(&g, 0);
	/* Backoff: the first restart after 1 s, the second after 2 s. */
	cr_assert(strstr(log, "restarting in 1 s"), "%s", log);
	cr_assert(strstr(log, "restarting in 2 s"), "%s", log);
	free(log);
	gw_cleanup(&g);
}

Test(supervision, exit_78_is_not_retried)
{
	struct gw g;

	gw_init(&g, "main");
	pid_t launcher = gw_start(&g, "--env", "FAKE_MODE=exit78", NULL);
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
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 0));
	cJSON *st = gw_status_json(&g, NULL);
	pid_t child = (pid_t)gw_json_num(st, "child_pid");
	cJSON_Delete(st);
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
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 0));
	cJSON *st = gw_status_json(&g, NULL);
	pid_t child = (pid_t)gw_json_num(st, "child_pid");
	pid_t init = (pid_t)gw_json_num(st, "init_pid");
	cJSON_Delete(st);
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
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 0));
	cJSON *st = gw_status_json(&g, NULL);
	pid_t first = (pid_t)gw_json_num(st, "child_pid");
	cJSON_Delete(st);
	kill(launcher, SIGHUP);
	long deadline = gw_now_ms() + 120000;
	pid_t second = first;
	double restarts = 0;
	int code = -1;
	while (gw_now_ms() < deadline) {
		st = gw_status_json(&g, &code);
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
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "%s", gw_launcher_log(&g, 0));
	cJSON *st = gw_status_json(&g, NULL);
	pid_t child = (pid_t)gw_json_num(st, "child_pid");
	pid_t init = (pid_t)gw_json_num(st, "init_pid");
	cJSON_Delete(st);
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
