/* What `status`, `list` and `stop` know of an instance's gateway: the lock
 * (is a supervisor alive?), the state file it writes (pids, ports, phase,
 * restarts, its watchdog's latest check) and, when it runs, upstream's three
 * probes: live (/healthz), started (/startupz), ready (/readyz, with its
 * failing list), as its supervisor last asked them (the state file, kept
 * fresh by the liveness watchdog) or asked right now.
 *
 * The record stands for the gateway's health only while it can be
 * believed: the supervisor that wrote it is alive (its pid and its start
 * time, so a reused pid does not count), the run it describes has started,
 * and its latest check is younger than liveness_record_max_age_ms().
 * Otherwise the probes are asked now, or, when the supervisor is gone, the
 * view says so and nothing in the record is reported as current. */
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

enum gateway_probe {
	GATEWAY_PROBE_NONE,   /* the lock and the state file only */
	GATEWAY_PROBE_RECORD, /* the supervisor's latest check while fresh, else ask now */
	GATEWAY_PROBE_NOW,    /* ask now (`status --probe`) */
};

enum gateway_health_source {
	HEALTH_FROM_NONE,	/* not known */
	HEALTH_FROM_SUPERVISOR, /* its watchdog's latest check, from the state file */
	HEALTH_FROM_NOW,	/* asked by us, now */
};

struct gateway_view {
	struct runtime_paths paths;
	bool running; /* a supervisor holds the lock */
	/* The lock is held, but the supervisor that wrote the state file is no
	 * longer that process (pid and start time): nothing in the record is
	 * current, and its pid must not be signalled. */
	bool supervisor_gone;
	pid_t lock_pid;	     /* pid recorded in the lock file */
	bool foreign_pid_ns; /* the supervisor runs in another pid namespace */
	bool have_state;     /* the state file exists */
	struct runtime_state st;
	bool orphan;   /* no supervisor, yet its sandbox's init is alive */
	unsigned port; /* the base the gateway uses (state file, else config) */
	bool probed;
	struct health_report health; /* when probed; health.at_ms: when asked */
	enum gateway_health_source source;
	int64_t health_age_ms; /* how long ago health was asked */
	/* Why the probes were asked now rather than read from the record
	 * ("" when they were not, or when the record was never a candidate). */
	char probe_note[96];
	/* `status` exits 0: the supervisor says the run has started, and the
	 * probes say live and started (ready or not). */
	bool ok;
	/* The sandbox's memory and pids against its limits, read from its
	 * cgroups now (all false when it has none). */
	struct sandbox_usage usage;
};

/* HP NULL: never probe now (the record may still be read). *HP NULL:
 * opened here on first need (and left for the caller to close), so `list`
 * loads libcurl once, and not at all when nothing runs or every record is
 * fresh. */
int gateway_view_get(const struct instance *inst, struct http_probe **hp, enum gateway_probe probe,
		     struct gateway_view *v, ocr_error *err);
/* The supervisor's latest check stands for the gateway's health (the
 * supervisor itself, answering its control socket, has nothing fresher). */
void gateway_view_use_record(struct gateway_view *v, const struct runtime_state *st);

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
