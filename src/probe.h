/* The gateway's health, asked over HTTP (libcurl, dlopen()ed), and the
 * supervisor's probe: a short-lived child of the supervisor that asks and
 * reports on a pipe, so the long-lived supervisor never loads libcurl and
 * stays small. Both ends of the pipe's line protocol are here:
 *
 *   "L"           the HTTP server answered; not started yet (once)
 *   "C <report>"  a full check (the last line of a probe)
 *   "E <why>"     the probe cannot work (no libcurl) */
#ifndef OCR_PROBE_H
#define OCR_PROBE_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "health.h"
#include "http_probe.h"

struct probe_result {
	int status; /* HTTP status, 0: no answer */
	double latency_ms;
};

/* One full check of the three endpoints. */
struct health_report {
	int64_t at_ms; /* unix ms when asked; 0: never */
	struct health_verdict v;
	struct probe_result healthz, startupz, readyz;
	char error[128]; /* why /healthz did not answer */
};

/* Asks /healthz, then (when it answered at all) /startupz and /readyz,
 * each within TIMEOUT_MS: a hung gateway costs one timeout, not three.
 * Fills R; -1 only on a local error. */
int health_check(struct http_probe *hp, unsigned port, long timeout_ms, struct health_report *r,
		 ocr_error *err);

enum probe_mode {
	PROBE_UNTIL_STARTED, /* poll until started, then one full check */
	PROBE_ONCE,	     /* one full check */
};

/* Forks the probe child; *FD is the read end of its pipe (nonblocking).
 * The child holds no descriptor of ours and dies with us. */
int probe_spawn(unsigned port, enum probe_mode mode, long timeout_ms, pid_t *pid, int *fd);
/* Kills (if still running) and reaps the child, closes the pipe. */
void probe_end(pid_t *pid, int *fd);

/* The supervisor's end: one line of the protocol. */
struct probe_line {
	char kind; /* 'L', 'C', 'E'; 0: unreadable */
	struct health_report report;
	char text[256]; /* for 'E' */
};
void probe_parse_line(const char *line, struct probe_line *out);
/* The child's end, exposed for the unit tests. */
int probe_format_report(const struct health_report *r, char *buf, size_t len);

#endif
