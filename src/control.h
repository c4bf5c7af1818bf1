/* Asking a running supervisor to stop or to restart its gateway: the
 * caller's end of that protocol. The supervisor's end is its signal handling
 * (supervisor.c) for the signals named in supervisor.h; the answer is read
 * back from the lock and the state file (gateway_status.h). */
#ifndef OCR_CONTROL_H
#define OCR_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "gateway_status.h"
#include "registry.h"

#define CONTROL_STOP_TIMEOUT_S 60 /* above the supervisor's default grace (30 s) */
/* After the SIGKILL: the kernel tears the sandbox's pid namespace down and
 * a sanitizer build's supervisor may still be in its exit. */
#define CONTROL_KILL_WAIT_S 10
#define CONTROL_PROGRESS_MS 5000 /* how often a waiting stop says what still runs */
#define CONTROL_MAX_SEEN    4	 /* a --detach caller, its daemon, and a spare */
/* A restart waits for the new run to start: the start grace and a margin. */
#define CONTROL_RESTART_TIMEOUT_S 360

/* A process as first seen, its start time against pid reuse. */
struct control_pid {
	pid_t pid;
	unsigned long long start;
};

struct control_report {
	bool was_running;	  /* a supervisor (or an orphaned sandbox) was there */
	bool orphan_killed;	  /* a sandbox without supervisor: killed at once */
	bool forced;		  /* not gone within the timeout: killed */
	pid_t supervisor;	  /* the one asked */
	struct gateway_view view; /* as last seen */
	/* Every supervisor seen holding the lock: stop waits until each one
	 * has exited, not only until the lock is free (it is let go a little
	 * before the process ends). */
	struct control_pid seen[CONTROL_MAX_SEEN];
	int n_seen;
	pid_t left_supervisor, left_sandbox; /* still running at the last look */
};

/* While stop waits, every CONTROL_PROGRESS_MS: R->left_* say what still
 * runs after WAITED_MS. */
typedef void (*control_progress_fn)(const struct control_report *r, int64_t waited_ms, void *arg);

/* SIGTERM to the lock's holder (followed when the lock changes hands, as
 * a --detach caller hands it to its daemon), then wait until no supervisor
 * holds the lock, every supervisor seen has exited and the sandbox's init
 * is gone (its pid namespace, so every process of the sandbox, goes
 * before it). After TIMEOUT_S: SIGKILL to them, and CONTROL_KILL_WAIT_S
 * more. PROGRESS (may be NULL) hears what still runs meanwhile. -1 when
 * refused (a supervisor in another pid namespace) or when processes
 * survived, naming them. */
int control_stop(const struct instance *inst, int timeout_s, control_progress_fn progress,
		 void *arg, struct control_report *r, ocr_error *err);

/* SIGHUP to the supervisor, then wait until its state file shows the next
 * run started (restarts counted up, same supervisor). -1 when nothing runs,
 * the supervisor gave up, or TIMEOUT_S passed. */
int control_restart(const struct instance *inst, int timeout_s, struct control_report *r,
		    ocr_error *err);

#endif
