/* Launching a profile's gateway under the supervisor: everything `gateway`
 * and `serve` do once their command line is parsed. The start-up checks
 * (set up, drift, ownership, the isolation checklist), the gateway's command
 * and environment (gateway_env.h), the instance lock and the port, the state
 * file, then the supervisor in the foreground (with sd_notify when systemd
 * asked) or detached (detach.h). */
#ifndef OCR_LAUNCH_H
#define OCR_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "sandbox.h"

struct gateway_launch {
	unsigned port; /* 0: the profile's */
	bool detach, strict, no_doctor, bonjour;
	bool forward_signals; /* SIGHUP to the gateway, not a restart (entrypoint) */
	bool no_namespaces;   /* the host refuses them (a container's defaults) */
	int grace_s, start_grace_s, liveness_interval_s, liveness_failures, liveness_timeout_s;
	const char *prefix, *cmd, *user;
	enum sandbox_net net;
	char **env; /* --env "K=V", n_env of them */
	size_t n_env;
	char **extra; /* after --, for the gateway */
	int n_extra;
	uint64_t tmp_size;
};

/* Returns the process exit code (supervisor.h's, or the --detach caller's). */
int gateway_launch(const struct cli_context *ctx, const struct gateway_launch *a);

#endif
