/* Private to sandbox/: the plan struct behind the opaque handle, and the
 * functions each mechanism file exports to spawn.c and init.c.
 *
 * Two kinds of functions live here. Launcher-side ones run in the caller's
 * process and report through struct sandbox_error. Child-side ones (sb_child_*,
 * the *_apply() ones) run in the sandbox's init or in the payload before
 * execve; they return 0/-1 and fill a struct sandbox_error too, which the
 * child sends back to the launcher over the status socket. */
#ifndef OPENCLAW_SANDBOX_INTERNAL_H
#define OPENCLAW_SANDBOX_INTERNAL_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox.h"

/* ---- cleanup helpers ------------------------------------------------------ */

static inline void sb_freep(void *p)
{
	free(*(void **)p);
}
static inline void sb_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define cleanup_free  __attribute__((cleanup(sb_freep)))
#define cleanup_close __attribute__((cleanup(sb_closep)))

/* ---- the plan ------------------------------------------------------------- */

struct sb_mount {
	enum sandbox_mount_kind kind;
	char *src, *dst;
	unsigned flags;
	bool is_dir;  /* source is a directory (else: a file); set at prepare */
	bool missing; /* optional source that does not exist: skipped */
	int tree_fd;  /* root launcher: detached clone of src (open_tree), else -1 */
	int path_fd;  /* rootless: O_PATH fd of src opened in the child, else -1 */
};

struct sb_ports {
	uint16_t first, last;
};

#define SB_MAX_RLIMITS 16

struct sb_rlimit {
	int resource;
	rlim_t soft, hard;
};

/* A compiled seccomp filter, ready for PR_SET_SECCOMP. */
struct sb_bpf {
	struct sock_filter *insns;
	size_t len;
};

/* One cgroup directory of a sandbox: on v1 one per controller (comounted
 * controllers share one), on v2 a single one for all of them. */
enum { SB_CG_MEMORY = 1u, SB_CG_PIDS = 2u, SB_CG_CPU = 4u };
#define SB_CG_N 3

struct sb_cgroup {
	char *dir;
	int version;	      /* 1 or 2 */
	unsigned controllers; /* SB_CG_* */
	int fd;		      /* the directory, flock()ed: this sandbox's slot */
};

struct sb_sys_view; /* mounts.c: the system binds (/usr, /etc files, /dev nodes) */

struct sandbox {
	char **argv, **envp;
	char *cwd, *hostname, *policy_path;
	char *filter_cache_dir;		   /* NULL: no compiled-filter cache */
	char *cgroup_prefix;		   /* names our cgroups: PREFIX<pid> */
	uint64_t tmpfs_size, tmpfs_inodes; /* /tmp, /dev/shm and plan tmpfs; 0: kernel default */
	enum sandbox_net net;

	struct sb_mount *mounts; /* the caller's, in order */
	size_t n_mounts;
	struct sb_ports *ports;
	size_t n_ports;

	bool have_host_ids;
	uid_t host_uid;
	gid_t host_gid;

	struct sb_rlimit rlimits[SB_MAX_RLIMITS];
	size_t n_rlimits;
	struct sandbox_limits limits;
	bool strict, want_ns_ids;
	bool limits_warning;  /* say which limits are off (sandbox_set_limits_warning) */
	char limits_off[256]; /* "memory, pids limits are off: why", set at spawn */
	int warning_fd;
	int stdio[3];	    /* the payload's stdio (closed here once it runs), -1: inherited */
	bool ctty;	    /* stdio[0] becomes its controlling terminal */
	bool no_namespaces; /* sandbox_set_namespaces(sb, false) */

	/* Runtime state, set by sandbox_spawn(). */
	bool root_launch; /* the launcher is root: host ids are used, groups dropped */
	pid_t init_pid;
	int pidfd;
	bool reaped;
	int exit_code;
	struct sb_cgroup cgroups[SB_CG_N]; /* the slot this sandbox holds (limits.c) */
	size_t n_cgroups;
	struct sandbox_usage usage_base; /* the slot's counters at the start */
	bool have_final_usage;		 /* read just before the slot was let go */
	struct sandbox_usage final_usage;
	struct sb_sys_view *sys_view;
};

/* Closes the plan's stdio fds (the sandbox holds its own once started). */
void sb_stdio_release(struct sandbox *sb);

/* Formats one warning line on sb->warning_fd. */
void sb_warn(const struct sandbox *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- status socket: child -> launcher --------------------------------------
 * A SOCK_SEQPACKET pair. The payload sends SB_MSG_HELLO first (the kernel
 * stamps it with the payload's pid as the launcher sees it), then either an
 * SB_MSG_ERROR, or init sends SB_MSG_STARTED once the payload has exec()ed. */
enum sb_msg_type { SB_MSG_HELLO = 1, SB_MSG_ERROR, SB_MSG_STARTED };

struct sb_msg {
	int type;
	int errnum;
	char text[SANDBOX_ERROR_MSG_MAX];
};

/* Sends an error (err's message and errno) on fd; never fails loudly. */
void sb_send_error(int fd, const struct sandbox_error *err);
void sb_send_type(int fd, int type);

/* ---- namespaces.c ---------------------------------------------------------- */

/* clone() into new namespaces, fork-like (no CLONE_VM). Returns the child's
 * pid in the parent, 0 in the child, -1 on error. */
pid_t sb_clone(const struct sandbox *sb);
/* Launcher: write the child's uid_map/gid_map (and setgroups). */
int sb_write_id_maps(const struct sandbox *sb, pid_t pid, struct sandbox_error *err);
/* Launcher: namespace inode numbers of PID into status. */
void sb_read_ns_ids(pid_t pid, const struct sandbox *sb, struct sandbox_status *st);
/* Child, first thing after the go signal: become uid/gid 0 inside. */
int sb_child_identity(const struct sandbox *sb, struct sandbox_error *err);
/* Child: hostname, and loopback up for SANDBOX_NET_NONE. */
int sb_child_uts_net(const struct sandbox *sb, struct sandbox_error *err);

/* ---- mounts.c -------------------------------------------------------------- */

/* Launcher: stat the sources, and when root, clone them as detached trees. */
int sb_mounts_prepare(struct sandbox *sb, struct sandbox_error *err);
void sb_mounts_release(struct sandbox *sb);
/* Child: build the new root and pivot into it. */
int sb_child_build_root(struct sandbox *sb, struct sandbox_error *err);

/* ---- caps.c ---------------------------------------------------------------- */

/* Payload: empty every capability set, lock the securebits. */
int sb_caps_drop_all(struct sandbox_error *err);

/* ---- seccomp.c ------------------------------------------------------------- */

/* Parses and compiles a policy into BPF: TEXT (LEN bytes) as read from PATH,
 * which only names it in messages. n_rules may be NULL. */
int sb_policy_compile_text(const char *path, const char *text, size_t len, struct sb_bpf *out,
			   size_t *n_rules, struct sandbox_error *err);
/* The same from the file. */
int sb_policy_compile(const char *path, struct sb_bpf *out, size_t *n_rules,
		      struct sandbox_error *err);
/* Reads a whole policy file (size-capped) into *text (caller frees). */
int sb_policy_read(const char *path, char **text, size_t *len, struct sandbox_error *err);
void sb_bpf_release(struct sb_bpf *bpf);

/* ---- filter_cache.c -------------------------------------------------------- */

/* Compiles the policy at PATH, through the verified cache in CACHE_DIR when
 * it is not NULL (see sandbox_set_filter_cache()). */
int sb_policy_load(const char *path, const char *cache_dir, struct sb_bpf *out,
		   struct sandbox_error *err);

/* ---- blake2s.c ------------------------------------------------------------- */

#define SB_BLAKE2S_LEN 32 /* digest and maximal key size, bytes */

struct sb_blake2s {
	uint32_t h[8];
	uint64_t counter;
	uint8_t buf[64];
	size_t fill;
};

/* KEY may be NULL with KEY_LEN 0 (a plain hash); KEY_LEN <= 32. */
void sb_blake2s_init(struct sb_blake2s *s, const void *key, size_t key_len);
void sb_blake2s_update(struct sb_blake2s *s, const void *data, size_t len);
/* Writes the 32-byte digest and wipes the state. */
void sb_blake2s_final(struct sb_blake2s *s, uint8_t out[SB_BLAKE2S_LEN]);
/* Payload: install the filter (no_new_privs must be set). */
int sb_seccomp_apply(const struct sb_bpf *bpf, struct sandbox_error *err);

/* ---- landlock.c ------------------------------------------------------------ */

/* Launcher: Landlock ABI version, or -1 with errno if unsupported. */
int sb_landlock_abi(void);
/* Payload: restrict TCP bind to the plan's ports (+0). Does nothing without
 * ranges; abi < 4 is the launcher's business (warned or refused there). */
int sb_landlock_apply(const struct sandbox *sb, int abi, struct sandbox_error *err);

/* ---- limits.c -------------------------------------------------------------- */

/* Payload: the plan's rlimits (a hard limit above the current one is
 * clamped: an unprivileged caller cannot raise it). */
int sb_rlimits_apply(const struct sandbox *sb, struct sandbox_error *err);
/* Launcher, before the clone: a slot of the plan's cgroups below our own
 * (kept across starts, see limits.c), locked, its limits written; on v1 the
 * calling thread is moved into it, so that the clone is born there. A
 * warning (an error when strict) for each controller that cannot be used. */
int sb_cgroup_prepare(struct sandbox *sb, struct sandbox_error *err);
/* Launcher, right after the clone (whether it worked or not): the calling
 * thread back into its own groups. */
int sb_cgroup_leave(struct sandbox *sb, struct sandbox_error *err);
/* Launcher, before the go signal: PID into the groups a thread cannot enter
 * by itself before the clone (v2's). */
int sb_cgroup_join(struct sandbox *sb, pid_t pid, struct sandbox_error *err);
/* Launcher, once the sandbox has ended: keep the last usage, let the slot go
 * (the groups stay for the next start). */
void sb_cgroup_cleanup(struct sandbox *sb);
/* Lets the slot go without reading anything (sandbox_free(), failures). */
void sb_cgroup_forget(struct sandbox *sb);
/* Init: closes the slot's directory fds it inherited from the launcher. */
void sb_cgroup_close_fds(struct sandbox *sb);

/* ---- cgroupfs.c ----------------------------------------------------------- */

/* Where a process's groups of memory, pids and cpu are (index i is the
 * controller of bit 1<<i). */
struct sb_cg_place {
	int version; /* 0: the controller is not available */
	char dir[PATH_MAX];
};
extern const char *const sb_cg_names[SB_CG_N];
/* PID 0: the caller. */
void sb_cg_locate(pid_t pid, struct sb_cg_place out[SB_CG_N]);
/* DIR/FILE into BUF (NUL-terminated); -1 with errno. */
int sb_cg_read(const char *dir, const char *file, char *buf, size_t len);
/* FMT into DIR/FILE in one write; -1 with errno. */
int sb_cg_write(const char *dir, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool sb_cg_has_file(const char *dir, const char *file);
bool sb_cg_has_word(const char *list, const char *word, const char *seps);

/* ---- cgroup_usage.c ----------------------------------------------------------- */

/* Adds what the group DIR (VERSION, CONTROLLERS) holds to U. */
void sb_cg_read_usage(const char *dir, int version, unsigned controllers, struct sandbox_usage *u);
/* What the sandbox's slot holds now, its counters as the kernel has them
 * (since the slot was made). */
void sb_cg_usage_now(const struct sandbox *sb, struct sandbox_usage *u);

/* ---- init.c ---------------------------------------------------------------- */

struct sb_child_args {
	int sync_fd;   /* read end: the launcher writes one byte when maps are done */
	int status_fd; /* SOCK_SEQPACKET end towards the launcher */
	int landlock_abi;
	const struct sb_bpf *bpf; /* NULL: no seccomp */
};

/* The sandbox's pid 1. Never returns. */
__attribute__((noreturn)) void sb_init_main(struct sandbox *sb, const struct sb_child_args *a);

#endif
