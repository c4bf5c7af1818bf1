/* The plan: what one instance's sandbox gets (mounts, environment, identity,
 * hostname, port block, seccomp policy, limits), computed from the instance
 * and the command line, handed to sandbox/. Shared by `exec` and `gateway`. */
#ifndef OCR_PLAN_H
#define OCR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "registry.h"
#include "sandbox.h"

struct plan_options {
	enum sandbox_net net;
	bool strict;		/* missing Landlock or cgroup controllers is an error */
	bool no_namespaces;	/* the host refuses them (a container's defaults) */
	const char *user;	/* root launches: host user; NULL: openclaw-run */
	char *const *extra_env; /* "KEY=VALUE" from --env, n_extra_env of them */
	size_t n_extra_env;
	const char *const *ro_binds; /* extra read-only paths (e.g. the gateway prefix) */
	size_t n_ro_binds;
	const char *seccomp_policy; /* NULL: the installed default policy */
	const char *cwd;	    /* NULL: the workspace */
	const struct env_view *env; /* finds the launcher's filter cache; NULL: none */
	uint64_t tmp_size;	    /* bytes of /tmp and of /dev/shm; 0: PLAN_TMP_SIZE */
};

/* /tmp and /dev/shm are tmpfs of this size each by default (--tmp-size). */
#define PLAN_TMP_SIZE (256ull << 20)

/* Builds (does not start) the sandbox for INST running ARGV. */
int plan_build(const struct instance *inst, const struct plan_options *opt, char *const argv[],
	       struct sandbox **out, ocr_error *err);
/* After the sandbox of a plan built with OPT has started: the warning about
 * limits this host cannot give, if it was said, is noted for this boot (it
 * is not said again until the host boots again; `check` always says it). */
void plan_spawned(const struct sandbox *sb, const struct plan_options *opt);
/* The records file of that note (host_dirs.h). */
#define PLAN_LIMITS_NOTE "limits-warned"

/* The profile's state dir exists and is a directory; else an error that
 * says to run setup. Checked first, so a profile that was never set up is
 * told so before any check that compares it with the others. */
int plan_check_state_dir(const struct profile *p, ocr_error *err);

/* The memory, pids and CPU limits of INST's sandboxes: what setup pinned,
 * the defaults for the rest (resources.h). */
void plan_limits(const struct instance *inst, struct sandbox_limits *out);

/* The name prefix of the instance's cgroups ("openclaw-run-NAME-"). */
void plan_cgroup_prefix(const struct profile *p, char *buf, size_t len);

/* Path of the default seccomp policy: next to the binary
 * (<exe dir>/share/openclaw-run or <exe dir>/../share/openclaw-run). */
int plan_default_policy(char *buf, size_t len, ocr_error *err);

#endif
