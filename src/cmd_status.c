/* openclaw-run [--profile NAME] status [--json]: is the gateway running,
 * live, started and ready right now? Exit 0 started and live (ready or
 * not), 1 not live, 3 stopped (LSB). It reads the lock and the state file
 * and asks the three probes itself, so it answers in milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "port_probe.h"
#include "gateway_status.h"
#include "registry.h"
#include "rescue.h"
#include "resources.h"

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

static const char *yes_no(int v)
{
	return v < 0 ? "?" : v ? "yes" : "no";
}

static void print_probe(const char *what, int verdict, const char *path,
			const struct probe_result *r, const char *note)
{
	printf("  %-8s %-4s %-9s ", what, yes_no(verdict), path);
	if (r->status)
		printf("%d in %.1f ms", r->status, r->latency_ms);
	else
		printf("not asked");
	printf("%s\n", note);
}

static void print_probes(const struct gateway_view *v)
{
	const struct health_report *h = &v->health;
	char note[HEALTH_FAILING_MAX + 32] = "";

	if (!h->healthz.status) {
		printf("  live     no   /healthz  no answer (%s)\n", h->error);
		return;
	}
	print_probe("live", h->v.live, "/healthz", &h->healthz, "");
	print_probe("started", h->v.started, "/startupz", &h->startupz,
		    h->v.startup_fallback ? " (no /startupz here: judged by /healthz)"
		    : h->v.started == 0	  ? " (starting or draining)"
					  : "");
	if (h->v.failing[0])
		snprintf(note, sizeof(note), " (failing: %s)", h->v.failing);
	print_probe("ready", h->v.ready, "/readyz", &h->readyz, note);
}

static void print_watchdog(const struct gateway_view *v)
{
	const struct runtime_state *st = &v->st;

	if (!v->have_state)
		return;
	if (st->liveness_interval_s <= 0)
		printf("  watchdog off\n");
	else if (!st->health.at_ms)
		printf("  watchdog every %d s, restart after %d failed checks\n",
		       st->liveness_interval_s, st->liveness_failures_max);
	else
		printf("  watchdog every %d s, last check %llds ago: %s (%u of %d failures)\n",
		       st->liveness_interval_s,
		       (long long)((runtime_now_unix() * 1000 - st->health.at_ms) / 1000),
		       st->health.v.live == 1 ? "live" : "not live", st->liveness_failures,
		       st->liveness_failures_max);
	if (st->last_restart_reason[0])
		printf("  restart  last one: %s\n", st->last_restart_reason);
}

static void print_human(const struct instance *inst, const struct gateway_view *v)
{
	const char *label = profile_label(&inst->profile);
	char up[32], usage[160];

	if (!v->running) {
		printf("%s: %s", label, gateway_view_state(v));
		if (v->have_state && v->st.last_exit >= 0)
			printf(" (last exit %d, %s)", v->st.last_exit,
			       runtime_phase_name(v->st.phase));
		putchar('\n');
		if (v->have_state && v->st.last_exit_why[0])
			printf("  why      %s\n", v->st.last_exit_why);
		if (v->orphan)
			printf("  warning: its sandbox (pid %ld) is still alive without a "
			       "supervisor; `openclaw-run --profile %s stop` ends it\n",
			       (long)v->st.init_pid, label);
		printf("  ports    %u-%u\n", v->port, v->port + PORT_BLOCK_LAST_OFFSET);
		return;
	}
	printf("%s: %s, %s", label, gateway_view_state(v), gateway_view_health(v));
	if (v->probed && strcmp(gateway_view_health(v), "degraded") == 0)
		printf(": %s",
		       v->health.v.failing[0] ? v->health.v.failing : "/readyz says not ready");
	putchar('\n');
	printf("  pids     supervisor %ld", (long)gateway_view_supervisor_pid(v));
	if (v->st.init_pid) {
		pid_t listener = port_listener_in_tree(v->port, v->st.init_pid);

		printf(", sandbox %ld, gateway %ld", (long)v->st.init_pid, (long)v->st.child_pid);
		/* The process `ss -ltnp` shows on the port, when it is not the
		 * gateway's first process itself. */
		if (listener > 0 && listener != v->st.child_pid)
			printf(", listening on %u: %ld", v->port, (long)listener);
	}
	putchar('\n');
	runtime_format_duration(gateway_view_uptime(v), up, sizeof(up));
	printf("  uptime   %s, restarts %u", up, v->st.restarts);
	if (v->st.last_exit >= 0)
		printf(", last exit %d", v->st.last_exit);
	putchar('\n');
	if (v->st.last_exit_why[0])
		printf("  why      %s\n", v->st.last_exit_why);
	resources_usage_line(&v->usage, usage, sizeof(usage));
	if (usage[0])
		printf("  limits   %s\n", usage);
	printf("  ports    %u-%u (gateway http://127.0.0.1:%u)\n", v->port,
	       v->port + PORT_BLOCK_LAST_OFFSET, v->port);
	if (v->probed)
		print_probes(v);
	print_watchdog(v);
	if (v->st.log_path[0])
		printf("  log      %s\n", v->st.log_path);
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
		print_human(&inst, &v);
		rescue_describe(stdout, &ctx->env, &inst);
	}
	rc = !v.running ? (v.orphan ? EXIT_FAIL : EXIT_STOPPED) : v.ok ? EXIT_OK : EXIT_FAIL;
out:
	http_probe_close(hp);
	instance_release(&inst);
	return rc;
}
