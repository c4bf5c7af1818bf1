/* Day two: what a person meets after the first start (issue "Day two"),
 * through the built binary with the fake gateway. */
#include <netinet/in.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "gateway_util.h"

TestSuite(day_two, .fini = gw_fini, .timeout = 240);

static char *home_path(struct gw *g, const char *rel)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *out = buf[next++ % 4];

	snprintf(out, PATH_MAX, "%s/%s", g->home, rel);
	return out;
}

static void expect(struct run_result *r, int code)
{
	cr_assert_eq(r->exit_code, code, "exit %d, want %d\nstdout: %s\nstderr: %s", r->exit_code,
		     code, r->out, r->err);
}

/* Upstream's CLI run as root on the host leaves root-owned files in the
 * state dir: found before a start and by check, given back by setup. */
Test(day_two, foreign_files_are_found_and_given_back)
{
	struct gw g;
	struct run_result r;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root (the sandbox runs as another account)");
	gw_init(&g, "main");
	write_text_file(home_path(&g, ".openclaw-main/state/db.sqlite"), "x");
	cr_assert_eq(chown(home_path(&g, ".openclaw-main/state"), 0, 0), 0);
	cr_assert_eq(chown(home_path(&g, ".openclaw-main/state/db.sqlite"), 0, 0), 0);

	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.err, "belong to another user") && strstr(r.err, "setup"), "%s", r.err);
	run_result_free(&r);
	/* A script sees the same finding, and why check failed. */
	cr_assert_eq(gw_ocr(&g, &r, "check", "--json", NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.out, "\"ok\":\tfalse") && strstr(r.out, "\"foreign_files\"") &&
		      strstr(r.out, "\"count\":\t2") && strstr(r.out, "\"first_uid\":\t0"),
		  "%s", r.out);
	run_result_free(&r);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.err, "state/db.sqlite") || strstr(r.err, "state"), "%s", r.err);
	run_result_free(&r);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "setup", NULL), 0);
	expect(&r, 0);
	cr_assert(strstr(r.out, "gave 2 files"), "%s", r.out);
	run_result_free(&r);
	cr_assert_eq(stat(home_path(&g, ".openclaw-main/state/db.sqlite"), &st), 0);
	cr_assert_neq(st.st_uid, 0);
	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	expect(&r, 0);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* setup of PROFILE with OPENCLAW_STATE_DIR / OPENCLAW_CONFIG_PATH, on the
 * grid block OFFSET blocks above the test's own (never upstream's default
 * ports, which a real gateway on this host may hold). */
static void setup_env(struct gw *g, const char *profile, const char *state, const char *config,
		      unsigned offset, int want)
{
	char port[16];

	char s[PATH_MAX + 32], c[PATH_MAX + 32];
	char *env[3] = {NULL};
	struct run_result r;
	int n = 0;

	if (state) {
		snprintf(s, sizeof(s), "OPENCLAW_STATE_DIR=%s", home_path(g, state));
		env[n++] = s;
	}
	if (config) {
		snprintf(c, sizeof(c), "OPENCLAW_CONFIG_PATH=%s", home_path(g, config));
		env[n++] = c;
	}
	g->launcher_env[0] = env[0];
	g->launcher_env[1] = env[1];
	snprintf(port, sizeof(port), "%u", g->base + offset * 120);
	cr_assert_eq(gw_ocr(g, &r, "--profile", profile, "setup", "--port", port, NULL), 0);
	expect(&r, want);
	run_result_free(&r);
	g->launcher_env[0] = g->launcher_env[1] = NULL;
}

/* The seed's layouts: --profile dirs, manual env with every config in
 * ~/.openclaw, and the two mixed. None makes a phantom default. */
Test(day_two, the_seed_layouts_work)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "main"); /* profiles layout: ~/.openclaw-main */
	setup_env(&g, "rescue", ".openclaw-rescue", ".openclaw/rescue.json", 1, 0);
	setup_env(&g, "third", ".openclaw-third", ".openclaw/third.json", 2, 0);
	cr_assert_eq(gw_ocr(&g, &r, "list", NULL), 0);
	expect(&r, 0);
	cr_assert_null(strstr(r.out, "default"), "phantom default: %s", r.out);
	cr_assert(strstr(r.out, "main") && strstr(r.out, "rescue") && strstr(r.out, "third"), "%s",
		  r.out);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	expect(&r, 0);
	run_result_free(&r);
	/* rescue's sandbox sees the shared config dir read-only: its own
	 * config is writable, third's is not. */
	char s[PATH_MAX + 32], c[PATH_MAX + 32], cmd[PATH_MAX * 2];
	snprintf(s, sizeof(s), "OPENCLAW_STATE_DIR=%s", home_path(&g, ".openclaw-rescue"));
	snprintf(c, sizeof(c), "OPENCLAW_CONFIG_PATH=%s", home_path(&g, ".openclaw/rescue.json"));
	g.launcher_env[0] = s;
	g.launcher_env[1] = c;
	snprintf(cmd, sizeof(cmd), "echo ' ' >> %s && ! echo x >> %s 2>/dev/null && echo done",
		 home_path(&g, ".openclaw/rescue.json"), home_path(&g, ".openclaw/third.json"));
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "rescue", "exec", "--", "/bin/sh", "-c", cmd, NULL), 0);
	g.launcher_env[0] = g.launcher_env[1] = NULL;
	expect(&r, 0);
	cr_assert_str_eq(r.out, "done\n", "%s", r.err);
	run_result_free(&r);
	/* The default profile on top, the classic way: still no clash. */
	char port[16];
	snprintf(port, sizeof(port), "%u", g.base + 3 * 120);
	cr_assert_eq(gw_ocr(&g, &r, "setup", "--port", port, NULL), 0);
	expect(&r, 1); /* ~/.openclaw now holds others' configs: refused, named */
	cr_assert(strstr(r.err, "rescue.json") || strstr(r.err, "nested"), "%s", r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* A port change made inside the profile never locks it out. */
Test(day_two, drift_never_locks_exec_out)
{
	struct gw g;
	struct run_result r;
	char *text, *at, port[16], other[16];

	gw_init(&g, "main");
	snprintf(port, sizeof(port), "%u", g.base);
	snprintf(other, sizeof(other), "%u", g.base + 20);
	text = read_text_file(home_path(&g, ".openclaw-main/openclaw.json"));
	cr_assert_not_null(text);
	at = strstr(text, port);
	cr_assert_not_null(at);
	memcpy(at, other, strlen(other));
	write_text_file(home_path(&g, ".openclaw-main/openclaw.json"), text);
	free(text);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "exec", "--", "/bin/true", NULL), 0);
	expect(&r, 0);
	cr_assert(strstr(r.err, "gateway.port") && strstr(r.err, "setup --port"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.err, "refusing to start") && strstr(r.err, other), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.out, "drift main"), "%s", r.out);
	run_result_free(&r);
	/* A broken config: exec still runs, gateway says 78. */
	write_text_file(home_path(&g, ".openclaw-main/openclaw.json"), "{ gateway: ");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "exec", "--", "/bin/true", NULL), 0);
	expect(&r, 0);
	run_result_free(&r);
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", "main", "gateway", "--gateway-cmd", FAKE_GATEWAY, NULL), 0);
	expect(&r, 78);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* Closing the terminal of a foreground gateway stops it, once. */
Test(day_two, terminal_hangup_stops_the_gateway)
{
	struct gw g;
	int master, status = 0;
	pid_t pid;

	gw_init(&g, "main");
	char *argv[] = {(char *)OCR_BIN,
			(char *)"--profile",
			(char *)"main",
			(char *)"gateway",
			(char *)"--gateway-cmd",
			(char *)FAKE_GATEWAY,
			(char *)"--grace",
			(char *)"10",
			NULL};
	char *envp[] = {
	    (char *)"PATH=/usr/local/bin:/usr/bin:/bin", g.home_env, g.runtime_env, g.records_env,
	    (char *)"ASAN_OPTIONS=detect_leaks=1",	 NULL};
	pid = forkpty(&master, NULL, NULL, NULL);
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	g.launchers[g.n_launchers++] = pid;
	gw_sync(&g);
	cr_assert_eq(gw_wait_status(&g, 0, 120), 0, "never started");
	close(master); /* the terminal window closes */
	cr_assert_eq(gw_wait_exit(&g, pid, 60), 0, "the launcher did not stop cleanly");
	cJSON *st = gw_status_json(&g, &status);
	cr_assert_eq(status, 3);
	cr_assert_eq(gw_json_num(st, "restarts"), 0);
	cJSON_Delete(st);
	gw_cleanup(&g);
}

/* A typo is not a stopped profile. */
Test(day_two, typos_get_suggestions)
{
	struct gw g;
	struct run_result r;

	gw_init(&g, "rescue");
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescu", "status", NULL), 0);
	expect(&r, 4);
	cr_assert(strstr(r.err, "not set up") && strstr(r.err, "did you mean 'rescue'"), "%s",
		  r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescu", "stop", NULL), 0);
	expect(&r, 4);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "status", NULL), 0);
	expect(&r, 4);
	cr_assert(strstr(r.err, "'default' is not set up") && strstr(r.err, "rescue"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "stauts", NULL), 0);
	expect(&r, 2);
	cr_assert(strstr(r.err, "did you mean 'status'"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "status", NULL), 0);
	expect(&r, 2);
	cr_assert(strstr(r.err, "needs a name"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "rescue", "status", "--jsn", NULL), 0);
	expect(&r, 2);
	cr_assert(strncmp(r.err, "openclaw-run: status: bad option '--jsn'", 40) == 0, "%s", r.err);
	cr_assert_eq(strchr(r.err, '\n') + 1, r.err + strlen(r.err), "more than one line: %s",
		     r.err);
	run_result_free(&r);
	gw_cleanup(&g);
}

/* Ports another program holds are skipped by setup and named by check. */
Test(day_two, ports_held_by_others)
{
	struct gw g;
	struct run_result r;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	char mine[32];

	gw_init(&g, "main");
	/* The next grid base after main's is the one setup would pick. */
	unsigned next = g.base + 120;
	addr.sin_port = htons((uint16_t)(next + 5));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 1), 0);
	snprintf(mine, sizeof(mine), "pid %d", (int)getpid());
	char port[16];
	snprintf(port, sizeof(port), "%u", next);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "second", "setup", "--port", port, NULL), 0);
	expect(&r, 0);
	cr_assert(strstr(r.err, "held by") && strstr(r.err, mine), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "check", NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.out, "port-held second") && strstr(r.out, mine), "%s", r.out);
	run_result_free(&r);
	close(fd);
	g.also_stop = "second";
	gw_cleanup(&g);
}
