/* sandbox.h: run one command in a fresh set of Linux namespaces.
 *
 * A plan goes in (an opaque struct filled through setters), a running child
 * comes out. The library knows nothing of what it runs: it takes a list of
 * mounts, a list of TCP ports the payload may bind, a seccomp policy file and
 * limits. Every function that can fail returns 0 on success and -1 on error,
 * filling a struct sandbox_error; callers add context on the way up with
 * sandbox_error_prefix(). This is the error convention of the whole project.
 */
#ifndef OPENCLAW_SANDBOX_H
#define OPENCLAW_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/resource.h>

/* ---- errors ------------------------------------------------------------ */

#define SANDBOX_ERROR_MSG_MAX 1024

struct sandbox_error {
	int errnum;			 /* errno of the root cause, 0 if none */
	char msg[SANDBOX_ERROR_MSG_MAX]; /* "what: context" without the strerror */
};

/* Set the error (overwriting it) and return -1. */
int sandbox_error_set(struct sandbox_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepend "context: " to the message and return -1. */
int sandbox_error_prefix(struct sandbox_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "msg: strerror(errnum)" (or just msg) into buf; returns buf. */
const char *sandbox_error_text(const struct sandbox_error *err, char *buf, size_t len);
void sandbox_error_clear(struct sandbox_error *err);

/* ---- the plan ------------------------------------------------------------ */

struct sandbox;

enum sandbox_net {
	SANDBOX_NET_HOST, /* share the caller's network namespace */
	SANDBOX_NET_NONE, /* private netns with only loopback, brought up */
};

enum sandbox_mount_kind {
	SANDBOX_MOUNT_BIND_RO, /* bind src at dst, read-only, nosuid, nodev */
	SANDBOX_MOUNT_BIND_RW, /* bind src at dst, read-write, nosuid, nodev */
	SANDBOX_MOUNT_TMPFS,   /* fresh tmpfs at dst (src ignored) */
};

/* Mount flags. */
#define SANDBOX_MOUNT_OPTIONAL 0x1u /* skip silently when src does not exist */
/* Refuse a source with a symlink in any component of its path: for sources
 * the payload can write near (a workspace named by its own config), so that
 * a link it planted cannot redirect the next sandbox's bind. */
#define SANDBOX_MOUNT_NOFOLLOW 0x2u

struct sandbox *sandbox_new(void);
void sandbox_free(struct sandbox *sb);

/* The command: argv[0] is looked up in PATH of envp when it has no slash.
 * Both arrays are copied. envp is the complete environment of the payload:
 * nothing is inherited from the caller. */
int sandbox_set_argv(struct sandbox *sb, char *const argv[], struct sandbox_error *err);
int sandbox_set_env(struct sandbox *sb, char *const envp[], struct sandbox_error *err);
int sandbox_set_cwd(struct sandbox *sb, const char *cwd, struct sandbox_error *err);
int sandbox_set_hostname(struct sandbox *sb, const char *hostname, struct sandbox_error *err);
void sandbox_set_net(struct sandbox *sb, enum sandbox_net net);

/* The new root is an empty tmpfs; the system directories (/usr, /bin, /sbin,
 * /lib*, and the needed files of /etc) are bound read-only by default, /proc,
 * a minimal /dev and a private /tmp are always made. Everything else the
 * payload sees is added here, mounted in the order added. */
int sandbox_add_mount(struct sandbox *sb, enum sandbox_mount_kind kind, const char *src,
		      const char *dst, unsigned flags, struct sandbox_error *err);

/* TCP ports the payload may bind (Landlock, ABI >= 4); port 0 is always
 * allowed. With no range added, binding is not restricted. */
int sandbox_add_bind_ports(struct sandbox *sb, uint16_t first, uint16_t last,
			   struct sandbox_error *err);

/* Host uid/gid the payload runs as. Only meaningful when the caller is root:
 * root's payload must never be host root, so a caller that is root must set
 * this (sandbox_spawn() refuses otherwise). Rootless callers run as
 * themselves. */
void sandbox_set_host_ids(struct sandbox *sb, uid_t uid, gid_t gid);

/* Path of the seccomp policy file (format: see sandbox/default.policy). NULL
 * disables seccomp, which only tests and benchmarks should do. */
int sandbox_set_seccomp_policy(struct sandbox *sb, const char *path, struct sandbox_error *err);
/* Parses and compiles a policy file without loading it (for `check` and
 * tests); *n_rules, if not NULL, gets the number of rules. Errors name
 * file:line. */
int sandbox_policy_check(const char *path, size_t *n_rules, struct sandbox_error *err);
/* A directory where compiled filters are kept between runs: the caller's
 * own (owned by it, writable by nobody else), never shown to any sandbox.
 * NULL (the default) compiles at every spawn; the library reads no
 * environment to find one. A cached filter is loaded only when its keyed MAC
 * (BLAKE2s; the key is DIR/filter.key, 32 random bytes made 0600 on first
 * use) matches the policy text and libseccomp's version; every file is opened
 * fd-relative without following links, regular files only, size-capped. On
 * any doubt the policy is compiled again and the file rewritten. */
int sandbox_set_filter_cache(struct sandbox *sb, const char *dir, struct sandbox_error *err);

int sandbox_set_rlimit(struct sandbox *sb, int resource, rlim_t soft, rlim_t hard,
		       struct sandbox_error *err);

/* Size and inode bounds of every writable tmpfs the payload gets (/tmp,
 * /dev/shm and the plan's SANDBOX_MOUNT_TMPFS mounts), each on its own;
 * 0 keeps the kernel's default (half of RAM, which is no bound at all). */
void sandbox_set_tmpfs_size(struct sandbox *sb, uint64_t bytes, uint64_t inodes);

/* ---- cgroup limits ----------------------------------------------------------
 * Each running sandbox holds its own cgroup, a slot named PREFIX"s"<N> below
 * the cgroup the caller itself runs in (never higher: a limit placed on the
 * caller still holds for the sandbox). Slots are made once and kept: a start
 * takes the first one no other sandbox holds (an exclusive flock() on its
 * directory while the sandbox runs) and no process is left in, writes the
 * limits, and lets it go once the sandbox has ended. Nothing of the payload
 * runs outside it (on v1 the init is cloned inside). On a cgroup v2 host
 * that is one directory; on cgroup v1 and hybrid hosts one per controller
 * (memory, pids, cpu), which needs root. Where a controller cannot be used,
 * a warning says why and the run goes on (strict: an error). */
struct sandbox_limits {
	uint64_t memory_max;	/* bytes of RAM; 0: no limit */
	uint64_t swap_max;	/* bytes of swap on top (where swap is accounted) */
	uint64_t pids_max;	/* processes and threads; 0: no limit */
	unsigned cpu_weight;	/* 1..10000, cgroup v2's scale (100: an even share) */
	unsigned cpu_quota_pct; /* percent of one CPU (150: one and a half); 0: none */
};

/* Limits of 0 everywhere (the default): no cgroup is made. */
void sandbox_set_limits(struct sandbox *sb, const struct sandbox_limits *limits);
/* The name of the child cgroups made for those limits: PREFIX"s"<slot>
 * (default "sandbox-"); letters, digits, '-', '_' and '.' only. */
int sandbox_set_cgroup_prefix(struct sandbox *sb, const char *prefix, struct sandbox_error *err);

/* Off: the warning that some limits cannot be used on this host is not said
 * at spawn (a caller that says it once per boot); sandbox_limits_off() still
 * tells, and strict still refuses. */
void sandbox_set_limits_warning(struct sandbox *sb, bool on);
/* After sandbox_spawn(): true when some of the limits could not be used,
 * with "memory, pids limits are off: why" in BUF (may be NULL). */
bool sandbox_limits_off(const struct sandbox *sb, char *buf, size_t len);
/* The same asked of this host for LIMITS without starting or changing
 * anything (a report such as `check`). */
bool sandbox_limits_probe(const struct sandbox_limits *limits, char *buf, size_t len);

/* What a sandbox's cgroups hold and saw, read from the kernel. */
struct sandbox_usage {
	bool memory, pids, cpu;	  /* a group of ours with that controller was read */
	uint64_t memory_current;  /* bytes charged now (RAM, page cache included) */
	uint64_t memory_peak;	  /* the highest charge seen (0: unknown) */
	uint64_t memory_max;	  /* the limit in force; 0: none */
	uint64_t memory_max_hits; /* allocations that hit the limit (v1 failcnt, v2 max) */
	uint64_t oom_kills;	  /* processes the OOM killer killed in the group */
	uint64_t pids_current, pids_max, pids_refused; /* refused: forks failed at the max */
	unsigned cpu_weight, cpu_quota_pct;	       /* as set (0: none) */
};

/* The sandbox's usage: live while it runs; after sandbox_wait() has reaped
 * it, what was read just before its slot was let go. The counters (limit
 * hits, OOM kills, refused forks) and v1's peak are this start's; v2's peak
 * is the slot's. All false when it has no cgroup. */
void sandbox_usage_get(const struct sandbox *sb, struct sandbox_usage *u);
/* The same for any running sandbox, by the host pid of its init, for a
 * process that does not hold the struct (a status command): only groups
 * named PREFIX<something> count. */
int sandbox_usage_of(pid_t init_pid, const char *prefix, struct sandbox_usage *u,
		     struct sandbox_error *err);

/* The payload's stdin, stdout and stderr: FDS[i] (duplicated here) instead
 * of the caller's fd i, -1 to inherit it. The sandbox's init takes them as
 * its own stdio too, so a caller that replaces its terminal here never
 * hands it to the sandbox. CTTY: FDS[0] is the slave side of a
 * pseudo-terminal that becomes the controlling terminal of the payload's
 * own session (job control, Ctrl-C's SIGINT and the window's SIGWINCH work
 * inside). Without CTTY the payload has no controlling terminal: the
 * sandbox's init starts a new session, so TIOCSTI cannot push input into a
 * terminal it inherited. */
int sandbox_set_stdio(struct sandbox *sb, const int fds[3], bool ctty, struct sandbox_error *err);

/* On (the default): the payload runs in fresh namespaces on its own root.
 * Off: for hosts that refuse user namespaces or a fresh /proc (a container
 * engine's defaults; see sandbox_probe_namespaces()). The payload then runs
 * in the caller's namespaces and file system, its own session and process
 * group (sandbox_kill() kills the group), and keeps every layer that needs
 * no privilege: rlimits, no_new_privs, Landlock, no capabilities, seccomp.
 * Mounts and the hostname are not applied; a private network is refused. */
void sandbox_set_namespaces(struct sandbox *sb, bool on);

/* 0 when this host lets the caller build the full sandbox (a user, mount
 * and pid namespace, a tmpfs root and a fresh /proc); otherwise -1 with err
 * naming the step the host refused. Tries it in a short-lived child. */
int sandbox_probe_namespaces(struct sandbox_error *err);

/* Strict: a missing kernel feature (Landlock network rules, a cgroup
 * controller) is an error instead of a warning. */
void sandbox_set_strict(struct sandbox *sb, bool strict);

/* Fill the namespace ids of struct sandbox_status at spawn (seven stat()s
 * of /proc/PID/ns, worth skipping for callers that do not report them). */
void sandbox_want_namespace_ids(struct sandbox *sb, bool want);

/* Where warnings go (default: stderr, prefixed "sandbox: warning: "). */
void sandbox_set_warning_fd(struct sandbox *sb, int fd);

/* ---- running ------------------------------------------------------------- */

struct sandbox_status {
	pid_t init_pid;	 /* host pid of the sandbox's pid 1 (our init) */
	pid_t child_pid; /* host pid of the payload */
	/* Namespace inode numbers, as in /proc/PID/ns/ (0 if not created);
	 * filled only after sandbox_want_namespace_ids(sb, true). */
	uint64_t ns_user, ns_mnt, ns_pid, ns_ipc, ns_uts, ns_cgroup, ns_net;
};

/* Build the sandbox and start the payload. Returns once the payload has been
 * exec()ed (or failed to); a failing step is named in err
 * ("sandbox: pivot_root: ..."). On failure nothing is left behind. */
int sandbox_spawn(struct sandbox *sb, struct sandbox_status *status, struct sandbox_error *err);

/* Send a signal to the sandbox's init, which forwards it to the payload. */
int sandbox_signal(struct sandbox *sb, int sig, struct sandbox_error *err);
/* SIGKILL the whole sandbox (its init; the kernel then kills every process of
 * the pid namespace). */
int sandbox_kill(struct sandbox *sb, struct sandbox_error *err);

/* pidfd of the init, pollable for exit; -1 if unavailable. */
int sandbox_pidfd(const struct sandbox *sb);

/* Wait for the sandbox to end. *exit_code is the payload's exit status, or
 * 128+signal when it was killed by a signal. flags: 0 to block, WNOHANG to
 * poll (returns 1 if still running). EINTR is returned as -1 with errnum
 * EINTR so callers can handle signals. */
int sandbox_wait(struct sandbox *sb, int flags, int *exit_code, struct sandbox_error *err);

#endif
