/* Upstream's health contract (docs/gateway/health.md), read from the three
 * probe answers. Pure: no I/O, unit-tested.
 *
 *   /healthz   {"ok":true,"status":"live"}: the HTTP server is live.
 *   /startupz  200 {"status":"started"}; 503 "starting" or "draining".
 *   /readyz    {"ready":bool,"failing":["telegram",...]}: 503 whenever one
 *              channel account is broken, while the gateway is alive.
 *
 * An unknown path answers 200 with the Control UI's HTML, so a status code
 * alone proves nothing: every verdict needs the JSON body. A gateway older
 * than /startupz answers it with that HTML; then "started" falls back to
 * "live". */
#ifndef OCR_HEALTH_H
#define OCR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_FAILING_MAX 256

/* One probe as asked: HTTP status (0: no answer) and the start of its body. */
struct health_answer {
	int status;
	double latency_ms;
	const char *body;  /* NUL-terminated, may be truncated */
	const char *error; /* why nothing answered (status 0) */
};

/* What the three answers say. A tri-state is -1 (unknown: not asked, or
 * nothing that could be read), 0 or 1. */
struct health_verdict {
	int live;
	int started;
	int ready;
	bool startup_fallback;		  /* no /startupz: started = live */
	char startup[16];		  /* /startupz's status word ("starting", ...) */
	char failing[HEALTH_FAILING_MAX]; /* /readyz's failing list, ", "-joined */
};

/* /healthz: 1 when 200 with JSON status "live" (or ok true), else 0. */
int health_live(const struct health_answer *a);

/* /startupz: 1 started, 0 starting/draining (WORD gets the status word),
 * -1 when the answer is not upstream's JSON (no such endpoint). */
int health_startup(const struct health_answer *a, char *word, size_t len);

/* /readyz: 1 ready, 0 not (FAILING gets the failing list), -1 unreadable. */
int health_ready(const struct health_answer *a, char *failing, size_t len);

/* All three; a NULL answer was not asked. */
void health_judge(const struct health_answer *healthz, const struct health_answer *startupz,
		  const struct health_answer *readyz, struct health_verdict *v);

/* The one-word summary for people and scripts: "healthy" (live, started,
 * ready), "degraded" (live and started, not ready), "starting" (live, not
 * started), "unhealthy" (not live), "unknown" (not asked). */
const char *health_word(const struct health_verdict *v);

/* ---- the liveness watchdog's arithmetic (pure) --------------------------- */

struct liveness {
	int interval_ms;  /* between checks; 0: the watchdog is off */
	int failures_max; /* consecutive failed checks before a restart */
	int failures;	  /* consecutive failed checks so far */
};

/* A check's outcome; returns true when the gateway must be restarted. */
bool liveness_record(struct liveness *l, bool live);

/* When the next check is due, in ms from now. A check that found the
 * gateway live but not ready is followed sooner (1 s, doubling up to the
 * interval), so the record `status` reads follows readiness soon after a
 * start or a channel outage; after a failed or a ready check the next one
 * waits the interval, so restarts come no sooner than before. *RECHECK_MS
 * carries the doubling from one call to the next (0: start over). */
#define LIVENESS_RECHECK_FIRST_MS 1000
int64_t liveness_next_check_ms(int interval_s, int live, int ready, int64_t *recheck_ms);

/* The longest one check may take: three requests of TIMEOUT_S each, plus
 * 5 s for the probe child to start (the supervisor's deadline for it). */
int64_t liveness_check_budget_ms(int timeout_s);

/* How old the supervisor's latest check may be and still stand for the
 * gateway's health (`status` answers from it instead of asking): two
 * intervals (one check missed) plus one check's budget. 0 when the
 * watchdog is off: nothing keeps a record fresh then. */
int64_t liveness_record_max_age_ms(int interval_s, int timeout_s);

/* AGE_MS of a check (now minus when it was made): still fresh? A check
 * from the future (the clock went back) is not. */
bool liveness_record_fresh(int64_t age_ms, int interval_s, int timeout_s);

#endif
