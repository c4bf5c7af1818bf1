/* README's rescue walkthrough with both real gateways (issue 11): main is
 * broken by a bad config edit and exits 78; from rescue's sandbox,
 * `openclaw-run --profile main status` says why, the config is repaired
 * with upstream's own tools, applied, and main comes back healthy. */
#include "gateway_util.h"

TestSuite(rescue_real, .fini = gw_fini);

static bool installed(char *prefix, size_t len)
{
	const char *env = getenv("OPENCLAW_RUN_PREFIX");
	char mjs[PATH_MAX + 64];

	snprintf(prefix, len, "%s", env && *env ? env : "/opt/openclaw-run");
	snprintf(mjs, sizeof(mjs), "%s/node_modules/openclaw/openclaw.mjs", prefix);
	return path_exists(mjs);
}

static void start(struct gw *g, const char *profile, const char *prefix)
{
	struct run_result r;

	cr_assert_eq(gw_ocr(g, &r, "--profile", profile, "gateway", "--detach", "--no-doctor",
			    "--start-grace", "300", "--gateway-prefix", prefix, NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s: %s%s", profile, r.out, r.err);
	run_result_free(&r);
}

/* A shell in rescue's sandbox: upstream's CLI starts slowly on a loaded
 * box (doctor --lint alone can take minutes), past gw_ocr's 180 s. */
static int rescue_shell(struct gw *g, const char *prefix, const char *script, struct run_result *r)
{
	char *envp[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			g->home_env,
			g->runtime_env,
			g->records_env,
			(char *)"ASAN_OPTIONS=detect_leaks=0",
			NULL};
	char *argv[] = {(char *)OCR_BIN,
			(char *)"--profile",
			(char *)"rescue",
			(char *)"exec",
			(char *)"--env",
			(char *)"ASAN_OPTIONS=detect_leaks=0",
			(char *)"--gateway-prefix",
			(char *)prefix,
			(char *)"--",
			(char *)"sh",
			(char *)"-c",
			(char *)script,
			NULL};

	return run_argv(r, envp, argv, 900);
}

Test(rescue_real, rescue_repairs_main_with_upstreams_tools, .timeout = 1800)
{
	char prefix[PATH_MAX], path[PATH_MAX + 32];
	struct run_result r;
	struct gw g;

	if (geteuid() != 0)
		cr_skip_test("needs root: the sandboxes run as another account");
	cr_assert(installed(prefix, sizeof(prefix)), "openclaw is not installed");
	gw_init(&g, "main");
	g.also_stop = "rescue";
	gw_sync(&g); /* the suite's .fini stops rescue too */
	gw_setup_profile(&g, "rescue", g.base + 120);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "setup", "--rescues", "main", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	start(&g, "main", prefix);
	start(&g, "rescue", prefix);

	/* main stopped from rescue's sandbox (its supervisor stays, held); the
	 * bad edit by hand on the host (a running gateway would only skip it
	 * as an invalid hot reload); the start: upstream exits 78. */
	cr_assert_eq(rescue_shell(&g, prefix, "openclaw-run --profile main stop", &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/openclaw.json", g.state_dir);
	char *cfg = read_text_file(path);
	char *bind = cfg ? strstr(cfg, "\"loopback\"") : NULL;
	cr_assert(bind, "no gateway.bind in %s", cfg);
	char *bad = malloc(strlen(cfg) + 16);
	sprintf(bad, "%.*s\"everywhere\"%s", (int)(bind - cfg), cfg, bind + strlen("\"loopback\""));
	write_text_file(path, bad);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "start", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_status(&g, 3, 30), 3, "main is not held after its exit 78");

	/* The rescue bot's shell, in its own sandbox. Upstream's tools refuse
	 * to write an invalid config ("fix the value by hand"): the value is
	 * fixed by hand, the rest with upstream's tools, moving main too. */
	char script[2048];
	snprintf(
	    script, sizeof(script),
	    "openclaw-run --profile main status; echo status=$?; "
	    "C=$(openclaw-run --profile main config pull) || exit 10; "
	    "OPENCLAW_CONFIG_PATH=$C openclaw config validate --json; echo validate=$?; "
	    "sed -i 's/\"everywhere\"/\"loopback\"/' $C; "
	    "OPENCLAW_CONFIG_PATH=$C openclaw config validate --json || exit 11; "
	    "OPENCLAW_CONFIG_PATH=$C openclaw config set gateway.port %u --strict-json || exit 12; "
	    "OPENCLAW_CONFIG_PATH=$C openclaw config get gateway.bind || exit 13; "
	    "OPENCLAW_CONFIG_PATH=$C openclaw doctor --lint; echo lint=$?; "
	    "openclaw-run --profile main config apply || exit 14; "
	    "openclaw-run --profile main status",
	    g.base + 240);
	cr_assert_eq(rescue_shell(&g, prefix, script, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	/* status said why: the held state and upstream's own message. */
	cr_assert(strstr(r.out, "last exit 78") && strstr(r.out, "gateway.bind"), "%s", r.out);
	cr_assert(strstr(r.out, "validate=1") && strstr(r.out, "main: started"), "%s%s", r.out,
		  r.err);
	run_result_free(&r);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "main did not come back healthy");
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "ports"), "base"), g.base + 240);
	cJSON_Delete(st);
	/* The repaired config is main's, the broken one its .bak. */
	char *now = read_text_file(path);
	cr_assert(now && strstr(now, "loopback") && !strstr(now, "everywhere"), "%s", now);
	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	cr_assert(!strstr(r.out, "drift"), "%s", r.out);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/openclaw.json.bak", g.state_dir);
	char *bak = read_text_file(path);
	cr_assert(bak && strstr(bak, "everywhere"), "%s", bak);
	free(cfg);
	free(bad);
	free(now);
	free(bak);
	gw_cleanup(&g);
}
