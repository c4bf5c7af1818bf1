/* openclaw-run [--profile NAME] status [--json]: is the gateway running,
 * and healthy right now? Exit 0 healthy, 1 running but unhealthy, 3 stopped
 * (LSB). It reads the lock and the state file and asks /healthz and /readyz
 * itself, so it answers in milliseconds. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "gateway_status.h"
#include "registry.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] status [--json]\n"
	      "\n"
	      "Show whether the profile's gateway runs: pids, uptime, restarts, port block,\n"
	      "and /healthz + /readyz asked now (2 s timeout) with their latency.\n"
	      "\n"
	      "Exit codes: 0 running and healthy, 1 running but not healthy (or an error),\n"
	      "3 not running.\n",
	      out);
}

static void print_probe(const char *path, const struct http_result *r)
{
	if (r->status)
		printf("  %-8s %d in %.1f ms\n", path, r->status, r->latency_ms);
	else
		printf("  %-8s no answer (%s)\n", path, r->error);
}

static void print_human(const struct instance *inst, const struct gateway_view *v)
{
	const char *label = profile_label(&inst->profile);
	char up[32];

	if (!v->running) {
		printf("%s: %s", label, gateway_view_state(v));
		if (v->have_state && v->st.last_exit >= 0)
			printf(" (last exit %d, %s)", v->st.last_exit,
			       runtime_phase_name(v->st.phase));
		putchar('\n');
		if (v->orphan)
			printf("  warning: its sandbox (pid %ld) is still alive without a "
			       "supervisor; `openclaw-run --profile %s stop` ends it\n",
			       (long)v->st.init_pid, label);
		printf("  ports    %u-%u\n", v->port, v->port + PORT_BLOCK_LAST_OFFSET);
		return;
	}
	printf("%s: %s, %s\n", label, gateway_view_state(v), gateway_view_health(v));
	printf("  pids     supervisor %ld", (long)gateway_view_supervisor_pid(v));
	if (v->st.init_pid)
		printf(", sandbox %ld, gateway %ld", (long)v->st.init_pid, (long)v->st.child_pid);
	putchar('\n');
	runtime_format_duration(gateway_view_uptime(v), up, sizeof(up));
	printf("  uptime   %s, restarts %u", up, v->st.restarts);
	if (v->st.last_exit >= 0)
		printf(", last exit %d", v->st.last_exit);
	putchar('\n');
	printf("  ports    %u-%u (gateway http://127.0.0.1:%u)\n", v->port,
	       v->port + PORT_BLOCK_LAST_OFFSET, v->port);
	if (v->probed) {
		print_probe("/healthz", &v->healthz);
		print_probe("/readyz", &v->readyz);
	}
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
	if (gateway_view_get(&inst, &hp, true, &v, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (json) {
		cJSON *o = gateway_view_json(&inst, &v);
		char *text = cJSON_Print(o);

		puts(text);
		free(text);
		cJSON_Delete(o);
	} else {
		print_human(&inst, &v);
	}
	rc = !v.running ? (v.orphan ? EXIT_FAIL : EXIT_STOPPED) : v.healthy ? EXIT_OK : EXIT_FAIL;
out:
	http_probe_close(hp);
	instance_release(&inst);
	return rc;
}
