/* Rescue grants (issue 11): setup --rescues/--no-rescues, what check, list
 * and status show, and what a rescuer's sandbox can reach of the target. */
#include <sys/socket.h>
#include <sys/un.h>

#include "gateway_util.h"

TestSuite(rescue, .fini = gw_fini);

static char *ocr_out(struct gw *g, int want, ...)
{
	char *argv[16];
	struct run_result r;
	va_list ap;
	int n = 0;
	const char *a;

	va_start(ap, want);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	/* gw_ocr is variadic: pass the collected args through a fixed arity. */
	cr_assert_eq(gw_ocr(g, &r, argv[0], n > 1 ? argv[1] : NULL, n > 2 ? argv[2] : NULL,
			    n > 3 ? argv[3] : NULL, n > 4 ? argv[4] : NULL, n > 5 ? argv[5] : NULL,
			    n > 6 ? argv[6] : NULL, n > 7 ? argv[7] : NULL, n > 8 ? argv[8] : NULL,
			    n > 9 ? argv[9] : NULL, NULL),
		     0);
	cr_assert_eq(r.exit_code, want, "%s: exit %d: %s%s", argv[0], r.exit_code, r.out, r.err);
	char *text = malloc(strlen(r.out) + strlen(r.err) + 1);
	strcpy(text, r.out);
	strcat(text, r.err);
	run_result_free(&r);
	return text;
}

Test(rescue, setup_grants_are_shown_and_refused_where_meaningless)
{
	struct gw g;
	char *out;

	gw_init(&g, "main");
	gw_setup_profile(&g, "rescue", g.base + 120);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--rescues", "main", NULL);
	cr_assert(strstr(out, "rescues   main (control, logs, config)"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "rescue", NULL);
	cr_assert(strstr(out, "cannot rescue itself"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "nosuch", NULL);
	cr_assert(strstr(out, "nosuch does not exist"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "main:secrets", NULL);
	cr_assert(strstr(out, "unknown item 'secrets'"), "%s", out);
	free(out);
	/* The failed attempts changed nothing. */
	out = ocr_out(&g, 0, "check", NULL);
	cr_assert(strstr(out, "grant rescue rescues main: control, logs, config\n"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--rescues", "main:workspace", NULL);
	free(out);
	out = ocr_out(&g, 0, "list", NULL);
	cr_assert(strstr(out, "grant: rescue rescues main (control, logs, config, workspace)"),
		  "%s", out);
	free(out);
	out = ocr_out(&g, 3, "--profile", "main", "status", NULL);
	cr_assert(strstr(out, "rescuer  rescue may rescue it"), "%s", out);
	free(out);
	out = ocr_out(&g, 3, "--profile", "rescue", "status", NULL);
	cr_assert(strstr(out, "rescues  main (control, logs, config, workspace)"), "%s", out);
	free(out);
	/* Never in OpenClaw's config, which the payload rewrites. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/.openclaw-rescue/openclaw.json", g.home);
	out = read_text_file(path);
	cr_assert(out && !strstr(out, "rescues") && !strstr(out, ".openclaw-main"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--no-rescues", "main", NULL);
	cr_assert(!strstr(out, "rescues"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "check", NULL);
	cr_assert(!strstr(out, "grant "), "%s", out);
	free(out);
	gw_cleanup(&g);
}

/* main (detached, the fake gateway) and rescue, set up in one HOME; rescue
 * holds a grant on main when GRANT. */
static void two_profiles(struct gw *g, bool grant, const char *fake_mode)
{
	char base[16], env[64];

	gw_init(g, "main");
	gw_setup_profile(g, "rescue", g->base + 120);
	gw_setup_profile(g, "other", g->base + 240);
	if (grant)
		free(ocr_out(g, 0, "--profile", "rescue", "setup", "--rescues", "main", NULL));
	snprintf(base, sizeof(base), "%u", g->base);
	snprintf(env, sizeof(env), "FAKE_MODE=%s", fake_mode);
	free(ocr_out(g, 0, "--profile", "main", "gateway", "--detach", "--no-doctor",
		     "--gateway-cmd", FAKE_GATEWAY, "--env", env, NULL));
}

/* A shell command in PROFILE's sandbox: "exit CODE" and its output. */
static char *in_sandbox(struct gw *g, const char *profile, const char *script, int *code)
{
	struct run_result r;
	char *text;

	cr_assert_eq(gw_ocr(g, &r, "--profile", profile, "exec", "--env",
			    "ASAN_OPTIONS=detect_leaks=0", "--", "sh", "-c", script, NULL),
		     0);
	*code = r.exit_code;
	text = malloc(strlen(r.out) + strlen(r.err) + 1);
	strcpy(text, r.out);
	strcat(text, r.err);
	run_result_free(&r);
	return text;
}

static void put_secret_files(struct gw *g)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/credentials/telegram.json", g->state_dir);
	write_text_file(path, "{\"token\":\"secret\"}");
	snprintf(path, sizeof(path), "%s/agents/main/sessions/s.jsonl", g->state_dir);
	write_text_file(path, "{}");
	snprintf(path, sizeof(path), "%s/memory.sqlite", g->state_dir);
	write_text_file(path, "SQLite format 3");
	/* Given to main's account, as its gateway would have made them. */
	free(ocr_out(g, 0, "--profile", "main", "setup", NULL));
}

Test(rescue, without_a_grant_nothing_of_main_is_in_reach)
{
	struct gw g;
	char script[8 * PATH_MAX];
	int code;

	two_profiles(&g, false, "run");
	put_secret_files(&g);
	snprintf(script, sizeof(script),
		 "for p in /run/openclaw-run %s %s/openclaw.json %s/credentials %s/ocr-records; do "
		 "test -e $p && echo VISIBLE $p; done; openclaw-run --profile main status; "
		 "echo status=$?",
		 g.state_dir, g.state_dir, g.state_dir, g.home);
	char *out = in_sandbox(&g, "rescue", script, &code);
	cr_assert(!strstr(out, "VISIBLE"), "%s", out);
	cr_assert(!strstr(out, "status=0"), "%s", out);
	free(out);
	gw_cleanup(&g);
}

Test(rescue, rescue_moves_main_to_another_block_and_sees_no_secrets)
{
	struct gw g;
	char script[16 * PATH_MAX];
	int code;

	two_profiles(&g, true, "run");
	put_secret_files(&g);
	/* The grant shows main's config copy and socket, nothing else. */
	int len =
	    snprintf(script, sizeof(script),
		     "for p in %s/credentials/telegram.json %s/memory.sqlite "
		     "%s/agents %s/workspace %s/home; do test -e $p && echo VISIBLE $p; done; "
		     "ls /run/openclaw-run/rescue/main; "
		     "P=$(openclaw-run --profile main config pull) || exit 10; "
		     /* main's own config path, showing the copy and nothing else */
		     "test \"$P\" = %s/openclaw.json || exit 9; "
		     "test \"$(ls -A %s)\" = openclaw.json || echo VISIBLE $(ls -A %s); "
		     "sed -i 's/\"port\": *%u/\"port\": %u/' $P; grep -q %u $P || exit 11; "
		     "openclaw-run --profile main config apply || exit 12; "
		     "openclaw-run --profile main status",
		     g.state_dir, g.state_dir, g.state_dir, g.state_dir, g.state_dir, g.state_dir,
		     g.state_dir, g.state_dir, g.base, g.base + 360, g.base + 360);
	cr_assert_lt(len, (int)sizeof(script));
	char *out = in_sandbox(&g, "rescue", script, &code);
	cr_assert_eq(code, 0, "%s", out);
	cr_assert(!strstr(out, "VISIBLE"), "%s", out);
	cr_assert(strstr(out, "control.sock") && strstr(out, "config"), "%s", out);
	free(out);
	/* On the host: main serves on the new block, and healthy. */
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	cJSON *st = gw_status_json(&g, NULL);
	cr_assert_eq(gw_json_num(cJSON_GetObjectItem(st, "ports"), "base"), g.base + 360);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "healthy")));
	cJSON_Delete(st);
	/* The pins followed: check finds no drift. */
	out = ocr_out(&g, 0, "check", NULL);
	cr_assert(!strstr(out, "drift"), "%s", out);
	free(out);
	gw_cleanup(&g);
}

Test(rescue, a_broken_config_is_refused_and_main_keeps_running)
{
	struct gw g;
	char path[PATH_MAX + 32];
	int code;

	two_profiles(&g, true, "run");
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	snprintf(path, sizeof(path), "%s/openclaw.json", g.state_dir);
	char *before = read_text_file(path);
	pid_t child = gw_status_pid(&g, "child_pid");
	char *out =
	    in_sandbox(&g, "rescue",
		       "P=$(openclaw-run --profile main config pull) || exit 10; "
		       "echo '{ gateway: { port: ' > $P; openclaw-run --profile main config apply; "
		       "echo apply1=$?; echo '{\"fakeInvalid\": true}' > $P; "
		       "openclaw-run --profile main config apply; echo apply2=$?; "
		       "echo '{\"agents\":{\"defaults\":{\"workspace\":\"/etc\"}}}' > $P; "
		       "openclaw-run --profile main config apply; echo apply3=$?",
		       &code);
	cr_assert(strstr(out, "does not parse") && strstr(out, "apply1=1"), "%s", out);
	cr_assert(strstr(out, "fakeInvalid: Unrecognized key") && strstr(out, "apply2=1"), "%s",
		  out);
	cr_assert(strstr(out, "person's decision") && strstr(out, "apply3=1"), "%s", out);
	free(out);
	char *after = read_text_file(path);
	cr_assert_str_eq(before, after, "the config changed");
	cr_assert_eq(gw_status_pid(&g, "child_pid"), child, "main was restarted");
	cr_assert_eq(gw_wait_status(&g, 0, 10), 0);
	free(before);
	free(after);
	gw_cleanup(&g);
}

/* The grant dir's socket, as the host sees it. */
static void socket_path(struct gw *g, char *buf, size_t len)
{
	char cmd[PATH_MAX + 64];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "find %s/run -name control.sock", g->home);
	f = popen(cmd, "r");
	cr_assert(f && fgets(buf, (int)len, f), "no control socket under %s/run", g->home);
	pclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Connects as the caller and asks for status: the first answer, or NULL
 * when the kernel refused the connection (*ERRNUM). */
static char *ask_status(const char *path, int *errnum)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	char *buf = calloc(1, 65536);
	const char req[] = "{\"op\":\"status\"}";

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	*errnum = 0;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		*errnum = errno;
		close(fd);
		free(buf);
		return NULL;
	}
	/* A refused peer finds its answer queued: the server closed already. */
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		errno = 0;
	if (recv(fd, buf, 65535, 0) < 0)
		buf[0] = '\0';
	close(fd);
	return buf;
}

Test(rescue, main_refuses_peers_without_the_grant_and_audits_every_request)
{
	struct gw g;
	char sock[PATH_MAX], path[PATH_MAX + 64];
	int code, errnum;

	two_profiles(&g, true, "run");
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	socket_path(&g, sock, sizeof(sock));
	/* Another profile's sandbox runs as the same account: the socket is
	 * simply not in its world. */
	snprintf(path, sizeof(path), "test -e %s && echo VISIBLE; ls /run/openclaw-run 2>&1", sock);
	char *out = in_sandbox(&g, "other", path, &code);
	cr_assert(!strstr(out, "VISIBLE") && strstr(out, "No such file"), "%s", out);
	free(out);
	/* A host process of another uid: the kernel refuses the connection. */
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		char *a = ask_status(sock, &errnum);
		_exit(a ? 1 : errnum == EACCES ? 0 : 2);
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert_eq(WEXITSTATUS(status), 0, "nobody reached the socket (%d)", WEXITSTATUS(status));
	/* Root can open anything: SO_PEERCRED says it is not the rescuer. */
	char *answer = ask_status(sock, &errnum);
	cr_assert_not_null(answer, "connect: %s", strerror(errnum));
	cr_assert(strstr(answer, "\"ok\":false") && strstr(answer, "refused: uid 0"), "[%s]",
		  answer);
	free(answer);
	/* The rescuer, for the audit. */
	out = in_sandbox(&g, "rescue", "openclaw-run --profile main logs -n 5", &code);
	cr_assert_eq(code, 0, "%s", out);
	cr_assert(strstr(out, "fake-gateway"), "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/openclaw-run-rescue.log", g.state_dir);
	char *audit = read_text_file(path);
	cr_assert(audit, "no audit log in %s", g.state_dir);
	cr_assert(strstr(audit, "uid 0 (no grant) connect: refused"), "%s", audit);
	cr_assert(strstr(audit, "(rescue) logs: ok"), "%s", audit);
	free(audit);
	gw_cleanup(&g);
}

/* README's walkthrough, with the fake gateway: a bad edit makes main exit
 * 78; rescue sees why, repairs the config and starts main again. */
Test(rescue, rescue_repairs_a_config_that_made_main_exit_78)
{
	struct gw g;
	struct run_result r;
	char path[PATH_MAX + 32];
	int code;

	two_profiles(&g, true, "run");
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	/* Stop and start from rescue's sandbox: the supervisor stays. */
	char *out = in_sandbox(&g, "rescue",
			       "openclaw-run --profile main stop && openclaw-run --profile main "
			       "status; echo status=$?; openclaw-run --profile main start",
			       &code);
	cr_assert_eq(code, 0, "%s", out);
	cr_assert(strstr(out, "status=3") && strstr(out, "main: started"), "%s", out);
	free(out);
	/* The bad edit (upstream would say "Unrecognized key"), then a restart
	 * on the host: exit 78, no retry. */
	snprintf(path, sizeof(path), "%s/openclaw.json", g.state_dir);
	char *cfg = read_text_file(path);
	char *bad = malloc(strlen(cfg) + 32);
	sprintf(bad, "{\"fakeBroken\": 1,%s", strchr(cfg, '{') + 1);
	write_text_file(path, bad);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "main", "restart", "--timeout", "60", NULL), 0);
	cr_assert_neq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	out = in_sandbox(&g, "rescue",
			 "openclaw-run --profile main status; echo status=$?; "
			 "P=$(openclaw-run --profile main config pull) || exit 10; "
			 "sed -i 's/\"fakeBroken\": 1,//' $P; "
			 "openclaw-run --profile main config apply",
			 &code);
	cr_assert(strstr(out, "failed") && strstr(out, "fakeBroken: Unrecognized key") &&
		      strstr(out, "status=3"),
		  "%s", out);
	cr_assert_eq(code, 0, "%s", out);
	free(out);
	cr_assert_eq(gw_wait_status(&g, 0, 60), 0);
	free(cfg);
	free(bad);
	gw_cleanup(&g);
}
