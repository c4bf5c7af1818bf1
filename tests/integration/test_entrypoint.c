/* `openclaw-run entrypoint` as a container engine runs it, without an
 * engine: pid 1 of a fresh pid namespace (with its own /proc), on an empty
 * HOME, configured only through the environment, with the fake gateway.
 * A correct pid 1: it sets the volume up, reaps every zombie (100 orphans
 * of a double-forking child), passes each of TERM, INT, HUP, QUIT and USR2
 * on to the gateway (USR1 never: it opens Node's inspector), exits with the
 * gateway's code (0, N, 128+signal) and stops within its grace period.
 * Needs root (pid namespace). */
#include <dirent.h>
#include <sys/stat.h>

#include "gateway_util.h"

TestSuite(entrypoint, .fini = gw_fini);

/* Starts the entrypoint as pid 1 of a new pid namespace on G's HOME (no
 * setup done), with EXTRA ("K=V", NULL-terminated) added to the container's
 * environment. Returns the test's child (outside the namespace); *pid1 gets
 * the entrypoint's host pid. */
static pid_t start_entrypoint(struct gw *g, const char *const *extra, pid_t *pid1)
{
	char port[48], log[PATH_MAX + 32];
	char *envp[32];
	char *argv[] = {(char *)OCR_BIN, (char *)"entrypoint", (char *)"--gateway-cmd",
			(char *)FAKE_GATEWAY, NULL};
	size_t n = 0;
	pid_t pid;

	snprintf(port, sizeof(port), "OPENCLAW_GATEWAY_PORT=%u", g->base);
	envp[n++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	envp[n++] = g->home_env;
	envp[n++] = g->runtime_env;
	envp[n++] = port;
	envp[n++] = (char *)"OPENCLAW_PROFILE=main";
	envp[n++] = (char *)"ASAN_OPTIONS=detect_leaks=1";
	for (; extra && *extra && n < 30; extra++)
		envp[n++] = (char *)*extra;
	envp[n] = NULL;
	snprintf(log, sizeof(log), "%s/launcher-%d.log", g->home, g->n_launchers);
	g->as_pid1 = true;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		gw_become_pid1();
		execve(argv[0], argv, envp);
		_exit(127);
	}
	g->launchers[g->n_launchers++] = pid;
	gw_sync(g);
	/* The inner pid 1 is the only child of the outer process. */
	for (int i = 0; i < 100; i++) {
		char path[64], *text;

		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid, (long)pid);
		text = read_text_file(path);
		*pid1 = text ? (pid_t)strtol(text, NULL, 10) : 0;
		free(text);
		if (*pid1 > 0)
			return pid;
		gw_sleep_ms(50);
	}
	cr_assert_fail("the entrypoint did not start");
	return -1;
}

/* A fresh HOME with no profile in it (unlike gw_init, which runs setup). */
static void fresh(struct gw *g)
{
	memset(g, 0, sizeof(*g));
	g->home = tmpdir_make("ep");
	g->base = free_port_base();
	snprintf(g->profile, sizeof(g->profile), "main");
	snprintf(g->home_env, sizeof(g->home_env), "HOME=%s", g->home);
	snprintf(g->runtime_env, sizeof(g->runtime_env), "XDG_RUNTIME_DIR=%s/run", g->home);
	snprintf(g->state_dir, sizeof(g->state_dir), "%s/.openclaw-main", g->home);
	gw_sync(g);
}

/* The command line (blanks for NULs) of the first process below PID whose
 * command line starts with WHAT. */
static bool find_descendant(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[96], *children, *save = NULL;
	int fd;
	ssize_t n;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[n > 0 ? n : 0] = '\0';
	if (strncmp(buf, what, strlen(what)) == 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid, (long)pid);
	children = read_text_file(path);
	for (char *c = children ? strtok_r(children, " \n", &save) : NULL; c && !found;
	     c = strtok_r(NULL, " \n", &save))
		found = find_descendant((pid_t)strtol(c, NULL, 10), what, buf, len);
	free(children);
	return found;
}

static void wait_healthy(struct gw *g)
{
	cr_assert_eq(gw_wait_status(g, 0, 120), 0, "not healthy: %s", gw_launcher_log(g, 0));
}

static bool wait_fake_log(struct gw *g, const char *what, int count, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;

	while (gw_fake_log_count(g, what) < count) {
		if (gw_now_ms() >= deadline)
			return false;
		gw_sleep_ms(100);
	}
	return true;
}

Test(entrypoint, sets_up_an_empty_volume_then_stops_on_sigterm_within_the_grace)
{
	static const char *const env[] = {"OPENCLAW_RUN_GRACE=5", NULL};
	struct gw g;
	pid_t pid1, outer;
	char config[PATH_MAX + 32];
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	fresh(&g);
	outer = start_entrypoint(&g, env, &pid1);
	wait_healthy(&g);
	char *log = gw_launcher_log(&g, 0);
	snprintf(config, sizeof(config), "%s/openclaw.json", g.state_dir);
	cr_assert(strstr(log, "no config on the state volume yet: running setup"), "%s", log);
	cr_assert(strstr(log, "container entrypoint (pid 1)"), "%s", log);
	cr_assert(strstr(log, config), "the token's location is not printed: %s", log);
	cr_assert_eq(stat(config, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* The token itself is never printed. */
	char *text = read_text_file(config);
	cJSON *root = cJSON_Parse(text);
	const cJSON *gw = cJSON_GetObjectItem(root, "gateway");
	const cJSON *auth = cJSON_GetObjectItem(gw, "auth");
	const char *token = cJSON_GetStringValue(cJSON_GetObjectItem(auth, "token"));
	cr_assert(token && strlen(token) >= 32, "no token generated: %s", text);
	cr_assert_null(strstr(log, token), "the token is in the output");
	cr_assert_not_null(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(gw, "controlUi"), "allowedOrigins"), "%s",
	    text);
	cJSON_Delete(root);
	free(text);
	free(log);

	/* The gateway was started with the bind that a published port reaches
	 * (after openclaw-run's own `--bind loopback`, so it wins). */
	char cmdline[4096];
	cr_assert(find_descendant(pid1, FAKE_GATEWAY " ", cmdline, sizeof(cmdline)),
		  "no gateway below pid %ld", (long)pid1);
	cr_assert(strstr(cmdline, "--bind lan"), "gateway command: %s", cmdline);

	/* The image's healthcheck: `openclaw-run status`, the profile taken
	 * from the container's OPENCLAW_PROFILE. */
	char *st_env[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", g.home_env,
			  g.runtime_env, (char *)"OPENCLAW_PROFILE=main", NULL};
	char *st_argv[] = {(char *)OCR_BIN, (char *)"status", NULL};
	struct run_result r;
	cr_assert_eq(run_argv(&r, st_env, st_argv, 60), 0);
	cr_assert_eq(r.exit_code, 0, "status by OPENCLAW_PROFILE: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "main"), "%s", r.out);
	run_result_free(&r);

	long t0 = gw_now_ms();
	kill(pid1, SIGTERM);
	int code = gw_wait_exit(&g, outer, 60);
	long took = gw_now_ms() - t0;
	cr_assert_eq(code, 0, "exit %d: %s", code, gw_launcher_log(&g, 0));
	cr_assert_lt(took, 5000, "took %ld ms, more than the 5 s grace", took);
	cr_assert(wait_fake_log(&g, "got SIGTERM", 1, 1));
	gw_cleanup(&g);
}

/* Every signal a container engine may send reaches the gateway as itself,
 * except SIGUSR1, which would open Node's inspector (a debugger port) in the
 * real gateway: it is said and dropped. SIGINT then stops it like SIGTERM. */
Test(entrypoint, passes_every_signal_on_to_the_gateway)
{
	static const char *const env[] = {NULL};
	static const int sigs[] = {SIGHUP, SIGQUIT, SIGUSR2};
	struct gw g;
	pid_t pid1, outer;

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	fresh(&g);
	outer = start_entrypoint(&g, env, &pid1);
	wait_healthy(&g);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "got SIG%s", sigabbrev_np(sigs[i]));
		kill(pid1, sigs[i]);
		cr_assert(wait_fake_log(&g, what, 1, 20), "%s never reached the gateway: %s",
			  strsignal(sigs[i]), gw_launcher_log(&g, 0));
	}
	kill(pid1, SIGUSR1);
	long deadline = gw_now_ms() + 20000;
	char *log = NULL;
	while (gw_now_ms() < deadline) {
		free(log);
		log = gw_launcher_log(&g, 0);
		if (log && strstr(log, "SIGUSR1 ignored"))
			break;
		gw_sleep_ms(100);
	}
	cr_assert(log && strstr(log, "SIGUSR1 ignored"), "%s", log);
	free(log);
	cr_assert_eq(gw_fake_log_count(&g, "got SIGUSR1"), 0, "SIGUSR1 reached the gateway");
	cr_assert_eq(gw_fake_log_count(&g, "start mode"), 1, "the gateway was restarted");
	kill(pid1, SIGINT);
	cr_assert_eq(gw_wait_exit(&g, outer, 60), 0, "%s", gw_launcher_log(&g, 0));
	cr_assert(wait_fake_log(&g, "got SIGINT", 1, 1), "SIGINT arrived as another signal");
	gw_cleanup(&g);
}

static void exits_with(const char *const *env, int want, int sig)
{
	struct gw g;
	pid_t pid1, outer;

	fresh(&g);
	outer = start_entrypoint(&g, env, &pid1);
	wait_healthy(&g);
	kill(pid1, sig);
	int code = gw_wait_exit(&g, outer, 60);
	cr_assert_eq(code, want, "exit %d, want %d: %s", code, want, gw_launcher_log(&g, 0));
	gw_cleanup(&g);
}

Test(entrypoint, exits_with_the_gateways_code_or_128_plus_its_signal)
{
	static const char *const code_n[] = {"FAKE_TERM_EXIT=3",
					     "OPENCLAW_RUN_PASS_ENV=FAKE_TERM_EXIT", NULL};
	static const char *const dies[] = {"FAKE_MODE=die-on-term",
					   "OPENCLAW_RUN_PASS_ENV=FAKE_MODE", NULL};

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	exits_with(code_n, 3, SIGTERM);
	exits_with(dies, 128 + SIGTERM, SIGTERM);
}

/* A gateway that ignores SIGTERM is killed when the grace runs out: the
 * container stops in about the grace, never waits for the engine's own. */
Test(entrypoint, kills_a_gateway_that_ignores_sigterm_after_the_grace)
{
	static const char *const env[] = {"FAKE_MODE=ignore-term",
					  "OPENCLAW_RUN_PASS_ENV=FAKE_MODE", "OPENCLAW_RUN_GRACE=2",
					  NULL};
	struct gw g;
	pid_t pid1, outer;

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	fresh(&g);
	outer = start_entrypoint(&g, env, &pid1);
	wait_healthy(&g);
	long t0 = gw_now_ms();
	kill(pid1, SIGTERM);
	int code = gw_wait_exit(&g, outer, 60);
	long took = gw_now_ms() - t0;
	cr_assert_eq(code, 128 + SIGKILL, "exit %d: %s", code, gw_launcher_log(&g, 0));
	cr_assert_geq(took, 1900, "killed after %ld ms, before the 2 s grace", took);
	cr_assert_lt(took, 30000, "took %ld ms", took);
	gw_cleanup(&g);
}

/* Zombies in the pid namespace whose pid 1 is PID1: its children in Z state. */
static int count_zombie_children(pid_t pid1)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char path[300], *stat, *p;
		long ppid;
		char state;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		stat = read_text_file(path);
		p = stat ? strrchr(stat, ')') : NULL;
		if (p && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 && ppid == pid1 &&
		    state == 'Z')
			n++;
		free(stat);
	}
	closedir(d);
	return n;
}

/* In a child of the test, never returns: joins PID1's pid namespace (as
 * `podman exec` does), forks a child that forks 100 grandchildren and
 * exits at once; the grandchildren, orphaned to pid 1, exit after a moment.
 * Writes the grandchildren's host pids to FD. */
static void orphans_in(pid_t pid1, int fd)
{
	char path[64];
	int ns, ready[2];
	pid_t mid;

	snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long)pid1);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWPID) < 0 || pipe(ready) < 0 || (mid = fork()) < 0)
		_exit(1);
	if (mid > 0) {
		waitpid(mid, NULL, 0);
		_exit(0);
	}
	for (int i = 0; i < 100; i++) {
		pid_t gc = fork();

		if (gc == 0) {
			char self[32] = "", c;

			close(ready[1]);
			/* /proc is the host's: "self" is the host pid. */
			if (readlink("/proc/self", self, sizeof(self) - 1) > 0)
				dprintf(fd, "%s\n", self);
			/* Exit once the parent is gone, as an orphan of pid 1. */
			while (read(ready[0], &c, 1) > 0)
				;
			gw_sleep_ms(50);
			_exit(0);
		}
	}
	_exit(0); /* closes ready[1]: every grandchild goes */
}

Test(entrypoint, reaps_every_orphan_in_its_pid_namespace)
{
	static const char *const env[] = {NULL};
	struct gw g;
	pid_t pid1, outer, helper;
	int report[2];
	long pids[100];
	int n = 0;
	FILE *f;

	if (geteuid() != 0)
		cr_skip_test("a pid namespace needs root here");
	fresh(&g);
	outer = start_entrypoint(&g, env, &pid1);
	wait_healthy(&g);
	cr_assert_eq(pipe(report), 0);
	helper = fork();
	cr_assert_geq(helper, 0);
	if (helper == 0) {
		close(report[0]);
		orphans_in(pid1, report[1]);
	}
	close(report[1]);
	f = fdopen(report[0], "r");
	while (n < 100 && fscanf(f, "%ld", &pids[n]) == 1)
		n++;
	fclose(f);
	waitpid(helper, NULL, 0);
	cr_assert_eq(n, 100, "only %d grandchildren reported", n);
	for (int i = 0; i < n; i++) {
		char path[64];
		long deadline = gw_now_ms() + 20000;

		snprintf(path, sizeof(path), "/proc/%ld", pids[i]);
		while (access(path, F_OK) == 0 && gw_now_ms() < deadline)
			gw_sleep_ms(50);
		cr_assert_neq(access(path, F_OK), 0, "orphan %ld was never reaped (zombies: %d)",
			      pids[i], count_zombie_children(pid1));
	}
	cr_assert_eq(count_zombie_children(pid1), 0);
	/* Its own gateway's bookkeeping survived the storm. */
	cr_assert_eq(gw_wait_status(&g, 0, 10), 0, "%s", gw_launcher_log(&g, 0));
	kill(pid1, SIGTERM);
	cr_assert_eq(gw_wait_exit(&g, outer, 60), 0, "%s", gw_launcher_log(&g, 0));
	gw_cleanup(&g);
}

static long status_field(pid_t pid, const char *field)
{
	char path[64], *text, *p;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	text = read_text_file(path);
	p = text ? strstr(text, field) : NULL;
	if (p)
		v = strtol(p + strlen(field), NULL, 16); /* CapEff is hex; the rest single digits */
	free(text);
	return v;
}

/* Where the engine refuses namespaces, the entrypoint runs the gateway with
 * --no-namespaces: in the caller's namespaces, but still with no
 * capability, no_new_privs and seccomp, not as root; and a gateway that
 * ignores SIGTERM is still killed, with its whole process group. */
Test(entrypoint, without_namespaces_the_gateway_keeps_every_unprivileged_layer)
{
	struct gw g;
	char ours[64] = "", its[64] = "", path[64];

	if (geteuid() != 0)
		cr_skip_test("runs the fake gateway as the service user");
	gw_init(&g, "main");
	pid_t launcher =
	    gw_start(&g, "--no-namespaces", "--grace", "1", "--env", "FAKE_MODE=ignore-term", NULL);
	gw_wait_running(&g);
	pid_t gateway = gw_status_pid(&g, "child_pid");
	cr_assert_gt(gateway, 0);
	cr_assert_eq(status_field(gateway, "CapEff:"), 0);
	cr_assert_eq(status_field(gateway, "NoNewPrivs:"), 1);
	cr_assert_eq(status_field(gateway, "Seccomp:"), 2);
	cr_assert_neq(status_field(gateway, "Uid:"), 0, "the gateway runs as root");
	snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long)gateway);
	cr_assert_gt(readlink("/proc/self/ns/pid", ours, sizeof(ours) - 1), 0);
	cr_assert_gt(readlink(path, its, sizeof(its) - 1), 0);
	cr_assert_str_eq(ours, its, "a pid namespace was made after all");
	kill(launcher, SIGTERM);
	cr_assert_eq(gw_wait_exit(&g, launcher, 60), 6, "%s", gw_launcher_log(&g, 0));
	cr_assert(gw_wait_pid_gone(gateway, 10), "the gateway outlived the sandbox's kill");
	gw_cleanup(&g);
}
