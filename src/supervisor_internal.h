/* The supervisor's insides, shared by its loop (supervisor.c) and its runs
 * (supervisor_runs.c): not an API. */
#ifndef OCR_SUPERVISOR_INTERNAL_H
#define OCR_SUPERVISOR_INTERNAL_H

#include <cjson/cJSON.h>
#include <poll.h>

#include "probe.h"
#include "registry.h"
#include "rescue.h"
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

/* The control socket's server (supervisor_control.c, control_proto.h): one
 * listening socket per rescuer, a few connected rescuers. */
#define CTL_CLIENTS_MAX 8
#define CTL_RESCAN_MS	3000 /* grants given or revoked by setup are seen this soon */
#define CTL_FOLLOW_MS	1000 /* `logs -f` */
#define CTL_POLLFDS	(RESCUERS_MAX + CTL_CLIENTS_MAX)

struct ctl_listener {
	int fd;
	struct rescuer who;
	char dir[PATH_MAX]; /* the grant directory */
};

struct ctl_client {
	int fd;
	struct rescuer who;
	pid_t pid; /* SO_PEERCRED, host view */
	uid_t uid;
	bool follow;
	long long offset; /* logs -f: how far the log was sent */
};

struct ctl {
	struct ctl_listener l[RESCUERS_MAX];
	size_t n_l;
	struct ctl_client c[CTL_CLIENTS_MAX];
	size_t n_c;
	int64_t rescan_at, follow_at;
};

struct sup {
	const struct supervisor_opts *o;
	struct runtime_state *st;
	struct restart_policy policy;
	struct liveness live;
	int64_t recheck_ms; /* liveness_next_check_ms()'s doubling */
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
	/* A stop on the host (SIGTERM/SIGINT): the supervisor ends even when a
	 * rescuer could start the gateway again. */
	bool exit_requested;
	struct ctl ctl;
	/* What runs: the launch's instance, argv and port, until a rescuer's
	 * config moves the gateway to another port block. */
	struct instance inst;
	char **argv;
	unsigned port;
	char port_arg[8];
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

/* The loop ends: done, and no rescuer holds it (or the host said stop). */
bool sup_finished(const struct sup *s);
/* A held (or backing-off) supervisor starts its gateway again: a rescuer's
 * start, or SIGHUP. */
void sup_start_again(struct sup *s);

int sup_target_init(struct sup *s);
/* The next runs use PORTS (already pinned by the caller). */
void sup_move_port(struct sup *s, const struct port_block *ports);

/* supervisor_control.c: the control socket */
void ctl_rescan(struct sup *s);
size_t ctl_pollfds(const struct sup *s, struct pollfd *fds);
void ctl_on_poll(struct sup *s, const struct pollfd *fds, size_t n);
int64_t ctl_deadline(const struct sup *s);
void ctl_on_timeouts(struct sup *s, int64_t now);
void ctl_close(struct sup *s);
const struct instance *ctl_target(const struct sup *s);
/* supervisor_config.c: the target's config, read and applied for a rescuer */
cJSON *ctl_answer(bool ok, const char *error);
cJSON *ctl_config_read(struct sup *s, const struct rescuer *who);
cJSON *ctl_config_apply(struct sup *s, const struct rescuer *who, bool apply);

/* supervisor_runs.c: one run of the gateway (or of the doctor) */
void sup_start_gateway(struct sup *s);
void sup_begin_stop(struct sup *s, enum stop_reason why);
/* The same with SIG instead of SIGTERM (a SIGINT that was asked for). */
void sup_begin_stop_with(struct sup *s, enum stop_reason why, int sig);
/* The sandbox ended with CODE: stop, restart, doctor pass or give up. */
void sup_run_ended(struct sup *s, int code);
void sup_on_started(struct sup *s, const struct health_report *r);
/* A liveness check's report (NULL: none came, NO_REPORT says why). */
void sup_on_check(struct sup *s, const struct health_report *r, const char *no_report);

#endif
