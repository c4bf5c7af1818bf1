/* Files in a state dir that the sandbox's account cannot use: upstream's
 * own CLI run as root on the host (`openclaw config set`, `onboard`) leaves
 * root-owned files there, and the gateway then fails with messages about
 * watches or "unreadable" databases that never say the cause. The scan
 * finds them before a start; `setup` (root) gives them back.
 *
 * Both walk below a descriptor of the state dir without following links
 * and without crossing into another filesystem; the workspace below the
 * state dir is skipped (it can hold large trees, and the gateway survives a
 * foreign file there). */
#ifndef OCR_OWNERSHIP_H
#define OCR_OWNERSHIP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct ownership_report {
	size_t foreign;	      /* entries not owned by the uid */
	char first[PATH_MAX]; /* the first one, relative to the state dir (defanged) */
	uid_t first_uid;
	bool truncated; /* stopped at the entry cap */
};

/* SKIP_REL: a subtree not to walk ("" none), e.g. the workspace. */
int ownership_scan(int state_fd, const char *skip_rel, uid_t uid, struct ownership_report *out,
		   ocr_error *err);
/* As root: chown every foreign entry to UID:GID through descriptors; a
 * file with a second hard link is left alone (*skipped counts it). */
int ownership_repair(int state_fd, const char *skip_rel, uid_t uid, gid_t gid, size_t *fixed,
		     size_t *skipped, ocr_error *err);

#endif
