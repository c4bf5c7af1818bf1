/* Attacks through the config, which the payload may rewrite at will (issue
 * 7, attacks 1, 2 and 6, and the records): whatever it names, the launcher
 * binds, creates, chowns and lets bind only what a person pinned at setup. */
#include "attack_fx.h"

/* The payload rewrites profile PROFILE's config (as `openclaw config set`
 * would) to JSON. */
static void payload_writes_config(const struct afx *f, const char *profile, const char *json)
{
	struct run_result r;

	afx_payloadf(f, &r, profile, "printf '%%s\\n' '%s' > \"$OPENCLAW_CONFIG_PATH\"", json);
	cr_assert_eq(r.exit_code, 0, "payload: %s%s", r.out, r.err);
	run_result_free(&r);
}

static void payload_sets_workspace(const struct afx *f, const char *ws)
{
	char json[PATH_MAX + 128];

	snprintf(
	    json, sizeof(json),
	    "{\"gateway\": {\"port\": %u}, \"agents\": {\"defaults\": {\"workspace\": \"%s\"}}}",
	    f->base_a, ws);
	payload_writes_config(f, "a", json);
}

/* The next `gateway` refuses with the drift and its fix; nothing listens. */
static void expect_gateway_refuses(const struct afx *f, const char *key, const char *fix)
{
	struct run_result r;

	cr_assert_eq(afx_run(f, &r, 30,
			     (const char *const[]){"--profile", "a", "gateway", "--gateway-cmd",
						   f->fake, NULL}),
		     0);
	cr_assert_eq(r.exit_code, 1, "gateway started: %s%s", r.out, r.err);
	cr_expect(strstr(r.err, key) && strstr(r.err, fix), "no drift message: %s", r.err);
	run_result_free(&r);
	cr_expect(!host_listens(f->base_a), "something listens on %u", f->base_a);
}

/* Attack 1: root runs setup, gateway and exec after the payload pointed
 * its workspace at a root-owned directory (a stand-in for /etc/cron.d) and
 * at a missing path below it: nothing is created, chowned or bound. */
ROOT_ONLY(config, workspace_at_a_system_dir)
{
	char target[PATH_MAX], job[PATH_MAX + 16], missing[PATH_MAX + 16];
	struct snap s_target, s_job;
	struct run_result r;

	afx_root_target(f, "cron.d", target, sizeof(target));
	afx_fmt(job, "%s/job", target);
	write_text_file(job, "* * * * * root true\n");
	afx_fmt(missing, "%s/new/ws", target);
	snap_take(target, &s_target);
	snap_take(job, &s_job);

	for (int i = 0; i < 2; i++) {
		payload_sets_workspace(f, i == 0 ? target : missing);
		AFX_OCR(f, &r, "--profile", "a", "setup");
		cr_expect(!strstr(r.out, target), "setup pinned the config's workspace: %s", r.out);
		run_result_free(&r);
		expect_gateway_refuses(f, "agents.defaults.workspace", "setup --workspace");
		afx_payloadf(f, &r, "a", "echo '* * * * * root id' > %s/job; touch %s/planted",
			     target, target);
		cr_expect(strstr(r.err, "agents.defaults.workspace"), "exec said no drift: %s",
			  r.err);
		run_result_free(&r);
	}
	cr_expect(!path_exists(missing), "root created %s", missing);
	afx_fmt(missing, "%s/new", target);
	cr_expect(!path_exists(missing), "root created %s", missing);
	snap_expect_same(target, &s_target);
	snap_expect_same(job, &s_job);
	/* A plain re-run of setup keeps the account setup --user pinned. */
	struct stat st;
	cr_assert_eq(stat(f->state_a, &st), 0);
	cr_expect_eq(st.st_uid, f->uid, "setup handed the state dir to uid %u",
		     (unsigned)st.st_uid);

	/* The real /etc/cron.d is refused by name even when a person accepts. */
	snap_take("/etc/cron.d", &s_target);
	payload_sets_workspace(f, "/etc/cron.d");
	AFX_OCR(f, &r, "--profile", "a", "setup", "--accept-config");
	cr_expect_eq(r.exit_code, 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "/etc/cron.d") && strstr(r.err, "system tree"), "%s", r.err);
	run_result_free(&r);
	snap_expect_same("/etc/cron.d", &s_target);
}

/* Attack 2: rootless, the workspace at what the account may write or read
 * but no sandbox may see read-write. Each is refused by setup, drift for
 * gateway and exec, and never reached on the host. */
ROOTLESS_ONLY(config, workspace_at_host_dirs)
{
	char ssh[PATH_MAX + 16], keys[PATH_MAX + 32], home2[PATH_MAX], other[PATH_MAX + 32];
	char token[PATH_MAX + 48];
	const char *targets[] = {ssh, "/proc", "/etc", "/run", "/usr/local/bin", "/dev/shm", other};
	struct snap s_keys, s_token;
	struct run_result r;

	afx_fmt(ssh, "%s/.ssh", f->uhome);
	afx_fmt(keys, "%s/authorized_keys", ssh);
	afx_sh("mkdir -m 0700 %s && echo 'ssh-ed25519 AAAA person' > %s && chown -R %s: %s", ssh,
	       keys, f->user, ssh);
	/* Another account's instance, readable by all (as a careless HOME is). */
	afx_second_user(f, home2, sizeof(home2));
	afx_fmt(other, "%s/.openclaw-x", home2);
	afx_fmt(token, "%s/openclaw.json", other);
	afx_sh("chmod 0755 %s && mkdir -m 0755 %s && echo '{\"token\": \"t0k\"}' > %s && chmod "
	       "0644 %s && chown -R %s: %s",
	       home2, other, token, token, f->user2, home2);
	snap_take(keys, &s_keys);
	snap_take(token, &s_token);

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const char *t = targets[i];
		char planted[PATH_MAX + 32];

		payload_sets_workspace(f, t);
		AFX_OCR(f, &r, "--profile", "a", "setup", "--accept-config");
		cr_expect_eq(r.exit_code, 1, "setup pinned %s: %s%s", t, r.out, r.err);
		cr_expect(strstr(r.err, t), "refusal does not name %s: %s", t, r.err);
		run_result_free(&r);
		expect_gateway_refuses(f, "agents.defaults.workspace", "setup --workspace");
		/* exec runs on the pins, says so, and the target is not there rw. */
		afx_payloadf(f, &r, "a",
			     "echo 'ssh-ed25519 EVIL' >> %s/authorized_keys; touch %s/atk-planted; "
			     "cat %s/openclaw.json 2>/dev/null; true",
			     t, t, t);
		cr_expect_eq(r.exit_code, 0, "%s: %s", t, r.err);
		cr_expect(strstr(r.err, "agents.defaults.workspace"), "%s: no drift: %s", t, r.err);
		cr_expect(!strstr(r.out, "t0k"), "%s: read another HOME's token", t);
		run_result_free(&r);
		afx_fmt(planted, "%s/atk-planted", t);
		cr_expect(!path_exists(planted), "the payload wrote %s on the host", planted);
	}
	snap_expect_same(keys, &s_keys);
	snap_expect_same(token, &s_token);
}

/* Attack 6: explicit ports outside the block, added to the config by the
 * payload, are drift: gateway refuses, exec may not bind them. */
BOTH_MODES(config, explicit_ports_from_the_config)
{
	unsigned p1 = f->base_a + 300, p2 = f->base_a + 301;
	char json[512], port[16];
	struct run_result r;

	snprintf(json, sizeof(json),
		 "{\"gateway\": {\"port\": %u}, \"mcp\": {\"apps\": {\"sandboxPort\": %u}}, "
		 "\"browser\": {\"profiles\": {\"x\": {\"cdpPort\": %u}}}}",
		 f->base_a, p1, p2);
	payload_writes_config(f, "a", json);
	expect_gateway_refuses(f, "mcp.apps.sandboxPort", "setup --accept-config");
	for (unsigned p = p1; p <= p2; p++) {
		afx_fmt(port, "%u", p);
		AFX_OCR(f, &r, "--profile", "a", "exec", "--ro-bind", f->helpers, "--", f->attacker,
			"sock", "tcp4", port);
		cr_expect_str_eq(r.out, "error bind EACCES\n", "bind %u: %s%s", p, r.out, r.err);
		cr_expect(strstr(r.err, "browser.profiles.x.cdpPort"), "no drift: %s", r.err);
		run_result_free(&r);
		cr_expect(!host_listens(p), "port %u listens", p);
	}
	/* gateway.port moved onto profile b's block: drift too, and b's port
	 * stays b's. */
	snprintf(json, sizeof(json), "{\"gateway\": {\"port\": %u}}", f->base_b);
	payload_writes_config(f, "a", json);
	expect_gateway_refuses(f, "gateway.port", "setup --port");
	afx_fmt(port, "%u", f->base_b);
	AFX_OCR(f, &r, "--profile", "a", "exec", "--ro-bind", f->helpers, "--", f->attacker, "sock",
		"tcp4", port);
	cr_expect_str_eq(r.out, "error bind EACCES\n", "bind %u: %s%s", f->base_b, r.out, r.err);
	run_result_free(&r);
	cr_expect(!host_listens(f->base_b), "port %u listens", f->base_b);
	payload_writes_config(f, "a", json);
	snprintf(json, sizeof(json),
		 "{\"gateway\": {\"port\": %u}, \"mcp\": {\"apps\": {\"sandboxPort\": %u}}}",
		 f->base_a, p1);
	payload_writes_config(f, "a", json);
	/* `ports` and `check` say the same. */
	AFX_OCR(f, &r, "--profile", "a", "check");
	cr_expect_neq(r.exit_code, 0, "check saw no drift: %s%s", r.out, r.err);
	cr_expect(strstr(r.out, "mcp.apps.sandboxPort") || strstr(r.err, "mcp.apps.sandboxPort"),
		  "%s%s", r.out, r.err);
	run_result_free(&r);
}

/* Own attack: the launcher's records, cache and logs are out of every
 * sandbox's sight and can never be pinned as a workspace, whether the
 * payload names them or a person does by mistake. */
BOTH_MODES(config, launcher_dirs_out_of_reach)
{
	char cache[PATH_MAX + 16], logs[PATH_MAX + 16];
	const char *dirs[] = {f->records, cache, logs};
	struct run_result r;

	if (f->rootless) {
		afx_fmt(cache, "%s/.cache/openclaw-run", f->home);
		afx_fmt(logs, "%s/.local/state/openclaw-run/logs", f->home);
	} else {
		afx_fmt(cache, "%s/cache", f->records);
		afx_fmt(logs, "%s/logs", f->records);
	}
	cr_assert(path_exists(f->records), "no records at %s", f->records);
	for (size_t i = 0; i < 3; i++) {
		afx_payloadf(f, &r, "a", "test -e %s && echo visible; ls %s 2>&1 | head -1; true",
			     dirs[i], f->records);
		cr_expect(!strstr(r.out, "visible") && !strstr(r.out, "profiles"),
			  "%s is visible: %s", dirs[i], r.out);
		run_result_free(&r);
		payload_sets_workspace(f, dirs[i]);
		AFX_OCR(f, &r, "--profile", "a", "setup", "--accept-config");
		cr_expect_eq(r.exit_code, 1, "pinned %s: %s%s", dirs[i], r.out, r.err);
		run_result_free(&r);
		AFX_OCR(f, &r, "--profile", "a", "setup", "--workspace", dirs[i]);
		cr_expect_eq(r.exit_code, 1, "pinned %s: %s%s", dirs[i], r.out, r.err);
		cr_expect(strstr(r.err, "openclaw-run's") || strstr(r.err, "hidden directory"),
			  "%s", r.err);
		run_result_free(&r);
	}
}

/* Own: the drift message shows the payload's words to a person, with "the
 * one command that accepts it". A workspace and a browser profile name
 * carrying terminal escapes and shell syntax: printed defanged, and the
 * command quotes the path as one word. */
BOTH_MODES(config, drift_message_carries_no_escapes_or_commands)
{
	const char *const cmds[][6] = {
	    {"--profile", "a", "exec", "--", "/bin/true", NULL},
	    {"--profile", "a", "check", NULL},
	    {"--profile", "a", "gateway", "--gateway-cmd", "FAKE", NULL},
	    {"--profile", "a", "status", NULL},
	};
	char json[512];
	struct run_result r;

	snprintf(json, sizeof(json),
		 "{\"gateway\": {\"port\": %u}, \"agents\": {\"defaults\": {\"workspace\": "
		 "\"/tmp/x; touch /tmp/ocr-pasted #\\u001b]0;PWN\\u0007\"}}, \"browser\": "
		 "{\"profiles\": {\"x\\u001b[2K\\rOK\": {\"cdpPort\": %u}}}}",
		 f->base_a, f->base_a + 300);
	payload_writes_config(f, "a", json);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[6];

		for (size_t j = 0; j < 6; j++)
			args[j] =
			    cmds[i][j] && strcmp(cmds[i][j], "FAKE") == 0 ? f->fake : cmds[i][j];
		cr_assert_eq(afx_run(f, &r, 30, args), 0);
		cr_expect(strstr(r.err, "agents.defaults.workspace") ||
			      strstr(r.out, "agents.defaults.workspace"),
			  "%s: no drift shown: %s%s", cmds[i][2], r.out, r.err);
		cr_expect(!strpbrk(r.out, "\033\007\r") && !strpbrk(r.err, "\033\007\r"),
			  "%s: a control character reached the terminal: %s%s", cmds[i][2], r.out,
			  r.err);
		cr_expect(!strstr(r.err, "--workspace /tmp/x; touch") &&
			      !strstr(r.out, "--workspace /tmp/x; touch"),
			  "%s: the fix command runs the payload's words: %s%s", cmds[i][2], r.out,
			  r.err);
		run_result_free(&r);
	}
}

/* Own: a config that does not load is named in every command's error, with
 * the reason. The payload writes the reason's words too: an $include of a
 * file whose name carries terminal escapes and a new line. The error shows
 * them defanged. */
BOTH_MODES(config, config_error_carries_no_escapes)
{
	/* The gateway, when a config is one it starts with, exits 78 at once
	 * (no doctor pass): what it printed is checked, and nothing waits. */
	const char *const cmds[][9] = {
	    {"--profile", "a", "exec", "--", "/bin/true", NULL},
	    {"check", NULL},
	    {"--profile", "a", "gateway", "--no-doctor", "--env", "FAKE_MODE=exit78",
	     "--gateway-cmd", "FAKE", NULL},
	    {"list", NULL},
	};
	const char *const configs[] = {
	    "{\"$include\": \"./x\\u001b]0;PWN\\u0007\\u001b[2K\\nFORGED.json\"}",
	    "{\"browser\": {\"profiles\": {\"x\\u001b]0;PWN\\u0007\\nFORGED\": "
	    "{\"cdpPort\": 70000}}}}",
	    "{\"browser\": {\"profiles\": {\"p\": {\"cdpUrl\": "
	    "\"http://x\\u001b]0;PWN\\u0007\\nFORGED:99999\"}}}}",
	};
	struct run_result r;

	for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		payload_writes_config(f, "a", configs[c]);
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			const char *args[9];

			for (size_t j = 0; j < 9; j++)
				args[j] = cmds[i][j] && strcmp(cmds[i][j], "FAKE") == 0
					      ? f->fake
					      : cmds[i][j];
			cr_assert_eq(afx_run(f, &r, 30, args), 0);
			cr_expect(!strpbrk(r.out, "\033\007\r") && !strpbrk(r.err, "\033\007\r") &&
				      !strstr(r.out, "\nFORGED") && !strstr(r.err, "\nFORGED"),
				  "config %zu: %s: the payload's words drove the terminal: %s%s", c,
				  args[0], r.out, r.err);
			run_result_free(&r);
		}
	}
}

/* Own: a container's state volume is the payload's; the entrypoint refuses
 * a config whose gateway.auth.mode is not token auth and names the mode in
 * the container's log. The payload's mode carries escapes: shown defanged. */
ROOT_ONLY(config, entrypoint_refusal_carries_no_escapes)
{
	char json[256];
	struct run_result r;

	afx_fmt(json,
		"{\"gateway\": {\"port\": %u, \"auth\": {\"mode\": "
		"\"x\\u001b]0;PWN\\u0007\\u001b[2K\\nFORGED\"}}}",
		f->base_a);
	payload_writes_config(f, "a", json);
	AFX_OCR(f, &r, "--profile", "a", "entrypoint", "--gateway-cmd", f->fake);
	cr_expect_neq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "PWN"), "the mode is not named: %s%s", r.out, r.err);
	cr_expect(!strpbrk(r.out, "\033\007\r") && !strpbrk(r.err, "\033\007\r") &&
		      !strstr(r.out, "\nFORGED") && !strstr(r.err, "\nFORGED"),
		  "the payload's words drove the terminal: %s%s", r.out, r.err);
	run_result_free(&r);
}
