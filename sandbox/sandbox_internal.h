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
	uint64_t memory_max, pids_max;
	bool strict;
	int warning_fd;

	/* Runtime state, set by sandbox_spawn(). */
	bool root_launch; /* the launcher is root: host ids are used, groups dropped */
	pid_t init_pid;
	int pidfd;
	bool reaped;
	int exit_code;
	char *cgroup_dir; /* cgroup we created (removed after the end), or NULL */
	struct sb_sys_view *sys_view;
};

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
/* Launcher, before the go signal: cgroup v2 limits for PID, or a warning
 * (an error when strict) if no delegated hierarchy exists. */
int sb_cgroup_setup(struct sandbox *sb, pid_t pid, struct sandbox_error *err);
void sb_cgroup_cleanup(struct sandbox *sb);

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
