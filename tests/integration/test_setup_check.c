/* setup, check and ports through the built binary, against a temporary HOME. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "harness.h"
#include "json5.h"

static char *home;

static void make_home(void)
{
	home = tmpdir_make("setup-check");
}

static void remove_home(void)
{
	tmpdir_remove(home);
	free(home);
}

/* These tests check setup's choice of upstream's default ports: a real
 * gateway (or anything else) listening there makes setup rightly pick
 * other ports, so they only make sense where the ports are free. */
static void need_default_ports(void)
{
	for (unsigned port = 18789; port <= 19259; port++) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		bool busy;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		busy = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0;
		close(fd);
		if (busy)
			cr_skip_test("port %u is in use on this host: setup would rightly skip it",
				     port);
	}
}

TestSuite(setup_check, .init = make_home, .fini = remove_home, .timeout = 120);

static char *in_home(const char *rel)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *out = buf[next++ % 4];

	snprintf(out, PATH_MAX, "%s/%s", home, rel);
	return out;
}

#define RUN(r, ...) cr_assert_eq(run_ocr(r, home, __VA_ARGS__, NULL), 0)

static void expect(struct run_result *r, int code)
{
	cr_assert_eq(r->exit_code, code, "exit %d, want %d\nstdout: %s\nstderr: %s", r->exit_code,
		     code, r->out, r->err);
}

/* A config as the gateway reads it: setup keeps the person's JSON5. */
static cJSON *parse_config(const char *text)
{
	cJSON *root = NULL;
	ocr_error err = {0};

	cr_assert_not_null(text);
	cr_assert_eq(json5_parse(text, strlen(text), "config", &root, &err), 0, "%s", err.msg);
	return root;
}

static unsigned config_port(const char *rel)
{
	char *text = read_text_file(in_home(rel));
	cJSON *root, *port;
	unsigned v;

	cr_assert_not_null(text, "%s missing", rel);
	root = parse_config(text);
	free(text);
	port = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "gateway"), "port");
	cr_assert(cJSON_IsNumber(port));
	v = (unsigned)port->valueint;
	cJSON_Delete(root);
	return v;
}

Test(setup_check, main_and_rescue_then_clean_check)
{
	need_default_ports();
	struct run_result r;
	char *before, *after;
	struct stat st;
	cJSON *root;

	RUN(&r, "--profile", "main", "setup");
	expect(&r, 0);
	run_result_free(&r);
	RUN(&r, "--profile", "rescue", "setup");
	expect(&r, 0);
	run_result_free(&r);
	cr_assert_eq(config_port(".openclaw-main/openclaw.json"), 18789);
	cr_assert_eq(config_port(".openclaw-rescue/openclaw.json"), 18909);
	cr_assert_eq(stat(in_home(".openclaw-rescue/workspace"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(stat(in_home(".openclaw-rescue/openclaw.json"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	if (geteuid() == 0)
		cr_assert_neq(st.st_uid, 0, "root hands the config to the service user");

	before = read_text_file(in_home(".openclaw-rescue/openclaw.json"));
	root = parse_config(before);
	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(root, "gateway"), "bind")->valuestring,
	    "loopback");
	cr_assert_eq(
	    strlen(cJSON_GetObjectItem(
		       cJSON_GetObjectItem(cJSON_GetObjectItem(root, "gateway"), "auth"), "token")
		       ->valuestring),
	    64);
	cJSON_Delete(root);
	RUN(&r, "--profile", "rescue", "setup");
	expect(&r, 0);
	cr_assert(strstr(r.out, "unchanged"), "%s", r.out);
	run_result_free(&r);
	after = read_text_file(in_home(".openclaw-rescue/openclaw.json"));
	cr_assert_str_eq(before, after, "a second setup changes nothing");
	free(before);
	free(after);

	RUN(&r, "check");
	expect(&r, 0);
	run_result_free(&r);
	RUN(&r, "check", "--json");
	expect(&r, 0);
	root = cJSON_Parse(r.out);
	cr_assert_not_null(root, "%s", r.out);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "ok")));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "instances")), 2);
	cJSON_Delete(root);
	run_result_free(&r);

	RUN(&r, "--profile", "rescue", "ports", "--json");
	expect(&r, 0);
	root = cJSON_Parse(r.out);
	cr_assert_not_null(root, "%s", r.out);
	cr_assert_eq(cJSON_GetObjectItem(root, "base")->valueint, 18909);
	cr_assert_eq(cJSON_GetObjectItem(root, "last")->valueint, 19019);
	cJSON_Delete(root);
	run_result_free(&r);
}

Test(setup_check, hand_made_overlap_is_caught)
{
	need_default_ports();
	struct run_result r;

	RUN(&r, "setup");
	expect(&r, 0);
	run_result_free(&r);
	/* The seed page's "20 ports apart" rescue. */
	write_text_file(in_home(".openclaw-rescue/openclaw.json"),
			"// hand-made\n{ gateway: { port: 18809, }, }\n");
	RUN(&r, "check");
	expect(&r, 1);
	cr_assert(strstr(r.out, "\"default\"") && strstr(r.out, "\"rescue\""), "%s", r.out);
	cr_assert(strstr(r.out, "first shared port 18809"), "%s", r.out);
	run_result_free(&r);
	/* setup refuses to bless it and suggests a free base. */
	RUN(&r, "--profile", "rescue", "setup");
	expect(&r, 1);
	cr_assert(strstr(r.err, "18809") && strstr(r.err, "default"), "%s", r.err);
	cr_assert(strstr(r.err, "next free base: 18909"), "%s", r.err);
	run_result_free(&r);
	RUN(&r, "--profile", "rescue", "setup", "--port", "18909");
	expect(&r, 0);
	run_result_free(&r);
	cr_assert_eq(config_port(".openclaw-rescue/openclaw.json"), 18909);
	RUN(&r, "check");
	expect(&r, 0);
	run_result_free(&r);
}

Test(setup_check, colliding_port_flag_refused)
{
	need_default_ports();
	struct run_result r;

	RUN(&r, "--profile", "main", "setup");
	expect(&r, 0);
	run_result_free(&r);
	RUN(&r, "--profile", "rescue", "setup", "--port", "18809");
	expect(&r, 1);
	cr_assert(strstr(r.err, "main") && strstr(r.err, "from port 18809"), "%s", r.err);
	cr_assert_not(path_exists(in_home(".openclaw-rescue")), "a refused setup creates nothing");
	run_result_free(&r);
	RUN(&r, "--profile", "rescue", "setup", "--port", "70000");
	expect(&r, 2);
	run_result_free(&r);
}

Test(setup_check, nesting_from_upstream_docs)
{
	need_default_ports();
	struct run_result r;
	char reg[PATH_MAX * 3];

	RUN(&r, "setup");
	expect(&r, 0);
	run_result_free(&r);
	/* Upstream's manual-env example: setup refuses it... */
	char cfg_env[PATH_MAX + 32], state_env[PATH_MAX + 32];
	snprintf(cfg_env, sizeof(cfg_env), "OPENCLAW_CONFIG_PATH=%s",
		 in_home(".openclaw/rescue.json"));
	snprintf(state_env, sizeof(state_env), "OPENCLAW_STATE_DIR=%s",
		 in_home(".openclaw-rescue"));
	char *env[] = {cfg_env, state_env, NULL};
	cr_assert_eq(run_ocr_env(&r, home, env, "--profile", "rescue", "setup", NULL), 0);
	expect(&r, 1);
	cr_assert(strstr(r.err, "nested") && strstr(r.err, "rescue.json"), "%s", r.err);
	cr_assert_not(path_exists(in_home(".openclaw/rescue.json")));
	run_result_free(&r);
	/* ...and check names it when the files were made by hand. */
	write_text_file(in_home(".openclaw/rescue.json"),
			"{gateway: {port: 19029}, agents: {defaults: {workspace: "
			"'~/.openclaw/workspace-rescue'}}}");
	snprintf(reg, sizeof(reg),
		 "{\"instances\": [{\"name\": \"rescue\", \"state_dir\": \"%s\", "
		 "\"config_path\": \"%s\"}]}",
		 in_home(".openclaw-rescue"), in_home(".openclaw/rescue.json"));
	write_text_file(in_home(".openclaw-rescue/.keep"), "");
	write_text_file(in_home(".config/openclaw-run/instances.json"), reg);
	RUN(&r, "check");
	expect(&r, 1);
	cr_assert(strstr(r.out, "violation nested: the config file"), "%s", r.out);
	cr_assert(strstr(r.out, "workspace-rescue"), "%s", r.out);
	cr_assert_null(strstr(r.out, "port-overlap"), "%s", r.out);
	run_result_free(&r);
}

Test(setup_check, broken_config_never_overwritten)
{
	need_default_ports();
	struct run_result r;
	const char *broken = "{\n  gateway: { port: 18789 \n  bind: 'loopback' }\n}\n";
	char *after;

	write_text_file(in_home(".openclaw-main/openclaw.json"), broken);
	RUN(&r, "--profile", "main", "setup");
	expect(&r, 1);
	cr_assert(strstr(r.err, ".openclaw-main/openclaw.json:3:3:"), "%s", r.err);
	run_result_free(&r);
	after = read_text_file(in_home(".openclaw-main/openclaw.json"));
	cr_assert_str_eq(after, broken);
	free(after);
	RUN(&r, "check");
	expect(&r, 2);
	cr_assert(strstr(r.err, "openclaw.json:3:3:"), "%s", r.err);
	run_result_free(&r);
}

Test(setup_check, existing_config_keeps_user_values)
{
	need_default_ports();
	struct run_result r;
	char *text;
	cJSON *root;

	write_text_file(in_home(".openclaw/openclaw.json"),
			"{ gateway: { bind: 'lan', auth: { mode: 'password', password: 'x' } },"
			" channels: { telegram: { enabled: true } } }");
	RUN(&r, "setup");
	expect(&r, 0);
	run_result_free(&r);
	text = read_text_file(in_home(".openclaw/openclaw.json"));
	root = parse_config(text);
	free(text);
	cr_assert_not_null(root);
	cJSON *gw = cJSON_GetObjectItem(root, "gateway");
	cr_assert_str_eq(cJSON_GetObjectItem(gw, "bind")->valuestring, "lan");
	cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(gw, "auth"), "mode")->valuestring,
			 "password");
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(gw, "auth"), "token"));
	cr_assert_eq(cJSON_GetObjectItem(gw, "port")->valueint, 18789);
	cr_assert_str_eq(cJSON_GetObjectItem(gw, "mode")->valuestring, "local");
	cr_assert_not_null(cJSON_GetObjectItem(root, "channels"));
	cJSON_Delete(root);
}

Test(setup_check, bad_profile_names_create_nothing)
{
	const char *bad[] = {"../x", "a/b", "-x", "", "has space", NULL};
	struct run_result r;

	for (size_t i = 0; bad[i]; i++) {
		RUN(&r, "--profile", bad[i], "setup");
		expect(&r, 2);
		cr_assert(strstr(r.err, "invalid profile name"), "%s", r.err);
		run_result_free(&r);
	}
	RUN(&r, "--profile", "../x", "ports");
	cr_assert_neq(r.exit_code, 0);
	run_result_free(&r);
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", home);
	cr_assert_eq(system(cmd), 0, "nothing created in %s", home);
}

Test(setup_check, help_and_usage)
{
	struct run_result r;

	RUN(&r, "setup", "--help");
	expect(&r, 0);
	cr_assert(strstr(r.out, "--port"));
	run_result_free(&r);
	RUN(&r, "check", "--bogus");
	expect(&r, 2);
	run_result_free(&r);
	RUN(&r, "ports", "--help");
	expect(&r, 0);
	run_result_free(&r);
	RUN(&r, "ports", "extra");
	expect(&r, 2);
	cr_assert(strstr(r.err, "ports: unexpected argument 'extra'"), "%s", r.err);
	run_result_free(&r);
	RUN(&r, "check", "--help");
	expect(&r, 0);
	cr_assert(strstr(r.out, "--json"));
	run_result_free(&r);
}

/* As root, setup hands the state dir to the sandbox's user, whose payload can
 * then plant symlinks in it: a second root setup must not chown their
 * targets (logs -> /etc would give the service user the host). */
Test(setup_check, root_setup_never_chowns_through_a_symlink)
{
	struct run_result r;
	struct stat st;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	RUN(&r, "--profile", "rescue", "setup");
	expect(&r, 0);
	run_result_free(&r);
	cr_assert_eq(mkdir(in_home("victim"), 0755), 0);
	cr_assert_eq(rmdir(in_home(".openclaw-rescue/logs")), 0);
	cr_assert_eq(symlink(in_home("victim"), in_home(".openclaw-rescue/logs")), 0);
	RUN(&r, "--profile", "rescue", "setup");
	expect(&r, 1);
	cr_assert(strstr(r.err, ".openclaw-rescue/logs"), "%s", r.err);
	run_result_free(&r);
	cr_assert_eq(stat(in_home("victim"), &st), 0);
	cr_assert_eq(st.st_uid, 0, "the symlink's target was chowned to uid %u",
		     (unsigned)st.st_uid);
}
