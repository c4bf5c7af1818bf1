/* The runtime dir: one lock and one state file per instance, shared by the
 * supervisor (writer) and `status`, `stop`, `list` (readers).
 *
 * Dir: $XDG_RUNTIME_DIR/openclaw-run, else /run/openclaw-run (root), else
 * /tmp/openclaw-run-UID (must be ours, 0700). Files are named after the
 * profile and a hash of its state dir ("rescue-1a2b3c4d.lock"), because one
 * profile name in two HOMEs is two instances.
 *
 * The lock is an OFD lock (fcntl F_OFD_SETLK): the kernel drops it when the
 * last descriptor of the open file goes away, so a crashed launcher never
 * leaves a lock that blocks the next one, and readers can ask whether it is
 * held (F_OFD_GETLK) without taking it. The file holds the holder's pid for
 * messages. */
#ifndef OCR_RUNTIME_H
#define OCR_RUNTIME_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "probe.h"
#include "profile.h"

struct runtime_paths {
	char dir[PATH_MAX];
	char lock[PATH_MAX];
	char state[PATH_MAX];
};

/* Creates the runtime dir when missing. */
int runtime_paths_for(const struct profile *p, struct runtime_paths *out, ocr_error *err);

/* Takes the instance lock. Returns 0 with *fd set; when another launcher
 * holds it, -1 with err naming its pid (and *holder set). When the file
 * names a pid that is gone (a crashed launcher), *stale_pid is set so the
 * caller can say it took over. */
int runtime_lock(const struct runtime_paths *rp, int *fd, pid_t *holder, pid_t *stale_pid,
		 ocr_error *err);
/* Records PID as the holder (after a fork: the daemon's pid). */
int runtime_lock_set_pid(int fd, pid_t pid, ocr_error *err);
/* The holder's clean exit: empties the file (so the next launcher does not
 * report a stale lock) and closes FD, which releases the lock. */
void runtime_unlock(int fd);
/* 1 if some process holds the lock, 0 if not (or no lock file); *pid is the
 * pid recorded in the file (0 if none, -1 if it was recorded in another pid
 * namespace, where it names another process). -1 on error. */
int runtime_lock_held(const struct runtime_paths *rp, pid_t *pid, ocr_error *err);

/* Phases the supervisor reports in the state file. */
enum runtime_phase {
	PHASE_STARTING,	    /* sandbox started, nothing answers yet */
	PHASE_LIVE,	    /* the HTTP server answers, /startupz not "started" yet */
	PHASE_STARTED,	    /* /startupz said started: serving, watched for liveness */
	PHASE_DOCTOR,	    /* exit 78: `openclaw doctor --fix` runs in the sandbox */
	PHASE_BACKOFF,	    /* gateway exited, waiting before a restart */
	PHASE_STOPPING,	    /* SIGTERM sent, in the grace period */
	PHASE_STOPPED,	    /* stopped on request */
	PHASE_CONFIG_ERROR, /* the gateway exited 78: not retried */
	PHASE_CRASH_LOOP,   /* too many failures in a short time: gave up */
	PHASE_FAILED,	    /* could not start, or never started in time */
};
const char *runtime_phase_name(enum runtime_phase phase);

struct runtime_state {
	char profile[PROFILE_NAME_MAX + 1];
	char state_dir[PATH_MAX];
	char log_path[PATH_MAX]; /* "" in the foreground */
	pid_t supervisor_pid;
	/* Its /proc starttime: a reader proves the supervisor that wrote this
	 * file is still that process, not a pid reused since. */
	unsigned long long supervisor_start_ticks;
	pid_t init_pid;			     /* the sandbox's pid 1, host pid */
	pid_t child_pid;		     /* the gateway, host pid */
	unsigned long long init_start_ticks; /* /proc/PID/stat starttime, against pid reuse */
	unsigned port_base, port_last;
	int64_t supervisor_started_at; /* unix seconds */
	int64_t started_at;	       /* unix seconds, the current gateway run */
	int64_t ready_at;	       /* unix seconds the run started serving, 0 until then */
	unsigned restarts;
	int last_exit; /* -1: none yet */
	/* What the sandbox's cgroups say of that exit (an OOM kill, forks
	 * refused at the pids limit); "" when they say nothing. */
	char last_exit_why[256];
	enum runtime_phase phase;
	/* The supervisor's latest health check (at_ms 0: none yet) and its
	 * liveness watchdog, so a reader knows how fresh the answer is. */
	struct health_report health;
	unsigned liveness_failures; /* consecutive failed checks */
	int liveness_interval_s;    /* 0: the watchdog is off */
	int liveness_failures_max;
	int liveness_timeout_s;	       /* per request: bounds how long a check may take */
	char last_restart_reason[256]; /* why the supervisor last restarted the gateway */
	/* Nothing runs, yet the supervisor stays for a rescuer's `start`
	 * (control_server.h): a profile that another one may rescue. */
	bool held;
};

void runtime_state_init(struct runtime_state *st);
/* Written atomically (temp + rename), so readers never see half a file. */
int runtime_state_write(const struct runtime_paths *rp, const struct runtime_state *st,
			ocr_error *err);
/* 0 and *found false when there is no state file. */
int runtime_state_read(const struct runtime_paths *rp, struct runtime_state *st, bool *found,
		       ocr_error *err);

/* starttime of PID from /proc/PID/stat (0 if gone). */
unsigned long long runtime_proc_start_ticks(pid_t pid);
/* PID is alive and is the same process (START matches, 0: do not compare). */
bool runtime_pid_alive(pid_t pid, unsigned long long start);

int64_t runtime_now_unix(void);
int64_t runtime_now_unix_ms(void); /* CLOCK_REALTIME: comparable across processes */
int64_t runtime_now_ms(void);	   /* CLOCK_MONOTONIC */
/* "3h 02m", "41s" */
void runtime_format_duration(int64_t seconds, char *buf, size_t len);

#endif
