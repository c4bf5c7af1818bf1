/* Stop and restart requests to a running supervisor (see control.h). */
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "supervisor.h"

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void track(struct control_report *r, pid_t pid)
{
	unsigned long long start;

	if (pid <= 0 || r->n_seen == CONTROL_MAX_SEEN)
		return;
	for (int i = 0; i < r->n_seen; i++)
		if (r->seen[i].pid == pid)
			return;
	start = runtime_proc_start_ticks(pid);
	if (start) /* 0: already gone (or a zombie) */
		r->seen[r->n_seen++] = (struct control_pid){pid, start};
}

/* A supervisor seen before that has not exited yet (0: none). */
static pid_t seen_alive(const struct control_report *r)
{
	for (int i = 0; i < r->n_seen; i++)
		if (runtime_pid_alive(r->seen[i].pid, r->seen[i].start))
			return r->seen[i].pid;
	return 0;
}

/* Nothing left: no supervisor holds the lock, none seen is still exiting,
 * and the sandbox's init (as recorded, checked against pid reuse) is gone.
 * R->left_* name what is left. */
static bool all_gone(const struct instance *inst, struct control_report *r)
{
	struct gateway_view *v = &r->view;
	ocr_error err = {0};

	if (gateway_view_get(inst, NULL, GATEWAY_PROBE_NONE, v, &err) < 0)
		return false;
	track(r, gateway_view_supervisor_pid(v));
	r->left_supervisor = v->running && v->lock_pid > 0 ? v->lock_pid : seen_alive(r);
	r->left_sandbox = v->have_state && v->st.init_pid > 0 &&
				  runtime_pid_alive(v->st.init_pid, v->st.init_start_ticks)
			      ? v->st.init_pid
			      : 0;
	return !v->running && !v->orphan && !r->left_supervisor && !r->left_sandbox;
}

struct waiting {
	control_progress_fn progress;
	void *arg;
	int64_t since, said;
};

/* *SIGNALED non-NULL: SIGTERM whoever holds the lock now, once. */
static bool wait_gone(const struct instance *inst, struct control_report *r, long timeout_ms,
		      pid_t *signaled, struct waiting *w)
{
	int64_t deadline = runtime_now_ms() + timeout_ms;

	while (!all_gone(inst, r)) {
		pid_t sup = gateway_view_supervisor_pid(&r->view);
		int64_t now = runtime_now_ms();

		if (signaled && sup > 0 && sup != *signaled &&
		    kill(sup, SUPERVISOR_SIGNAL_STOP) == 0)
			*signaled = sup;
		if (w->progress && now - w->said >= CONTROL_PROGRESS_MS) {
			w->said = now;
			w->progress(r, now - w->since, w->arg);
		}
		if (now >= deadline)
			return false;
		pause_ms(100);
	}
	return true;
}

int control_stop(const struct instance *inst, int timeout_s, control_progress_fn progress,
		 void *arg, struct control_report *r, ocr_error *err)
{
	const char *label = profile_label(&inst->profile);
	struct gateway_view *v = &r->view;
	struct waiting w = {progress, arg, runtime_now_ms(), runtime_now_ms()};

	memset(r, 0, sizeof(*r));
	if (gateway_view_get(inst, NULL, GATEWAY_PROBE_NONE, v, err) < 0)
		return -1;
	if (v->orphan && !v->running) {
		/* A sandbox without a supervisor: nobody is left to be graceful. */
		r->was_running = r->orphan_killed = true;
		kill(v->st.init_pid, SIGKILL);
	} else if (!v->running) {
		return 0;
	} else if (v->foreign_pid_ns) {
		return err_set(err, 0,
			       "stop: %s: its supervisor runs in another pid namespace (a "
			       "container?): stop it there",
			       label);
	} else {
		r->was_running = true;
		r->supervisor = gateway_view_supervisor_pid(v);
		track(r, r->supervisor);
		if (r->supervisor <= 0 ||
		    (kill(r->supervisor, SUPERVISOR_SIGNAL_STOP) < 0 && errno != ESRCH))
			return err_set(err, errno, "stop: %s: cannot signal supervisor pid %ld",
				       label, (long)r->supervisor);
		pid_t signaled = r->supervisor;
		if (!wait_gone(inst, r, (long)timeout_s * 1000, &signaled, &w)) {
			/* What is left as of now: the pid signalled first may be
			 * gone and reused (the seen ones are checked against it). */
			r->forced = true;
			if (r->left_sandbox > 0)
				kill(r->left_sandbox, SIGKILL);
			for (int i = 0; i < r->n_seen; i++)
				if (runtime_pid_alive(r->seen[i].pid, r->seen[i].start))
					kill(r->seen[i].pid, SIGKILL);
			pid_t sup = gateway_view_supervisor_pid(v);
			if (sup > 0)
				kill(sup, SIGKILL);
		}
	}
	if (!wait_gone(inst, r, CONTROL_KILL_WAIT_S * 1000L, NULL, &w))
		return err_set(err, 0,
			       "stop: %s: processes survived %d s after SIGKILL (supervisor %ld, "
			       "sandbox %ld)",
			       label, CONTROL_KILL_WAIT_S, (long)r->left_supervisor,
			       (long)r->left_sandbox);
	return 0;
}

int control_restart(const struct instance *inst, int timeout_s, struct control_report *r,
		    ocr_error *err)
{
	const char *label = profile_label(&inst->profile);
	struct gateway_view *v = &r->view;
	int64_t deadline = runtime_now_ms() + (int64_t)timeout_s * 1000;
	unsigned before;

	memset(r, 0, sizeof(*r));
	if (gateway_view_get(inst, NULL, GATEWAY_PROBE_NONE, v, err) < 0)
		return -1;
	if (!v->running)
		return err_set(err, 0,
			       "restart: %s: not running (start it with `openclaw-run "
			       "--profile %s gateway --detach`)",
			       label, label);
	if (v->foreign_pid_ns)
		return err_set(err, 0,
			       "restart: %s: its supervisor runs in another pid namespace (a "
			       "container?): restart it there",
			       label);
	r->was_running = true;
	r->supervisor = gateway_view_supervisor_pid(v);
	before = v->st.restarts;
	if (r->supervisor <= 0 || kill(r->supervisor, SUPERVISOR_SIGNAL_RESTART) < 0)
		return err_set(err, errno, "restart: %s: cannot signal supervisor pid %ld", label,
			       (long)r->supervisor);
	for (;; pause_ms(100)) {
		if (gateway_view_get(inst, NULL, GATEWAY_PROBE_NONE, v, err) < 0)
			return -1;
		if (!v->running || gateway_view_supervisor_pid(v) != r->supervisor)
			return err_set(err, 0, "restart: %s: the supervisor (pid %ld) went away",
				       label, (long)r->supervisor);
		if (v->have_state && v->st.restarts > before) {
			if (v->st.phase == PHASE_STARTED)
				return 0;
			if (v->st.phase == PHASE_CONFIG_ERROR || v->st.phase == PHASE_CRASH_LOOP ||
			    v->st.phase == PHASE_FAILED)
				return err_set(err, 0,
					       "restart: %s: the gateway did not start again (%s)",
					       label, runtime_phase_name(v->st.phase));
		}
		if (runtime_now_ms() >= deadline)
			return err_set(err, 0,
				       "restart: %s: not started again within %d s (phase %s)",
				       label, timeout_s, runtime_phase_name(v->st.phase));
	}
}
