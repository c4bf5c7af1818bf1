/* Running as a container's entrypoint (`openclaw-run entrypoint`): the
 * configuration a container passes in its environment, with upstream's
 * variable names where they exist, and what the entrypoint does to an
 * instance before it hands it to the supervisor.
 *
 * container_config_parse() and container_exit_code() are pure (unit-tested);
 * container_fix_config() edits the instance's config as setup does. */
#ifndef OCR_CONTAINER_H
#define OCR_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "profile.h"
#include "registry.h"

#define CONTAINER_DEFAULT_GRACE_S 8 /* under the engines' default 10 s stop timeout */
#define CONTAINER_PASS_ENV_MAX	  32
/* Where the volume shared by a rescuer's container and its target's is
 * mounted in both (the image makes it, uid 1000, 0755, so that a new
 * volume takes that owner): <dir>/<rescuer>/<target> is the grant
 * directory (rescue.h), holding the target supervisor's control.sock and
 * the rescuer's config/. */
#define CONTAINER_RESCUE_DIR "/var/lib/openclaw-run/rescue"
#define CONTAINER_GRANTS_MAX 8 /* GRANTS_MAX */

struct container_config {
	char profile[PROFILE_NAME_MAX + 1]; /* OPENCLAW_PROFILE; "" the default profile */
	unsigned port;			    /* OPENCLAW_GATEWAY_PORT; 0: the profile's */
	char bind[16];	   /* OPENCLAW_GATEWAY_BIND: lan (default), loopback, auto, ... */
	const char *token; /* OPENCLAW_GATEWAY_TOKEN; NULL when unset */
	char tz[64];	   /* OPENCLAW_TZ; default UTC */
	int grace_s;	   /* OPENCLAW_RUN_GRACE: SIGTERM -> SIGKILL, seconds */
	bool strict;	   /* OPENCLAW_RUN_STRICT: a missing sandbox layer is an error */
	/* OPENCLAW_RUN_DOCTOR (default on): off, an exit 78 (config error)
	 * waits for a person or a rescuer instead of `openclaw doctor --fix`
	 * (gateway --no-doctor). */
	bool doctor;
	/* OPENCLAW_RUN_PASS_ENV: names of the container's variables the gateway
	 * gets too (provider keys); its environment is otherwise built from
	 * nothing. */
	const char *pass_env[CONTAINER_PASS_ENV_MAX];
	size_t n_pass_env;
	char pass_env_buf[1024];
	/* Rescue grants between containers, as a person declared them in the
	 * compose file: OPENCLAW_RUN_RESCUES (in the rescuer's container: the
	 * profiles its sandbox may rescue) and OPENCLAW_RUN_RESCUED_BY (in the
	 * target's: the profiles whose sandboxes its supervisor answers).
	 * Both sides are needed, with the volume mounted at
	 * CONTAINER_RESCUE_DIR in both. Profile labels; each grants control,
	 * logs and config (GRANT_BASE), never the workspace. */
	char rescues[CONTAINER_GRANTS_MAX][PROFILE_NAME_MAX + 1];
	size_t n_rescues;
	char rescued_by[CONTAINER_GRANTS_MAX][PROFILE_NAME_MAX + 1];
	size_t n_rescued_by;
};

typedef char *(*container_getenv_fn)(const char *name); /* getenv */

/* Reads the configuration through GET (getenv, or a table in tests). Errors
 * name the variable and say what it accepts. */
int container_config_parse(container_getenv_fn get, struct container_config *cfg, ocr_error *err);

/* A bind mode on which a published port cannot reach the gateway from
 * outside the container (only "loopback"). */
bool container_bind_is_loopback(const char *bind);

/* The container's exit code from the supervisor's (SUPERVISOR_EXIT_*) and
 * the gateway's last exit status (-1: it never ran): the gateway's code, or
 * 128+signal, when the gateway ran and ended (stopped, killed after the
 * grace, crash loop, config error); the supervisor's when it never got that
 * far. */
int container_exit_code(int supervisor_code, int gateway_last_exit);

/* Makes the instance's config fit a container: the token of
 * OPENCLAW_GATEWAY_TOKEN when given (the config's own token would win over
 * the variable upstream), token auth refused to be off, and the Control
 * UI's allowed origins for the published port when the gateway listens
 * beyond loopback (upstream refuses to start without them). Writes the
 * config only when something changed; *token_from_config tells whether the
 * gateway's token is the one in the config file. */
int container_fix_config(struct instance *inst, const struct container_config *cfg,
			 bool *token_from_config, ocr_error *err);

/* Makes PINS (the records of profile SELF, a label) hold exactly the
 * container grants of CFG: its "rescues" entries with a grant directory
 * are replaced by CFG's rescues (a host-made grant on the same name goes:
 * both would show at the same place), its "rescued_by" by CFG's rescued_by,
 * each with its directory below CONTAINER_RESCUE_DIR. Refuses SELF in
 * either list. *CHANGED says whether PINS changed. */
int container_grants_apply(const struct container_config *cfg, const char *self, struct pins *pins,
			   bool *changed, ocr_error *err);

#endif
