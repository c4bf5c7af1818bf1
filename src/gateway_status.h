/* What `status`, `list` and `stop` know of an instance's gateway: the lock
 * (is a supervisor alive?), the state file it writes (pids, ports, phase,
 * restarts, its watchdog's latest check) and, when it runs, upstream's three
 * probes asked right now: live (/healthz), started (/startupz), ready
 * (/readyz, with its failing list). */
#ifndef OCR_GATEWAY_STATUS_H
#define OCR_GATEWAY_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "http_probe.h"
#include "probe.h"
#include "registry.h"
#include "runtime.h"

#define GATEWAY_PROBE_TIMEOUT_MS 2000

struct gateway_view {
	struct runtime_paths paths;
	bool running;	     /* a supervisor holds the lock */
	pid_t lock_pid;	     /* pid recorded in the lock file */
	bool foreign_pid_ns; /* the supervisor runs in another pid namespace */
	bool have_state;     /* the state file exists */
	struct runtime_state st;
	bool orphan;   /* no supervisor, yet its sandbox's init is alive */
	unsigned port; /* the base the gateway uses (state file, else config) */
	bool probed;
	struct health_report health; /* asked now (probed) */
	bool ok;		     /* live and started: `status` exits 0 (ready or not) */
	/* The sandbox's memory and pids against its limits, read from its
	 * cgroups now (all false when it has none). */
	struct sandbox_usage usage;
};

/* HP NULL: do not probe. *HP NULL: opened here on first need (and left
 * for the caller to close), so `list` loads libcurl once, and not at all
 * when nothing runs. */
int gateway_view_get(const struct instance *inst, struct http_probe **hp, bool probe,
		     struct gateway_view *v, ocr_error *err);

/* "running", "stopped", "starting", ... for people; the JSON object for
 * scripts. */
const char *gateway_view_state(const struct gateway_view *v);
const char *gateway_view_health(const struct gateway_view *v);
cJSON *gateway_view_json(const struct instance *inst, const struct gateway_view *v);
/* What `status` prints for people. */
void gateway_view_print(FILE *out, const struct instance *inst, const struct gateway_view *v);
/* The running supervisor's pid: the lock file's (written by the holder
 * itself), the state file's only when the lock file names none; 0 when
 * nothing runs. */
pid_t gateway_view_supervisor_pid(const struct gateway_view *v);
/* Seconds the current gateway run has been up (0 when not running). */
int64_t gateway_view_uptime(const struct gateway_view *v);

#endif
