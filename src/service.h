/* systemd units for `install` / `uninstall`: one template,
 * openclaw-run@.service, whose instance name (%i) is the profile, and per
 * profile an EnvironmentFile (mode 0600: it may hold secrets; never inline
 * in the unit) with what resolves the profile as the installer saw it.
 *
 * The unit follows upstream's unit policy (dist/systemd-unit-*.mjs:
 * Restart=always, RestartSec=5, RestartPreventExitStatus=78,
 * StartLimitBurst/IntervalSec, KillMode=mixed, SuccessExitStatus=0 143,
 * OOMPolicy=continue) with Type=notify (READY=1 once started) and
 * TimeoutStopSec above our grace. Its ExecStart runs `openclaw-run
 * --profile %i serve`, not `... gateway`: upstream's inspector
 * (dist/inspect-*.mjs) flags any unit whose ExecStart holds "openclaw" and
 * a "gateway" word as a stray extra gateway, and `openclaw doctor` would
 * offer to remove it. */
#ifndef OCR_SERVICE_H
#define OCR_SERVICE_H

#include <limits.h>
#include <stdbool.h>

#include "error.h"
#include "profile.h"

#define SERVICE_TEMPLATE "openclaw-run@.service"

enum service_scope { SERVICE_USER, SERVICE_SYSTEM };

struct service_paths {
	enum service_scope scope;
	char instance[PROFILE_NAME_MAX + 1]; /* the profile's name, "default" */
	char unit_dir[PATH_MAX];
	char unit[PATH_MAX]; /* <unit_dir>/openclaw-run@.service */
	char env_dir[PATH_MAX];
	char env[PATH_MAX]; /* <env_dir>/<instance>.env */
};

/* Where the files go. System: /etc/systemd/system and /etc/openclaw-run;
 * user: $XDG_CONFIG_HOME (or ~/.config)/systemd/user and
 * .../openclaw-run/services. UNIT_DIR (tests, packaging) replaces the unit
 * dir and puts the environment files in UNIT_DIR/openclaw-run.env.d. */
int service_paths_resolve(enum service_scope scope, const char *unit_dir, const char *home,
			  const char *xdg_config_home, const char *profile_name,
			  struct service_paths *out, ocr_error *err);

/* Pure renderers (caller frees). BIN is openclaw-run's absolute path. */
char *service_render_unit(const struct service_paths *p, const char *bin);
/* ENV: "KEY=VALUE" entries (NULL-ended), quoted for systemd as needed. */
char *service_render_env(const struct service_paths *p, char *const *env);

struct service_change {
	bool unit_written, env_written; /* false: already there, the same */
};

/* Writes both files (atomically; the env file 0600). An existing file
 * that differs is refused unless FORCE. */
int service_install(const struct service_paths *p, const char *unit_text, const char *env_text,
		    bool force, struct service_change *c, ocr_error *err);

/* Removes the profile's env file, and the template when no other profile's
 * env file is left. *REMOVED: something was there. */
int service_uninstall(const struct service_paths *p, bool *removed, bool *template_removed,
		      ocr_error *err);

/* systemd runs the machine (PID 1 is systemd: /run/systemd/system). */
bool service_systemd_running(void);

/* systemctl [--user] ARGS...; -1 with the exit status in err. */
int service_systemctl(enum service_scope scope, const char *const *args, ocr_error *err);

#endif
