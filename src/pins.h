/* Pins: what a person decided for a profile when they ran `setup`, kept in
 * the launcher's own records (host_dirs.h), never in OpenClaw's config. The
 * sandbox's read-write workspace, the ports it may bind and, for root, the
 * host account it runs as come from here and nowhere else: the config is
 * the payload's to rewrite, so it only informs (see trust.h for drift).
 *
 * One file per instance: <records>/profiles/<name>-<hash of state dir>.json,
 * mode 0600, written atomically; read back only when owned by the caller and
 * writable by nobody else. */
#ifndef OCR_PINS_H
#define OCR_PINS_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "grant.h"
#include "ports.h"
#include "profile.h"
#include "resources.h"

#define PINS_VERSION  1
#define PINS_USER_MAX 64

struct pins {
	char state_dir[PATH_MAX];
	char config_path[PATH_MAX];
	char workspace[PATH_MAX];
	/* The base and the explicit ports outside base..base+110. */
	struct port_block ports;
	/* Root launches: the host account the sandbox runs as, resolved once at
	 * setup so no start needs an NSS lookup. */
	bool has_ids;
	uid_t uid;
	gid_t gid;
	char user[PINS_USER_MAX];
	/* Profiles this one may rescue (grant.h); absent in older records. */
	size_t n_rescues;
	struct grant rescues[GRANTS_MAX];
	/* Profiles in other containers that may rescue this one, as a person
	 * declared them for the container (OPENCLAW_RUN_RESCUED_BY, written by
	 * `entrypoint`): "profile" is the rescuer, "dir" the grant directory
	 * on the volume the two share. Never set on a host. */
	size_t n_rescued_by;
	struct grant rescued_by[GRANTS_MAX];
	/* Memory, pids and CPU limits a person chose (limits.set); the rest
	 * follow the defaults of the openclaw-run that starts it. Records
	 * without them (older ones) have none chosen. */
	struct resources limits;
};

/* <records>/profiles/<name>-<fnv32(state dir)>.json */
int pins_path(const char *records_dir, const struct profile *p, char *buf, size_t len,
	      ocr_error *err);

/* *found false (and 0) when the profile has no records yet. Records that
 * are not ours (owner, mode, a link, not a regular file) are an error. */
int pins_load(const char *records_dir, const struct profile *p, struct pins *out, bool *found,
	      ocr_error *err);
int pins_save(const char *records_dir, const struct profile *p, const struct pins *in,
	      ocr_error *err);

/* One record file read as pins_load() does (for scanning the records). */
int pins_load_file(const char *path, struct pins *out, bool *found, ocr_error *err);

/* Pure halves, for tests. */
cJSON *pins_to_json(const struct pins *in);
int pins_from_json(const cJSON *root, struct pins *out, ocr_error *err);

/* FNV-1a 32 of a string: names files after a state dir. */
unsigned pins_hash(const char *s);

#endif
