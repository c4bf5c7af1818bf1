/* openclaw-run list [--json]: every known instance with its base port,
 * state, health, pid and uptime; a table for people, JSON for scripts. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "gateway_status.h"
#include "registry.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run list [--json]\n"
	      "\n"
	      "List every instance of the user (all ~/.openclaw* state dirs and the ones\n"
	      "registered by setup) with its base port, state, health, supervisor pid and\n"
	      "uptime, and upstream's three probes of running gateways: live (/healthz),\n"
	      "started (/startupz), ready (/readyz, with what is failing), as their\n"
	      "supervisor last checked them while that check is fresh, else asked now\n"
	      "(`status --help` says when).\n",
	      out);
}

/* "612M/2.0G" and "37/1024": now against the limit; "-" without a group. */
static void usage_cells(const struct sandbox_usage *u, char *mem, size_t mem_len, char *pids,
			size_t pids_len)
{
	double cur = (double)u->memory_current / (1 << 20), max = (double)u->memory_max / (1 << 30);

	if (u->memory)
		snprintf(mem, mem_len, u->memory_max ? "%.0fM/%.1fG" : "%.0fM", cur, max);
	if (u->pids)
		snprintf(pids, pids_len, u->pids_max ? "%llu/%llu" : "%llu",
			 (unsigned long long)u->pids_current, (unsigned long long)u->pids_max);
}

/* One of the three probes: yes, no, or - (not known). */
static const char *probe_word(const struct gateway_view *v, int verdict)
{
	if (!v->probed || verdict < 0)
		return "-";
	return verdict ? "yes" : "no";
}

int cmd_list(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance_set set = {0};
	struct http_probe *hp = NULL;
	ocr_error err = {0};
	bool json = false;
	int rc;
	cJSON *arr = NULL;

	rc = cli_parse_json_help(argc, argv, "list", usage, &json);
	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	if (registry_scan(&ctx->env, &set, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	if (json)
		arr = cJSON_CreateArray();
	else
		printf("%-20s %-6s %-11s %-10s %-4s %-7s %-5s %-8s %-8s %-17s %-10s %s\n",
		       "PROFILE", "PORT", "STATE", "HEALTH", "LIVE", "STARTED", "READY", "PID",
		       "UPTIME", "MEMORY", "PIDS", "FAILING");
	for (size_t i = 0; i < set.n; i++) {
		const struct instance *inst = &set.items[i];
		struct gateway_view v;
		char up[32] = "-", pid[16] = "-", mem[40] = "-", pids[40] = "-";

		if (gateway_view_get(inst, &hp, GATEWAY_PROBE_RECORD, &v, &err) < 0) {
			err_print(&err);
			err_clear(&err);
			rc = EXIT_FAIL;
			continue;
		}
		if (json) {
			cJSON *o = gateway_view_json(inst, &v);
			cJSON *g = cJSON_AddArrayToObject(o, "rescues");

			for (size_t j = 0; inst->pinned && j < inst->pins.n_rescues; j++)
				cJSON_AddItemToArray(g, grant_to_json(&inst->pins.rescues[j]));
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		if (v.running) {
			snprintf(pid, sizeof(pid), "%ld", (long)gateway_view_supervisor_pid(&v));
			if (gateway_view_uptime(&v) > 0)
				runtime_format_duration(gateway_view_uptime(&v), up, sizeof(up));
		}
		usage_cells(&v.usage, mem, sizeof(mem), pids, sizeof(pids));
		printf("%-20s %-6u %-11s %-10s %-4s %-7s %-5s %-8s %-8s %-17s %-10s %s\n",
		       profile_label(&inst->profile), v.port, gateway_view_state(&v),
		       gateway_view_health(&v), probe_word(&v, v.health.v.live),
		       probe_word(&v, v.health.v.started), probe_word(&v, v.health.v.ready), pid,
		       up, mem, pids, v.probed && v.health.v.failing[0] ? v.health.v.failing : "-");
	}
	for (size_t i = 0; !json && i < set.n; i++) {
		const struct instance *inst = &set.items[i];

		for (size_t j = 0; inst->pinned && j < inst->pins.n_rescues; j++) {
			char items[96];

			grant_items_text(inst->pins.rescues[j].items, items, sizeof(items));
			printf("grant: %s rescues %s (%s)\n", profile_label(&inst->profile),
			       inst->pins.rescues[j].profile, items);
		}
	}
	if (json) {
		char *text = cJSON_Print(arr);

		puts(text);
		free(text);
		cJSON_Delete(arr);
	}
	http_probe_close(hp);
	instance_set_release(&set);
	return rc;
}
