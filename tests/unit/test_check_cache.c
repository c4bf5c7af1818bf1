/* The cached verdict of the isolation check (check_cache.h): its key, the
 * identities it rests on, its file, against a temporary home. No root. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "check_cache.h"
#include "pins.h"
#include "registry.h"
#include "unit_dir.h"

UNIT_DIR_SUITE(check_cache, home, "verdict");

static char *in_home(const char *rel, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", home, rel);
	return buf;
}

static void put(const char *rel, const char *text)
{
	unit_dir_put(home, rel, text);
}

static struct timespec later(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += VERDICT_SETTLE_S + 60; /* everything on disk counts as settled */
	return t;
}

Test(check_cache, every_field_of_an_identity_counts)
{
	struct stat st;
	struct dep a = {.path = (char *)"/x", .follow = true}, b;

	cr_assert_eq(stat("/", &st), 0);
	dep_fill(&a, &st, 0);
	b = a;
	cr_assert(dep_same(&a, &b));
#define DIFFERS(field)                                                                             \
	do {                                                                                       \
		b = a;                                                                             \
		b.field += 1;                                                                      \
		cr_assert_not(dep_same(&a, &b), #field " is not compared");                        \
	} while (0)
	DIFFERS(dev);
	DIFFERS(ino);
	DIFFERS(size);
	DIFFERS(mode);
	DIFFERS(uid);
	DIFFERS(gid);
	DIFFERS(mtime_s);
	DIFFERS(mtime_ns);
	DIFFERS(ctime_s);
	DIFFERS(ctime_ns);
	DIFFERS(err);
#undef DIFFERS
	b = a;
	b.follow = false;
	cr_assert_not(dep_same(&a, &b));
	b = a;
	b.place = true;
	cr_assert_not(dep_same(&a, &b));
	/* A place (a directory only asked about) is where and what it is. */
	a.place = true;
	b = a;
	b.mtime_s++;
	b.ctime_ns++;
	b.size++;
	cr_assert(dep_same(&a, &b));
	b.mode++;
	cr_assert_not(dep_same(&a, &b));
	b = a;
	b.ino++;
	cr_assert_not(dep_same(&a, &b));
	b = a;
	b.path = (char *)"/y";
	cr_assert_not(dep_same(&a, &b));
}

Test(check_cache, a_recent_ctime_is_not_settled)
{
	struct dep d = {.path = (char *)"/x", .ctime_s = 1000, .ctime_ns = 5};
	struct dep_log log = {.items = &d, .n = 1};
	struct timespec started = {.tv_sec = 1000 + VERDICT_SETTLE_S, .tv_nsec = 5};

	cr_assert_not(dep_log_settled(&log, started), "same ns as the limit");
	started.tv_nsec = 6;
	cr_assert(dep_log_settled(&log, started));
	started.tv_sec = 1000;
	cr_assert_not(dep_log_settled(&log, started));
	d.err = 2; /* a missing file has no ctime to trust or distrust */
	cr_assert(dep_log_settled(&log, started));
}

Test(check_cache, the_file_round_trips_and_names_its_key)
{
	struct dep_log log = {0}, back;
	char path[PATH_MAX], *text;
	size_t len;

	put("a/file", "x");
	dep_stat(&log, in_home("a/file", path), false, NULL);
	dep_stat(&log, in_home("a/missing", path), true, NULL);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.items[1].err, ENOENT);
	cr_assert_eq(verdict_format("k 1 x\nself\n", &log, &text, &len, NULL), 0);
	cr_assert_eq(verdict_parse(text, len, "k 1 x\nself\n", &back, NULL), 0);
	cr_assert_eq(back.n, 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert(dep_same(&log.items[i], &back.items[i]));
	dep_log_release(&back);
	cr_assert_eq(verdict_parse(text, len, "k 1 y\nself\n", &back, NULL), -1, "other key");
	cr_assert_eq(verdict_parse(text, len, "k 1 x\nself", &back, NULL), -1, "a prefix of it");
	cr_assert_eq(verdict_parse(text, len - 2, "k 1 x\nself\n", &back, NULL), -1, "cut short");
	text[strlen(VERDICT_MAGIC) + 20] = '#';
	cr_assert_eq(verdict_parse(text, len, "k 1 x\nself\n", &back, NULL), -1, "damaged");
	free(text);
	dep_log_release(&log);
}

Test(check_cache, a_path_with_a_newline_is_never_kept)
{
	struct dep_log log = {0};
	char *text;
	size_t len;

	dep_stat(&log, "/tmp/no\nsuch", false, NULL);
	cr_assert(log.uncacheable);
	cr_assert_eq(verdict_format("k", &log, &text, &len, NULL), -1);
	dep_log_release(&log);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A scan of HOME logged and stored as clean; the verdict holds until ACT
 * changes something it rests on. */
static bool holds_after(void (*act)(void))
{
	struct env_view env = {.home = home};
	char records[PATH_MAX];
	struct instance_set set;
	struct dep_log log = {0};
	bool ok;

	env.records_dir = in_home("records", records);
	cr_assert_eq(registry_scan_logged(&env, &set, &log, NULL), 0);
	instance_set_release(&set);
	cr_assert_not(log.uncacheable);
	cr_assert_eq(verdict_store(records, "key", &log, later(), NULL), 0);
	dep_log_release(&log);
	cr_assert(verdict_still_ok(records, "key"), "a fresh verdict holds");
	cr_assert_not(verdict_still_ok(records, "other key"));
	act();
	ok = verdict_still_ok(records, "key");
	return ok;
}

static void nothing(void)
{
}

static void same_size_edit(void)
{
	put(".openclaw-b/openclaw.json", "{\"gateway\": {\"port\": 30120}}\n");
}

static void new_profile_dir(void)
{
	put(".openclaw-c/openclaw.json", "{}\n");
}

static void new_registry(void)
{
	put(".config/openclaw-run/instances.json", "{\"instances\": []}\n");
}

static void loosen_verdict(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir(in_home("records/checks", dir));
	bool done = false;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		cr_assert_eq(chmod(path, 0620), 0);
		done = true;
	}
	closedir(d);
	cr_assert(done);
}

/* setup recorded pins for b since: its ports may be others now. */
static void write_pins(void)
{
	struct profile p = {0};
	char records[PATH_MAX], path[PATH_MAX];

	snprintf(p.name, sizeof(p.name), "b");
	in_home(".openclaw-b", p.state_dir);
	cr_assert_eq(pins_path(in_home("records", records), &p, path, sizeof(path), NULL), 0);
	put(path + strlen(home) + 1, "{}\n");
}

/* A running gateway makes and removes files in its state dir. */
static void file_in_state_dir(void)
{
	put(".openclaw-b/sessions.json.tmp", "{}\n");
}

/* Another directory at the same path: its config may be another. */
static void state_dir_replaced(void)
{
	char from[PATH_MAX], to[PATH_MAX];

	put(".openclaw-b2/openclaw.json", "{\"gateway\": {\"port\": 40000}}\n");
	cr_assert_eq(rename(in_home(".openclaw-b", from), in_home(".openclaw-b-old", to)), 0);
	cr_assert_eq(rename(in_home(".openclaw-b2", from), in_home(".openclaw-b", to)), 0);
	cr_assert_eq(rename(in_home(".openclaw-b-old/openclaw.json", from),
			    in_home(".openclaw-b/openclaw.json", to)),
		     0);
}

static void setup_two(void)
{
	char path[PATH_MAX];

	/* Made first: a directory made in HOME later moves HOME's mtime. */
	cr_assert_eq(registry_mkdirs(in_home("records/checks", path), 0700, NULL), 0);
	put(".openclaw-a/openclaw.json", "{\"gateway\": {\"port\": 30000}}\n");
	put(".openclaw-b/openclaw.json", "{\"gateway\": {\"port\": 40000}}\n");
}

Test(check_cache, a_verdict_holds_while_nothing_changes)
{
	setup_two();
	cr_assert(holds_after(nothing));
}

Test(check_cache, an_edit_of_another_config_is_seen)
{
	setup_two();
	cr_assert_not(holds_after(same_size_edit));
}

Test(check_cache, files_made_in_a_state_dir_keep_the_verdict)
{
	setup_two();
	cr_assert(holds_after(file_in_state_dir));
}

Test(check_cache, a_state_dir_swapped_for_another_is_seen)
{
	setup_two();
	cr_assert_not(holds_after(state_dir_replaced));
}

Test(check_cache, a_new_instance_is_seen)
{
	setup_two();
	cr_assert_not(holds_after(new_profile_dir));
}

Test(check_cache, a_new_registry_is_seen)
{
	setup_two();
	cr_assert_not(holds_after(new_registry));
}

Test(check_cache, a_verdict_others_can_write_is_none)
{
	setup_two();
	cr_assert_not(holds_after(loosen_verdict));
}

Test(check_cache, records_written_meanwhile_are_seen)
{
	setup_two();
	cr_assert_not(holds_after(write_pins));
}

Test(check_cache, old_verdicts_go_when_one_is_stored)
{
	char path[PATH_MAX], old[PATH_MAX], other[PATH_MAX];
	struct timespec times[2] = {{.tv_sec = time(NULL) - VERDICT_KEEP_S - 60},
				    {.tv_sec = time(NULL) - VERDICT_KEEP_S - 60}};

	setup_two();
	put("records/checks/00000000000000aa", "old\n");
	put("records/checks/00000000000000bb", "recent\n");
	put("records/checks/not-a-verdict", "kept\n");
	cr_assert_eq(utimensat(AT_FDCWD, in_home("records/checks/00000000000000aa", old), times, 0),
		     0);
	cr_assert_eq(utimensat(AT_FDCWD, in_home("records/checks/not-a-verdict", other), times, 0),
		     0);
	cr_assert(holds_after(nothing));
	cr_assert_not(exists(old), "an old verdict stays");
	cr_assert(exists(in_home("records/checks/00000000000000bb", path)));
	cr_assert(exists(other), "not ours to remove");
}

Test(check_cache, nothing_is_kept_while_the_files_are_fresh)
{
	struct env_view env = {.home = home};
	char records[PATH_MAX];
	struct instance_set set;
	struct dep_log log = {0};
	struct timespec now;

	setup_two();
	env.records_dir = in_home("records", records);
	clock_gettime(CLOCK_REALTIME, &now);
	cr_assert_eq(registry_scan_logged(&env, &set, &log, NULL), 0);
	instance_set_release(&set);
	cr_assert_eq(verdict_store(records, "key", &log, now, NULL), 0);
	dep_log_release(&log);
	cr_assert_not(verdict_still_ok(records, "key"), "just written: not settled");
}

Test(check_cache, a_config_with_include_is_never_kept)
{
	struct env_view env = {.home = home};
	char records[PATH_MAX];
	struct instance_set set;
	struct dep_log log = {0};

	setup_two();
	put(".openclaw-b/openclaw.json", "{\"$include\": \"./more.json\"}\n");
	put(".openclaw-b/more.json", "{\"gateway\": {\"port\": 40000}}\n");
	env.records_dir = in_home("records", records);
	cr_assert_eq(registry_scan_logged(&env, &set, &log, NULL), 0);
	instance_set_release(&set);
	cr_assert(log.uncacheable);
	dep_log_release(&log);
}

Test(check_cache, the_facts_of_an_instance_follow_what_check_reads)
{
	struct env_view env = {.home = home};
	struct instance a;
	char *one, *two;

	put(".openclaw-a/openclaw.json", "{\"gateway\": {\"port\": 30000}}\n");
	cr_assert_eq(instance_load("a", &env, 0, &a, NULL), 0);
	one = check_instance_facts(&a);
	instance_release(&a);
	cr_assert_eq(instance_load("a", &env, 0, &a, NULL), 0);
	two = check_instance_facts(&a);
	instance_release(&a);
	cr_assert_str_eq(one, two);
	free(two);
	cr_assert_eq(instance_load("a", &env, 30120, &a, NULL), 0);
	two = check_instance_facts(&a);
	instance_release(&a);
	cr_assert_str_neq(one, two, "--port");
	free(two);
	put(".openclaw-a/openclaw.json", "{\"gateway\": {\"port\": 30000}, \"browser\": "
					 "{\"cdpUrl\": \"http://127.0.0.1:9222\"}}\n");
	cr_assert_eq(instance_load("a", &env, 0, &a, NULL), 0);
	two = check_instance_facts(&a);
	instance_release(&a);
	cr_assert_str_neq(one, two, "a CDP URL");
	free(two);
	free(one);
}
