/* openclaw-run [--profile NAME] stop [--timeout S]: graceful stop through
 * the supervisor (control.h). Exit 0 once nothing of the profile runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "control.h"
#include "registry.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] stop [--timeout S]\n"
	      "\n"
	      "Stop the profile's gateway through its supervisor: SIGTERM, the supervisor's\n"
	      "grace period, then SIGKILL of the whole sandbox. Returns only once the\n"
	      "supervisor has exited and every process of the sandbox is gone, saying every\n"
	      "5 s what still runs; after --timeout seconds (default 60) it kills them\n"
	      "itself, and fails naming them when they are not gone 10 s later.\n"
	      "\n"
	      "Exit codes: 0 nothing of the profile runs any more, 1 something survived.\n",
	      out);
}

/* --timeout S and no operand, for stop and restart: -1 to go on, or the
 * exit code to return at once. */
int cli_parse_timeout(int argc, char **argv, const char *cmd, void (*usage_fn)(FILE *),
		      int *timeout_s)
{
	static const struct option options[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "t:h", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (cli_parse_seconds(cmd, "--timeout", optarg, timeout_s) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage_fn(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	if (optind < argc) {
		cli_errorf("%s: unexpected argument '%s'", cmd, argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

struct stop_progress {
	const char *label;
	int timeout_s;
};

static void say_progress(const struct control_report *r, int64_t waited_ms, void *arg)
{
	const struct stop_progress *p = arg;
	long s = (long)(waited_ms / 1000);

	fprintf(stderr, "openclaw-run: %s: stopping, %ld s:", p->label, s);
	if (r->left_supervisor > 0)
		fprintf(stderr, " supervisor %ld", (long)r->left_supervisor);
	if (r->left_sandbox > 0)
		fprintf(stderr, " sandbox %ld", (long)r->left_sandbox);
	if (!r->forced)
		fprintf(stderr, " still running (killed at %d s)\n", p->timeout_s);
	else
		fprintf(stderr, " still there after SIGKILL (giving up at %d s)\n",
			p->timeout_s + CONTROL_KILL_WAIT_S);
}

int cmd_stop(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance inst = {0};
	struct control_report r;
	ocr_error err = {0};
	int timeout_s = CONTROL_STOP_TIMEOUT_S, rc;

	rc = cli_parse_timeout(argc, argv, "stop", usage, &timeout_s);
	if (rc >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "stop")) >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	const char *label = profile_label(&inst.profile);
	struct stop_progress progress = {label, timeout_s};
	rc = control_stop(&inst, timeout_s, say_progress, &progress, &r, &err);
	if (r.orphan_killed)
		cli_warnf("%s: killed sandbox pid %ld, left without a supervisor", label,
			  (long)r.view.st.init_pid);
	if (r.forced)
		cli_warnf("%s: still running after %d s: killed the supervisor and its sandbox",
			  label, timeout_s);
	if (rc < 0)
		err_print(&err);
	else if (!r.was_running)
		printf("%s: not running\n", label);
	else if (r.view.have_state && r.view.st.last_exit >= 0)
		printf("%s: stopped (gateway exit %d)\n", label, r.view.st.last_exit);
	else
		printf("%s: stopped\n", label);
	instance_release(&inst);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
