/* Profiles: a name in, the paths upstream's gateway would use out.
 * Mirrors openclaw 2026.9.6 (src/cli/profile-utils.ts, src/config/paths.ts,
 * workspace-default): pure, reads no environment itself. */
#ifndef OCR_PROFILE_H
#define OCR_PROFILE_H

#include <limits.h>
#include <stdbool.h>

#include "error.h"

#define PROFILE_NAME_MAX 64

/* Where a path came from, for messages ("state dir (from OPENCLAW_STATE_DIR)"). */
enum path_origin {
	ORIGIN_DEFAULT,	 /* upstream's default for the default profile */
	ORIGIN_PROFILE,	 /* derived from the profile name */
	ORIGIN_ENV,	 /* an OPENCLAW_* variable */
	ORIGIN_CONFIG,	 /* the instance's config file */
	ORIGIN_REGISTRY, /* an explicit path recorded by `setup` */
};

/* The environment upstream honours, captured once by the caller (main.c) so
 * resolution stays pure. NULL or "" means unset. */
struct env_view {
	const char *home;	   /* HOME */
	const char *openclaw_home; /* OPENCLAW_HOME */
	const char *state_dir;	   /* OPENCLAW_STATE_DIR */
	const char *config_path;   /* OPENCLAW_CONFIG_PATH */
	const char *workspace_dir; /* OPENCLAW_WORKSPACE_DIR */
	const char *gateway_port;  /* OPENCLAW_GATEWAY_PORT */
	const char *records_dir;   /* OPENCLAW_RUN_RECORDS_DIR (ours, see host_dirs.h) */
	/* Upstream falls back to a legacy ~/.clawdbot only when that exists and
	 * ~/.openclaw does not; the caller answers that question (NULL: no). */
	bool (*dir_exists)(const char *path);
};

struct profile {
	char name[PROFILE_NAME_MAX + 1]; /* "" for the default profile */
	char home[PATH_MAX];
	char state_dir[PATH_MAX];
	char config_path[PATH_MAX];
	char workspace[PATH_MAX]; /* set by profile_resolve_workspace() */
	enum path_origin state_origin, config_origin, workspace_origin;
};

/* 0 if NAME is a valid profile name (^[a-z0-9][a-z0-9_-]{0,63}$, any case);
 * otherwise -1 with a message that quotes the name and the rule. */
int profile_name_check(const char *name, ocr_error *err);

/* NAME may be NULL or "default" (any case) for the default profile. */
int profile_resolve(const char *name, const struct env_view *env, struct profile *out,
		    ocr_error *err);

/* Fills p->workspace: config's agents.defaults.workspace (may be NULL), else
 * OPENCLAW_WORKSPACE_DIR, else <state>/workspace when the state dir came from
 * the env or a profile, else <home>/.openclaw/workspace. */
int profile_resolve_workspace(struct profile *p, const char *config_workspace,
			      const struct env_view *env, ocr_error *err);

/* Lexically normalises an absolute path (no "//", ".", "..", trailing "/")
 * so instances can be compared by string; a relative path is an error. */
int path_clean(const char *in, char *out, size_t len, ocr_error *err);
/* path_clean() after expanding a leading "~" or "~/" to HOME; WHAT names the
 * source in errors ("OPENCLAW_STATE_DIR"). */
int path_expand(const char *in, const char *home, const char *what, char *out, size_t len,
		ocr_error *err);

/* PATH equals DIR or lies below it (both clean and absolute). */
bool path_within(const char *path, const char *dir);

/* "default" or the name, for messages. */
const char *profile_label(const struct profile *p);
const char *path_origin_label(enum path_origin origin);

#endif
