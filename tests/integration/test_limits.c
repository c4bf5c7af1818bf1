/* One bot cannot starve the other: memory and pids limits per profile, in
 * cgroups made below the launcher's own (v1 and hybrid hosts need root,
 * like these machines; v2 needs a delegated cgroup or root).
 *
 * Profile "limb" runs the fake gateway and must stay healthy while profile
 * "lima", limited to 64 MiB and 64 pids, runs a memory hog and a fork
 * storm; the counters say why lima's commands died, once per start though
 * the groups are kept across starts (named by slot); a changed setup holds
 * at the next start; no process is left in the groups after a stop or a
 * SIGKILL of the launcher. Both names carry the test's pid ("lima-PID"):
 * the groups are named after the profile and kept, and another run's on
 * the machine (with its processes in them) must never count as ours; the
 * test removes its own groups at the end. */
#include <dirent.h>
#include <sys/stat.h>

#include "gateway_util.h"

#define HOG			  OCR_HELPERS_DIR "/hog"
#define RES_PIDS_DEFAULT_EXPECTED 512 /* resources.h */

/* Root, and a memory and a pids controller this process can use: a v1
 * hierarchy of each, or a v2 one that offers them. */
static bool limits_testable(void)
{
	char *cg = read_text_file("/proc/self/cgroup");
	bool ok = geteuid() == 0 && cg &&
		  ((strstr(cg, ":memory:") && strstr(cg, ":pids:")) ||
		   access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0);

	free(cg);
	return ok;
}

/* Directories named PREFIX* anywhere below DIR (depth-first, bounded);
 * PROCS: the processes in them instead. */
static int walk_groups(const char *dir, const char *prefix, bool procs, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d || depth > 6) {
		if (d)
			closedir(d);
		return 0;
	}
	while ((e = readdir(d))) {
		char sub[PATH_MAX];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%.3800s/%.255s", dir, e->d_name);
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			char file[PATH_MAX + 16], *text;

			snprintf(file, sizeof(file), "%s/cgroup.procs", sub);
			text = procs ? read_text_file(file) : NULL;
			for (char *p = text; p && *p; p++)
				n += *p == '\n';
			n += !procs;
			free(text);
		}
		n += walk_groups(sub, prefix, procs, depth + 1);
	}
	closedir(d);
	return n;
}

static int count_groups(const char *prefix)
{
	return walk_groups("/sys/fs/cgroup", prefix, false, 0);
}

/* Processes in the groups of PREFIX, once the ones of a sandbox that just
 * ended are gone (a killed pid namespace takes a moment). */
static int procs_left(const char *prefix)
{
	int n = walk_groups("/sys/fs/cgroup", prefix, true, 0);

	for (long deadline = gw_now_ms() + 20000; n && gw_now_ms() < deadline; gw_sleep_ms(200))
		n = walk_groups("/sys/fs/cgroup", prefix, true, 0);
	return n;
}

static char lima[32], limb[32], prefix_a[64], prefix_b[64];

static void name_profiles(void)
{
	snprintf(lima, sizeof(lima), "lima-%d", (int)getpid());
	snprintf(limb, sizeof(limb), "limb-%d", (int)getpid());
	snprintf(prefix_a, sizeof(prefix_a), "openclaw-run-%s-", lima);
	snprintf(prefix_b, sizeof(prefix_b), "openclaw-run-%s-", limb);
}

/* rmdir the groups named PREFIX* below DIR and everything inside them,
 * innermost first (a group that still holds a process stays). */
static void remove_groups(const char *dir, const char *prefix, bool inside, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 6) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char sub[PATH_MAX];
		bool ours;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		ours = inside || strncmp(e->d_name, prefix, strlen(prefix)) == 0;
		snprintf(sub, sizeof(sub), "%.3800s/%.255s", dir, e->d_name);
		remove_groups(sub, prefix, ours, depth + 1);
		if (ours)
			rmdir(sub);
	}
	closedir(d);
}

static void limits_fini(void)
{
	gw_fini();
	remove_groups("/sys/fs/cgroup", prefix_a, false, 0);
	remove_groups("/sys/fs/cgroup", prefix_b, false, 0);
}

TestSuite(limits, .init = name_profiles, .fini = limits_fini);

/* HIER_PATH is "N:controllers:PATH" of ours (PATH "" for the root). */
static bool own_group(const char *hier, const char *path)
{
	char *mine = read_text_file("/proc/self/cgroup"), want[PATH_MAX];
	bool found;

	snprintf(want, sizeof(want), "%.*s%s\n", (int)(path - hier), hier, *path ? path : "/");
	found = mine && strstr(mine, want);
	free(mine);
	return found;
}

static void setup_limited(struct gw *g)
{
	struct run_result r;

	cr_assert_eq(
	    gw_ocr(g, &r, "--profile", lima, "setup", "--memory", "64M", "--pids", "64", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "setup lima: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "limits    memory 64 MiB, swap 0 (default), pids 64,"), "%s",
		  r.out);
	run_result_free(&r);
	g->also_stop = lima;
	gw_sync(g);
}

/* B's gateway (the fake), started and healthy. */
static void start_b(struct gw *g)
{
	gw_start(g, "--ready-timeout", "120", NULL);
	cr_assert_eq(gw_wait_status(g, 0, 120), 0, "limb not healthy: %s", gw_launcher_log(g, 0));
}

static void assert_b_healthy(struct gw *g)
{
	struct run_result r;

	cr_assert_eq(gw_wait_status(g, 0, 30), 0, "limb is no longer healthy");
	cr_assert_eq(gw_ocr(g, &r, "--profile", limb, "exec", "--", "/bin/sh", "-c",
			    "sleep 0 & wait $! && echo forked", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "limb cannot fork: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "forked"));
	run_result_free(&r);
}

Test(limits, memory_hog_is_killed_at_its_limit_and_the_other_bot_answers, .timeout = 400)
{
	struct gw g;
	struct run_result r;

	if (!limits_testable())
		cr_skip_test("needs root and usable memory and pids cgroup controllers");
	gw_init(&g, limb);
	setup_limited(&g);
	start_b(&g);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "exec", "--ro-bind", OCR_HELPERS_DIR, "--",
			    HOG, "memory", NULL),
		     0);
	cr_assert_eq(r.exit_code, 137, "the hog was not killed: %d %s%s", r.exit_code, r.out,
		     r.err);
	cr_assert(strstr(r.err, "the OOM killer killed 1 process at the memory limit (64 MiB)"),
		  "%s", r.err);
	run_result_free(&r);
	assert_b_healthy(&g);
	cr_assert_eq(procs_left(prefix_a), 0, "a process was left in lima's cgroups");

	/* The same groups again, with a limit changed by setup: the new limit
	 * holds, and the counters are this start's. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "setup", "--memory", "96M", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "exec", "--ro-bind", OCR_HELPERS_DIR, "--",
			    HOG, "memory", NULL),
		     0);
	cr_assert_eq(r.exit_code, 137, "%d %s%s", r.exit_code, r.out, r.err);
	cr_assert(strstr(r.err, "the OOM killer killed 1 process at the memory limit (96 MiB)"),
		  "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(procs_left(prefix_a), 0, "a process was left in lima's cgroups");
	gw_cleanup(&g);
}

Test(limits, fork_storm_stops_at_its_pids_limit_and_the_other_bot_forks, .timeout = 400)
{
	struct gw g;
	struct run_result r;
	int forked = -1;

	if (!limits_testable())
		cr_skip_test("needs root and usable memory and pids cgroup controllers");
	gw_init(&g, limb);
	setup_limited(&g);
	start_b(&g);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "exec", "--ro-bind", OCR_HELPERS_DIR, "--",
			    HOG, "fork", NULL),
		     0);
	cr_assert_eq(r.exit_code, 3, "%d %s%s", r.exit_code, r.out, r.err);
	cr_assert_eq(sscanf(r.out, "forked %d", &forked), 1, "%s", r.out);
	/* 64 tasks: init, the hog, and its children; never more. */
	cr_assert(forked > 0 && forked <= 62, "forked %d", forked);
	cr_assert(strstr(r.err, "at the pids limit (64)"), "%s", r.err);
	run_result_free(&r);
	assert_b_healthy(&g);
	cr_assert_eq(procs_left(prefix_a), 0);

	/* A raised limit holds at the next start, in the same groups. */
	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "setup", "--pids", "80", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", lima, "exec", "--ro-bind", OCR_HELPERS_DIR, "--",
			    HOG, "fork", NULL),
		     0);
	cr_assert_eq(r.exit_code, 3, "%d %s%s", r.exit_code, r.out, r.err);
	cr_assert_eq(sscanf(r.out, "forked %d", &forked), 1, "%s", r.out);
	cr_assert(forked > 62 && forked <= 78, "forked %d", forked);
	cr_assert(strstr(r.err, "at the pids limit (80)"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(procs_left(prefix_a), 0);
	gw_cleanup(&g);
}

/* Each of B's groups is below the group this test (the launcher's parent)
 * runs in for that controller, holds the sandbox, and is empty after stop;
 * an exec beside the gateway gets groups of its own, and sees none of the
 * host's (its cgroup namespace starts at them); status shows memory and
 * pids against the limits. */
Test(limits, groups_below_ours_shown_by_status_and_empty_after_stop, .timeout = 400)
{
	struct gw g;
	struct run_result r;
	char path[64], *cg, *line;
	cJSON *st, *usage;
	pid_t init;
	int groups = 0;

	if (!limits_testable())
		cr_skip_test("needs root and usable memory and pids cgroup controllers");
	gw_init(&g, limb);
	start_b(&g);
	init = gw_status_pid(&g, "init_pid");
	cr_assert_gt(init, 0);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)init);
	cg = read_text_file(path);
	cr_assert_not_null(cg);
	for (line = strtok(cg, "\n"); line; line = strtok(NULL, "\n")) {
		char *name = strstr(line, prefix_b), *colon = strrchr(line, ':');
		char *group = name && name > line && name[-1] == '/' ? name - 1 : NULL;

		if (!group || !colon)
			continue;
		groups++;
		cr_assert(strchr(group + 1, '/') == NULL, "%s: nested deeper", line);
		/* "N:controllers:" then our own path in that hierarchy. */
		*group = '\0';
		cr_assert_eq(own_group(line, colon + 1), true,
			     "%s...: not directly below our own group", line);
	}
	free(cg);
	cr_assert_geq(groups, 1, "the sandbox is in no group of its own");

	st = gw_status_json(&g, NULL);
	usage = cJSON_GetObjectItem(st, "usage");
	cr_assert(gw_json_num(usage, "memory_bytes") > 0);
	cr_assert(gw_json_num(usage, "memory_max_bytes") >= 1536.0 * 1024 * 1024);
	cr_assert(gw_json_num(usage, "pids") >= 2);
	cr_assert_eq(gw_json_num(usage, "pids_max"), RES_PIDS_DEFAULT_EXPECTED);
	cJSON_Delete(st);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", limb, "status", NULL), 0);
	cr_assert(strstr(r.out, "  limits   memory "), "%s", r.out);
	cr_assert(strstr(r.out, "pids "), "%s", r.out);
	run_result_free(&r);
	cr_assert_geq(count_groups(prefix_b), groups);

	/* The gateway holds its slot: the exec takes another. */
	cr_assert_eq(
	    gw_ocr(&g, &r, "--profile", limb, "exec", "--", "/bin/cat", "/proc/self/cgroup", NULL),
	    0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, ":memory:/\n") && strstr(r.out, ":pids:/\n"), "%s", r.out);
	run_result_free(&r);
	cr_assert_geq(count_groups(prefix_b), 2 * groups);

	cr_assert_eq(gw_ocr(&g, &r, "--profile", limb, "stop", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_eq(procs_left(prefix_b), 0, "a process was left in a cgroup");
	gw_cleanup(&g);
}

/* A gateway killed by the OOM killer is a crash like any other: restarted
 * with backoff, and status says why, from the counters. */
Test(limits, oom_killed_gateway_is_restarted_and_status_says_why, .timeout = 400)
{
	struct gw g;
	char *why = NULL, *log;
	struct run_result r;

	if (!limits_testable())
		cr_skip_test("needs root and usable memory and pids cgroup controllers");
	gw_init(&g, limb);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", limb, "setup", "--memory", "48M", NULL), 0);
	run_result_free(&r);
	/* hog stands in for the gateway (the last --gateway-cmd counts): it
	 * eats memory until killed. */
	gw_start(&g, "--gateway-cmd", HOG, "--ready-timeout", "120", NULL);
	for (long deadline = gw_now_ms() + 120000; !why && gw_now_ms() < deadline;) {
		cJSON *st = gw_status_json(&g, NULL);
		const cJSON *w = cJSON_GetObjectItem(st, "last_exit_why");
		const cJSON *restarts = cJSON_GetObjectItem(st, "restarts");

		if (cJSON_IsString(w) && cJSON_IsNumber(restarts) && restarts->valuedouble >= 1)
			why = strdup(w->valuestring);
		cJSON_Delete(st);
		if (!why)
			gw_sleep_ms(500);
	}
	log = gw_launcher_log(&g, 0);
	cr_assert_not_null(why, "no OOM kill reported: %s", log);
	cr_assert(strstr(why, "the OOM killer killed"), "%s", why);
	cr_assert(strstr(log, "the OOM killer killed"), "%s", log);
	cr_assert(strstr(log, "restarting in"), "%s", log);
	free(why);
	free(log);
	gw_cleanup(&g);
	cr_assert_eq(procs_left(prefix_b), 0);
}

/* A SIGKILLed launcher takes its sandbox along (init's pdeathsig): nothing
 * is left in the groups, and the next start takes them again. */
Test(limits, sigkill_of_the_launcher_leaves_no_process_in_the_groups, .timeout = 400)
{
	struct gw g;
	pid_t launcher, init;

	if (!limits_testable())
		cr_skip_test("needs root and usable memory and pids cgroup controllers");
	gw_init(&g, limb);
	launcher = gw_start(&g, "--ready-timeout", "120", NULL);
	gw_wait_running(&g);
	init = gw_status_pid(&g, "init_pid");
	cr_assert_gt(walk_groups("/sys/fs/cgroup", prefix_b, true, 0), 0,
		     "the sandbox is in no group");
	kill(launcher, SIGKILL);
	cr_assert_eq(gw_wait_exit(&g, launcher, 30), 128 + SIGKILL);
	cr_assert(gw_wait_pid_gone(init, 20), "sandbox init %ld survived", (long)init);
	cr_assert_eq(procs_left(prefix_b), 0, "a process was left in limb's cgroups");
	start_b(&g);
	gw_cleanup(&g);
	cr_assert_eq(procs_left(prefix_b), 0);
}
