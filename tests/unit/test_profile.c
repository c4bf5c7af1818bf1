/* Profile resolution: each override, each bad name. */
#include <criterion/criterion.h>
#include <string.h>

#include "profile.h"

static bool only_clawdbot(const char *path)
{
	return strcmp(path, "/h/.clawdbot") == 0;
}

static bool both_exist(const char *path)
{
	(void)path;
	return true;
}

Test(profile, default_profile)
{
	struct env_view env = {.home = "/h"};
	struct profile p;
	ocr_error err = {0};

	cr_assert_eq(profile_resolve(NULL, &env, &p, &err), 0, "%s", err.msg);
	cr_assert_str_eq(p.name, "");
	cr_assert_str_eq(profile_label(&p), "default");
	cr_assert_str_eq(p.state_dir, "/h/.openclaw");
	cr_assert_str_eq(p.config_path, "/h/.openclaw/openclaw.json");
	cr_assert_eq(p.state_origin, ORIGIN_DEFAULT);
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, &err), 0);
	cr_assert_str_eq(p.workspace, "/h/.openclaw/workspace");
	cr_assert_eq(p.workspace_origin, ORIGIN_DEFAULT);
}

Test(profile, default_in_any_case_is_no_profile)
{
	struct env_view env = {.home = "/h"};
	struct profile p;

	cr_assert_eq(profile_resolve("DeFault", &env, &p, NULL), 0);
	cr_assert_str_eq(p.name, "");
	cr_assert_str_eq(p.state_dir, "/h/.openclaw");
}

Test(profile, named_profile)
{
	struct env_view env = {.home = "/h/"};
	struct profile p;

	cr_assert_eq(profile_resolve("Rescue", &env, &p, NULL), 0);
	cr_assert_str_eq(p.name, "Rescue");
	cr_assert_str_eq(p.state_dir, "/h/.openclaw-Rescue");
	cr_assert_str_eq(p.config_path, "/h/.openclaw-Rescue/openclaw.json");
	cr_assert_eq(p.state_origin, ORIGIN_PROFILE);
	cr_assert_eq(p.config_origin, ORIGIN_PROFILE);
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/h/.openclaw-Rescue/workspace");
}

Test(profile, openclaw_home_wins_over_home)
{
	struct env_view env = {.home = "/h", .openclaw_home = "/oc"};
	struct profile p;

	cr_assert_eq(profile_resolve("a", &env, &p, NULL), 0);
	cr_assert_str_eq(p.home, "/oc");
	cr_assert_str_eq(p.state_dir, "/oc/.openclaw-a");
	env.openclaw_home = "~/sub";
	cr_assert_eq(profile_resolve("a", &env, &p, NULL), 0);
	cr_assert_str_eq(p.state_dir, "/h/sub/.openclaw-a");
}

Test(profile, state_dir_env_with_tilde)
{
	struct env_view env = {.home = "/h", .state_dir = "~/x//y/./"};
	struct profile p;

	cr_assert_eq(profile_resolve("rescue", &env, &p, NULL), 0);
	cr_assert_str_eq(p.state_dir, "/h/x/y");
	cr_assert_eq(p.state_origin, ORIGIN_ENV);
	cr_assert_str_eq(p.config_path, "/h/x/y/openclaw.json");
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/h/x/y/workspace");
	cr_assert_eq(p.workspace_origin, ORIGIN_ENV);
	/* Also for the default profile: the state dir came from the env. */
	cr_assert_eq(profile_resolve(NULL, &env, &p, NULL), 0);
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/h/x/y/workspace");
}

Test(profile, config_path_env)
{
	struct env_view env = {.home = "/h", .config_path = "~/.openclaw/rescue.json"};
	struct profile p;

	cr_assert_eq(profile_resolve("rescue", &env, &p, NULL), 0);
	cr_assert_str_eq(p.config_path, "/h/.openclaw/rescue.json");
	cr_assert_eq(p.config_origin, ORIGIN_ENV);
	cr_assert_str_eq(p.state_dir, "/h/.openclaw-rescue");
}

Test(profile, workspace_precedence)
{
	struct env_view env = {.home = "/h", .workspace_dir = "/w/env"};
	struct profile p;

	cr_assert_eq(profile_resolve("r", &env, &p, NULL), 0);
	cr_assert_eq(profile_resolve_workspace(&p, "~/from-config", &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/h/from-config");
	cr_assert_eq(p.workspace_origin, ORIGIN_CONFIG);
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/w/env");
	cr_assert_eq(p.workspace_origin, ORIGIN_ENV);
}

Test(profile, relative_paths_refused)
{
	struct env_view env = {.home = "/h", .state_dir = "relative/dir"};
	struct profile p;
	ocr_error err = {0};

	cr_assert_eq(profile_resolve(NULL, &env, &p, &err), -1);
	cr_assert(strstr(err.msg, "OPENCLAW_STATE_DIR"), "%s", err.msg);
	env.state_dir = NULL;
	cr_assert_eq(profile_resolve(NULL, &env, &p, NULL), 0);
	cr_assert_eq(profile_resolve_workspace(&p, "ws", &env, &err), -1);
	cr_assert(strstr(err.msg, "agents.defaults.workspace"), "%s", err.msg);
	env.state_dir = "~bob/x";
	cr_assert_eq(profile_resolve(NULL, &env, &p, &err), -1);
}

Test(profile, no_home)
{
	struct env_view env = {0};
	struct profile p;
	ocr_error err = {0};

	cr_assert_eq(profile_resolve(NULL, &env, &p, &err), -1);
	cr_assert(strstr(err.msg, "HOME"));
}

Test(profile, legacy_clawdbot_only_when_openclaw_absent)
{
	struct env_view env = {.home = "/h", .dir_exists = only_clawdbot};
	struct profile p;

	cr_assert_eq(profile_resolve(NULL, &env, &p, NULL), 0);
	cr_assert_str_eq(p.state_dir, "/h/.clawdbot");
	cr_assert_eq(profile_resolve_workspace(&p, NULL, &env, NULL), 0);
	cr_assert_str_eq(p.workspace, "/h/.openclaw/workspace");
	env.dir_exists = both_exist;
	cr_assert_eq(profile_resolve(NULL, &env, &p, NULL), 0);
	cr_assert_str_eq(p.state_dir, "/h/.openclaw");
	/* Named profiles never fall back. */
	env.dir_exists = only_clawdbot;
	cr_assert_eq(profile_resolve("x", &env, &p, NULL), 0);
	cr_assert_str_eq(p.state_dir, "/h/.openclaw-x");
}

Test(profile, valid_names)
{
	const char *good[] = {"a", "0", "rescue", "Rescue", "a_b-c", "A1-", NULL};
	char max[PROFILE_NAME_MAX + 1];

	for (size_t i = 0; good[i]; i++)
		cr_assert_eq(profile_name_check(good[i], NULL), 0, "%s", good[i]);
	memset(max, 'x', PROFILE_NAME_MAX);
	max[PROFILE_NAME_MAX] = '\0';
	cr_assert_eq(profile_name_check(max, NULL), 0);
}

Test(profile, bad_names_quote_name_and_rule)
{
	const char *bad[] = {"",	  "../x",	 "a/b", "-lead", "_lead",
			     "has space", "caf\xc3\xa9", "a.b", "x\ny",	 NULL};
	char long_name[PROFILE_NAME_MAX + 2];
	struct env_view env = {.home = "/h"};
	struct profile p;
	ocr_error err = {0};

	for (size_t i = 0; bad[i]; i++) {
		cr_assert_eq(profile_name_check(bad[i], &err), -1, "%s", bad[i]);
		cr_assert(strstr(err.msg, "^[a-z0-9][a-z0-9_-]{0,63}$"), "%s", err.msg);
		cr_assert(strchr(err.msg, '"'), "%s", err.msg);
		cr_assert_eq(profile_resolve(bad[i], &env, &p, NULL), -1, "%s", bad[i]);
	}
	profile_name_check("../x", &err);
	cr_assert(strstr(err.msg, "\"../x\""), "%s", err.msg);
	profile_name_check("x\ny", &err);
	cr_assert_null(strchr(err.msg, '\n'), "control bytes are escaped: %s", err.msg);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_assert_eq(profile_name_check(long_name, &err), -1);
	cr_assert(strstr(err.msg, "65 characters"), "%s", err.msg);
}

Test(profile, path_clean)
{
	char out[PATH_MAX];

	cr_assert_eq(path_clean("/a/./b//c/../d/", out, sizeof(out), NULL), 0);
	cr_assert_str_eq(out, "/a/b/d");
	cr_assert_eq(path_clean("/../..", out, sizeof(out), NULL), 0);
	cr_assert_str_eq(out, "/");
	cr_assert_eq(path_clean("/", out, sizeof(out), NULL), 0);
	cr_assert_str_eq(out, "/");
	cr_assert_eq(path_clean("x", out, sizeof(out), NULL), -1);
	cr_assert_eq(path_clean("/abcdef", out, 4, NULL), -1);
}
