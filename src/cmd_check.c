/* `check`: every instance of the host against the isolation checklist. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "check_cache.h"
#include "cleanup.h"
#include "cli.h"
#include "host_dirs.h"
#include "ownership.h"
#include "port_probe.h"
#include "plan.h"
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

/* What stops an instance's gateway from starting without breaking the
 * checklist: drift from its pins, a config that does not parse, a port of
 * its block another program holds, files its account cannot use. Found
 * once per instance (it walks the state dir and reads /proc/net), so the
 * text, the JSON, the summary and the exit code all say the same. */
struct findings {
	struct trust_drift drift[TRUST_DRIFT_MAX];
	size_t n_drift;
	unsigned held_port;
	char holder[128];
	struct ownership_report foreign;
};

static size_t findings_collect(const struct instance *inst, struct findings *f)
{
	size_t n = trust_drift_find(inst, f->drift, TRUST_DRIFT_MAX);

	f->n_drift = n < TRUST_DRIFT_MAX ? n : TRUST_DRIFT_MAX;
	f->held_port = held_port(inst, f->holder, sizeof(f->holder));
	cli_foreign_files(inst, &f->foreign);
	return n + (inst->config_error[0] ? 1 : 0) + (f->held_port ? 1 : 0) +
	       (f->foreign.foreign ? 1 : 0);
}

static void drift_json(cJSON *o, const struct findings *f)
{
	cJSON *drift = cJSON_AddArrayToObject(o, "drift");

	for (size_t i = 0; i < f->n_drift; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "key", f->drift[i].key);
		cJSON_AddStringToObject(e, "config", f->drift[i].config_value);
		cJSON_AddStringToObject(e, "pinned", f->drift[i].pinned_value);
		cJSON_AddStringToObject(e, "fix", f->drift[i].fix);
		cJSON_AddItemToArray(drift, e);
	}
}

static cJSON *instance_json(const struct instance *inst, const struct findings *f)
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
	if (f->held_port) {
		cJSON *h = cJSON_AddObjectToObject(o, "port_held");

		cJSON_AddNumberToObject(h, "port", f->held_port);
		cJSON_AddStringToObject(h, "by", f->holder);
	}
	if (f->foreign.foreign) {
		cJSON *h = cJSON_AddObjectToObject(o, "foreign_files");

		cJSON_AddNumberToObject(h, "count", (double)f->foreign.foreign);
		cJSON_AddBoolToObject(h, "more", f->foreign.truncated);
		cJSON_AddStringToObject(h, "first", f->foreign.first);
		cJSON_AddNumberToObject(h, "first_uid", f->foreign.first_uid);
	}
	if (inst->config_error[0])
		cJSON_AddStringToObject(o, "config_error", inst->config_error);
	drift_json(o, f);
	return o;
}

static int print_json(const struct instance_set *set, const struct findings *f,
		      const struct violation_list *vl, size_t others, const char *limits_off)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *text;

	cJSON_AddBoolToObject(root, "ok", vl->n == 0 && !others && !set->n_problems);
	if (limits_off[0])
		cJSON_AddStringToObject(root, "limits_off", limits_off);
	else
		cJSON_AddNullToObject(root, "limits_off");
	arr = cJSON_AddArrayToObject(root, "unreadable");
	for (size_t i = 0; i < set->n_problems; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(set->problems[i]));
	arr = cJSON_AddArrayToObject(root, "instances");
	for (size_t i = 0; i < set->n; i++)
		cJSON_AddItemToArray(arr, instance_json(&set->items[i], &f[i]));
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

static void print_text(const struct instance_set *set, const struct findings *f,
		       const struct violation_list *vl, size_t others, const char *limits_off)
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

		if (inst->config_error[0])
			printf("config-error %s: %s\n", profile_label(&inst->profile),
			       inst->config_error);
		if (!f[i].n_drift)
			continue;
		printf("drift %s: the config disagrees with what setup pinned (the gateway "
		       "will not start):\n",
		       profile_label(&inst->profile));
		fflush(stdout);
		trust_drift_print(stdout, f[i].drift, f[i].n_drift);
	}
	for (size_t i = 0; i < set->n; i++)
		if (f[i].held_port)
			printf("port-held %s: port %u of its block is held by %s (the gateway will "
			       "not start)\n",
			       profile_label(&set->items[i].profile), f[i].held_port, f[i].holder);
	fflush(stdout);
	for (size_t i = 0; i < set->n; i++)
		if (f[i].foreign.foreign)
			cli_report_foreign(&set->items[i], &f[i].foreign, "check", false);
	for (size_t i = 0; i < set->n_problems; i++)
		cli_errorf("check: cannot read an instance: %s", set->problems[i]);
	if (limits_off[0])
		printf("limits-off: %s; the sandboxes run with their rlimits only\n", limits_off);
	if (vl->n == 0 && others == 0 && set->n_problems == 0)
		printf("ok: %zu instance%s, no violations\n", set->n, set->n == 1 ? "" : "s");
	else
		printf("%zu violation%s, %zu other problem%s among %zu instances\n", vl->n,
		       vl->n == 1 ? "" : "s", others, others == 1 ? "" : "s", set->n);
}

/* The exit code: 2 an unreadable instance, 1 violations or other problems. */
static int report(const struct instance_set *set, const struct violation_list *vl, bool json)
{
	cleanup_free struct findings *f = calloc(set->n ? set->n : 1, sizeof(*f));
	struct sandbox_limits all = {0};
	char limits_off[256];
	size_t others = 0;
	int rc;

	if (!f) {
		cli_errorf("check: out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < set->n; i++)
		others += findings_collect(&set->items[i], &f[i]);
	rc = set->n_problems ? EXIT_USAGE : vl->n || others ? EXIT_FAIL : EXIT_OK;
	/* A host matter: the controllers the instances' limits need that
	 * cannot be used here. exec and gateway say it at the first start of
	 * a boot only, so it is always said here. */
	for (size_t i = 0; i < set->n; i++) {
		struct sandbox_limits l;

		plan_limits(&set->items[i], &l);
		all.memory_max |= l.memory_max;
		all.pids_max |= l.pids_max;
		all.cpu_weight |= l.cpu_weight;
		all.cpu_quota_pct |= l.cpu_quota_pct;
	}
	sandbox_limits_probe(&all, limits_off, sizeof(limits_off));
	if (!json)
		print_text(set, f, vl, others, limits_off);
	else if (print_json(set, f, vl, others, limits_off) < 0)
		rc = EXIT_FAIL;
	return rc;
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
	rc = report(&set, &vl, json);
	violation_list_release(&vl);
	instance_set_release(&set);
	return rc;
}

/* The inputs of the verdict besides the files (check_cache.h): who asks,
 * for which profile, with which environment, and the facts of the starting
 * instance as loaded now. Each value is length-prefixed, NULL as "-".
 * Caller frees; NULL when out of memory. */
static char *verdict_key(const struct cli_context *ctx, const struct instance *self)
{
	const struct env_view *e = &ctx->env;
	const char *in[][2] = {
	    {"profile", ctx->profile},
	    {"home", e->home},
	    {"openclaw_home", e->openclaw_home},
	    {"state_dir", e->state_dir},
	    {"config_path", e->config_path},
	    {"workspace_dir", e->workspace_dir},
	    {"gateway_port", e->gateway_port},
	    {"records_dir", e->records_dir},
	    {"sandbox_profile", ctx->sandbox_profile},
	    {"rescue_dir", ctx->rescue_dir},
	};
	char exe_id[160], euid[16], *facts, *key = NULL;
	size_t len = 0, cap = 0;
	struct stat exe;
	bool ok;

	/* The binary that judges: another build may judge otherwise. */
	if (stat("/proc/self/exe", &exe) < 0 || !(facts = check_instance_facts(self)))
		return NULL;
	snprintf(exe_id, sizeof(exe_id), "%llu %llu %lld %lld.%09ld %lld.%09ld",
		 (unsigned long long)exe.st_dev, (unsigned long long)exe.st_ino,
		 (long long)exe.st_size, (long long)exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec,
		 (long long)exe.st_ctim.tv_sec, exe.st_ctim.tv_nsec);
	snprintf(euid, sizeof(euid), "%u", (unsigned)geteuid());
	ok = key_line(&key, &len, &cap, "exe", exe_id) && key_line(&key, &len, &cap, "euid", euid);
	for (size_t i = 0; ok && i < sizeof(in) / sizeof(in[0]); i++)
		ok = key_line(&key, &len, &cap, in[i][0], in[i][1]);
	ok = ok && key_line(&key, &len, &cap, "self", facts);
	free(facts);
	if (!ok) {
		free(key);
		return NULL;
	}
	return key;
}

/* The full check of SELF against every other instance; LOG records what it
 * read. Returns the number of problems said (0: clean), -1 on error. */
static int refuse_scan(const struct cli_context *ctx, const struct instance *self, const char *cmd,
		       struct dep_log *log, size_t *unreadable)
{
	struct instance_set set;
	struct violation_list vl;
	struct instance *all;
	ocr_error err = {0};
	size_t n, me = SIZE_MAX, bad = 0;

	if (registry_scan_logged(&ctx->env, &set, log, &err) < 0) {
		err_prefix(&err, "%s: reading the other instances", cmd);
		err_print(&err);
		return -1;
	}
	cli_warn_scan_problems(&set, cmd);
	*unreadable = set.n_problems;
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

int cli_refuse_unisolated(const struct cli_context *ctx, const struct instance *self,
			  const char *cmd)
{
	struct dep_log log = {0};
	struct host_dirs dirs;
	struct timespec started;
	size_t unreadable = 0;
	char *key = NULL;
	int rc;

	/* Before anything is read: what changes after it has a later ctime. */
	clock_gettime(CLOCK_REALTIME, &started);
	if (host_dirs_resolve(&ctx->env, &dirs, NULL) == 0)
		key = verdict_key(ctx, self);
	if (key && verdict_still_ok(dirs.records, key)) {
		free(key);
		return 0;
	}
	rc = refuse_scan(ctx, self, cmd, key ? &log : NULL, &unreadable);
	/* Only a clean verdict that warned of nothing is kept: a cached one
	 * says nothing at all. A failure to keep it costs the next start a
	 * full check, nothing more. */
	if (rc == 0 && key && unreadable == 0) {
		ocr_error ignored = {0};

		verdict_store(dirs.records, key, &log, started, &ignored);
	}
	dep_log_release(&log);
	free(key);
	return rc;
}
