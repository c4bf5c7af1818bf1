/* The trust boundary, in one place.
 *
 * The sandboxed gateway is hostile: its config, state dir, logs and
 * workspace are its to write, so they are attacker input to the launcher,
 * exactly like a network request. What the launcher does on the host (as
 * root, or as the rootless user) follows only what a person ran and the
 * launcher's own records:
 *
 *  1. Pinned (pins.h): the read-write workspace, the port block and the
 *     explicit ports outside it, and root's sandbox account are decided by
 *     `setup` and read back at every start. The config only informs.
 *  2. Validated (trust_guard_*): every host directory a sandbox will see
 *     read-write is checked when it is pinned: never `/`, a system tree, a
 *     HOME or anything holding one, a hidden directory of a HOME, another
 *     instance's directories or the launcher's own (by device and inode as
 *     well as by name, so bind-mount aliases count). No symlink in any
 *     component.
 *  3. Drift (trust_drift_*): when the config later disagrees with the pins,
 *     `gateway` refuses to start and `exec` runs on the pins; both name the
 *     key and the one command that accepts the change. `check` reports it.
 *  4. Opened how: below a state dir the launcher never follows a link
 *     (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), creates and chowns
 *     through descriptors only, and never chowns outside the state dir;
 *     config files are read regular-only, non-blocking and size-capped
 *     (atomic_file.h); the supervisor's log lives in the launcher's log dir.
 */
#ifndef OCR_TRUST_H
#define OCR_TRUST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"
#include "host_dirs.h"
#include "registry.h"

/* ---- validation of the directories a sandbox sees read-write ------------ */

struct trust_guard;

/* Everything SELF's sandbox must never see read-write: system trees, every
 * HOME of the host (passwd and SELF's), the launcher's directories, and the
 * directories of OTHERS (instances other than SELF). */
int trust_guard_build(const struct profile *self, const struct instance_set *others,
		      const struct host_dirs *dirs, struct trust_guard **out, ocr_error *err);
void trust_guard_free(struct trust_guard *g);
/* A state dir or config dir that a person named may lie below /var, /opt,
 * /srv or /run (/var/lib/openclaw/main); a workspace may not. */
#define TRUST_ALLOW_SERVICE_TREES 0x1u

/* 0 if DIR (absolute, clean) may be bound read-write into SELF's sandbox;
 * -1 with "WHAT DIR: why" otherwise. A DIR that does not exist yet is judged
 * by its path and by its nearest existing ancestor. */
int trust_guard_check(const struct trust_guard *g, const char *what, const char *dir,
		      unsigned flags, ocr_error *err);

/* The profile's own directories against each other. Outside the state dir
 * the launcher reaches the config dir and the state dir by path (root
 * writes the config there and chowns it); a path through a directory the
 * sandbox can write (the workspace; a config dir outside the state dir) is
 * one the payload can swap for a link between the check and the write.
 * Pure: -1 with the reason when the config dir lies below the workspace,
 * or the state dir below the workspace or the config dir. */
int trust_check_own_dirs(const char *state_dir, const char *config_dir, const char *workspace,
			 ocr_error *err);

/* ---- drift: the config against the pins ----------------------------------- */

struct trust_drift {
	char key[160]; /* "gateway.port", "agents.defaults.workspace", ... */
	char config_value[PATH_MAX];
	char pinned_value[PATH_MAX];
	char fix[PATH_MAX + 160]; /* the one command that accepts it */
};

#define TRUST_DRIFT_MAX 8

/* Fills up to MAX differences of a pinned instance (none when unpinned).
 * Pure. Returns the number found (may exceed MAX: only MAX are filled). */
size_t trust_drift_find(const struct instance *inst, struct trust_drift *out, size_t max);
/* "  key: config says X, pinned Y; to accept it: FIX" lines on OUT. */
void trust_drift_print(FILE *out, const struct trust_drift *d, size_t n);

/* ---- opening inside a payload-writable tree -------------------------------- */

/* openat2(DIRFD, REL, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)
 * with O_NOFOLLOW|O_CLOEXEC added to FLAGS. */
int trust_open_beneath(int dirfd, const char *rel, int flags, mode_t mode);
/* mkdir -p REL below DIRFD, each component opened beneath the last without
 * following links; returns an O_DIRECTORY fd of REL or -1 (errno). */
int trust_mkdir_beneath(int dirfd, const char *rel, mode_t mode);
/* As root: hand REL (below DIRFD; "" for DIRFD itself) to UID:GID through a
 * descriptor, never following a link. A file with more than one hard link
 * is refused: it may be another file's name planted by the payload. */
int trust_chown_beneath(int dirfd, const char *rel, uid_t uid, gid_t gid, ocr_error *err);

#endif
