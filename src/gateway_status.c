/* An instance's gateway as `status`, `list` and `stop` see it (see
 * gateway_status.h). */
#include "gateway_status.h"

#include <string.h>

int gateway_view_get(const struct instance *inst, struct http_probe **hp, bool probe,
		     struct gateway_view *v, ocr_error *err)
{
	int held;

	memset(v, 0, sizeof(*v));
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
	v->port = v->have_state && v->st.port_base ? v->st.port_base : inst->ports.base;
	/* The supervisor died without its sandbox (it should never happen:
	 * the sandbox dies with it); say so rather than report "stopped". */
	if (!v->running && v->have_state && v->st.init_pid > 0)
		v->orphan = runtime_pid_alive(v->st.init_pid, v->st.init_start_ticks);
	if (!v->running || !probe || !hp)
		return 0;
	if (!*hp && http_probe_open(hp, err) < 0)
		return err_prefix(err, "probe");
	v->probed = true;
	if (http_probe_get(*hp, v->port, "/healthz", GATEWAY_PROBE_TIMEOUT_MS, &v->healthz, err) <
		0 ||
	    http_probe_get(*hp, v->port, "/readyz", GATEWAY_PROBE_TIMEOUT_MS, &v->readyz, err) < 0)
		return -1;
	v->healthy = v->healthz.status == 200 && v->readyz.status == 200;
	return 0;
}

const char *gateway_view_state(const struct gateway_view *v)
{
	if (v->running) {
		if (!v->have_state)
			return "starting";
		switch (v->st.phase) {
		case PHASE_STARTING:
		case PHASE_WAIT_READY:
			return "starting";
		case PHASE_BACKOFF:
			return "restarting";
		case PHASE_STOPPING:
		case PHASE_STOPPED: /* the supervisor is on its way out */
		case PHASE_CONFIG_ERROR:
		case PHASE_CRASH_LOOP:
		case PHASE_FAILED:
			return "stopping";
		case PHASE_READY:
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
	if (v->healthy)
		return "healthy";
	return v->healthz.status == 200 ? "not-ready" : "unhealthy";
}

pid_t gateway_view_supervisor_pid(const struct gateway_view *v)
{
	if (!v->running || v->foreign_pid_ns)
		return 0;
	return v->lock_pid > 0 ? v->lock_pid : v->st.supervisor_pid;
}

int64_t gateway_view_uptime(const struct gateway_view *v)
{
	if (!v->running || !v->have_state || !v->st.started_at || !v->st.child_pid)
		return 0;
	return runtime_now_unix() - v->st.started_at;
}

static cJSON *probe_json(const struct http_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "status", r->status);
	cJSON_AddNumberToObject(o, "latency_ms", (double)(long)(r->latency_ms * 100) / 100.0);
	if (r->error[0])
		cJSON_AddStringToObject(o, "error", r->error);
	return o;
}

static void add_pid(cJSON *o, const char *key, pid_t pid)
{
	if (pid > 0)
		cJSON_AddNumberToObject(o, key, pid);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *gateway_view_json(const struct instance *inst, const struct gateway_view *v)
{
	cJSON *o = cJSON_CreateObject(), *ports;
	bool live = v->running && v->have_state;

	cJSON_AddStringToObject(o, "profile", profile_label(&inst->profile));
	cJSON_AddStringToObject(o, "state", gateway_view_state(v));
	cJSON_AddBoolToObject(o, "running", v->running);
	cJSON_AddStringToObject(o, "health", gateway_view_health(v));
	cJSON_AddBoolToObject(o, "healthy", v->healthy);
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
	if (v->probed) {
		cJSON_AddItemToObject(o, "healthz", probe_json(&v->healthz));
		cJSON_AddItemToObject(o, "readyz", probe_json(&v->readyz));
	}
	cJSON_AddStringToObject(o, "state_dir", inst->profile.state_dir);
	cJSON_AddStringToObject(o, "log", v->have_state ? v->st.log_path : "");
	cJSON_AddStringToObject(o, "state_file", v->paths.state);
	return o;
}
