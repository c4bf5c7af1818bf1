/* --detach: the launcher forks a daemon that runs the supervisor, and waits
 * until the daemon says the gateway started (or failed). Both ends of the
 * pipe's line protocol are here:
 *
 *   "P <what>"        progress: what the supervisor waits for now
 *   "R <ms>"          the gateway started after MS (the last line)
 *   "F <code> <why>"  the first start failed; CODE is the supervisor's
 *                     exit code (the last line) */
#ifndef OCR_DETACH_H
#define OCR_DETACH_H

#include <stdbool.h>
#include <stdint.h>

struct supervisor_opts;

/* Forks the daemon (setsid, double fork, stdio into SO->log through a
 * pipe, the instance lock handed over) and, in the caller, waits up to
 * WAIT_S for its report, drawing progress on a terminal and printing the
 * log's tail on failure. Returns the caller's exit code in the caller and
 * the supervisor's in the daemon (*IS_DAEMON set), so both unwind through
 * the same cleanup. *LOCK_FD is -1 in the caller afterwards. */
int detach_run(struct supervisor_opts *so, const char *log_path, int wait_s, int *lock_fd,
	       bool *is_daemon);

/* The daemon's end (FD -1: no caller waits). */
void detach_say_progress(int fd, const char *what);
void detach_say_started(int fd, int64_t ms);
void detach_say_failed(int fd, int code, const char *why);

#endif
