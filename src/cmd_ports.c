/* `ports`: the profile's port block, each derived port with its role. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "registry.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] ports [--json]\n"
	      "\n"
	      "Print the profile's port block (base..base+110) and the role of each port,\n"
	      "plus the ports its config names explicitly (browser.cdpUrl, cdpPort, ...).\n"
	      "\n"
	      "  --json      machine-readable output\n"
	      "  -h, --help  show this help\n",
	      out);
}

static int print_json(const struct instance *inst)
{
	const struct port_block *b = &inst->ports;
	cJSON *root = cJSON_CreateObject(), *roles, *expl;
	char *text;

	cJSON_AddStringToObject(root, "profile", profile_label(&inst->profile));
	cJSON_AddStringToObject(root, "config_path", inst->profile.config_path);
	cJSON_AddNumberToObject(root, "base", b->base);
	cJSON_AddNumberToObject(root, "last", port_block_last(b));
	cJSON_AddStringToObject(root, "base_from", port_base_origin_label(b->origin));
	roles = cJSON_AddArrayToObject(root, "roles");
	for (const struct port_role *r = port_roles; r->name; r++) {
		cJSON *row = cJSON_CreateObject();

		cJSON_AddNumberToObject(row, "first", b->base + r->first_offset);
		cJSON_AddNumberToObject(row, "last", b->base + r->last_offset);
		cJSON_AddStringToObject(row, "role", r->name);
		cJSON_AddItemToArray(roles, row);
	}
	expl = cJSON_AddArrayToObject(root, "explicit");
	for (size_t i = 0; i < b->n_explicit; i++) {
		cJSON *row = cJSON_CreateObject();

		cJSON_AddNumberToObject(row, "port", b->explicit_ports[i].port);
		cJSON_AddStringToObject(row, "source", b->explicit_ports[i].source);
		cJSON_AddItemToArray(expl, row);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text) {
		cli_errorf("ports: out of memory");
		return EXIT_FAIL;
	}
	puts(text);
	free(text);
	return EXIT_OK;
}

static void print_text(const struct instance *inst)
{
	const struct port_block *b = &inst->ports;

	printf("profile %s: ports %u..%u (base from %s%s%s)\n", profile_label(&inst->profile),
	       b->base, port_block_last(b), port_base_origin_label(b->origin),
	       b->origin == PORT_FROM_CONFIG ? " in " : "",
	       b->origin == PORT_FROM_CONFIG ? inst->profile.config_path : "");
	for (const struct port_role *r = port_roles; r->name; r++) {
		char range[32];

		if (r->first_offset == r->last_offset)
			snprintf(range, sizeof(range), "%u", b->base + r->first_offset);
		else
			snprintf(range, sizeof(range), "%u..%u", b->base + r->first_offset,
				 b->base + r->last_offset);
		printf("  %-12s %s\n", range, r->name);
	}
	for (size_t i = 0; i < b->n_explicit; i++)
		printf("  %-12u %s (explicit)\n", b->explicit_ports[i].port,
		       b->explicit_ports[i].source);
}

int cmd_ports(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance inst;
	ocr_error err = {0};
	bool json;
	int rc;

	rc = cli_parse_json_help(argc, argv, "ports", usage, &json);
	if (rc >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if (json) {
		rc = print_json(&inst);
	} else {
		print_text(&inst);
		rc = EXIT_OK;
	}
	instance_release(&inst);
	return rc;
}
