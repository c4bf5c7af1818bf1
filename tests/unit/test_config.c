/* Config files: load, dotted access, round trip keeping unknown keys,
 * explicit ports; and the atomic write underneath. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "config.h"
#include "unit_dir.h"

UNIT_DIR_SUITE(config, dir, "config");

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	char *data = NULL;

	cr_assert_eq(read_whole_file(path, &data, NULL, NULL), 0, "%s", path);
	return data;
}

Test(config, missing_file_is_not_an_error)
{
	char path[128];
	cJSON *root = (cJSON *)1;
	bool missing = false;

	snprintf(path, sizeof(path), "%s/none.json", dir);
	cr_assert_eq(config_load(path, &root, &missing, NULL), 0);
	cr_assert(missing);
	cr_assert_null(root);
}

Test(config, broken_file_names_path_line_column)
{
	char path[128];
	cJSON *root;
	bool missing;
	ocr_error err = {0};

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	put(path, "{\n  gateway: {\n    port: 18789\n    bind: 'x'\n  }\n}\n");
	cr_assert_eq(config_load(path, &root, &missing, &err), -1);
	cr_assert(strstr(err.msg, "bad.json:4:5:"), "%s", err.msg);
	put(path, "[1, 2]");
	cr_assert_eq(config_load(path, &root, &missing, &err), -1);
	cr_assert(strstr(err.msg, "not an object"), "%s", err.msg);
}

Test(config, get_and_set)
{
	cJSON *root = cJSON_Parse("{\"gateway\": {\"port\": 1, \"auth\": \"x\"}}");
	ocr_error err = {0};

	cr_assert_eq(config_get(root, "gateway.port")->valueint, 1);
	cr_assert_null(config_get(root, "gateway.nope"));
	cr_assert_null(config_get(root, "gateway.port.deeper"));
	cr_assert_null(config_get_string(root, "gateway.port"));
	cr_assert_eq(config_set(root, "gateway.port", cJSON_CreateNumber(1), &err), 0);
	cr_assert_eq(config_set(root, "gateway.port", cJSON_CreateNumber(2), &err), 1);
	cr_assert_eq(config_get(root, "gateway.port")->valueint, 2);
	cr_assert_eq(config_set(root, "a.b.c", cJSON_CreateString("v"), &err), 1);
	cr_assert_str_eq(config_get_string(root, "a.b.c"), "v");
	cr_assert_eq(config_set(root, "gateway.auth.mode", cJSON_CreateString("t"), &err), -1);
	cr_assert(strstr(err.msg, "gateway.auth is not an object"), "%s", err.msg);
	cJSON_Delete(root);
}

Test(config, round_trip_keeps_unknown_keys)
{
	char path[128];
	cJSON *root, *again;
	bool missing;
	struct stat st;

	snprintf(path, sizeof(path), "%s/openclaw.json", dir);
	put(path, "// user's file\n{ channels: { telegram: { token: 'abc', }, }, "
		  "gateway: { port: 19001, custom: [1, {x: null}] }, }\n");
	cr_assert_eq(config_load(path, &root, &missing, NULL), 0);
	cr_assert_eq(config_set(root, "gateway.bind", cJSON_CreateString("loopback"), NULL), 1);
	cr_assert_eq(config_write(path, root, NULL), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(config_load(path, &again, &missing, NULL), 0);
	cr_assert(cJSON_Compare(root, again, true));
	cr_assert_str_eq(config_get_string(again, "channels.telegram.token"), "abc");
	cr_assert_eq(config_get(again, "gateway.port")->valueint, 19001);
	cJSON_Delete(root);
	cJSON_Delete(again);
}

Test(config, explicit_ports)
{
	cJSON *root = cJSON_Parse("{\"browser\": {\"cdpUrl\": \"http://127.0.0.1:9222/\","
				  "\"profiles\": {\"work\": {\"cdpPort\": 18850},"
				  "\"remote\": {\"cdpUrl\": \"ws://chrome.example.com:9333\"},"
				  "\"v6\": {\"cdpUrl\": \"http://[::1]:9444\"},"
				  "\"bare\": {\"cdpUrl\": \"http://localhost\"}}},"
				  "\"mcp\": {\"apps\": {\"sandboxPort\": 18000}},"
				  "\"canvasHost\": {\"port\": 18001}}");
	struct port_block b;
	ocr_error err = {0};

	cr_assert_eq(port_block_init(&b, 30000, PORT_FROM_CONFIG, NULL), 0);
	cr_assert_eq(config_collect_explicit_ports(root, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.n_explicit, 6);
	cr_assert(port_block_owns(&b, 9222));
	cr_assert(port_block_owns(&b, 18850));
	cr_assert(port_block_owns(&b, 9444));
	cr_assert(port_block_owns(&b, 80));
	cr_assert(port_block_owns(&b, 18000));
	cr_assert(port_block_owns(&b, 18001));
	cr_assert_not(port_block_owns(&b, 9333), "a remote browser takes no local port");
	cr_assert_str_eq(port_role_of(&b, 18850), "browser.profiles.work.cdpPort");
	cJSON_Delete(root);

	root = cJSON_Parse("{\"browser\": {\"profiles\": {\"w\": {\"cdpPort\": 70000}}}}");
	cr_assert_eq(port_block_init(&b, 30000, PORT_FROM_CONFIG, NULL), 0);
	cr_assert_eq(config_collect_explicit_ports(root, &b, &err), -1);
	cr_assert(strstr(err.msg, "browser.profiles.w.cdpPort"), "%s", err.msg);
	cJSON_Delete(root);
	root = cJSON_Parse("{\"mcp\": {\"apps\": {\"sandboxPort\": \"x\"}}}");
	cr_assert_eq(config_collect_explicit_ports(root, &b, &err), -1);
	cr_assert(strstr(err.msg, "mcp.apps.sandboxPort"), "%s", err.msg);
	cJSON_Delete(root);
}

Test(config, atomic_write_replaces_whole_file)
{
	char path[128];
	char *data;

	snprintf(path, sizeof(path), "%s/f", dir);
	put(path, "old contents that are longer");
	cr_assert_eq(atomic_write_file(path, "new", 3, 0640, NULL), 0);
	data = slurp(path);
	cr_assert_str_eq(data, "new");
	free(data);
}

Test(config, atomic_write_failure_leaves_old_file)
{
	char path[128], sub[128];
	char *data;
	ocr_error err = {0};

	/* A directory where the temp file cannot be created (root ignores
	 * permissions, so make the target's "directory" a file instead). */
	snprintf(path, sizeof(path), "%s/keep", dir);
	put(path, "precious");
	snprintf(sub, sizeof(sub), "%s/keep/child", dir);
	cr_assert_eq(atomic_write_file(sub, "x", 1, 0600, &err), -1);
	cr_assert_eq(err.errnum, ENOTDIR);
	/* Renaming over a directory fails after the temp file was written: the
	 * directory is untouched and no temp file is left behind. */
	snprintf(sub, sizeof(sub), "%s/adir", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(atomic_write_file(sub, "x", 1, 0600, &err), -1);
	cr_assert(strstr(err.msg, "rename"), "%s", err.msg);
	data = slurp(path);
	cr_assert_str_eq(data, "precious");
	free(data);
	DIR *d = opendir(dir);
	struct dirent *de;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		cr_assert_null(strstr(de->d_name, ".tmp."), "left behind: %s", de->d_name);
	closedir(d);
}

/* The state dir is the sandbox's: what it plants at a config's path must
 * not hang, redirect or flood the reader. */
Test(config, reader_refuses_fifo_symlink_device_and_big_files)
{
	char path[128], target[128];
	char *data = NULL;
	ocr_error err = {0};
	FILE *f;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(read_whole_file(path, &data, NULL, &err), -1, "a FIFO must not block");
	cr_assert(strstr(err.msg, "is a FIFO, not a regular file"), "%s", err.msg);

	snprintf(target, sizeof(target), "%s/real", dir);
	put(target, "{}");
	snprintf(path, sizeof(path), "%s/link", dir);
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(read_whole_file(path, &data, NULL, &err), -1);
	cr_assert_eq(err.errnum, ELOOP);
	cr_assert(strstr(err.msg, "link is a symlink"), "%s", err.msg);
	cJSON *root = NULL;
	bool missing;
	cr_assert_eq(config_load(path, &root, &missing, &err), -1);
	cr_assert(strstr(err.msg, "point OPENCLAW_CONFIG_PATH at the target"), "%s", err.msg);

	cr_assert_eq(read_whole_file("/dev/zero", &data, NULL, &err), -1);
	cr_assert(strstr(err.msg, "character device"), "%s", err.msg);
	cr_assert_eq(read_whole_file(dir, &data, NULL, &err), -1);

	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, (long)READ_FILE_MAX, SEEK_SET), 0);
	fputc('x', f);
	fclose(f);
	cr_assert_eq(read_whole_file(path, &data, NULL, &err), -1);
	cr_assert_eq(err.errnum, EFBIG);
	cr_assert(strstr(err.msg, "big is 1048577 bytes; openclaw-run reads at most 1048576"), "%s",
		  err.msg);
	cr_assert_eq(truncate(path, (off_t)READ_FILE_MAX), 0);
	cr_assert_eq(read_whole_file(path, &data, NULL, &err), 0, "%s", err.msg);
	free(data);

	/* A file longer than fstat says (as one that grew since): the buffer
	 * grows to it, and the cap still holds. /proc files stat as 0 bytes. */
	size_t len = 0;
	cr_assert_eq(read_file_capped("/proc/self/status", 65536, &data, &len, &err), 0, "%s",
		     err.msg);
	cr_assert_gt(len, 100);
	cr_assert_eq(strlen(data), len);
	cr_assert(strstr(data, "VmRSS"), "%s", data);
	free(data);
	cr_assert_eq(read_file_capped("/proc/self/status", 16, &data, &len, &err), -1);
	cr_assert_eq(err.errnum, EFBIG);
}

Test(config, deep_configs_refused_above_upstreams_limit)
{
	char path[128];
	size_t depth = CONFIG_MAX_DEPTH + 1;
	char *text = malloc(2 * depth + 8);
	cJSON *root = NULL;
	bool missing;
	ocr_error err = {0};
	FILE *f;

	cr_assert_not_null(text);
	snprintf(path, sizeof(path), "%s/deep.json", dir);
	strcpy(text, "{a:");
	memset(text + 3, '[', depth - 1);
	memset(text + 3 + depth - 1, ']', depth - 1);
	strcpy(text + 3 + 2 * (depth - 1), "}");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(config_load(path, &root, &missing, &err), -1);
	cr_assert(strstr(err.msg, "nested deeper than 10000 levels"), "%s", err.msg);
	/* One level less loads. */
	strcpy(text, "{a:");
	memset(text + 3, '[', depth - 2);
	memset(text + 3 + depth - 2, ']', depth - 2);
	strcpy(text + 3 + 2 * (depth - 2), "}");
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	cr_assert_eq(config_load(path, &root, &missing, &err), 0, "%s", err.msg);
	cJSON_Delete(root);
	free(text);
}

/* browser.cdpUrl takes a local port exactly when the gateway's `new URL` +
 * loopback test say so (issue 8's disagreements; the differential test
 * covers thousands more). */
Test(config, cdp_url_ports_as_upstream_reads_them)
{
	static const struct {
		const char *url;
		unsigned port; /* 0: takes no local port */
	} cases[] = {
	    {"http://127.0.0.1:32500#@x", 32500},
	    {"http://evil.com@127.0.0.1:9222", 9222},
	    {"http://127.0.0.1:9222@evil.com:1", 0},
	    {"http://[::ffff:127.0.0.1]:9333", 9333},
	    {"http://2130706433:9444", 9444},
	    {"http://0x7f.1:9555", 9555},
	    {"http://0.0.0.0:9666", 0},
	    {"http://[::]:9666", 0},
	    {"ws://localhost.", 80},
	    {"wss://127.0.0.1", 443},
	    {"http://127.0.0.1:0", 0},
	    {"ftp://127.0.0.1:21", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		cJSON *root;
		struct port_block b;
		ocr_error err = {0};

		snprintf(text, sizeof(text), "{\"browser\": {\"cdpUrl\": \"%s\"}}", cases[i].url);
		root = cJSON_Parse(text);
		cr_assert_not_null(root);
		cr_assert_eq(port_block_init(&b, 40000, PORT_FROM_CONFIG, NULL), 0);
		cr_assert_eq(config_collect_explicit_ports(root, &b, &err), 0, "%s", err.msg);
		cr_assert_eq(b.n_explicit, cases[i].port ? 1 : 0, "%s", cases[i].url);
		if (cases[i].port)
			cr_assert_eq(b.explicit_ports[0].port, cases[i].port, "%s", cases[i].url);
		cJSON_Delete(root);
	}
}

/* The launcher hands config strings to the OS as node does: a lone
 * surrogate escape becomes U+FFFD; a pair stays one character. */
Test(config, strings_as_node_hands_them_to_the_os)
{
	char path[128];
	cJSON *root = NULL;
	bool missing;
	ocr_error err = {0};

	snprintf(path, sizeof(path), "%s/s.json", dir);
	put(path, "{ws: '/srv/\\ud800x\\ud83d\\ude00'}");
	cr_assert_eq(config_load(path, &root, &missing, &err), 0, "%s", err.msg);
	cr_assert_str_eq(config_get_string(root, "ws"), "/srv/\xef\xbf\xbdx\xf0\x9f\x98\x80");
	cJSON_Delete(root);
}

/* The gateway's .bak ring: each write keeps the file it replaces as .bak
 * and shifts older ones to .bak.1 .. .bak.4; the fifth older is dropped. */
Test(config, backup_ring_like_the_gateway)
{
	char path[128], bak[160];
	struct atomic_write_opts o = {
	    .mode = 0600, .uid = (uid_t)-1, .gid = (gid_t)-1, .backup = true};
	char *data;
	struct stat st;

	snprintf(path, sizeof(path), "%s/openclaw.json", dir);
	put(path, "v0");
	for (int i = 1; i <= 6; i++) {
		char text[8];

		snprintf(text, sizeof(text), "v%d", i);
		cr_assert_eq(atomic_write_file_opts(path, text, strlen(text), &o, NULL), 0);
	}
	data = slurp(path);
	cr_assert_str_eq(data, "v6");
	free(data);
	for (int k = 0; k <= 4; k++) {
		char want[8];

		if (k == 0)
			snprintf(bak, sizeof(bak), "%s.bak", path);
		else
			snprintf(bak, sizeof(bak), "%s.bak.%d", path, k);
		snprintf(want, sizeof(want), "v%d", 5 - k);
		data = slurp(bak);
		cr_assert_str_eq(data, want, "%s", bak);
		free(data);
	}
	snprintf(bak, sizeof(bak), "%s.bak.5", path);
	cr_assert_neq(stat(bak, &st), 0, "the ring holds five");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_nlink, 1, "the new file has one name");
	cr_assert_eq(st.st_mode & 07777, 0600);
}
