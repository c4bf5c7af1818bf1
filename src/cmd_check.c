/* `check`: every instance of the host against the isolation checklist. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "ownership.h"
#include "port_probe.h"
#include "registry.h"
#include "runtime.h"
#include "trust.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run check [--json]\n"
	      "\n"
	      "Read every OpenClaw instance of this user (all ~/.openclaw* state dirs and the\n"
	      "instances `setup` recorded with explicit paths) and report each violation of\n"
	      "the isolation checklist: shared config, state dir or workspace; overlapping\n"
	      "port blocks; a shared browser.cdpUrl or CDP port; one instance's files inside\n"
	      "another's state dir or workspace. OPENCLAW_STATE_DIR / OPENCLAW_CONFIG_PATH,\n"
	      "when set, add that instance to the set.\n"
	      "\n"
	      "  --json      machine-readable output\n"
	      "  -h, --help  show this help\n"
	      "\n"
	      "Exit status: 0 clean, 1 violations found, 2 unreadable input or bad usage.\n",
	      out);
}

/* The caller's own instance, when its env points somewhere the scan cannot
 * see (a state dir outside the home, a config path set by hand). */
static int add_current(const struct cli_context *ctx, struct instance_set *set, ocr_error *err)
{
	struct instance inst, *bigger;

	if (!(ctx->env.state_dir && *ctx->env.state_dir) &&
	    !(ctx->env.config_path && *ctx->env.config_path))
		return 0;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, err) < 0)
		return -1;
	for (size_t i = 0; i < set->n; i++) {
		if (instance_same_place(&set->items[i], &inst)) {
			instance_release(&inst);
			return 0;
		}
	}
	bigger = realloc(set->items, (set->n + 1) * sizeof(*bigger));
	if (!bigger) {
		instance_release(&inst);
		return err_set(err, 0, "out of memory");
	}
	set->items = bigger;
	set->items[set->n++] = inst;
	return 0;
}

/* A port of a stopped instance's block that another program holds: its
 * gateway would not start. Running instances hold their own ports. */
static unsigned held_port(const struct instance *inst, char *holder, size_t len)
{
	struct runtime_paths rp;
	pid_t pid;
	unsigned hit;

	if (port_block_validate(&inst->ports, NULL) < 0 ||
	    (runtime_paths_for(&inst->profile, &rp, NULL) == 0 &&
	     runtime_lock_held(&rp, &pid, NULL) == 1))
		return 0;
	hit = port_probe_busy(inst->ports.base, port_block_last(&inst->ports));
	if (hit)
		port_describe_holder(hit, holder, len);
	return hit;
}

static cJSON *instance_json(const struct instance *inst)
{
	const struct profile *p = &inst->profile;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "profile", profile_label(p));
	cJSON_AddStringToObject(o, "state_dir", p->state_dir);
	cJSON_AddStringToObject(o, "config_path", p->config_path);
	cJSON_AddBoolToObject(o, "config_missing", inst->config_missing);
	cJSON_AddStringToObject(o, "workspace", p->workspace);
	cJSON_AddStringToObject(o, "state_from", path_origin_label(p->state_origin));
	cJSON_AddNumberToObject(o, "port_base", inst->ports.base);
	cJSON_AddNumberToObject(o, "port_last", port_block_last(&inst->ports));
	cJSON_AddStringToObject(o, "port_from", port_base_origin_label(inst->ports.origin));
	cJSON_AddBoolToObject(o, "pinned", inst->pinned);
	cJSON *grants = cJSON_AddArrayToObject(o, "rescues");
	for (size_t i = 0; inst->pinned && i < inst->pins.n_rescues; i++)
		cJSON_AddItemToArray(grants, grant_to_json(&inst->pins.rescues[i]));
	char holder[128];
	unsigned hit = held_port(inst, holder, sizeof(holder));
	if (hit) {
		cJSON *h = cJSON_AddObjectToObject(o, "port_held");

		cJSON_AddNumberToObject(h, "port", hit);
		cJSON_AddStringToObject(h, "by", holder);
	}
	if (inst->config_error[0])
		cJSON_AddStringToObject(o, "config_error", inst->config_error);
	struct trust_drift d[TRUST_DRIFT_MAX];
	size_t n = trust_drift_find(inst, d, TRUST_DRIFT_MAX);
	cJSON *drift = cJSON_AddArrayToObject(o, "drift");
	for (size_t i = 0; i < n && i < TRUST_DRIFT_MAX; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "key", d[i].key);
		cJSON_AddStringToObject(e, "config", d[i].config_value);
		cJSON_AddStringToObject(e, "pinned", d[i].pinned_value);
		cJSON_AddStringToObject(e, "fix", d[i].fix);
		cJSON_AddItemToArray(drift, e);
	}
	return o;
}

/* Instances whose config no longer agrees with their pins, or does not
 * parse, or whose ports another program holds: not an isolation
 * violation, but the gateway will not start. */
static size_t count_drift(const struct instance_set *set)
{
	struct ownership_report r;
	struct trust_drift d[TRUST_DRIFT_MAX];
	char holder[128];
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += (cli_foreign_files(&set->items[i], &r) > 0 ? 1 : 0) +
		     trust_drift_find(&set->items[i], d, TRUST_DRIFT_MAX) +
		     (set->items[i].config_error[0] ? 1 : 0) +
		     (held_port(&set->items[i], holder, sizeof(holder)) ? 1 : 0);
	return n;
}

static int print_json(const struct instance_set *set, const struct violation_list *vl,
		      size_t others)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *text;

	cJSON_AddBoolToObject(root, "ok", vl->n == 0 && !others && !set->n_problems);
	arr = cJSON_AddArrayToObject(root, "unreadable");
	for (size_t i = 0; i < set->n_problems; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(set->problems[i]));
	arr = cJSON_AddArrayToObject(root, "instances");
	for (size_t i = 0; i < set->n; i++)
		cJSON_AddItemToArray(arr, instance_json(&set->items[i]));
	arr = cJSON_AddArrayToObject(root, "violations");
	for (size_t i = 0; i < vl->n; i++) {
		const struct violation *v = &vl->items[i];
		cJSON *o = cJSON_CreateObject(), *names;

		cJSON_AddStringToObject(o, "kind", violation_kind_name(v->kind));
		names = cJSON_AddArrayToObject(o, "profiles");
		cJSON_AddItemToArray(names,
				     cJSON_CreateString(profile_label(&set->items[v->a].profile)));
		if (v->b != v->a)
			cJSON_AddItemToArray(
			    names, cJSON_CreateString(profile_label(&set->items[v->b].profile)));
		if (v->port)
			cJSON_AddNumberToObject(o, "port", v->port);
		cJSON_AddStringToObject(o, "detail", v->detail);
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text) {
		cli_errorf("check: out of memory");
		return -1;
	}
	puts(text);
	free(text);
	return 0;
}

/* The rescue grants INST holds (grant.h), as setup recorded them. */
static void print_grants(const struct instance *inst)
{
	for (size_t i = 0; inst->pinned && i < inst->pins.n_rescues; i++) {
		char items[96];

		grant_items_text(inst->pins.rescues[i].items, items, sizeof(items));
		printf("grant %s rescues %s: %s\n", profile_label(&inst->profile),
		       inst->pins.rescues[i].profile, items);
	}
}

static void print_text(const struct instance_set *set, const struct violation_list *vl,
		       size_t others)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct instance *inst = &set->items[i];

		printf("instance %-12s ports %u..%u  config %s%s\n", profile_label(&inst->profile),
		       inst->ports.base, port_block_last(&inst->ports), inst->profile.config_path,
		       inst->config_missing ? " (missing)" : "");
	}
	for (size_t i = 0; i < set->n; i++)
		print_grants(&set->items[i]);
	for (size_t i = 0; i < vl->n; i++)
		printf("violation %s: %s\n", violation_kind_name(vl->items[i].kind),
		       vl->items[i].detail);
	for (size_t i = 0; i < set->n; i++) {
		const struct instance *inst = &set->items[i];
		struct trust_drift d[TRUST_DRIFT_MAX];
		size_t n = trust_drift_find(inst, d, TRUST_DRIFT_MAX);

		if (inst->config_error[0])
			printf("config-error %s: %s\n", profile_label(&inst->profile),
			       inst->config_error);
		if (!n)
			continue;
		printf("drift %s: the config disagrees with what setup pinned (the gateway "
		       "will not start):\n",
		       profile_label(&inst->profile));
		fflush(stdout);
		trust_drift_print(stdout, d, n < TRUST_DRIFT_MAX ? n : TRUST_DRIFT_MAX);
	}
	for (size_t i = 0; i < set->n; i++) {
		char holder[128];
		unsigned hit = held_port(&set->items[i], holder, sizeof(holder));

		if (hit)
			printf("port-held %s: port %u of its block is held by %s (the gateway will "
			       "not start)\n",
			       profile_label(&set->items[i].profile), hit, holder);
	}
	for (size_t i = 0; i < set->n; i++)
		cli_check_ownership(&set->items[i], "check", false);
	for (size_t i = 0; i < set->n_problems; i++)
		cli_errorf("check: cannot read an instance: %s", set->problems[i]);
	if (vl->n == 0 && others == 0 && set->n_problems == 0)
		printf("ok: %zu instance%s, no violations\n", set->n, set->n == 1 ? "" : "s");
	else
		printf("%zu violation%s, %zu other problem%s among %zu instances\n", vl->n,
		       vl->n == 1 ? "" : "s", others, others == 1 ? "" : "s", set->n);
}

int cmd_check(const struct cli_context *ctx, int argc, char **argv)
{
	struct instance_set set;
	struct violation_list vl;
	ocr_error err = {0};
	bool json;
	int rc;

	rc = cli_parse_json_help(argc, argv, "check", usage, &json);
	if (rc >= 0)
		return rc;
	if (registry_scan(&ctx->env, &set, &err) < 0) {
		err_prefix(&err, "check");
		err_print(&err);
		return EXIT_USAGE;
	}
	if (add_current(ctx, &set, &err) < 0) {
		err_prefix(&err, "check");
		err_print(&err);
		instance_set_release(&set);
		return EXIT_USAGE;
	}
	if (check_instances(set.items, set.n, &vl, &err) < 0) {
		err_prefix(&err, "check");
		err_print(&err);
		instance_set_release(&set);
		return EXIT_FAIL;
	}
	/* Once: it walks every state dir and reads /proc/net, and the verdict,
	 * the summary line and the exit code must agree. */
	size_t others = count_drift(&set);
	rc = set.n_problems ? EXIT_USAGE : vl.n || others ? EXIT_FAIL : EXIT_OK;
	if (json) {
		if (print_json(&set, &vl, others) < 0)
			rc = EXIT_FAIL;
	} else {
		print_text(&set, &vl, others);
	}
	violation_list_release(&vl);
	instance_set_release(&set);
	return rc;
}

int cli_refuse_unisolated(const struct cli_context *ctx, const struct instance *self,
			  const char *cmd)
{
	struct instance_set set;
	struct violation_list vl;
	struct instance *all;
	ocr_error err = {0};
	size_t n, me = SIZE_MAX, bad = 0;

	if (registry_scan(&ctx->env, &set, &err) < 0) {
		err_prefix(&err, "%s: reading the other instances", cmd);
		err_print(&err);
		return -1;
	}
	cli_warn_scan_problems(&set, cmd);
	/* Shallow copies: the set keeps every config. Our own view (--port,
	 * the caller's env) replaces the scan's. */
	all = calloc(set.n + 1, sizeof(*all));
	if (!all) {
		cli_errorf("%s: out of memory", cmd);
		instance_set_release(&set);
		return -1;
	}
	for (n = 0; n < set.n; n++) {
		all[n] = set.items[n];
		if (instance_same_place(&set.items[n], self)) {
			me = n;
			all[n] = *self;
		}
	}
	if (me == SIZE_MAX)
		all[me = n++] = *self;
	if (check_instances(all, n, &vl, &err) < 0) {
		err_prefix(&err, "%s", cmd);
		err_print(&err);
		bad = 1; /* vl is left empty */
	}
	for (size_t i = 0; i < vl.n; i++) {
		if (!violation_involves(&vl.items[i], me))
			continue;
		if (bad++ == 0)
			cli_errorf("%s: refusing profile %s: it breaks the isolation checklist:",
				   cmd, profile_label(&self->profile));
		fprintf(stderr, "  %s: %s\n", violation_kind_name(vl.items[i].kind),
			vl.items[i].detail);
	}
	violation_list_release(&vl);
	free(all);
	instance_set_release(&set);
	return bad ? -1 : 0;
}
