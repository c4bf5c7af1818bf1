/* The supervisor's pure parts: the restart policy (backoff, crash loop,
 * exit 78) and the runtime state file round trip. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"
#include "supervisor.h"

static enum restart_action fail_at(struct restart_policy *p, int64_t now, int64_t uptime,
				   int64_t *delay)
{
	return restart_policy_on_exit(p, now, uptime, 1, delay);
}

Test(restart_policy, backoff_doubles_to_sixty_seconds)
{
	struct restart_policy p;
	int64_t delay, now = 0;
	const int64_t expect[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};

	restart_policy_init(&p);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		/* Failures far enough apart never count as a crash loop. */
		now += CRASH_LOOP_WINDOW_MS;
		cr_assert_eq(fail_at(&p, now, 5000, &delay), RESTART_AFTER_DELAY, "failure %zu", i);
		cr_assert_eq(delay, expect[i], "failure %zu: delay %lld", i, (long long)delay);
	}
}

Test(restart_policy, long_run_resets_backoff)
{
	struct restart_policy p;
	int64_t delay, now = 0;

	restart_policy_init(&p);
	for (int i = 0; i < 4; i++) {
		now += CRASH_LOOP_WINDOW_MS;
		fail_at(&p, now, 1000, &delay);
	}
	cr_assert_eq(delay, 8000);
	now += BACKOFF_RESET_UPTIME_MS;
	cr_assert_eq(fail_at(&p, now, BACKOFF_RESET_UPTIME_MS, &delay), RESTART_AFTER_DELAY);
	cr_assert_eq(delay, BACKOFF_INITIAL_MS);
	/* Just under ten minutes is not long enough. */
	now += BACKOFF_RESET_UPTIME_MS;
	fail_at(&p, now, BACKOFF_RESET_UPTIME_MS - 1, &delay);
	cr_assert_eq(delay, 2000);
}

Test(restart_policy, exit_78_is_not_retried)
{
	struct restart_policy p;
	int64_t delay = 123;

	restart_policy_init(&p);
	cr_assert_eq(restart_policy_on_exit(&p, 1000, 500, GATEWAY_EXIT_CONFIG_ERROR, &delay),
		     RESTART_GIVE_UP_CONFIG);
	cr_assert_eq(delay, 0);
}

Test(restart_policy, five_failures_in_two_minutes_is_a_crash_loop)
{
	struct restart_policy p;
	int64_t delay, now = 1000000;

	restart_policy_init(&p);
	for (int i = 0; i < CRASH_LOOP_FAILURES - 1; i++) {
		cr_assert_eq(fail_at(&p, now, 100, &delay), RESTART_AFTER_DELAY, "failure %d", i);
		now += delay + 100;
	}
	cr_assert_eq(fail_at(&p, now, 100, &delay), RESTART_GIVE_UP_CRASH_LOOP);
}

Test(restart_policy, failures_spread_over_more_than_the_window_are_no_loop)
{
	struct restart_policy p;
	int64_t delay, now = 0;

	restart_policy_init(&p);
	/* 4 quick failures, then one after the window: only 4 are recent. */
	for (int i = 0; i < 4; i++)
		fail_at(&p, now += 1000, 100, &delay);
	cr_assert_eq(fail_at(&p, now + CRASH_LOOP_WINDOW_MS, 100, &delay), RESTART_AFTER_DELAY);
}

Test(restart_policy, crash_signals_count_as_failures)
{
	struct restart_policy p;
	int64_t delay, now = 0;
	enum restart_action a = RESTART_AFTER_DELAY;

	restart_policy_init(&p);
	for (int i = 0; i < CRASH_LOOP_FAILURES; i++)
		a = restart_policy_on_exit(&p, now += 10, 5, 128 + 11, &delay);
	cr_assert_eq(a, RESTART_GIVE_UP_CRASH_LOOP);
}

Test(runtime, state_file_round_trip)
{
	char dir[] = "/tmp/ocr-unit-runtime-XXXXXX";
	struct runtime_paths rp = {0};
	struct runtime_state st, back;
	ocr_error err = {0};
	bool found = true;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(rp.dir, sizeof(rp.dir), "%s", dir);
	snprintf(rp.state, sizeof(rp.state), "%s/x.json", dir);
	snprintf(rp.lock, sizeof(rp.lock), "%s/x.lock", dir);
	cr_assert_eq(runtime_state_read(&rp, &back, &found, &err), 0);
	cr_assert_not(found);
	runtime_state_init(&st);
	snprintf(st.profile, sizeof(st.profile), "rescue");
	st.supervisor_pid = 42;
	st.init_pid = 43;
	st.child_pid = 44;
	st.port_base = 18909;
	st.port_last = 19019;
	st.restarts = 3;
	st.last_exit = 137;
	st.started_at = 1700000000;
	st.phase = PHASE_CRASH_LOOP;
	/* The watchdog's latest check travels with its time. */
	st.health.at_ms = 1700000000123LL;
	st.health.v = (struct health_verdict){.live = 1, .started = 1, .ready = 0};
	snprintf(st.health.v.failing, sizeof(st.health.v.failing), "telegram, discord");
	st.health.readyz = (struct probe_result){503, 1.25};
	st.liveness_failures = 2;
	st.liveness_interval_s = 30;
	st.liveness_failures_max = 4;
	snprintf(st.last_restart_reason, sizeof(st.last_restart_reason), "not live");
	cr_assert_eq(runtime_state_write(&rp, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(runtime_state_read(&rp, &back, &found, &err), 0);
	cr_assert(found);
	cr_assert_str_eq(back.profile, "rescue");
	cr_assert_eq(back.supervisor_pid, 42);
	cr_assert_eq(back.child_pid, 44);
	cr_assert_eq(back.port_base, 18909);
	cr_assert_eq(back.restarts, 3);
	cr_assert_eq(back.last_exit, 137);
	cr_assert_eq(back.started_at, 1700000000);
	cr_assert_eq(back.phase, PHASE_CRASH_LOOP);
	cr_assert_eq(back.health.at_ms, 1700000000123LL);
	cr_assert_eq(back.health.v.live, 1);
	cr_assert_eq(back.health.v.ready, 0);
	cr_assert_str_eq(back.health.v.failing, "telegram, discord");
	cr_assert_eq(back.health.readyz.status, 503);
	cr_assert_eq(back.liveness_failures, 2);
	cr_assert_eq(back.liveness_interval_s, 30);
	cr_assert_eq(back.liveness_failures_max, 4);
	cr_assert_str_eq(back.last_restart_reason, "not live");
	unlink(rp.state);
	rmdir(dir);
}

/* A pid recorded by a launcher in another pid namespace (a container's
 * pid 1) names some other process here: it is never reported as a pid. */
Test(runtime, lock_pid_from_another_pid_namespace_is_not_a_pid_here)
{
	char dir[] = "/tmp/ocr-unit-lockns-XXXXXX";
	struct runtime_paths rp = {0};
	ocr_error err = {0};
	pid_t holder, stale, pid;
	struct stat st;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(rp.lock, sizeof(rp.lock), "%s/x.lock", dir);
	cr_assert_eq(stat("/proc/self/ns/pid", &st), 0);
	FILE *f = fopen(rp.lock, "w");
	fprintf(f, "1 %llu\n", (unsigned long long)st.st_ino + 1);
	fclose(f);
	/* Held by someone: our own other open file description stands in. */
	int other = open(rp.lock, O_RDWR | O_CLOEXEC);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	cr_assert_eq(fcntl(other, F_OFD_SETLK, &fl), 0);
	cr_assert_eq(runtime_lock_held(&rp, &pid, &err), 1);
	cr_assert_eq(pid, -1);
	cr_assert_eq(runtime_lock(&rp, &fd, &holder, &stale, &err), -1);
	cr_assert_eq(holder, 0);
	cr_assert(strstr(err.msg, "another pid namespace"), "%s", err.msg);
	close(other);
	/* Taken over: the foreign pid is not reported as a stale pid of ours. */
	cr_assert_eq(runtime_lock(&rp, &fd, &holder, &stale, &err), 0, "%s", err.msg);
	cr_assert_eq(stale, 0);
	/* Our own record carries our namespace and reads back as our pid. */
	cr_assert_eq(runtime_lock_held(&rp, &pid, &err), 1);
	cr_assert_eq(pid, getpid());
	close(fd);
	unlink(rp.lock);
	rmdir(dir);
}

Test(runtime, lock_refuses_a_second_holder_and_names_the_pid)
{
	char dir[] = "/tmp/ocr-unit-lock-XXXXXX";
	struct runtime_paths rp = {0};
	ocr_error err = {0};
	pid_t holder, stale, pid;
	int fd, fd2;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(rp.lock, sizeof(rp.lock), "%s/x.lock", dir);
	cr_assert_eq(runtime_lock_held(&rp, &pid, &err), 0);
	cr_assert_eq(runtime_lock(&rp, &fd, &holder, &stale, &err), 0, "%s", err.msg);
	cr_assert_eq(stale, 0);
	cr_assert_eq(runtime_lock_held(&rp, &pid, &err), 1);
	cr_assert_eq(pid, getpid());
	/* An OFD lock conflicts with another open of the same file, even in
	 * the same process. */
	cr_assert_eq(runtime_lock(&rp, &fd2, &holder, &stale, &err), -1);
	cr_assert_eq(holder, getpid());
	cr_assert(strstr(err.msg, "already running"));
	close(fd);
	cr_assert_eq(runtime_lock_held(&rp, &pid, &err), 0);
	/* The pid left in the file is reported as stale when taken over. */
	FILE *f = fopen(rp.lock, "w");
	fprintf(f, "999999\n");
	fclose(f);
	cr_assert_eq(runtime_lock(&rp, &fd, &holder, &stale, &err), 0);
	cr_assert_eq(stale, 999999);
	close(fd);
	unlink(rp.lock);
	rmdir(dir);
}

Test(runtime, durations_read_well)
{
	char buf[32];

	runtime_format_duration(41, buf, sizeof(buf));
	cr_assert_str_eq(buf, "41s");
	runtime_format_duration(3 * 3600 + 2 * 60 + 5, buf, sizeof(buf));
	cr_assert_str_eq(buf, "3h 02m");
}

Test(supervisor_log, rotates_at_the_cap_and_keeps_two)
{
	char dir[] = "/tmp/ocr-unit-log-XXXXXX", path[128], old[160];
	struct supervisor_log *log;
	ocr_error err = {0};
	char line[40];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/openclaw-run.log", dir);
	cr_assert_eq(supervisor_log_open(path, 100, &log, &err), 0, "%s", err.msg);
	for (int i = 0; i < 10; i++) {
		int n = snprintf(line, sizeof(line), "line %d of about forty bytes....\n", i);
		supervisor_log_write(log, line, (size_t)n);
	}
	supervisor_log_close(log);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_leq(st.st_size, 100);
	snprintf(old, sizeof(old), "%s.1", path);
	cr_assert_eq(stat(old, &st), 0);
	snprintf(old, sizeof(old), "%s.2", path);
	cr_assert_eq(stat(old, &st), 0);
	snprintf(old, sizeof(old), "%s.3", path);
	cr_assert_neq(stat(old, &st), 0);
	/* The newest line is in the current file. */
	FILE *f = fopen(path, "r");
	char buf[256] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	cr_assert(strstr(buf, "line 9 "), "%s", buf);
	unlink(path);
	snprintf(old, sizeof(old), "%s.1", path);
	unlink(old);
	snprintf(old, sizeof(old), "%s.2", path);
	unlink(old);
	rmdir(dir);
}
