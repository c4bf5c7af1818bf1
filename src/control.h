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
/* A restart waits for the new run to start: the start grace and a margin. */
#define CONTROL_RESTART_TIMEOUT_S 360

struct control_report {
	bool was_running;	  /* a supervisor (or an orphaned sandbox) was there */
	bool orphan_killed;	  /* a sandbox without supervisor: killed at once */
	bool forced;		  /* not gone within the timeout: killed */
	pid_t supervisor;	  /* the one asked */
	struct gateway_view view; /* as last seen */
};

/* SIGTERM to the lock's holder (followed when the lock changes hands, as
 * a --detach caller hands it to its daemon), then wait until no supervisor
 * holds the lock and the sandbox's init is gone; after TIMEOUT_S kill them.
 * -1 when refused (a supervisor in another pid namespace) or when
 * processes survived. */
int control_stop(const struct instance *inst, int timeout_s, struct control_report *r,
		 ocr_error *err);

/* SIGHUP to the supervisor, then wait until its state file shows the next
 * run started (restarts counted up, same supervisor). -1 when nothing runs,
 * the supervisor gave up, or TIMEOUT_S passed. */
int control_restart(const struct instance *inst, int timeout_s, struct control_report *r,
		    ocr_error *err);

#endif
