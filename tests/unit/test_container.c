/* The container entrypoint's pure parts: its environment (upstream's
 * names, defaults, refusals), the exit code it reports, and the config
 * fixes for a published port. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "container.h"

/* The environment of one test: NAME=VALUE pairs. */
static const char *const *fake_env;

static char *fake_getenv(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *e = fake_env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return (char *)*e + n + 1;
	return NULL;
}

static int parse(const char *const *env, struct container_config *cfg, ocr_error *err)
{
	fake_env = env;
	return container_config_parse(fake_getenv, cfg, err);
}

Test(container_config, defaults_reach_a_published_port_with_upstream_names)
{
	static const char *const env[] = {NULL};
	struct container_config cfg;
	ocr_error err = {0};

	cr_assert_eq(parse(env, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg.profile, "");
	cr_assert_eq(cfg.port, 0);
	cr_assert_str_eq(cfg.bind, "lan");
	cr_assert(!container_bind_is_loopback(cfg.bind));
	cr_assert_null(cfg.token);
	cr_assert_str_eq(cfg.tz, "UTC");
	cr_assert_eq(cfg.grace_s, CONTAINER_DEFAULT_GRACE_S);
	cr_assert(!cfg.strict);
	cr_assert(cfg.doctor);
	cr_assert_eq(cfg.n_pass_env, 0);
	cr_assert_eq(cfg.n_rescues + cfg.n_rescued_by, 0);
}

Test(container_config, reads_every_variable)
{
	static const char *const env[] = {
	    "OPENCLAW_PROFILE=Rescue",
	    "OPENCLAW_GATEWAY_PORT=18909",
	    "OPENCLAW_GATEWAY_BIND=loopback",
	    "OPENCLAW_GATEWAY_TOKEN=0123456789abcdef0123",
	    "OPENCLAW_TZ=Europe/Berlin",
	    "OPENCLAW_RUN_GRACE=20",
	    "OPENCLAW_RUN_STRICT=yes",
	    "OPENCLAW_RUN_DOCTOR=0",
	    "OPENCLAW_RUN_PASS_ENV=OPENAI_API_KEY, TELEGRAM_BOT_TOKEN",
	    NULL};
	struct container_config cfg;
	ocr_error err = {0};

	cr_assert_eq(parse(env, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg.profile, "Rescue");
	cr_assert_eq(cfg.port, 18909);
	cr_assert(container_bind_is_loopback(cfg.bind));
	cr_assert_str_eq(cfg.token, "0123456789abcdef0123");
	cr_assert_str_eq(cfg.tz, "Europe/Berlin");
	cr_assert_eq(cfg.grace_s, 20);
	cr_assert(cfg.strict);
	cr_assert(!cfg.doctor);
	cr_assert_eq(cfg.n_pass_env, 2);
	cr_assert_str_eq(cfg.pass_env[0], "OPENAI_API_KEY");
	cr_assert_str_eq(cfg.pass_env[1], "TELEGRAM_BOT_TOKEN");
}

Test(container_config, default_profile_by_name_is_the_default_profile)
{
	static const char *const env[] = {"OPENCLAW_PROFILE=default", NULL};
	struct container_config cfg;
	ocr_error err = {0};

	cr_assert_eq(parse(env, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg.profile, "");
}

/* Each bad value is refused with the variable's name in the message. */
Test(container_config, refuses_bad_values_naming_the_variable)
{
	static const struct {
		const char *entry, *name;
	} bad[] = {
	    {"OPENCLAW_PROFILE=../etc", "OPENCLAW_PROFILE"},
	    {"OPENCLAW_GATEWAY_PORT=80", "OPENCLAW_GATEWAY_PORT"},
	    {"OPENCLAW_GATEWAY_PORT=65500", "OPENCLAW_GATEWAY_PORT"},
	    {"OPENCLAW_GATEWAY_BIND=0.0.0.0", "OPENCLAW_GATEWAY_BIND"},
	    {"OPENCLAW_GATEWAY_TOKEN=short", "OPENCLAW_GATEWAY_TOKEN"},
	    {"OPENCLAW_GATEWAY_TOKEN=has a blank in it 0123", "OPENCLAW_GATEWAY_TOKEN"},
	    {"OPENCLAW_TZ=../../etc/shadow", "OPENCLAW_TZ"},
	    {"OPENCLAW_TZ=/etc/localtime", "OPENCLAW_TZ"},
	    {"OPENCLAW_RUN_GRACE=0", "OPENCLAW_RUN_GRACE"},
	    {"OPENCLAW_RUN_GRACE=10s", "OPENCLAW_RUN_GRACE"},
	    {"OPENCLAW_RUN_STRICT=maybe", "OPENCLAW_RUN_STRICT"},
	    {"OPENCLAW_RUN_DOCTOR=later", "OPENCLAW_RUN_DOCTOR"},
	    {"OPENCLAW_RUN_PASS_ENV=OPENCLAW_STATE_DIR", "OPENCLAW_RUN_PASS_ENV"},
	    {"OPENCLAW_RUN_PASS_ENV=LD_PRELOAD", "OPENCLAW_RUN_PASS_ENV"},
	    {"OPENCLAW_RUN_PASS_ENV=PATH", "OPENCLAW_RUN_PASS_ENV"},
	    {"OPENCLAW_RUN_PASS_ENV=A-B", "OPENCLAW_RUN_PASS_ENV"},
	    /* podman-compose 1.0 leaves "${VAR:-}" as it is: never a token */
	    {"OPENCLAW_GATEWAY_TOKEN=${OPENCLAW_MAIN_GATEWAY_TOKEN:-}", "OPENCLAW_GATEWAY_TOKEN"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *env[] = {bad[i].entry, NULL};
		struct container_config cfg;
		ocr_error err = {0};

		cr_assert_eq(parse(env, &cfg, &err), -1, "accepted %s", bad[i].entry);
		cr_assert(strstr(err.msg, bad[i].name), "%s: message '%s' does not name %s",
			  bad[i].entry, err.msg, bad[i].name);
	}
}

Test(container_exit, the_gateways_code_when_it_ran_else_the_supervisors)
{
	cr_assert_eq(container_exit_code(0, 0), 0);	/* stopped, exited 0 */
	cr_assert_eq(container_exit_code(0, 143), 143); /* stopped, died of SIGTERM */
	cr_assert_eq(container_exit_code(6, 137), 137); /* killed after the grace */
	cr_assert_eq(container_exit_code(4, 3), 3);	/* crash loop: its last code */
	cr_assert_eq(container_exit_code(78, 78), 78);	/* config error */
	cr_assert_eq(container_exit_code(1, -1), 1);	/* never started */
	cr_assert_eq(container_exit_code(1, 0), 1);	/* a stale state file */
	cr_assert_eq(container_exit_code(5, 143), 5);	/* not ready in time */
}

static char dir[64];

static void load(const char *text, struct instance *inst)
{
	FILE *f;
	bool missing;
	ocr_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/ocr-container-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	memset(inst, 0, sizeof(*inst));
	snprintf(inst->profile.name, sizeof(inst->profile.name), "main");
	snprintf(inst->profile.state_dir, sizeof(inst->profile.state_dir), "%s", dir);
	snprintf(inst->profile.config_path, sizeof(inst->profile.config_path), "%s/openclaw.json",
		 dir);
	inst->ports.base = 18789;
	f = fopen(inst->profile.config_path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(config_load(inst->profile.config_path, &inst->config, &missing, &err), 0);
}

static void unload(struct instance *inst)
{
	cJSON_Delete(inst->config);
	unlink(inst->profile.config_path);
	rmdir(dir);
}

Test(container_fix, adds_origins_for_the_published_port_and_keeps_the_token_in_place)
{
	static const char *const env[] = {NULL};
	struct container_config cfg;
	struct instance inst, again;
	ocr_error err = {0};
	bool from_config = false, missing;
	struct stat st;

	cr_assert_eq(parse(env, &cfg, &err), 0);
	load("{gateway: {auth: {mode: 'token', token: 'abcdefabcdefabcdef'}}}", &inst);
	cr_assert_eq(container_fix_config(&inst, &cfg, &from_config, &err), 0, "%s", err.msg);
	cr_assert(from_config);
	cr_assert_eq(config_load(inst.profile.config_path, &again.config, &missing, &err), 0);
	const cJSON *o = config_get(again.config, "gateway.controlUi.allowedOrigins");
	cr_assert(cJSON_IsArray(o));
	cr_assert_str_eq(cJSON_GetArrayItem(o, 0)->valuestring, "http://127.0.0.1:18789");
	cr_assert_str_eq(cJSON_GetArrayItem(o, 1)->valuestring, "http://localhost:18789");
	cr_assert_str_eq(config_get_string(again.config, "gateway.auth.token"),
			 "abcdefabcdefabcdef");
	cr_assert_eq(stat(inst.profile.config_path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cJSON_Delete(again.config);
	unload(&inst);
}

/* Upstream prefers the config's token to the variable: the variable's
 * token must end up in the config. */
Test(container_fix, the_variables_token_replaces_the_configs)
{
	static const char *const env[] = {"OPENCLAW_GATEWAY_TOKEN=fromtheenvironment0",
					  "OPENCLAW_GATEWAY_BIND=loopback", NULL};
	struct container_config cfg;
	struct instance inst, again;
	ocr_error err = {0};
	bool from_config = true, missing;

	cr_assert_eq(parse(env, &cfg, &err), 0);
	load("{gateway: {auth: {mode: 'token', token: 'old-token-old-token'}}}", &inst);
	cr_assert_eq(container_fix_config(&inst, &cfg, &from_config, &err), 0, "%s", err.msg);
	cr_assert(!from_config);
	cr_assert_eq(config_load(inst.profile.config_path, &again.config, &missing, &err), 0);
	cr_assert_str_eq(config_get_string(again.config, "gateway.auth.token"),
			 "fromtheenvironment0");
	cr_assert_null(config_get(again.config, "gateway.controlUi.allowedOrigins"),
		       "loopback needs no origins");
	cJSON_Delete(again.config);
	unload(&inst);
}

Test(container_fix, refuses_auth_turned_off)
{
	static const char *const env[] = {NULL};
	struct container_config cfg;
	struct instance inst;
	ocr_error err = {0};
	bool from_config;

	cr_assert_eq(parse(env, &cfg, &err), 0);
	load("{gateway: {auth: {mode: 'none'}}}", &inst);
	cr_assert_eq(container_fix_config(&inst, &cfg, &from_config, &err), -1);
	cr_assert(strstr(err.msg, "gateway.auth.mode"), "%s", err.msg);
	cr_assert(strstr(err.msg, inst.profile.config_path), "%s", err.msg);
	unload(&inst);
}

Test(container_grants, parsed_from_both_variables_without_items)
{
	static const char *const env[] = {"OPENCLAW_PROFILE=rescue",
					  "OPENCLAW_RUN_RESCUES=main, other main",
					  "OPENCLAW_RUN_RESCUED_BY=main", NULL};
	static const char *const bad[][2] = {
	    {"OPENCLAW_RUN_RESCUES=main:workspace", "OPENCLAW_RUN_RESCUES"},
	    {"OPENCLAW_RUN_RESCUED_BY=-x", "OPENCLAW_RUN_RESCUED_BY"},
	    {"OPENCLAW_RUN_RESCUES=${OPENCLAW_RESCUES:-}", "OPENCLAW_RUN_RESCUES"},
	};
	struct container_config cfg;
	ocr_error err = {0};

	cr_assert_eq(parse(env, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.n_rescues, 2, "duplicates count once");
	cr_assert_str_eq(cfg.rescues[0], "main");
	cr_assert_str_eq(cfg.rescues[1], "other");
	cr_assert_eq(cfg.n_rescued_by, 1);
	cr_assert_str_eq(cfg.rescued_by[0], "main");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *one[] = {bad[i][0], NULL};

		err = (ocr_error){0};
		cr_assert_eq(parse(one, &cfg, &err), -1, "%s accepted", bad[i][0]);
		cr_assert(strstr(err.msg, bad[i][1]), "%s: '%s'", bad[i][0], err.msg);
	}
}

Test(container_grants, records_hold_exactly_what_the_environment_declares)
{
	static const char *const env[] = {"OPENCLAW_RUN_RESCUES=main",
					  "OPENCLAW_RUN_RESCUED_BY=watcher", NULL};
	static const char *const none[] = {NULL};
	struct container_config cfg;
	struct pins pins = {0};
	ocr_error err = {0};
	bool changed;

	/* A host-made grant on another profile stays; one on "main" gives way. */
	grant_list_set(pins.rescues, &pins.n_rescues, "main", "/s/main", GRANT_BASE, &err);
	grant_list_set(pins.rescues, &pins.n_rescues, "local", "/s/local", GRANT_BASE, &err);
	cr_assert_eq(parse(env, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(container_grants_apply(&cfg, "rescue", &pins, &changed, &err), 0, "%s",
		     err.msg);
	cr_assert(changed);
	cr_assert_eq(pins.n_rescues, 2);
	cr_assert_str_eq(pins.rescues[0].profile, "local");
	cr_assert_str_eq(pins.rescues[0].dir, "");
	cr_assert_str_eq(pins.rescues[1].profile, "main");
	cr_assert_str_eq(pins.rescues[1].dir, CONTAINER_RESCUE_DIR "/rescue/main");
	cr_assert_eq(pins.rescues[1].items, GRANT_BASE);
	cr_assert_eq(pins.n_rescued_by, 1);
	cr_assert_str_eq(pins.rescued_by[0].profile, "watcher");
	cr_assert_str_eq(pins.rescued_by[0].dir, CONTAINER_RESCUE_DIR "/watcher/rescue");

	cr_assert_eq(container_grants_apply(&cfg, "rescue", &pins, &changed, &err), 0);
	cr_assert(!changed, "the same declaration writes nothing");

	/* Gone from the environment, gone from the records. */
	cr_assert_eq(parse(none, &cfg, &err), 0);
	cr_assert_eq(container_grants_apply(&cfg, "rescue", &pins, &changed, &err), 0);
	cr_assert(changed);
	cr_assert_eq(pins.n_rescues, 1);
	cr_assert_str_eq(pins.rescues[0].profile, "local");
	cr_assert_eq(pins.n_rescued_by, 0);
}

Test(container_grants, a_profile_cannot_rescue_itself)
{
	static const char *const env[] = {"OPENCLAW_RUN_RESCUED_BY=main", NULL};
	struct container_config cfg;
	struct pins pins = {0};
	ocr_error err = {0};
	bool changed;

	cr_assert_eq(parse(env, &cfg, &err), 0);
	cr_assert_eq(container_grants_apply(&cfg, "main", &pins, &changed, &err), -1);
	cr_assert(strstr(err.msg, "itself"), "%s", err.msg);
	cr_assert_eq(pins.n_rescued_by, 0);
}
