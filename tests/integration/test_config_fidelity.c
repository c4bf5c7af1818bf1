/* setup on configs that the old whole-file rewrite damaged (issue 8): every
 * byte the person wrote stays, in order; only missing keys are inserted; the
 * previous file is kept as .bak; no temp file is left; the gateway (json5)
 * reads the person's values back unchanged. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "json5.h"

static char *home;

static void make_home(void)
{
	home = tmpdir_make("config-fidelity");
}

static void remove_home(void)
{
	tmpdir_remove(home);
	free(home);
}

TestSuite(config_fidelity, .init = make_home, .fini = remove_home, .timeout = 120);

static const char *config_path(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.openclaw/openclaw.json", home);
	return path;
}

/* ORIG appears in NOW in order, with only insertions between its bytes. */
static bool only_insertions(const char *orig, const char *now)
{
	for (; *orig; orig++) {
		now = strchr(now, *orig);
		if (!now)
			return false;
		now++;
	}
	return true;
}

static cJSON *parse(const char *text)
{
	cJSON *root = NULL;
	ocr_error err = {0};

	cr_assert_eq(json5_parse(text, strlen(text), "config", &root, &err), 0, "%s\n%s", err.msg,
		     text);
	return root;
}

static const cJSON *get(const cJSON *root, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return v;
}

static void no_temp_files(void)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/.openclaw", home);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		cr_assert_null(strstr(de->d_name, ".tmp"), "left behind: %s", de->d_name);
	closedir(d);
}

/* Writes TEXT as the config, runs setup, checks the invariants; returns the
 * new text (caller frees). */
static char *setup_on(const char *text, const char *extra_arg, const char *extra_val)
{
	struct run_result r;
	char *now, *bak, bak_path[PATH_MAX + 8];
	struct stat st;

	write_text_file(config_path(), text);
	if (extra_arg)
		cr_assert_eq(run_ocr(&r, home, "setup", extra_arg, extra_val, NULL), 0);
	else
		cr_assert_eq(run_ocr(&r, home, "setup", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "stdout: %s\nstderr: %s", r.out, r.err);
	run_result_free(&r);
	now = read_text_file(config_path());
	cr_assert_not_null(now);
	snprintf(bak_path, sizeof(bak_path), "%s.bak", config_path());
	bak = read_text_file(bak_path);
	cr_assert_not_null(bak, "no .bak kept");
	cr_assert_str_eq(bak, text, "the .bak is the previous file");
	free(bak);
	cr_assert_eq(stat(config_path(), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	if (geteuid() == 0) /* handed to the sandbox's account before the rename */
		cr_assert_neq(st.st_uid, 0, "config left to root");
	no_temp_files();
	return now;
}

Test(config_fidelity, comment_ended_by_line_separator_keeps_gateway_and_token)
{
	char text[512];
	unsigned base = free_port_base();

	/* U+2028 ends the // comment (as upstream reads it): gateway is a key. */
	snprintf(text, sizeof(text),
		 "{ // the gateway\xe2\x80\xa8 \"gateway\": { \"port\": %u, \"auth\": "
		 "{ \"mode\": \"token\", \"token\": \"secret-token\" } } }",
		 base);
	char *now = setup_on(text, NULL, NULL);
	cJSON *root = parse(now);

	cr_assert(only_insertions(text, now), "bytes lost:\nwas: %s\nnow: %s", text, now);
	cr_assert_str_eq(get(root, "gateway", "auth", "token")->valuestring, "secret-token");
	cr_assert_eq(get(root, "gateway", "port", NULL)->valuedouble, base);
	cr_assert_str_eq(get(root, "gateway", "bind", NULL)->valuestring, "loopback");
	json5_delete(root);
	free(now);
}

Test(config_fidelity, key_followed_by_ideographic_space_gets_no_twin)
{
	char text[256];
	unsigned base = free_port_base();

	snprintf(text, sizeof(text), "{gateway\xe3\x80\x80: {port: %u}}", base);
	char *now = setup_on(text, NULL, NULL);
	cJSON *root = parse(now);
	size_t n = 0;

	cr_assert(only_insertions(text, now), "was: %s\nnow: %s", text, now);
	for (const char *s = now; (s = strstr(s, "gateway")) != NULL; s++)
		n++;
	cr_assert_eq(n, 1, "one gateway key: %s", now);
	cr_assert_eq(get(root, "gateway", "port", NULL)->valuedouble, base);
	cr_assert_str_eq(get(root, "gateway", "mode", NULL)->valuestring, "local");
	json5_delete(root);
	free(now);
}

Test(config_fidelity, numbers_comments_layout_and_line_endings_stay)
{
	char text[1024];
	unsigned base = free_port_base();

	snprintf(text, sizeof(text),
		 "// my gateway\r\n"
		 "{\r\n"
		 "\tgateway: {\r\n"
		 "\t\tport: 0x%x, /* hex, on purpose */\r\n"
		 "\t},\r\n"
		 "\tbig: 9007199254740991,\r\n"
		 "\tfloat: 0.30000000000000004,\r\n"
		 "\tmax: 1.7976931348623157e308,\r\n"
		 "\tname: 'it\\'s mine',\r\n"
		 "}\r\n",
		 base);
	char *now = setup_on(text, NULL, NULL);
	cJSON *root = parse(now);

	cr_assert(only_insertions(text, now), "was: %s\nnow: %s", text, now);
	cr_assert_null(strstr(now, "\n\n"), "no bare LF in a CRLF file: %s", now);
	for (const char *s = strchr(now, '\n'); s; s = strchr(s + 1, '\n'))
		cr_assert_eq(s[-1], '\r', "LF without CR in: %s", now);
	cr_assert_eq(get(root, "big", NULL, NULL)->valuedouble, 9007199254740991.0);
	cr_assert_eq(get(root, "float", NULL, NULL)->valuedouble, 0.30000000000000004);
	cr_assert_eq(get(root, "max", NULL, NULL)->valuedouble, 1.7976931348623157e308);
	cr_assert_eq(get(root, "gateway", "port", NULL)->valuedouble, base);
	cr_assert_not_null(strstr(now, "\r\n\t\tmode: \"local\""), "%s", now);
	json5_delete(root);
	free(now);

	/* A second setup changes nothing, and rotates no .bak. */
	struct run_result r;

	now = read_text_file(config_path());
	cr_assert_eq(run_ocr(&r, home, "setup", NULL), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "(unchanged)"), "%s", r.out);
	run_result_free(&r);
	char *again = read_text_file(config_path());
	cr_assert_str_eq(again, now);
	free(again);
	free(now);
}

Test(config_fidelity, port_flag_edits_the_value_in_place)
{
	char text[256], port[16];
	unsigned base = free_port_base(), other = base + 120;

	snprintf(text, sizeof(text), "{\n  // mine\n  gateway: { port: %u, bind: 'loopback' }\n}\n",
		 base);
	snprintf(port, sizeof(port), "%u", other);
	char *now = setup_on(text, "--port", port);
	char want[64];

	snprintf(want, sizeof(want), "gateway: { port: %u, bind: 'loopback'", other);
	cr_assert_not_null(strstr(now, want), "%s", now);
	cr_assert_not_null(strstr(now, "  // mine\n"), "%s", now);
	free(now);
}

Test(config_fidelity, symlinked_config_is_refused_and_untouched)
{
	char target[PATH_MAX], text[128];
	struct run_result r;

	snprintf(target, sizeof(target), "%s/elsewhere.json", home);
	snprintf(text, sizeof(text), "{gateway: {port: %u}}", free_port_base());
	write_text_file(target, text);
	write_text_file(config_path(), "x"); /* creates the directory */
	cr_assert_eq(unlink(config_path()), 0);
	cr_assert_eq(symlink(target, config_path()), 0);
	cr_assert_eq(run_ocr(&r, home, "setup", NULL), 0);
	cr_assert_neq(r.exit_code, 0);
	cr_assert(strstr(r.err, "is a symlink"), "%s", r.err);
	cr_assert(strstr(r.err, "OPENCLAW_CONFIG_PATH"), "%s", r.err);
	run_result_free(&r);
	char *after = read_text_file(target);
	cr_assert_str_eq(after, text);
	free(after);
}

Test(config_fidelity, fifo_config_does_not_hang_check)
{
	struct run_result r;

	write_text_file(config_path(), "x");
	cr_assert_eq(unlink(config_path()), 0);
	cr_assert_eq(mkfifo(config_path(), 0600), 0);
	cr_assert_eq(run_ocr(&r, home, "check", NULL), 0);
	cr_assert_neq(r.exit_code, 0);
	cr_assert(strstr(r.err, "is a FIFO"), "%s", r.err);
	run_result_free(&r);
}

/* A port set in an included file is the gateway's port: check and ports see
 * it, and setup adds what is missing next to the $include, not over it. */
Test(config_fidelity, port_from_an_included_file)
{
	char text[128], inc[PATH_MAX], want[64];
	unsigned base = free_port_base();
	struct run_result r;

	snprintf(inc, sizeof(inc), "%s/.openclaw/gateway.json5", home);
	snprintf(text, sizeof(text), "{ port: %u, bind: 'loopback' }", base);
	write_text_file(inc, text);
	const char *main_text = "{ gateway: { $include: './gateway.json5' } }";
	char *now = setup_on(main_text, NULL, NULL);
	cJSON *root = parse(now);

	cr_assert(only_insertions(main_text, now), "was: %s\nnow: %s", main_text, now);
	cr_assert_null(get(root, "gateway", "port", NULL), "the port stays in the included file");
	cr_assert_str_eq(get(root, "gateway", "mode", NULL)->valuestring, "local");
	json5_delete(root);
	free(now);
	cr_assert_eq(run_ocr(&r, home, "ports", NULL), 0);
	cr_assert_lt(r.exit_code, 2, "%s", r.err); /* 1: a port held by another program */
	snprintf(want, sizeof(want), "%u", base);
	cr_assert(strstr(r.out, want), "ports must use the included gateway.port %u:\n%s", base,
		  r.out);
	run_result_free(&r);
}

/* ${VAR} in a path is substituted with the sandbox's environment, as the
 * gateway does: "${HOME}/ws" is <state>/home/ws, not "not absolute". */
Test(config_fidelity, env_vars_in_paths)
{
	char text[256], want[PATH_MAX + 32];
	struct run_result r;

	snprintf(text, sizeof(text),
		 "{ gateway: { port: %u }, agents: { defaults: { workspace: '${HOME}/ws' } } }",
		 free_port_base());
	write_text_file(config_path(), text);
	cr_assert_eq(run_ocr(&r, home, "check", "--json", NULL), 0);
	/* 1 would be a port another program holds on this shared machine; 2
	 * an instance that cannot be read (the old "not absolute"). */
	cr_assert_lt(r.exit_code, 2, "stdout: %s\nstderr: %s", r.out, r.err);
	snprintf(want, sizeof(want), "%s/.openclaw/home/ws", home);
	cr_assert(strstr(r.out, want), "want workspace %s in:\n%s", want, r.out);
	run_result_free(&r);
}

/* gateway.port as the gateway's schema takes it: an integer 1..65535;
 * null, 0, a string or a fraction make it refuse the whole config. */
Test(config_fidelity, gateway_port_the_gateway_refuses)
{
	const char *bad[] = {"null", "0", "-5", "'19000'", "19000.5", NULL};
	struct run_result r;
	char text[128];

	for (size_t i = 0; bad[i]; i++) {
		snprintf(text, sizeof(text), "{ gateway: { port: %s } }", bad[i]);
		write_text_file(config_path(), text);
		cr_assert_eq(run_ocr(&r, home, "ports", NULL), 0);
		cr_assert_neq(r.exit_code, 0, "port %s accepted: %s", bad[i], r.out);
		cr_assert(strstr(r.err, "gateway.port is not an integer from 1"), "%s: %s", bad[i],
			  r.err);
		run_result_free(&r);
	}
	snprintf(text, sizeof(text), "{ gateway: { port: 0x%x } }", free_port_base());
	write_text_file(config_path(), text);
	cr_assert_eq(run_ocr(&r, home, "ports", NULL), 0);
	cr_assert_lt(r.exit_code, 2, "%s", r.err); /* 1: a port held by another program */
	run_result_free(&r);
}
