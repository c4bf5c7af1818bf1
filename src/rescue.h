/* Rescue grants on the host (grant.h says what a grant is): setting them
 * in the rescuer's records, finding who may rescue a target, and the
 * per-grant directory both sides meet in.
 *
 * The grant directory, <runtime dir>/rescue/<rescuer>-<hash>/<target>-<hash>
 * (owned by the launcher, mode 0755), holds the target supervisor's
 * control socket (control.sock, owned by the rescuer's sandbox account,
 * 0600) and an empty config/, where the rescuer's sandbox sees its copy of
 * the target's config. It is bound into the rescuer's sandbox alone, at
 * RESCUE_SANDBOX_DIR/<target>: no other sandbox has it in its mount
 * namespace, which is what tells the rescuer's sandbox from another
 * profile's when both run as the same host account (see control_server.h).
 *
 * The copy itself lives in the rescuer's own state dir, RESCUE_COPY_DIR/
 * <target>-<hash> (that account's, 0700): its payload writes there what it
 * likes, and the runtime dir (/run as root, a small RAM-backed file system
 * the host needs) must never be where it can.
 *
 * Between two containers (container.h) the grant directory is the one a
 * person named, on a disk volume only those two share, and the copy lives
 * in its config/: the target's supervisor cannot see the rescuer's state
 * dir there. */
#ifndef OCR_RESCUE_H
#define OCR_RESCUE_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"
#include "grant.h"
#include "pins.h"
#include "profile.h"

/* Where a rescuer's sandbox finds its grants; the launcher sets
 * RESCUE_ENV to it in that sandbox. */
#define RESCUE_SANDBOX_DIR "/run/openclaw-run/rescue"
#define RESCUE_ENV	   "OPENCLAW_RUN_RESCUE_DIR"
#define RESCUE_SOCKET	   "control.sock"
#define RESCUE_CONFIG_DIR  "config"
#define RESCUE_COPY_DIR	   "openclaw-run-rescue" /* in the rescuer's state dir */

struct registry_instance_ref;
struct instance;

/* ADD ("main", "main:workspace") and DEL (profile names) applied to
 * PINS->rescues of SELF. A target must be a set-up profile of this user
 * (its launcher records exist) and not SELF. *CHANGED says whether the
 * list changed. Writes nothing. */
int rescue_grants_update(const struct env_view *env, const struct instance *self, char *const *add,
			 size_t n_add, char *const *del, size_t n_del, struct pins *pins,
			 bool *changed, ocr_error *err);

struct rescuer {
	char label[PROFILE_NAME_MAX + 1];
	char state_dir[PATH_MAX];
	uid_t uid; /* the host account its sandbox runs as */
	gid_t gid;
	unsigned items;
	/* A rescuer in another container (the target's rescued_by, pins.h):
	 * the grant directory on the volume the two share. "": on this host,
	 * derived (rescue_grant_dir). */
	char dir[PATH_MAX];
};

#define RESCUERS_MAX 8

/* Every profile whose records grant it TARGET (by label and state dir),
 * and the rescuers in other containers that TARGET's own records name
 * (they run as the account TARGET's sandbox runs as: the same image). */
int rescue_find_rescuers(const char *records_dir, const struct profile *target, struct rescuer *out,
			 size_t max, size_t *n, ocr_error *err);

/* The grant directory of RESCUER over TARGET (labels and state dirs). */
int rescue_grant_dir(const char *rescuer_label, const char *rescuer_state, const char *target_label,
		     const char *target_state, char *buf, size_t len, ocr_error *err);
/* The grant directory of WHO over TARGET: the one a person named for a
 * container, else rescue_grant_dir(). */
int rescue_rescuer_dir(const struct rescuer *who, const struct profile *target, char *buf,
		       size_t len, ocr_error *err);
/* Creates it (and the empty config/) when missing; insists on what it
 * finds: directories, no links, the launcher's own. */
int rescue_grant_dir_prepare(const char *dir, ocr_error *err);
/* The rescuer's copy of the target's config: RESCUE_COPY_DIR/<target>-<hash>
 * below RESCUER_STATE, made for UID:GID when missing, opened beneath the
 * state dir without following a link (its payload's to swap). Its path in
 * PATH; returns an O_DIRECTORY descriptor or -1. */
int rescue_copy_dir_open(const char *rescuer_state, const char *target_label,
			 const char *target_state, uid_t uid, gid_t gid, char *path, size_t len,
			 ocr_error *err);
/* The same for WHO over TARGET. A rescuer in another container (WHO->dir)
 * keeps its copy in the grant directory's config/, on the volume the two
 * containers share (a disk volume, not the runtime dir): the target's
 * supervisor cannot reach the rescuer's state dir there. */
int rescue_rescuer_copy_dir_open(const struct rescuer *who, const struct profile *target,
				 char *path, size_t len, ocr_error *err);

/* "  rescues    main (control, logs, config)" for each grant INST holds and
 * "  rescued by rescue (...)" for each profile that holds one on INST. */
void rescue_describe(FILE *out, const struct env_view *env, const struct instance *inst);
/* The same as JSON: {"rescues": [...], "rescued_by": [...]} added to O. */
void rescue_describe_json(cJSON *o, const struct env_view *env, const struct instance *inst);

/* Inside a sandbox: OPENCLAW_RUN_SANDBOX names its profile (every sandbox);
 * a rescuer's also has RESCUE_ENV and this binary at RESCUE_BIN_DIR, first
 * in its PATH, to speak to the targets' control sockets. */
#define RESCUE_SANDBOX_ENV "OPENCLAW_RUN_SANDBOX"
#define RESCUE_BIN_DIR	   "/run/openclaw-run/bin"

struct sandbox;
/* What a rescuer's sandbox gets for each of its grants (nothing without
 * one): the grant directory read-only at RESCUE_SANDBOX_DIR/<target>, the
 * copy's directory read-write on its config/ (and, ENV given, at the
 * target's own config dir as well, where that hides nothing of the
 * rescuer's), the target's workspace when granted, and this binary. The
 * grant directories and the copy's are made here when missing. */
int rescue_add_mounts(struct sandbox *sb, const struct instance *self, const struct env_view *env,
		      ocr_error *err);

#endif
