/* An instance's gateway as `status`, `list` and `stop` see it (see
 * gateway_status.h). */
#include "gateway_status.h"

#include "port_probe.h"

#include <stdio.h>
#include <string.h>

#include "plan.h"

/* Started, live and started: what `status` exits 0 for. Without a state
 * file of ours (a supervisor in another pid namespace) the probes alone
 * say it; otherwise the supervisor must have seen the run start, so exit 0
 * never comes with a state of "starting". */
static bool view_ok(const struct gateway_view *v)
{
	bool started_run = v->foreign_pid_ns || (v->have_state && v->st.phase == PHASE_STARTED);

	return v->running && !v->supervisor_gone && !(v->have_state && v->st.held) && started_run &&
	       v->health.v.live == 1 && v->health.v.started == 1;
}

void gateway_view_use_record(struct gateway_view *v, const struct runtime_state *st)
{
	v->health = st->health;
	v->probed = true;
	v->source = HEALTH_FROM_SUPERVISOR;
	v->health_age_ms = runtime_now_unix_ms() - st->health.at_ms;
	v->ok = view_ok(v);
}

/* The record can stand for the health now: fills NOTE with why not. */
static bool record_usable(const struct gateway_view *v, char *note, size_t len)
{
	const struct runtime_state *st = &v->st;
	int64_t age = runtime_now_unix_ms() - st->health.at_ms;

	note[0] = '\0';
	if (v->foreign_pid_ns || !v->have_state)
		return false; /* nothing of ours to read */
	if (st->phase != PHASE_STARTED)
		return false; /* checks run once started; until then ask now */
	if (st->liveness_interval_s <= 0)
		snprintf(note, len, "the supervisor's watchdog is off");
	else if (!st->health.at_ms)
		snprintf(note, len, "the supervisor has not checked yet");
	else if (!liveness_record_fresh(age, st->liveness_interval_s, st->liveness_timeout_s))
		snprintf(note, len, "the supervisor's last check is %llds old",
			 (long long)(age / 1000));
	else
		return true;
	return false;
}

/* The state file's supervisor is still that process: its pid with its
 * start time. A record without the start time cannot be verified. */
static bool supervisor_alive(const struct gateway_view *v)
{
	return v->st.supervisor_pid > 0 && v->st.supervisor_start_ticks &&
	       runtime_pid_alive(v->st.supervisor_pid, v->st.supervisor_start_ticks);
}

static void read_usage(const struct instance *inst, struct gateway_view *v)
{
	char prefix[64];
	ocr_error ignored = {0};

	if (!v->running || !v->have_state || v->st.init_pid <= 0 ||
	    !runtime_pid_alive(v->st.init_pid, v->st.init_start_ticks))
		return;
	plan_cgroup_prefix(&inst->profile, prefix, sizeof(prefix));
	sandbox_usage_of(v->st.init_pid, prefix, &v->usage, &ignored);
}

/* The lock and the state file: who runs, and may the record be read. */
static int read_records(const struct instance *inst, struct gateway_view *v, ocr_error *err)
{
	int held;

	if (runtime_paths_for(&inst->profile, &v->paths, err) < 0)
		return -1;
	held = runtime_lock_held(&v->paths, &v->lock_pid, err);
	if (held < 0)
		return -1;
	v->running = held == 1;
	if (runtime_state_read(&v->paths, &v->st, &v->have_state, err) < 0)
		return -1;
	/* A supervisor in another pid namespace (a container's pid 1 seen from
	 * the host): its pids name other processes here, never signal them. */
	if (v->lock_pid < 0) {
		v->foreign_pid_ns = true;
		v->lock_pid = 0;
		runtime_state_init(&v->st);
		v->have_state = false;
	}
	/* Written by another supervisor than the lock's holder: left by one
	 * that was killed, before the new one wrote its own. Its pids, phase
	 * and start time are not this run's. */
	if (v->running && v->have_state && v->lock_pid > 0 && v->st.supervisor_pid != v->lock_pid) {
		runtime_state_init(&v->st);
		v->have_state = false;
	}
	/* The lock is held (by a process that inherited it?) but the writer
	 * of the record is dead, or its pid is another process now. */
	if (v->running && v->have_state && v->st.supervisor_start_ticks && !supervisor_alive(v))
		v->supervisor_gone = true;
	v->port = v->have_state && v->st.port_base ? v->st.port_base : inst->ports.base;
	/* The supervisor died without its sandbox (it should never happen:
	 * the sandbox dies with it); say so rather than report "stopped". */
	if ((!v->running || v->supervisor_gone) && v->have_state && v->st.init_pid > 0)
		v->orphan = runtime_pid_alive(v->st.init_pid, v->st.init_start_ticks);
	return 0;
}

int gateway_view_get(const struct instance *inst, struct http_probe **hp, enum gateway_probe probe,
		     struct gateway_view *v, ocr_error *err)
{
	memset(v, 0, sizeof(*v));
	if (read_records(inst, v, err) < 0)
		return -1;
	if (!v->supervisor_gone)
		read_usage(inst, v);
	if (!v->running || (v->have_state && v->st.held) || probe == GATEWAY_PROBE_NONE)
		return 0;
	/* A gone supervisor's record is history: say so, ask only when told. */
	if (v->supervisor_gone && probe != GATEWAY_PROBE_NOW)
		return 0;
	if (probe == GATEWAY_PROBE_RECORD &&
	    record_usable(v, v->probe_note, sizeof(v->probe_note))) {
		gateway_view_use_record(v, &v->st);
		return 0;
	}
	if (!hp)
		return 0;
	if (!*hp && http_probe_open(hp, err) < 0)
		return err_prefix(err, "probe");
	if (health_check(*hp, v->port, GATEWAY_PROBE_TIMEOUT_MS, &v->health, err) < 0)
		return -1;
	v->probed = true;
	v->source = HEALTH_FROM_NOW;
	v->health_age_ms = runtime_now_unix_ms() - v->health.at_ms;
	v->ok = view_ok(v);
	return 0;
}

const char *gateway_view_state(const struct gateway_view *v)
{
	if (v->running) {
		if (v->supervisor_gone)
			return "supervisor-gone";
		if (!v->have_state)
			return "starting";
		if (v->st.held) /* stopped or given up, kept for a rescuer's start */
			return v->st.phase == PHASE_STOPPED ? "stopped" : "failed";
		switch (v->st.phase) {
		case PHASE_STARTING:
		case PHASE_LIVE:
			return "starting";
		case PHASE_DOCTOR:
			return "repairing";
		case PHASE_BACKOFF:
			return "restarting";
		case PHASE_STOPPING:
		case PHASE_STOPPED: /* the supervisor is on its way out */
		case PHASE_CONFIG_ERROR:
		case PHASE_CRASH_LOOP:
		case PHASE_FAILED:
			return "stopping";
		case PHASE_STARTED:
			break;
		}
		return "running";
	}
	if (v->orphan)
		return "orphaned";
	if (v->have_state && (v->st.phase == PHASE_CONFIG_ERROR ||
			      v->st.phase == PHASE_CRASH_LOOP || v->st.phase == PHASE_FAILED))
		return "failed";
	return "stopped";
}

const char *gateway_view_health(const struct gateway_view *v)
{
	if (!v->running)
		return "-";
	if (!v->probed)
		return "unknown";
	return health_word(&v->health.v);
}

pid_t gateway_view_supervisor_pid(const struct gateway_view *v)
{
	if (!v->running || v->foreign_pid_ns || v->supervisor_gone)
		return 0;
	return v->lock_pid > 0 ? v->lock_pid : v->st.supervisor_pid;
}

int64_t gateway_view_uptime(const struct gateway_view *v)
{
	if (!v->running || v->supervisor_gone || !v->have_state || !v->st.started_at ||
	    !v->st.child_pid)
		return 0;
	return runtime_now_unix() - v->st.started_at;
}

static cJSON *probe_json(const struct probe_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "status", r->status);
	cJSON_AddNumberToObject(o, "latency_ms", (double)(long)(r->latency_ms * 100) / 100.0);
	return o;
}

static void add_tristate(cJSON *o, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, v);
}

/* "telegram, discord" back into a list. */
static cJSON *failing_json(const char *failing)
{
	cJSON *arr = cJSON_CreateArray();
	char buf[HEALTH_FAILING_MAX];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", failing);
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		cJSON_AddItemToArray(arr, cJSON_CreateString(t));
	return arr;
}

static const char *source_name(enum gateway_health_source src)
{
	return src == HEALTH_FROM_SUPERVISOR ? "supervisor" : src == HEALTH_FROM_NOW ? "now" : NULL;
}

/* Where the probes' answers come from, when they were asked, how old. */
static void add_source(cJSON *o, const struct gateway_view *v)
{
	const char *src = source_name(v->source);

	if (src)
		cJSON_AddStringToObject(o, "probe_source", src);
	else
		cJSON_AddNullToObject(o, "probe_source");
	if (v->probed) {
		cJSON_AddNumberToObject(o, "probed_at_ms", (double)v->health.at_ms);
		cJSON_AddNumberToObject(o, "probe_age_ms", (double)v->health_age_ms);
	} else {
		cJSON_AddNullToObject(o, "probed_at_ms");
		cJSON_AddNullToObject(o, "probe_age_ms");
	}
	if (v->probe_note[0])
		cJSON_AddStringToObject(o, "probe_note", v->probe_note);
}

/* The three probes, each on its own. */
static void add_probes(cJSON *o, const struct gateway_view *v)
{
	const struct health_report *h = &v->health;

	add_source(o, v);

	add_tristate(o, "live", v->probed ? h->v.live : -1);
	add_tristate(o, "started", v->probed ? h->v.started : -1);
	add_tristate(o, "ready", v->probed ? h->v.ready : -1);
	cJSON_AddItemToObject(o, "failing", failing_json(v->probed ? h->v.failing : ""));
	if (!v->probed)
		return;
	cJSON_AddBoolToObject(o, "startup_fallback", h->v.startup_fallback);
	cJSON_AddItemToObject(o, "healthz", probe_json(&h->healthz));
	cJSON_AddItemToObject(o, "startupz", probe_json(&h->startupz));
	cJSON_AddItemToObject(o, "readyz", probe_json(&h->readyz));
	if (h->v.live != 1)
		cJSON_AddStringToObject(o, "error", h->error);
}

/* The supervisor's liveness watchdog, from the state file. */
static void add_watchdog(cJSON *o, const struct gateway_view *v)
{
	cJSON *w;

	if (!v->running || !v->have_state)
		return;
	w = cJSON_AddObjectToObject(o, "watchdog");
	cJSON_AddNumberToObject(w, "interval_s", v->st.liveness_interval_s);
	cJSON_AddNumberToObject(w, "failures_max", v->st.liveness_failures_max);
	cJSON_AddNumberToObject(w, "failures", v->st.liveness_failures);
	cJSON_AddNumberToObject(w, "checked_at_ms", (double)v->st.health.at_ms);
	add_tristate(w, "live", v->st.health.at_ms ? v->st.health.v.live : -1);
	cJSON_AddStringToObject(w, "last_restart_reason", v->st.last_restart_reason);
}

static void add_pid(cJSON *o, const char *key, pid_t pid)
{
	if (pid > 0)
		cJSON_AddNumberToObject(o, key, pid);
	else
		cJSON_AddNullToObject(o, key);
}

/* Bytes and counts; null where the sandbox has no group of that kind. */
static cJSON *usage_json(const struct sandbox_usage *u)
{
	cJSON *o = cJSON_CreateObject();
	const struct {
		const char *key;
		bool have;
		uint64_t v;
	} f[] = {{"memory_bytes", u->memory, u->memory_current},
		 {"memory_peak_bytes", u->memory && u->memory_peak, u->memory_peak},
		 {"memory_max_bytes", u->memory && u->memory_max, u->memory_max},
		 {"oom_kills", u->memory, u->oom_kills},
		 {"pids", u->pids, u->pids_current},
		 {"pids_max", u->pids && u->pids_max, u->pids_max},
		 {"pids_refused", u->pids, u->pids_refused}};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].have)
			cJSON_AddNumberToObject(o, f[i].key, (double)f[i].v);
		else
			cJSON_AddNullToObject(o, f[i].key);
	}
	return o;
}

cJSON *gateway_view_json(const struct instance *inst, const struct gateway_view *v)
{
	cJSON *o = cJSON_CreateObject(), *ports;
	bool live = v->running && v->have_state && !v->supervisor_gone;

	cJSON_AddStringToObject(o, "profile", profile_label(&inst->profile));
	cJSON_AddStringToObject(o, "state", gateway_view_state(v));
	cJSON_AddBoolToObject(o, "running", v->running && !(v->have_state && v->st.held));
	cJSON_AddBoolToObject(o, "held", v->running && v->have_state && v->st.held);
	cJSON_AddBoolToObject(o, "supervisor_gone", v->supervisor_gone);
	cJSON_AddStringToObject(o, "health", gateway_view_health(v));
	cJSON_AddBoolToObject(o, "healthy", strcmp(gateway_view_health(v), "healthy") == 0);
	cJSON_AddBoolToObject(o, "degraded", strcmp(gateway_view_health(v), "degraded") == 0);
	add_probes(o, v);
	if (v->have_state)
		cJSON_AddStringToObject(o, "phase", runtime_phase_name(v->st.phase));
	else
		cJSON_AddNullToObject(o, "phase");
	add_pid(o, "supervisor_pid", gateway_view_supervisor_pid(v));
	add_pid(o, "init_pid", live || v->orphan ? v->st.init_pid : 0);
	add_pid(o, "child_pid", live ? v->st.child_pid : 0);
	cJSON_AddNumberToObject(o, "uptime_s", (double)gateway_view_uptime(v));
	cJSON_AddNumberToObject(o, "restarts", v->have_state ? v->st.restarts : 0);
	if (v->have_state && v->st.last_exit >= 0)
		cJSON_AddNumberToObject(o, "last_exit", v->st.last_exit);
	else
		cJSON_AddNullToObject(o, "last_exit");
	ports = cJSON_AddObjectToObject(o, "ports");
	cJSON_AddNumberToObject(ports, "base", v->port);
	cJSON_AddNumberToObject(ports, "last", v->port + PORT_BLOCK_LAST_OFFSET);
	add_watchdog(o, v);
	if (v->have_state && v->st.last_exit_why[0])
		cJSON_AddStringToObject(o, "last_exit_why", v->st.last_exit_why);
	cJSON_AddItemToObject(o, "usage", usage_json(&v->usage));
	cJSON_AddStringToObject(o, "state_dir", inst->profile.state_dir);
	cJSON_AddStringToObject(o, "log", v->have_state ? v->st.log_path : "");
	cJSON_AddStringToObject(o, "state_file", v->paths.state);
	return o;
}

/* ---- for people (`status`, also through a rescuer's control socket) ---- */

static const char *yes_no(int v)
{
	return v < 0 ? "?" : v ? "yes" : "no";
}

static void print_probe(FILE *out, const char *what, int verdict, const char *path,
			const struct probe_result *r, const char *note)
{
	fprintf(out, "  %-8s %-4s %-9s ", what, yes_no(verdict), path);
	if (r->status)
		fprintf(out, "%d in %.1f ms", r->status, r->latency_ms);
	else
		fprintf(out, "not asked");
	fprintf(out, "%s\n", note);
}

static void print_probes(FILE *out, const struct gateway_view *v)
{
	const struct health_report *h = &v->health;
	char note[HEALTH_FAILING_MAX + 32] = "";

	if (!h->healthz.status) {
		fprintf(out, "  live     no   /healthz  no answer (%s)\n", h->error);
		return;
	}
	print_probe(out, "live", h->v.live, "/healthz", &h->healthz, "");
	print_probe(out, "started", h->v.started, "/startupz", &h->startupz,
		    h->v.startup_fallback ? " (no /startupz here: judged by /healthz)"
		    : h->v.started == 0	  ? " (starting or draining)"
					  : "");
	if (h->v.failing[0])
		snprintf(note, sizeof(note), " (failing: %s)", h->v.failing);
	print_probe(out, "ready", h->v.ready, "/readyz", &h->readyz, note);
}

static void print_watchdog(FILE *out, const struct gateway_view *v)
{
	const struct runtime_state *st = &v->st;

	if (!v->have_state)
		return;
	if (st->liveness_interval_s <= 0)
		fprintf(out, "  watchdog off\n");
	else if (!st->health.at_ms)
		fprintf(out, "  watchdog every %d s, restart after %d failed checks\n",
			st->liveness_interval_s, st->liveness_failures_max);
	else
		fprintf(out,
			"  watchdog every %d s, last check %llds ago: %s (%u of %d failures)\n",
			st->liveness_interval_s,
			(long long)((runtime_now_unix() * 1000 - st->health.at_ms) / 1000),
			st->health.v.live == 1 ? "live" : "not live", st->liveness_failures,
			st->liveness_failures_max);
	if (st->last_restart_reason[0])
		fprintf(out, "  restart  last one: %s\n", st->last_restart_reason);
}

/* " (probed 3s ago by its supervisor)", " (probed now: why)". */
static void print_source(FILE *out, const struct gateway_view *v)
{
	char age[32];

	if (v->source == HEALTH_FROM_SUPERVISOR) {
		runtime_format_duration(v->health_age_ms / 1000, age, sizeof(age));
		fprintf(out, " (probed %s ago by its supervisor)", age);
	} else if (v->source == HEALTH_FROM_NOW) {
		fprintf(out, " (probed now%s%s)", v->probe_note[0] ? ": " : "", v->probe_note);
	}
}

/* The lock is held, the supervisor that wrote the record is not alive. */
static void print_gone(FILE *out, const char *label, const struct gateway_view *v)
{
	fprintf(out,
		"%s: supervisor gone (pid %ld is no longer it), yet its lock is held; its "
		"record is not current",
		label, (long)v->st.supervisor_pid);
	if (v->probed)
		fprintf(out, "; the gateway, probed now: %s", health_word(&v->health.v));
	fprintf(out, "\n");
	if (v->orphan)
		fprintf(out, "  warning: its sandbox (pid %ld) is still alive\n",
			(long)v->st.init_pid);
	fprintf(out, "  lock     %s (a process that inherited it holds it)\n", v->paths.lock);
	fprintf(out, "  ports    %u-%u\n", v->port, v->port + PORT_BLOCK_LAST_OFFSET);
}

void gateway_view_print(FILE *out, const struct instance *inst, const struct gateway_view *v)
{
	const char *label = profile_label(&inst->profile);
	char up[32], usage[160];

	if (v->supervisor_gone) {
		print_gone(out, label, v);
		return;
	}

	if (!v->running || (v->have_state && v->st.held)) {
		fprintf(out, "%s: %s", label, gateway_view_state(v));
		if (v->have_state && v->st.last_exit >= 0)
			fprintf(out, " (last exit %d, %s)", v->st.last_exit,
				runtime_phase_name(v->st.phase));
		fputc('\n', out);
		if (v->have_state && v->st.last_exit_why[0])
			fprintf(out, "  why      %s\n", v->st.last_exit_why);
		if (v->running)
			fprintf(out,
				"  held     its supervisor (pid %ld) waits for a rescuer's start\n",
				(long)gateway_view_supervisor_pid(v));
		if (v->orphan)
			fprintf(out,
				"  warning: its sandbox (pid %ld) is still alive without a "
				"supervisor; `openclaw-run --profile %s stop` ends it\n",
				(long)v->st.init_pid, label);
		fprintf(out, "  ports    %u-%u\n", v->port, v->port + PORT_BLOCK_LAST_OFFSET);
		return;
	}
	fprintf(out, "%s: %s, %s", label, gateway_view_state(v), gateway_view_health(v));
	if (v->probed && strcmp(gateway_view_health(v), "degraded") == 0)
		fprintf(out, ": %s",
			v->health.v.failing[0] ? v->health.v.failing : "/readyz says not ready");
	print_source(out, v);
	fputc('\n', out);
	fprintf(out, "  pids     supervisor %ld", (long)gateway_view_supervisor_pid(v));
	if (v->st.init_pid) {
		pid_t listener = port_listener_in_tree(v->port, v->st.init_pid);

		fprintf(out, ", sandbox %ld, gateway %ld", (long)v->st.init_pid,
			(long)v->st.child_pid);
		/* The process `ss -ltnp` shows on the port, when it is not the
		 * gateway's first process itself. */
		if (listener > 0 && listener != v->st.child_pid)
			fprintf(out, ", listening on %u: %ld", v->port, (long)listener);
	}
	fputc('\n', out);
	runtime_format_duration(gateway_view_uptime(v), up, sizeof(up));
	fprintf(out, "  uptime   %s, restarts %u", up, v->st.restarts);
	if (v->st.last_exit >= 0)
		fprintf(out, ", last exit %d", v->st.last_exit);
	fputc('\n', out);
	if (v->st.last_exit_why[0])
		fprintf(out, "  why      %s\n", v->st.last_exit_why);
	resources_usage_line(&v->usage, usage, sizeof(usage));
	if (usage[0])
		fprintf(out, "  limits   %s\n", usage);
	fprintf(out, "  ports    %u-%u (gateway http://127.0.0.1:%u)\n", v->port,
		v->port + PORT_BLOCK_LAST_OFFSET, v->port);
	if (v->probed)
		print_probes(out, v);
	print_watchdog(out, v);
	if (v->st.log_path[0])
		fprintf(out, "  log      %s\n", v->st.log_path);
}
