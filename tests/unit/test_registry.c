/* Instances on disk: instance_load, registry_scan and the registry file,
 * against a temporary home. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "registry.h"
#include "unit_dir.h"

UNIT_DIR_SUITE(registry, home, "registry");

/* Writes TEXT to HOME/REL, creating its directory. */
static void put(const char *rel, const char *text)
{
	unit_dir_put(home, rel, text);
}

static void mkdir_in_home(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	cr_assert_eq(registry_mkdirs(path, 0700, NULL), 0);
}

static const struct instance *by_name(const struct instance_set *set, const char *label)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(profile_label(&set->items[i].profile), label) == 0)
			return &set->items[i];
	cr_assert_fail("no instance %s", label);
	return NULL;
}

Test(registry, instance_load_base_precedence)
{
	struct env_view env = {.home = home};
	struct instance inst;

	put(".openclaw-r/openclaw.json", "{gateway: {port: 19001}}");
	cr_assert_eq(instance_load("r", &env, 0, &inst, NULL), 0);
	cr_assert_eq(inst.ports.base, 19001);
	cr_assert_eq(inst.ports.origin, PORT_FROM_CONFIG);
	instance_release(&inst);
	env.gateway_port = "127.0.0.1:20001";
	cr_assert_eq(instance_load("r", &env, 0, &inst, NULL), 0);
	cr_assert_eq(inst.ports.base, 20001);
	cr_assert_eq(inst.ports.origin, PORT_FROM_ENV);
	instance_release(&inst);
	cr_assert_eq(instance_load("r", &env, 30000, &inst, NULL), 0);
	cr_assert_eq(inst.ports.base, 30000);
	cr_assert_eq(inst.ports.origin, PORT_FROM_FLAG);
	instance_release(&inst);
	env.gateway_port = NULL;
	cr_assert_eq(instance_load("p1", &env, 0, &inst, NULL), 0);
	cr_assert(inst.config_missing);
	cr_assert_eq(inst.ports.base, 21274);
	cr_assert_eq(inst.ports.origin, PORT_FROM_HASH);
	instance_release(&inst);
	cr_assert_eq(instance_load(NULL, &env, 0, &inst, NULL), 0);
	cr_assert_eq(inst.ports.base, 18789);
	cr_assert_eq(inst.ports.origin, PORT_FROM_DEFAULT);
	instance_release(&inst);
}

Test(registry, instance_load_workspace_from_config)
{
	struct env_view env = {.home = home};
	struct instance inst;

	put(".openclaw-r/openclaw.json", "{agents: {defaults: {workspace: '~/elsewhere'}}}");
	cr_assert_eq(instance_load("r", &env, 0, &inst, NULL), 0);
	cr_assert(strstr(inst.profile.workspace, "/elsewhere"));
	cr_assert_eq(inst.profile.workspace_origin, ORIGIN_CONFIG);
	instance_release(&inst);
}

Test(registry, instance_load_errors_name_file)
{
	struct env_view env = {.home = home};
	struct instance inst;
	ocr_error err = {0};

	put(".openclaw-r/openclaw.json", "{gateway: {port: 19001,,}}");
	cr_assert_eq(instance_load("r", &env, 0, &inst, &err), -1);
	cr_assert(strstr(err.msg, "profile r: ") && strstr(err.msg, "openclaw.json:1:24:"), "%s",
		  err.msg);
	put(".openclaw-r/openclaw.json", "{gateway: {port: '19001'}}");
	cr_assert_eq(instance_load("r", &env, 0, &inst, &err), -1);
	cr_assert(strstr(err.msg, "gateway.port"), "%s", err.msg);
	env.gateway_port = "nope";
	cr_assert_eq(instance_load(NULL, &env, 0, &inst, &err), -1);
	cr_assert(strstr(err.msg, "OPENCLAW_GATEWAY_PORT"), "%s", err.msg);
}

Test(registry, out_of_range_base_is_loaded_for_check)
{
	struct env_view env = {.home = home};
	struct instance inst;
	struct instance_set set;
	ocr_error err = {0};

	put(".openclaw-r/openclaw.json", "{gateway: {port: 65500}}");
	cr_assert_eq(instance_load("r", &env, 0, &inst, &err), -1);
	cr_assert(strstr(err.msg, "gateway.port in ") && strstr(err.msg, "65500"), "%s", err.msg);
	cr_assert_eq(registry_scan(&env, &set, NULL), 0);
	cr_assert_eq(set.n, 1);
	cr_assert_eq(set.items[0].ports.base, 65500);
	cr_assert_eq(port_block_validate(&set.items[0].ports, NULL), -1);
	instance_set_release(&set);
}

Test(registry, scan_finds_profile_dirs)
{
	struct env_view env = {.home = home, .state_dir = "/ignored", .gateway_port = "1"};
	struct instance_set set;
	ocr_error err = {0};

	put(".openclaw/openclaw.json", "{gateway: {port: 18789}}");
	put(".openclaw-rescue/openclaw.json", "{gateway: {port: 18909}}");
	mkdir_in_home(".openclaw-empty");
	mkdir_in_home(".openclaw-bad name");
	mkdir_in_home(".openclaw-default");
	mkdir_in_home(".clawdbot"); /* ignored: ~/.openclaw exists */
	put(".openclaw-file", "not a dir");
	mkdir_in_home(".openclaw-ran/agents"); /* a gateway ran here, config lost */
	cr_assert_eq(registry_scan(&env, &set, &err), 0, "%s", err.msg);
	cr_assert_eq(set.n, 3);
	cr_assert_eq(by_name(&set, "default")->ports.base, 18789);
	cr_assert_eq(by_name(&set, "rescue")->ports.base, 18909);
	cr_assert(by_name(&set, "ran")->config_missing);
	instance_set_release(&set);
}

/* The seed's manual layout: ~/.openclaw holds main.json and rescue.json
 * only. It is a folder of configs, not a phantom default instance. */
Test(registry, config_folder_is_not_an_instance)
{
	struct env_view env = {.home = home};
	struct instance_set set;

	put(".openclaw/main.json", "{gateway: {port: 18789}}");
	put(".openclaw/rescue.json", "{gateway: {port: 18909}}");
	mkdir_in_home(".openclaw-main");
	cr_assert_eq(registry_scan(&env, &set, NULL), 0);
	cr_assert_eq(set.n, 0);
	instance_set_release(&set);
}

Test(registry, scan_legacy_clawdbot)
{
	struct env_view env = {.home = home};
	struct instance_set set;

	mkdir_in_home(".clawdbot/sessions");
	cr_assert_eq(registry_scan(&env, &set, NULL), 0);
	cr_assert_eq(set.n, 1);
	cr_assert(strstr(set.items[0].profile.state_dir, "/.clawdbot"));
	instance_set_release(&set);
}

/* One profile's broken config never blocks the others: the scan keeps the
 * reason, naming the file, and goes on. */
Test(registry, scan_broken_config_names_file)
{
	struct env_view env = {.home = home};
	struct instance_set set;
	ocr_error err = {0};

	put(".openclaw-ok/openclaw.json", "{}");
	put(".openclaw-rescue/openclaw.json", "{\n  gateway: {\n");
	cr_assert_eq(registry_scan(&env, &set, &err), 0, "%s", err.msg);
	cr_assert_eq(set.n, 1);
	cr_assert_str_eq(set.items[0].profile.name, "ok");
	cr_assert_eq(set.n_problems, 1);
	cr_assert(strstr(set.problems[0], ".openclaw-rescue/openclaw.json:3:1:"), "%s",
		  set.problems[0]);
	instance_set_release(&set);
}

Test(registry, record_and_scan_explicit_paths)
{
	char state[PATH_MAX], config[PATH_MAX], reg[PATH_MAX];
	struct env_view env = {.home = home};
	struct instance inst;
	struct instance_set set;
	char *before, *after;
	const struct instance *r;

	put(".openclaw/openclaw.json", "{gateway: {port: 18789}}");
	put(".openclaw/rescue.json", "{gateway: {port: 19001}}");
	mkdir_in_home(".openclaw-rescue");
	snprintf(state, sizeof(state), "%s/.openclaw-rescue", home);
	snprintf(config, sizeof(config), "%s/.openclaw/rescue.json", home);
	env.state_dir = state;
	env.config_path = config;
	cr_assert_eq(instance_load("rescue", &env, 0, &inst, NULL), 0);
	cr_assert_eq(registry_record(&env, &inst.profile, NULL), 0);
	cr_assert_eq(registry_path(&env, reg, sizeof(reg), NULL), 0);
	cr_assert(strstr(reg, "/.config/openclaw-run/instances.json"));
	cr_assert_eq(read_whole_file(reg, &before, NULL, NULL), 0);
	/* Recording again changes nothing. */
	cr_assert_eq(registry_record(&env, &inst.profile, NULL), 0);
	cr_assert_eq(read_whole_file(reg, &after, NULL, NULL), 0);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	instance_release(&inst);

	/* The scanned ~/.openclaw-rescue (no config of its own) is the recorded
	 * instance's state dir, not a third instance. */
	cr_assert_eq(registry_scan(&env, &set, NULL), 0);
	cr_assert_eq(set.n, 2);
	r = by_name(&set, "rescue");
	cr_assert_str_eq(r->profile.config_path, config);
	cr_assert_eq(r->profile.state_origin, ORIGIN_REGISTRY);
	cr_assert_eq(r->ports.base, 19001);
	cr_assert_str_eq(r->profile.workspace, strcat(state, "/workspace"));
	instance_set_release(&set);
}

Test(registry, broken_registry_is_an_error)
{
	struct env_view env = {.home = home};
	struct instance_set set;
	ocr_error err = {0};

	put(".config/openclaw-run/instances.json", "{instances: [}");
	cr_assert_eq(registry_scan(&env, &set, &err), -1);
	cr_assert(strstr(err.msg, "instances.json:1:14:"), "%s", err.msg);
}

Test(registry, stale_record_is_skipped)
{
	struct env_view env = {.home = home};
	struct instance_set set;

	put(".config/openclaw-run/instances.json",
	    "{instances: [{name: 'gone', state_dir: '/tmp/ocr-nonexistent-x', "
	    "config_path: '/tmp/ocr-nonexistent-x/c.json'}]}");
	cr_assert_eq(registry_scan(&env, &set, NULL), 0);
	cr_assert_eq(set.n, 0);
	instance_set_release(&set);
}
