/* The supervisor's insides, shared by its loop (supervisor.c) and its runs
 * (supervisor_runs.c): not an API. */
#ifndef OCR_SUPERVISOR_INTERNAL_H
#define OCR_SUPERVISOR_INTERNAL_H

#include "probe.h"
#include "supervisor.h"

enum stop_reason {
	STOP_NONE,
	STOP_REQUEST,	  /* SIGTERM/SIGINT: stop for good */
	STOP_RESTART,	  /* SIGHUP: start again at once */
	STOP_NOT_STARTED, /* no "started" within the start grace */
	STOP_LIVENESS,	  /* the watchdog saw too many failed checks */
	STOP_PROBE_FAILED /* the probe cannot work at all */
};

enum run_kind { RUN_GATEWAY, RUN_DOCTOR };

struct sup {
	const struct supervisor_opts *o;
	struct runtime_state *st;
	struct restart_policy policy;
	struct liveness live;
	int sigfd;
	struct sandbox *sb; /* NULL while nothing runs */
	enum run_kind kind;
	int pidfd;
	pid_t probe_pid;
	int probe_fd;
	char probe_buf[2048];
	size_t probe_len;
	enum stop_reason stopping;
	bool killed;
	int64_t launch_ms, run_start_ms;
	/* 0: none */
	int64_t start_deadline, backoff_deadline, grace_deadline, check_at, check_deadline, tick,
	    watchdog_at;
	bool ever_started, progress_drawn, doctor_ran;
	int64_t progress_at; /* next progress line on a terminal (ms) */
	int notify_fd;
	bool done;
	int result;
};

void sup_say(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sup_clear_progress(struct sup *s);
void sup_save_state(struct sup *s);
void sup_close_notify(struct sup *s);
/* The supervisor ends with CODE; the state file says PHASE. */
void sup_finish(struct sup *s, int code, enum runtime_phase phase);
void sup_describe_exit(int code, char *buf, size_t len);
void sup_stop_probe(struct sup *s);
void sup_start_probe(struct sup *s, enum probe_mode mode);

/* supervisor_runs.c: one run of the gateway (or of the doctor) */
void sup_start_gateway(struct sup *s);
void sup_begin_stop(struct sup *s, enum stop_reason why);
/* The sandbox ended with CODE: stop, restart, doctor pass or give up. */
void sup_run_ended(struct sup *s, int code);
void sup_on_started(struct sup *s, const struct health_report *r);
/* A liveness check's report (NULL: none came, NO_REPORT says why). */
void sup_on_check(struct sup *s, const struct health_report *r, const char *no_report);

#endif
