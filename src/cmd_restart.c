/* openclaw-run [--profile NAME] restart [--timeout S]: a graceful restart
 * through the running supervisor (control.h): same supervisor, the restart
 * counted, exit 0 once the new run says started. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "control.h"
#include "registry.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] restart [--timeout S]\n"
	      "\n"
	      "Restart the profile's gateway through its running supervisor (SIGHUP): the\n"
	      "gateway gets SIGTERM and its grace period, a fresh sandbox starts, the\n"
	      "supervisor stays the same and counts the restart. Waits until the new run\n"
	      "says started (/startupz), at most --timeout seconds (default 360).\n"
	      "\n"
	      "Exit codes: 0 started again, 1 not running, gave up or timed out.\n",
	      out);
}

int cmd_restart(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance inst = {0};
	struct control_report r;
	ocr_error err = {0};
	int timeout_s = CONTROL_RESTART_TIMEOUT_S, rc;

	rc = cli_parse_timeout(argc, argv, "restart", usage, &timeout_s);
	if (rc >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "restart")) >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	rc = control_restart(&inst, timeout_s, &r, &err);
	if (rc < 0)
		err_print(&err);
	else
		printf("%s: restarted (supervisor pid %ld, gateway pid %ld, restarts %u)\n",
		       profile_label(&inst.profile), (long)r.supervisor, (long)r.view.st.child_pid,
		       r.view.st.restarts);
	instance_release(&inst);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
