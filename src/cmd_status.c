/* openclaw-run [--profile NAME] status [--json] [--probe]: is the gateway
 * running, live, started and ready? Exit 0 started and live (ready or
 * not), 1 not live, not started yet or its supervisor gone, 3 stopped
 * (LSB), 4 no such profile.
 *
 * It answers from the supervisor's latest liveness check, kept fresh in the
 * state file, after proving that supervisor is alive (pid and start time)
 * and the check young enough (gateway_status.h): so a running gateway's
 * status costs about what running the binary at all costs, and libcurl
 * (30 libraries) is loaded only when the record cannot be believed or
 * --probe asks now. */
#include <getopt.h>
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
	fputs("Usage: openclaw-run [--profile NAME] status [--json] [--probe]\n"
	      "\n"
	      "Show whether the profile's gateway runs: pids, uptime, restarts, port block,\n"
	      "and upstream's three probes, each on its own: live (/healthz), started\n"
	      "(/startupz), ready (/readyz, with what is failing), plus the supervisor's\n"
	      "liveness watchdog.\n"
	      "\n"
	      "The probes' answers are the supervisor's latest check, with its age\n"
	      "(\"healthy (probed 3s ago by its supervisor)\"), while that supervisor is\n"
	      "alive (pid and start time) and the check is younger than two liveness\n"
	      "intervals plus one check's timeouts; otherwise (watchdog off, a stale\n"
	      "check, still starting) they are asked now, 2 s timeout each, and the\n"
	      "output says why. A record whose supervisor is gone is never reported.\n"
	      "\n"
	      "      --probe   ask the gateway now, whatever the record says\n"
	      "      --json    the same as JSON (probe_source, probed_at_ms, probe_age_ms,\n"
	      "                live, started, ready, failing, ...)\n"
	      "\n"
	      "Exit codes: 0 running: its supervisor saw it start, and it is live and\n"
	      "started (ready or not: \"degraded: telegram\" when /readyz fails);\n"
	      "1 not live, not started yet (the state says \"starting\"), its supervisor\n"
	      "gone, or an error; 2 bad command line; 3 not running; 4 no such profile.\n",
	      out);
}

/* -1: go on; else the exit code. */
static int parse(int argc, char **argv, bool *json, bool *probe)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"probe", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			*json = true;
			break;
		case 'p':
			*probe = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("status", argv);
		}
	}
	if (optind < argc) {
		cli_errorf("status: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

static void print_json(const struct cli_context *ctx, const struct instance *inst,
		       const struct gateway_view *v)
{
	cJSON *o = gateway_view_json(inst, v);
	bool current = v->st.init_pid && !v->supervisor_gone;
	pid_t listener = current ? port_listener_in_tree(v->port, v->st.init_pid) : 0;
	char *text;

	cJSON_AddNumberToObject(o, "listener_pid", listener);
	rescue_describe_json(o, &ctx->env, inst);
	text = cJSON_Print(o);
	puts(text);
	free(text);
	cJSON_Delete(o);
}

int cmd_status(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance inst = {0};
	struct gateway_view v;
	struct http_probe *hp = NULL;
	ocr_error err = {0};
	bool json = false, probe = false;
	int rc;

	if ((rc = parse(argc, argv, &json, &probe)) >= 0)
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
	if (gateway_view_get(&inst, &hp, probe ? GATEWAY_PROBE_NOW : GATEWAY_PROBE_RECORD, &v,
			     &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (json) {
		print_json(ctx, &inst, &v);
	} else {
		gateway_view_print(stdout, &inst, &v);
		rescue_describe(stdout, &ctx->env, &inst);
	}
	/* A held supervisor runs nothing: stopped. A gone one: not stopped
	 * (its lock is held), not healthy either. */
	rc = !v.running || v.st.held ? (v.orphan ? EXIT_FAIL : EXIT_STOPPED)
	     : v.ok		     ? EXIT_OK
				     : EXIT_FAIL;
out:
	http_probe_close(hp);
	instance_release(&inst);
	return rc;
}
