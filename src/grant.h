/* Rescue grants: a person lets one profile (the rescuer) look after another
 * (the target), e.g. `openclaw-run --profile rescue setup --rescues main`.
 * A grant is kept in the rescuer's launcher records (pins.h), never in
 * OpenClaw's config, which the payload can rewrite.
 *
 * What a grant exposes, item by item (README: "Rescue grants"):
 *   control    the target supervisor's control socket: status, restart,
 *              stop, start (always part of a grant)
 *   logs       the target supervisor's log, read through the socket
 *   config     a copy of the target's config, and applying a changed copy
 *              after validation (through the socket)
 *   workspace  the target's workspace, read-write (only when asked for:
 *              `--rescues main:workspace`)
 * Never: the target's state dir (credentials, sessions, sqlite), its
 * launcher records, other profiles.
 *
 * Pure: parsing and naming, unit-tested. rescue.h holds the effects. */
#ifndef OCR_GRANT_H
#define OCR_GRANT_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "profile.h"

#define GRANT_CONTROL	0x1u
#define GRANT_LOGS	0x2u
#define GRANT_CONFIG	0x4u
#define GRANT_WORKSPACE 0x8u
#define GRANT_BASE	(GRANT_CONTROL | GRANT_LOGS | GRANT_CONFIG)
#define GRANT_ALL	(GRANT_BASE | GRANT_WORKSPACE)

#define GRANTS_MAX 8

struct grant {
	char profile[PROFILE_NAME_MAX + 1]; /* the target's label ("default" for "") */
	char state_dir[PATH_MAX];	    /* the target instance, not just its name */
	unsigned items;			    /* GRANT_* */
	/* GRANT_WORKSPACE: the target's workspace as pinned when the grant was
	 * made (a person moves it with setup; grant again after that). */
	char workspace[PATH_MAX];
	/* The grant directory, when a person named it for two containers
	 * (compose.yaml's OPENCLAW_RUN_RESCUES / OPENCLAW_RUN_RESCUED_BY, see
	 * container.h): on the volume those two alone share. "" on a host,
	 * where it is derived from the runtime dir (rescue.h). A grant with a
	 * dir needs no state_dir: the other profile is not on this machine. */
	char dir[PATH_MAX];
};

/* "main" or "main:workspace" (items added to GRANT_BASE): the target's
 * label and the items. */
int grant_parse(const char *spec, char *name, size_t len, unsigned *items, ocr_error *err);
/* "control, logs, config, workspace" */
void grant_items_text(unsigned items, char *buf, size_t len);

cJSON *grant_to_json(const struct grant *g);
int grant_from_json(const cJSON *o, struct grant *out, ocr_error *err);

/* Adds (or widens/narrows to ITEMS) the grant on NAME/STATE_DIR; -1 when
 * the list is full. Removes it when ITEMS is 0. Returns 1 when the list
 * changed, 0 when it did not. */
int grant_list_set(struct grant *list, size_t *n, const char *name, const char *state_dir,
		   unsigned items, ocr_error *err);

#endif
