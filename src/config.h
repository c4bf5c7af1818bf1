/* An instance's config file: JSON5 in, JSON out, unknown keys kept. */
#ifndef OCR_CONFIG_H
#define OCR_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "ports.h"

/* Nesting depth past which the gateway cannot load a config (its include
 * pass overflows node's stack, measured with openclaw 2026.9.6), and ours,
 * well above it: no config the gateway reads is refused here. */
#define CONFIG_MAX_DEPTH_UPSTREAM 1540
#define CONFIG_MAX_DEPTH	  10000

/* Reads the config as the gateway does (see json5.h), regular files only,
 * at most READ_FILE_MAX bytes, no symlink. *root is NULL and *missing true
 * when the file does not exist. A file that exists but does not parse is an
 * error ("path:line:col: why"). */
int config_load(const char *path, cJSON **root, bool *missing, ocr_error *err);
/* The same, recording the config file in LOG (check_cache.h; NULL: none);
 * a config with $include makes LOG uncacheable. */
struct dep_log;
int config_load_logged(const char *path, cJSON **root, bool *missing, struct dep_log *log,
		       ocr_error *err);

/* Value at a dotted path ("gateway.port"), or NULL. */
const cJSON *config_get(const cJSON *root, const char *dotted);
const char *config_get_string(const cJSON *root, const char *dotted);

/* Set (creating intermediate objects) a value at a dotted path; takes
 * ownership of VALUE. Returns 1 if the tree changed, 0 if an equal value was
 * already there, -1 on error. */
int config_set(cJSON *root, const char *dotted, cJSON *value, ocr_error *err);

/* Adds the ports the config names explicitly and upstream honours
 * (browser.cdpUrl, browser.profiles.<n>.cdpPort / cdpUrl,
 * mcp.apps.sandboxPort, legacy canvasHost.port) to the block. */
int config_collect_explicit_ports(const cJSON *root, struct port_block *b, ocr_error *err);

/* Pretty JSON, temp file + fsync + rename, mode 0600: for the launcher's own
 * files (the registry). A person's config is edited with config_text_*. */
int config_write(const char *path, const cJSON *root, ocr_error *err);

struct config_text;
struct profile;

/* ${VAR} in the config's strings (config_env.h) with the environment the
 * gateway gets in P's sandbox (plan.c): HOME (<state>/home), TMPDIR,
 * OPENCLAW_PROFILE, OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH. Others (what
 * --env adds, config.env, .env files) are not known here and stay written
 * as ${VAR}, as the gateway leaves an unset one. */
int config_substitute_sandbox_env(cJSON *root, const struct profile *p, ocr_error *err);

/* The config's bytes for setup's edits (config_edit.h), read as config_load
 * reads them; a missing file starts as an empty object. */
int config_text_load(const char *path, struct config_text *t, bool *missing, ocr_error *err);

/* Replaces PATH with T's text, mode 0600, owned by UID:GID ((uid_t)-1:
 * the writer) before it appears, the previous file kept as PATH.bak (the
 * gateway's .bak ring). A PATH below STATE_DIR is written through STATE_FD
 * without following any link there (the sandbox can write that tree). */
int config_text_write(const char *path, const struct config_text *t, const char *state_dir,
		      int state_fd, uid_t uid, gid_t gid, ocr_error *err);

#endif
