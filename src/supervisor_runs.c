/* One run of the gateway, or of the doctor pass, from spawn to its end, and
 * what the supervisor decides then (see supervisor.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "detach.h"
#include "resources.h"
#include "sd_notify.h"
#include "supervisor_internal.h"

/* Builds and spawns one run: the gateway, or the doctor pass. */
static int spawn_run(struct sup *s, enum run_kind kind)
{
	const struct supervisor_launch *l = &s->o->launch;
	struct sandbox_status status = {0};
	ocr_error err = {0};
	char buf[SANDBOX_ERROR_MSG_MAX + 128];
	int rc;

	rc = plan_build(&s->inst, &l->popt, kind == RUN_DOCTOR ? l->doctor_argv : s->argv, &s->sb,
			&err);
	/* The host does not change between runs: its warnings (limits off,
	 * no Landlock network rules) were said at the first start. */
	bool warn = !(s->st->restarts > 0 || s->doctor_ran || kind == RUN_DOCTOR);

	if (rc == 0 && !warn)
		sandbox_set_warning_fd(s->sb, -1);
	if (rc < 0 || sandbox_spawn(s->sb, &status, &err) < 0) {
		sandbox_free(s->sb);
		s->sb = NULL;
		sup_say(s, "cannot start the %s: %s", kind == RUN_DOCTOR ? "doctor" : "gateway",
			err_text(&err, buf, sizeof(buf)));
		sup_finish(s, SUPERVISOR_EXIT_FAILED, PHASE_FAILED);
		return -1;
	}
	if (warn)
		plan_spawned(s->sb, &l->popt);
	s->kind = kind;
	s->pidfd = sandbox_pidfd(s->sb);
	s->run_start_ms = runtime_now_ms();
	s->stopping = STOP_NONE;
	s->killed = false;
	s->st->init_pid = status.init_pid;
	s->st->child_pid = status.child_pid;
	s->st->init_start_ticks = runtime_proc_start_ticks(status.init_pid);
	s->st->started_at = runtime_now_unix();
	s->st->ready_at = 0;
	return 0;
}

void sup_start_gateway(struct sup *s)
{
	int64_t now;

	if (spawn_run(s, RUN_GATEWAY) < 0)
		return;
	now = runtime_now_ms();
	s->st->phase = PHASE_STARTING;
	s->live.failures = 0;
	s->st->liveness_failures = 0;
	/* The last run's checks say nothing of this one. */
	memset(&s->st->health, 0, sizeof(s->st->health));
	sup_save_state(s);
	sup_say(s,
		"gateway started (sandbox pid %ld, gateway pid %ld), waiting for "
		"http://127.0.0.1:%u/startupz",
		(long)s->st->init_pid, (long)s->st->child_pid, s->port);
	detach_say_progress(s->notify_fd, "startupz");
	sd_notifyf(s->o->sd, "STATUS=starting the gateway");
	/* Until the first start the grace counts from the launch, so a
	 * gateway that keeps crashing while starting cannot hold a --detach
	 * caller forever. */
	s->start_deadline = (s->ever_started ? now : s->launch_ms) + s->o->start_grace_s * 1000LL;
	s->check_at = 0;
	s->tick = now + 1000;
	sup_start_probe(s, PROBE_UNTIL_STARTED);
}

static void start_doctor(struct sup *s)
{
	char cmd[512] = "";

	for (char *const *a = s->o->launch.doctor_argv + 1; *a; a++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", cmd[0] ? " " : "",
			 *a);
	sup_say(s,
		"gateway exited with status 78 (configuration or state error): running `%s` once "
		"in its sandbox",
		cmd);
	s->doctor_ran = true;
	if (spawn_run(s, RUN_DOCTOR) < 0)
		return;
	s->st->phase = PHASE_DOCTOR;
	sup_save_state(s);
	detach_say_progress(s->notify_fd, "doctor");
	sd_notifyf(s->o->sd, "STATUS=exit 78: running openclaw doctor --fix");
	/* The doctor gets the start grace too: it must not hang us. */
	s->start_deadline = runtime_now_ms() + s->o->start_grace_s * 1000LL;
}

void sup_begin_stop(struct sup *s, enum stop_reason why)
{
	sup_begin_stop_with(s, why, SIGTERM);
}

void sup_begin_stop_with(struct sup *s, enum stop_reason why, int sig)
{
	ocr_error err = {0};

	sup_stop_probe(s);
	s->start_deadline = 0;
	s->check_at = 0;
	if (s->stopping != STOP_NONE) {
		if (why == STOP_REQUEST)
			s->stopping = why; /* a stop request beats a restart */
		return;
	}
	s->stopping = why;
	s->st->phase = PHASE_STOPPING;
	sup_save_state(s);
	if (why == STOP_REQUEST)
		sd_notifyf(s->o->sd, "STOPPING=1\nSTATUS=stopping the gateway");
	/* ESRCH: it is already gone; the pidfd reports it right away. */
	sandbox_signal(s->sb, sig, &err);
	s->grace_deadline = runtime_now_ms() + s->o->grace_s * 1000LL;
}

static void give_up_config(struct sup *s, const char *why)
{
	sup_say(s,
		"gateway exited with status 78 (configuration or state error)%s: not restarting "
		"it. Read its output above, fix the config, check with `openclaw-run --profile %s "
		"check`, and start it again",
		why, s->o->label);
	sup_finish(s, SUPERVISOR_EXIT_CONFIG, PHASE_CONFIG_ERROR);
}

static void doctor_ended(struct sup *s, int code, const char *what)
{
	if (s->stopping == STOP_REQUEST) {
		sup_say(s, "stopped while `openclaw doctor` ran");
		sup_finish(s, SUPERVISOR_EXIT_STOPPED, PHASE_STOPPED);
	} else if (code != 0 || s->stopping != STOP_NONE) {
		char why[160];

		snprintf(why, sizeof(why), ", and `openclaw doctor --fix` %s",
			 s->stopping ? "did not finish within the start grace" : what);
		give_up_config(s, why);
	} else {
		sup_say(s, "`openclaw doctor --fix` finished: starting the gateway again (once)");
		s->st->restarts++;
		sup_start_gateway(s);
	}
}

/* An exit nobody asked for (or a liveness restart): the restart policy
 * decides. */
static void restart_by_policy(struct sup *s, int code, const char *what, int64_t uptime)
{
	int64_t now = runtime_now_ms(), delay;

	switch (restart_policy_on_exit(&s->policy, now, uptime, code, &delay)) {
	case RESTART_GIVE_UP_CONFIG:
		if (s->o->launch.doctor_argv && !s->doctor_ran)
			start_doctor(s);
		else
			give_up_config(s,
				       s->doctor_ran ? " again after `openclaw doctor --fix`" : "");
		return;
	case RESTART_GIVE_UP_CRASH_LOOP:
		sup_say(s, "gateway %s; it failed %d times within %d s: crash loop, giving up",
			what, CRASH_LOOP_FAILURES, CRASH_LOOP_WINDOW_MS / 1000);
		sup_finish(s, SUPERVISOR_EXIT_CRASH_LOOP, PHASE_CRASH_LOOP);
		return;
	case RESTART_AFTER_DELAY:
		break;
	}
	if (!s->ever_started && now + delay >= s->launch_ms + s->o->start_grace_s * 1000LL) {
		sup_say(s, "gateway %s and did not start within %d s: giving up", what,
			s->o->start_grace_s);
		sup_finish(s, SUPERVISOR_EXIT_NOT_STARTED, PHASE_FAILED);
		return;
	}
	sup_say(s, "gateway %s after %.1f s; restarting in %.0f s", what, (double)uptime / 1000.0,
		(double)delay / 1000.0);
	s->st->phase = PHASE_BACKOFF;
	sup_save_state(s);
	sd_notifyf(s->o->sd, "STATUS=gateway %s; restarting in %.0f s", what,
		   (double)delay / 1000.0);
	s->backoff_deadline = now + delay;
}

/* An exit the sandbox's cgroups explain (an OOM kill, forks refused at the
 * pids limit) is said with the counters, and kept for `status`. */
static void limits_why(const struct sandbox *sb, int code, char *what, size_t len, char *why,
		       size_t why_len)
{
	struct sandbox_usage u;

	sandbox_usage_get(sb, &u);
	why[0] = '\0';
	if (code != 0 && resources_explain(&u, why, why_len))
		snprintf(what + strlen(what), len - strlen(what), " (%s)", why);
}

void sup_run_ended(struct sup *s, int code)
{
	int64_t uptime = runtime_now_ms() - s->run_start_ms;
	enum stop_reason why = s->stopping;
	char what[384];

	sup_describe_exit(code, what, sizeof(what));
	limits_why(s->sb, code, what, sizeof(what), s->st->last_exit_why,
		   sizeof(s->st->last_exit_why));
	sandbox_free(s->sb);
	s->sb = NULL;
	s->pidfd = -1;
	s->grace_deadline = 0;
	s->start_deadline = 0;
	s->check_at = 0;
	sup_stop_probe(s);
	sup_clear_progress(s);
	s->st->init_pid = s->st->child_pid = 0;
	if (s->kind == RUN_DOCTOR) {
		doctor_ended(s, code, what);
		return;
	}
	s->st->last_exit = code;
	switch (why) {
	case STOP_REQUEST:
		sup_say(s, "gateway stopped (%s%s)", what, s->killed ? ", after SIGKILL" : "");
		sup_finish(s, s->killed ? SUPERVISOR_EXIT_KILLED : SUPERVISOR_EXIT_STOPPED,
			   PHASE_STOPPED);
		return;
	case STOP_NOT_STARTED:
		if (!s->ever_started) {
			sup_finish(s, SUPERVISOR_EXIT_NOT_STARTED, PHASE_FAILED);
			return;
		}
		break; /* a later run: like a hang, the policy decides */
	case STOP_PROBE_FAILED:
		sup_finish(s, SUPERVISOR_EXIT_FAILED, PHASE_FAILED);
		return;
	case STOP_RESTART:
		s->st->restarts++;
		sup_say(s, "gateway %s; restarting it (%s)", what, s->st->last_restart_reason);
		sup_start_gateway(s);
		return;
	case STOP_LIVENESS:
	case STOP_NONE:
		break;
	}
	restart_by_policy(s, code, what, uptime);
}

void sup_on_started(struct sup *s, const struct health_report *r)
{
	int64_t now = runtime_now_ms();
	const struct health_verdict *v = &r->v;

	s->ever_started = true;
	s->start_deadline = 0;
	s->st->phase = PHASE_STARTED;
	s->st->ready_at = runtime_now_unix();
	s->st->health = *r;
	sup_save_state(s);
	sup_clear_progress(s);
	sup_say(s,
		"gateway started on http://127.0.0.1:%u after %.1f s (gateway pid %ld)%s; %s%s%s",
		s->port, (double)(now - s->run_start_ms) / 1000.0, (long)s->st->child_pid,
		v->startup_fallback ? " (no /startupz: judged by /healthz)" : "",
		v->ready == 1 ? "ready" : "not ready yet", v->failing[0] ? ", failing: " : "",
		v->failing);
	detach_say_started(s->notify_fd, now - s->run_start_ms);
	sup_close_notify(s);
	sd_notifyf(s->o->sd, "READY=1\nSTATUS=gateway %s on port %u", health_word(v), s->port);
	s->recheck_ms = 0;
	if (s->o->liveness_interval_s > 0)
		s->check_at = now + liveness_next_check_ms(s->o->liveness_interval_s, v->live,
							   v->ready, &s->recheck_ms);
}

void sup_on_check(struct sup *s, const struct health_report *r, const char *no_report)
{
	bool live = r && r->v.live == 1;
	char why[160];

	if (r) {
		s->st->health = *r;
		snprintf(why, sizeof(why), "/healthz: %s", r->error);
	} else {
		/* No answer at all is a failed check, stamped now. */
		snprintf(why, sizeof(why), "%s", no_report);
		memset(&s->st->health, 0, sizeof(s->st->health));
		s->st->health.at_ms = runtime_now_unix_ms();
		s->st->health.v = (struct health_verdict){.live = 0, .started = -1, .ready = -1};
		snprintf(s->st->health.error, sizeof(s->st->health.error), "%s", no_report);
	}
	if (liveness_record(&s->live, live)) {
		s->st->liveness_failures = (unsigned)s->live.failures;
		snprintf(s->st->last_restart_reason, sizeof(s->st->last_restart_reason),
			 "not live: %d checks in a row failed (%s)", s->live.failures, why);
		sup_say(s, "gateway %s: restarting it", s->st->last_restart_reason);
		sd_notifyf(s->o->sd, "STATUS=gateway not live: restarting it");
		sup_begin_stop(s, STOP_LIVENESS);
		return;
	}
	if (!live)
		sup_say(s, "liveness check %d of %d failed (%s)", s->live.failures,
			s->live.failures_max, why);
	s->st->liveness_failures = (unsigned)s->live.failures;
	sup_save_state(s);
	if (r)
		sd_notifyf(s->o->sd, "STATUS=gateway %s%s%s", health_word(&r->v),
			   r->v.failing[0] ? ": " : "", r->v.failing);
	s->check_at =
	    runtime_now_ms() + liveness_next_check_ms(s->o->liveness_interval_s, r ? r->v.live : 0,
						      r ? r->v.ready : -1, &s->recheck_ms);
}
