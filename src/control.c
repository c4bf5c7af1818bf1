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

/* Nothing left: no supervisor holds the lock and the sandbox's init (as
 * recorded, checked against pid reuse) is gone. */
static bool all_gone(const struct instance *inst, struct gateway_view *v)
{
	ocr_error err = {0};

	if (gateway_view_get(inst, NULL, GATEWAY_PROBE_NONE, v, &err) < 0)
		return false;
	return !v->running && !v->orphan;
}

/* *SIGNALED non-NULL: SIGTERM whoever holds the lock now, once. */
static bool wait_gone(const struct instance *inst, struct gateway_view *v, long timeout_ms,
		      pid_t *signaled)
{
	int64_t deadline = runtime_now_ms() + timeout_ms;

	while (!all_gone(inst, v)) {
		pid_t sup = gateway_view_supervisor_pid(v);

		if (signaled && sup > 0 && sup != *signaled &&
		    kill(sup, SUPERVISOR_SIGNAL_STOP) == 0)
			*signaled = sup;
		if (runtime_now_ms() >= deadline)
			return false;
		pause_ms(100);
	}
	return true;
}

int control_stop(const struct instance *inst, int timeout_s, struct control_report *r,
		 ocr_error *err)
{
	const char *label = profile_label(&inst->profile);
	struct gateway_view *v = &r->view;

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
		if (r->supervisor <= 0 ||
		    (kill(r->supervisor, SUPERVISOR_SIGNAL_STOP) < 0 && errno != ESRCH))
			return err_set(err, errno, "stop: %s: cannot signal supervisor pid %ld",
				       label, (long)r->supervisor);
		pid_t signaled = r->supervisor;
		if (!wait_gone(inst, v, (long)timeout_s * 1000, &signaled)) {
			/* The holder as of now: the pid signalled first may be
			 * gone and reused. */
			pid_t sup = gateway_view_supervisor_pid(v);

			r->forced = true;
			if (v->st.init_pid > 0 &&
			    runtime_pid_alive(v->st.init_pid, v->st.init_start_ticks))
				kill(v->st.init_pid, SIGKILL);
			if (sup > 0)
				kill(sup, SIGKILL);
		}
	}
	if (!wait_gone(inst, v, 10000, NULL))
		return err_set(err, 0, "stop: %s: processes survived (supervisor %ld, sandbox %ld)",
			       label, (long)v->lock_pid, (long)v->st.init_pid);
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
