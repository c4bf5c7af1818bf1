/* The supervisor: starts the gateway's sandbox, waits until upstream's
 * /startupz says "started" (not /readyz: a broken channel account must not
 * fail a start), then watches /healthz on an interval and restarts a gateway
 * that stops answering; restarts it when it dies (with backoff, giving up
 * on crash loops); on exit 78 runs `openclaw doctor --fix` once and retries
 * once; restarts it on SIGHUP and stops it on SIGTERM/SIGINT (SIGTERM, a
 * grace period, then SIGKILL of the whole sandbox).
 *
 * It is one poll() loop over a signalfd, the sandbox's pidfd and the pipe of
 * a short-lived probe child (probe.h: the child loads libcurl, the
 * supervisor never does, so it stays small while idle). */
#ifndef OCR_SUPERVISOR_H
#define OCR_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include <signal.h>

#include "error.h"
#include "host_dirs.h"
#include "plan.h"
#include "runtime.h"
#include "sandbox.h"

/* ---- the restart policy (supervisor_policy.c: pure, unit-tested) -------- */

#define BACKOFF_INITIAL_MS	  1000
#define BACKOFF_MAX_MS		  60000
#define BACKOFF_RESET_UPTIME_MS	  (10 * 60 * 1000) /* a run this long resets backoff */
#define CRASH_LOOP_FAILURES	  5
#define CRASH_LOOP_WINDOW_MS	  (2 * 60 * 1000)
#define GATEWAY_EXIT_CONFIG_ERROR 78 /* EX_CONFIG: upstream's config/state error */

struct restart_policy {
	int64_t next_delay_ms;
	int64_t failures[CRASH_LOOP_FAILURES]; /* monotonic ms, a ring */
	unsigned n_failures;		       /* valid entries, <= CRASH_LOOP_FAILURES */
	unsigned head;			       /* next slot to write */
};

enum restart_action {
	RESTART_AFTER_DELAY,	   /* restart after *delay_ms */
	RESTART_GIVE_UP_CONFIG,	   /* exit 78: restarting cannot help */
	RESTART_GIVE_UP_CRASH_LOOP /* CRASH_LOOP_FAILURES within CRASH_LOOP_WINDOW_MS */
};

void restart_policy_init(struct restart_policy *p);
/* The gateway exited on its own (not asked to) at NOW_MS after running for
 * UPTIME_MS. */
enum restart_action restart_policy_on_exit(struct restart_policy *p, int64_t now_ms,
					   int64_t uptime_ms, int exit_code, int64_t *delay_ms);

/* ---- the launcher's exit codes (documented in `gateway --help`) ---------- */

enum {
	SUPERVISOR_EXIT_STOPPED = 0,	 /* stopped on request; the gateway ended in time */
	SUPERVISOR_EXIT_FAILED = 1,	 /* could not start (lock, sandbox, plan, probe) */
	SUPERVISOR_EXIT_CRASH_LOOP = 4,	 /* gave up: too many crashes in a short time */
	SUPERVISOR_EXIT_NOT_STARTED = 5, /* never started within the start grace */
	SUPERVISOR_EXIT_KILLED = 6,	 /* stopped on request; SIGKILL after the grace */
	SUPERVISOR_EXIT_CONFIG = GATEWAY_EXIT_CONFIG_ERROR, /* 78, not retried */
};

/* ---- the signals a running supervisor obeys (control.c sends them) ------ */

#define SUPERVISOR_SIGNAL_STOP	  SIGTERM /* graceful stop (SIGINT too) */
#define SUPERVISOR_SIGNAL_RESTART SIGHUP  /* graceful restart of the gateway */

/* ---- defaults ------------------------------------------------------------ */

#define SUPERVISOR_GRACE_S 30
/* Upstream's slow starts have been killed by impatient watchdogs: a run
 * gets minutes to say "started" (the real gateway needs 10-30 s). */
#define SUPERVISOR_START_GRACE_S       300
#define SUPERVISOR_LIVENESS_INTERVAL_S 30
#define SUPERVISOR_LIVENESS_FAILURES   4  /* 4 x 30 s: two minutes without an answer */
#define SUPERVISOR_LIVENESS_TIMEOUT_S  10 /* per request; a hung event loop never answers */

/* ---- running ----------------------------------------------------------- */

struct supervisor_log; /* size-capped, rotated log of a detached supervisor */
struct sd_notifier;

/* What each run is made of: the supervisor builds every run's sandbox
 * itself from the instance and the plan options. */
struct supervisor_launch {
	const struct instance *inst;
	struct plan_options popt;
	char *const *argv;	  /* the gateway */
	char *const *doctor_argv; /* `openclaw doctor --fix --yes --non-interactive`, run
				     once on exit 78 (NULL: never) */
	/* The same command line, always there: its part before "doctor" runs
	 * upstream's other tools (`config validate` for a rescuer's config). */
	char *const *tool_argv;
};

struct supervisor_opts {
	struct supervisor_launch launch;
	const char *label;	 /* profile label for messages */
	unsigned port;		 /* the health endpoints are asked on 127.0.0.1:port */
	int grace_s;		 /* SIGTERM → SIGKILL */
	int start_grace_s;	 /* a run must say "started" within this */
	int liveness_interval_s; /* 0: no liveness watchdog */
	int liveness_failures;	 /* consecutive failed checks before a restart */
	int liveness_timeout_s;	 /* per request */
	const struct runtime_paths *paths;
	struct runtime_state *state; /* profile, dirs, ports filled by the caller */
	bool progress_tty;	     /* redraw one progress line on stderr */
	/* SIGHUP goes to the gateway as is (a container's pid 1 forwards
	 * signals) instead of restarting it. */
	bool forward_hup;
	/* Detached: messages go to LOG (not stderr), the gateway's output
	 * arrives on OUTPUT_FD (a pipe, nonblocking) and is copied there;
	 * NOTIFY_FD is the detach.h pipe to the waiting caller. -1: none. */
	struct supervisor_log *log;
	int output_fd;
	int notify_fd;
	struct sd_notifier *sd; /* systemd's notify socket, NULL: none */
	/* The launcher's dirs: the rescue grants are found in its records, the
	 * control socket's audit log goes to its log dir. NULL: no control
	 * socket. */
	const struct host_dirs *dirs;
	const struct env_view *env; /* to scan the other instances */
};

/* Runs until the gateway is stopped or given up on; returns the exit code.
 * The caller has blocked SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1
 * and SIGUSR2 (supervisor_block_signals) before anything else started.
 * SIGINT stops the gateway with SIGINT; SIGQUIT and SIGUSR2 (upstream's
 * in-process restart) are passed to it; SIGUSR1 never is: Node opens its
 * inspector on it. */
int supervisor_run(const struct supervisor_opts *o);
int supervisor_block_signals(ocr_error *err);

/* ---- the detached supervisor's log (supervisor_log.c) -------------------- */

#define SUPERVISOR_LOG_MAX_BYTES (4L * 1024 * 1024)
#define SUPERVISOR_LOG_KEEP	 2 /* openclaw-run.log.1, .2 */

int supervisor_log_open(const char *path, long max_bytes, struct supervisor_log **out,
			ocr_error *err);
void supervisor_log_close(struct supervisor_log *log);
/* Appends (rotating first when the file would pass the cap). */
void supervisor_log_write(struct supervisor_log *log, const char *data, size_t len);
/* A timestamped "openclaw-run: ..." line. */
void supervisor_log_printf(struct supervisor_log *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Points stdout and stderr at the log: what a detached supervisor prints
 * after its loop (exit-time diagnostics) must not go into a pipe that
 * nobody reads any more. */
void supervisor_log_take_stdio(struct supervisor_log *log);
/* Last LINES lines of the log at PATH onto FD (for a failed --detach). */
void supervisor_log_tail(const char *path, int lines, int fd);

#endif
