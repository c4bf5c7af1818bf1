/* What the gateway runs as: its command line (the installed openclaw, or
 * --gateway-cmd), the environment openclaw-run adds to the plan's (token,
 * compile cache, --env), and the read-only binds its files need. */
#ifndef OCR_GATEWAY_ENV_H
#define OCR_GATEWAY_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "registry.h"

struct gateway_cmd {
	char **argv;	    /* NULL-terminated */
	char **doctor_argv; /* `openclaw doctor --fix --yes --non-interactive`, same install */
	char **env;	    /* "KEY=VALUE", n_env of them */
	size_t n_env;
	char **ro_binds; /* the install prefix or the command's directory */
	size_t n_ro_binds;
};

/* /opt/openclaw-run for root, else $XDG_DATA_HOME or ~/.local/share +
 * /openclaw-run; OPENCLAW_RUN_PREFIX overrides both. */
int gateway_default_prefix(char *buf, size_t len, ocr_error *err);

/* The state dir must exist (else: run setup); a missing config too. */
int gateway_require_setup(const struct instance *inst, ocr_error *err);

/* CMD non-NULL: [CMD, EXTRA...] with CMD's directory bound read-only.
 * Otherwise PREFIX (NULL: the default) must hold node and openclaw:
 * [node, openclaw.mjs, gateway, run, --port, BASE, --bind, loopback,
 * EXTRA...] with PREFIX bound read-only. The doctor pass runs the same
 * program: [node, openclaw.mjs | CMD, doctor, --fix, --yes,
 * --non-interactive]. */
int gateway_cmd_build(const struct instance *inst, const char *prefix, const char *cmd,
		      char **extra, int n_extra, struct gateway_cmd *out, ocr_error *err);

/* The handshake upstream defines for an external supervisor
 * (docs/gateway/embedding.md, dist/gateway-supervision-*.mjs):
 *   OPENCLAW_NO_RESPAWN=1         a restart stays in-process, in our pid;
 *   OPENCLAW_SUPERVISOR_MODE=external  `openclaw gateway restart` asks the
 *       running gateway (RPC) instead of a service manager, `gateway
 *       stop|start|install`, self-update and doctor's service repair
 *       refuse and name the supervisor, auto-update is off;
 *   OPENCLAW_DISABLE_BONJOUR=1    unless BONJOUR: two gateways on one host
 *       must not advertise over each other.
 * And never systemd's markers (INVOCATION_ID, JOURNAL_STREAM,
 * SYSTEMD_EXEC_PID, NOTIFY_SOCKET, WATCHDOG_*, OPENCLAW_SYSTEMD_UNIT,
 * OPENCLAW_SERVICE_*): a gateway that believes systemd owns it exits on
 * restart and waits to be respawned. */
bool gateway_env_is_service_marker(const char *entry);

/* OPENCLAW_GATEWAY_TOKEN (config gateway.auth.token), NODE_COMPILE_CACHE
 * in the state dir (a private /tmp would make every start cold), PATH with
 * node's directory first, the handshake above, then USER_ENV ("K=V", later
 * wins) without service markers (each dropped one is warned about). */
int gateway_env_build(const struct instance *inst, char *const *user_env, size_t n_user_env,
		      bool bonjour, struct gateway_cmd *out, ocr_error *err);

/* For `exec`: when PREFIX (NULL: the default) holds the installed gateway,
 * bind it read-only and put its node_modules/.bin first in PATH, with the
 * token and compile cache of gateway_env_build(), so `openclaw onboard` or
 * `openclaw status` run by name inside the sandbox. OUT->argv stays NULL;
 * nothing is added when nothing is installed there. */
int gateway_tools_build(const struct instance *inst, const char *prefix, struct gateway_cmd *out,
			ocr_error *err);

/* ARGV is upstream's own `openclaw gateway restart` (or `daemon restart`):
 * openclaw, openclaw.mjs or node [OPTIONS] openclaw.mjs, with upstream's
 * root options (cli-root-options.mjs: --dev, --no-color, --profile,
 * --log-level, --container) anywhere before the words; not with --help.
 * Run by `exec` it cannot work: exec's sandbox has its own pid namespace
 * and Landlock domain, so upstream finds the gateway's lock pid dead and
 * can neither see the listener's sockets nor signal it. */
bool gateway_argv_is_upstream_restart(char *const *argv);

void gateway_cmd_release(struct gateway_cmd *c);

#endif
