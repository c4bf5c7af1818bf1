/* openclaw-run [--profile NAME] status [--json]: is the gateway running,
 * live, started and ready right now? Exit 0 started and live (ready or
 * not), 1 not live, 3 stopped (LSB). It reads the lock and the state file
 * and asks the three probes itself, so it answers in milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gateway_status.h"
#include "port_probe.h"
#include "registry.h"
#include "rescue.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] status [--json]\n"
	      "\n"
	      "Show whether the profile's gateway runs: pids, uptime, restarts, port block,\n"
	      "and upstream's three probes asked now (2 s timeout), each on its own: live\n"
	      "(/healthz), started (/startupz), ready (/readyz, with what is failing), plus\n"
	      "the supervisor's liveness watchdog.\n"
	      "\n"
	      "Exit codes: 0 started and live (\"degraded: telegram\" when /readyz fails),\n"
	      "1 not live or not started yet (or an error), 3 not running.\n",
	      out);
}

int cmd_status(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance inst = {0};
	struct gateway_view v;
	struct http_probe *hp = NULL;
	ocr_error err = {0};
	bool json = false;
	int rc;

	rc = cli_parse_json_help(argc, argv, "status", usage, &json);
	if (rc >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "status")) >= 0)
		return rc;
	rc = EXIT_FAIL;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	/* What would stop the next start, said now: drift, a broken config,
	 * files the sandbox's account cannot use. */
	cli_check_drift(&inst, "status", false);
	cli_check_ownership(&inst, "status", false);
	if (gateway_view_get(&inst, &hp, true, &v, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (json) {
		cJSON *o = gateway_view_json(&inst, &v);
		pid_t listener = v.st.init_pid ? port_listener_in_tree(v.port, v.st.init_pid) : 0;

		cJSON_AddNumberToObject(o, "listener_pid", listener);

		rescue_describe_json(o, &ctx->env, &inst);
		char *text = cJSON_Print(o);

		puts(text);
		free(text);
		cJSON_Delete(o);
	} else {
		gateway_view_print(stdout, &inst, &v);
		rescue_describe(stdout, &ctx->env, &inst);
	}
	rc = !v.running || v.st.held ? (v.orphan ? EXIT_FAIL : EXIT_STOPPED)
	     : v.ok		     ? EXIT_OK
				     : EXIT_FAIL;
out:
	http_probe_close(hp);
	instance_release(&inst);
	return rc;
}
