/* Attacks on what root (or the rootless launcher) does in the payload's
 * state dir (issue 7, attack 4, and the next ones a reviewer would try):
 * links planted where root opens, creates, chowns or prints, swapped while
 * it looks, and second names of guarded directories. */
#include "attack_fx.h"

static void expect_no_secret(const struct run_result *r, const char *what)
{
	cr_expect(!strstr(r->out, "ROOTSECRET") && !strstr(r->err, "ROOTSECRET"),
		  "%s printed the root-only file: %s%s", what, r->out, r->err);
}

/* `gateway --detach` of profile a with the fake gateway in MODE; stops it
 * again when it started. */
static void detach_gateway(struct afx *f, const char *mode, struct run_result *r)
{
	char env[64];

	afx_fmt(env, "FAKE_MODE=%s", mode);
	f->detached[0] = true;
	afx_the = *f;
	AFX_OCR(f, r, "--profile", "a", "gateway", "--detach", "--gateway-cmd", f->fake, "--env",
		env, "--grace", "5");
}

static void stop_gateway(struct afx *f)
{
	struct run_result r;

	AFX_OCR(f, &r, "--profile", "a", "stop", "--timeout", "20");
	run_result_free(&r);
	f->detached[0] = false;
	afx_the = *f;
}

/* Attack 4: <state>/logs is a link to a root-owned directory, and
 * logs/openclaw-run.log (where the supervisor's log once was) a link to a
 * root-only file; root's `gateway --detach` writes nothing there, makes no
 * root-owned file in the payload's tree and prints nothing root-only, also
 * when the gateway fails with 78 and the launcher shows the log's tail. */
ROOT_ONLY(host, logs_link_and_detach)
{
	char target[AFX_PATH], secret[AFX_PATH + 16];
	struct snap s_target, s_secret;
	struct run_result r;
	const char *modes[] = {"exit78", "run"};

	afx_root_target(f, "logtarget", target, sizeof(target));
	afx_fmt(secret, "%s/secret", target);
	snap_take(target, &s_target);
	snap_take(secret, &s_secret);
	for (int i = 0; i < 2; i++) {
		/* First a link inside a real logs/, then logs/ itself a link. */
		if (i == 0)
			afx_payloadf(f, &r, "a",
				     "cd \"$OPENCLAW_STATE_DIR\" && rm -rf logs && mkdir logs && "
				     "ln -s %s logs/openclaw-run.log",
				     secret);
		else
			afx_payloadf(f, &r, "a",
				     "cd \"$OPENCLAW_STATE_DIR\" && rm -rf logs && ln -s %s logs",
				     target);
		cr_expect_eq(r.exit_code, 0, "%s", r.err);
		run_result_free(&r);
		for (int m = 0; m < 2; m++) {
			detach_gateway(f, modes[m], &r);
			expect_no_secret(&r, modes[m]);
			cr_expect_eq(r.exit_code, m == 0 ? 78 : 0, "%s: %s%s", modes[m], r.out,
				     r.err);
			run_result_free(&r);
			if (m == 1)
				stop_gateway(f);
		}
		snap_expect_same(target, &s_target);
		snap_take(target, &s_target);
		expect_no_root_files(f->state_a);
	}
	snap_expect_same(secret, &s_secret);
	snap_expect_same(target, &s_target);
}

/* Own: a hard link to a root-owned file where root chowns the config. The
 * payload cannot make one across its bind mounts; a file in its reach (or
 * fs.protected_hardlinks=0) could, so the test plants it. Root's setup and
 * exec never chown or write it. */
ROOT_ONLY(host, hard_link_as_config)
{
	char target[AFX_PATH], victim[AFX_PATH + 16];
	struct snap s_victim;
	struct run_result r;

	afx_payload(f, &r, "a", "ln /etc/passwd \"$OPENCLAW_STATE_DIR\"/x && echo linked");
	cr_expect(!strstr(r.out, "linked"), "the payload linked /etc/passwd into its state dir");
	run_result_free(&r);

	afx_root_target(f, "linktarget", target, sizeof(target));
	afx_fmt(victim, "%s/victim.json", target);
	afx_sh("cp %s %s && chown 0:0 %s && chmod 0644 %s && ln -f %s %s", f->config_a, victim,
	       victim, victim, victim, f->config_a);
	snap_take(victim, &s_victim);
	AFX_OCR(f, &r, "--profile", "a", "setup");
	run_result_free(&r);
	AFX_OCR(f, &r, "--profile", "a", "exec", "--", "/bin/true");
	run_result_free(&r);
	snap_expect_same(victim, &s_victim);
}

/* Own: the payload swaps logs/ and home/ in its state dir between a
 * directory and a link to a root-owned directory, as fast as it can, while
 * root runs setup (which chowns logs/) and exec (which chowns home/). */
ROOT_ONLY(host, swap_logs_and_home_during_root_commands)
{
	char target[AFX_PATH], script[2 * AFX_PATH + 512];
	struct snap s_target;
	struct run_result r;
	pid_t bg;
	long end;

	afx_root_target(f, "swaptarget", target, sizeof(target));
	snap_take(target, &s_target);
	AFX_OCR(f, &r, "--profile", "a", "exec", "--", "/bin/true"); /* makes home/ */
	run_result_free(&r);
	afx_fmt(script,
		"cd \"$OPENCLAW_STATE_DIR\" || exit 1; end=$(($(date +%%s) + 8)); "
		"while [ $(date +%%s) -lt $end ]; do for d in logs home; do "
		"mv $d $d.real; ln -s %s $d; rm $d; mv $d.real $d; done; done 2>/dev/null; true",
		target);
	bg = afx_spawn_payload(f, "a", script);
	end = afx_now_ms() + 6000;
	while (afx_now_ms() < end) {
		AFX_OCR(f, &r, "--profile", "a", "setup");
		expect_no_secret(&r, "setup");
		run_result_free(&r);
		AFX_OCR(f, &r, "--profile", "a", "exec", "--", "/bin/true");
		run_result_free(&r);
	}
	cr_expect_eq(afx_reap(f, bg, 60), 0, "the swapping payload failed");
	snap_expect_same(target, &s_target);
	expect_no_root_files(f->state_a);
}

/* Own: home/ in the state dir replaced by a link (or a FIFO) before root's
 * next start: the start refuses, nothing is chowned. */
ROOT_ONLY(host, home_replaced_before_start)
{
	char target[AFX_PATH];
	struct snap s_target;
	struct run_result r;

	afx_root_target(f, "hometarget", target, sizeof(target));
	snap_take(target, &s_target);
	for (int i = 0; i < 2; i++) {
		/* The payload links; a FIFO it cannot make (mknod is refused), so
		 * the test plants that one. */
		if (i == 0)
			afx_payloadf(f, &r, "a",
				     "cd \"$OPENCLAW_STATE_DIR\" && rm -rf home && ln -s %s home",
				     target);
		else
			afx_payload(f, &r, "a", "rm -rf \"$OPENCLAW_STATE_DIR\"/home");
		cr_expect_eq(r.exit_code, 0, "%s", r.err);
		run_result_free(&r);
		if (i == 1)
			afx_sh("mkfifo %s/home", f->state_a);
		cr_assert_eq(afx_run(f, &r, 30,
				     (const char *const[]){"--profile", "a", "exec", "--",
							   "/bin/true", NULL}),
			     0);
		cr_expect_eq(r.exit_code, 1, "exec ran with home/ replaced: %s", r.err);
		cr_expect(strstr(r.err, "home"), "%s", r.err);
		run_result_free(&r);
		afx_sh("rm -f %s/home", f->state_a);
	}
	snap_expect_same(target, &s_target);
}

/* Own: the config replaced by a link to a file the payload may not read
 * (root: a root-only file; rootless: a key in the account's HOME). No
 * command reads it for the payload: nothing of it is printed, it is neither
 * rewritten nor chowned. */
BOTH_MODES(host, config_linked_to_a_secret)
{
	char target[AFX_PATH], secret[AFX_PATH + 16];
	struct snap s_secret;
	struct run_result r;
	const char *const cmds[][8] = {
	    {"--profile", "a", "check", NULL},
	    {"--profile", "a", "setup", NULL},
	    {"--profile", "a", "exec", "--", "/bin/true", NULL},
	    {"--profile", "a", "gateway", "--gateway-cmd", "FAKE", NULL},
	    {"--profile", "b", "exec", "--", "/bin/true", NULL},
	};

	if (f->rootless) {
		afx_fmt(secret, "%s/id_key", f->uhome);
		write_text_file(secret, "{\"ROOTSECRET\": 1, bad}\n");
		afx_sh("chown %s: %s && chmod 0600 %s", f->user, secret, secret);
	} else {
		afx_root_target(f, "cfgtarget", target, sizeof(target));
		afx_fmt(secret, "%s/secret", target);
	}
	snap_take(secret, &s_secret);
	afx_payloadf(f, &r, "a", "ln -sf %s \"$OPENCLAW_CONFIG_PATH\"", secret);
	cr_expect_eq(r.exit_code, 0, "%s", r.err);
	run_result_free(&r);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[8];

		for (size_t j = 0; j < 8; j++)
			args[j] =
			    cmds[i][j] && strcmp(cmds[i][j], "FAKE") == 0 ? f->fake : cmds[i][j];
		cr_assert_eq(afx_run(f, &r, 30, args), 0);
		expect_no_secret(&r, cmds[i][2]);
		cr_expect(r.exit_code != 128 + 9, "%s was killed (hung)", cmds[i][2]);
		run_result_free(&r);
	}
	snap_expect_same(secret, &s_secret);
}

/* Own: a second name of a guarded directory (a bind mount, as a person
 * might have one) is refused by device and inode: the system tree itself,
 * a directory inside one, and the HOME's ~/.ssh. */
BOTH_MODES(host, bind_mount_alias_as_workspace)
{
	char ssh[AFX_PATH + 16], alias[3][AFX_PATH + 16];
	const char *from[] = {"/etc", "/usr/local/bin", ssh};
	struct run_result r;

	afx_fmt(ssh, "%s/.ssh", f->home);
	afx_sh("mkdir -m 0700 %s && chown %s: %s", ssh, f->rootless ? f->user : "root", ssh);
	for (int i = 0; i < 3; i++) {
		afx_fmt(alias[i], "%s/alias%d", f->tmp, i);
		cr_assert_eq(mkdir(alias[i], 0755), 0);
		afx_bind_mount(f, from[i], alias[i]);
		AFX_OCR(f, &r, "--profile", "a", "setup", "--workspace", alias[i]);
		cr_expect_eq(r.exit_code, 1, "setup pinned %s (= %s): %s%s", alias[i], from[i],
			     r.out, r.err);
		cr_expect(strstr(r.err, alias[i]), "%s", r.err);
		run_result_free(&r);
	}
}

/* Own: a config dir inside the workspace (OPENCLAW_CONFIG_PATH=<ws>/cfg/...).
 * Root writes the config by path outside the state dir, and the payload may
 * rename anything in its workspace: swapping cfg/ for a link with
 * renameat2(RENAME_EXCHANGE) between setup's check and its write made root
 * create <target>/openclaw.json owned by the sandbox's account (seen by
 * hand: about 1 run of setup in 40). So setup refuses the layout, and the
 * state dir inside the workspace, before anything is made. */
BOTH_MODES(host, config_dir_inside_the_workspace)
{
	char ws[AFX_PATH + 16], state[AFX_PATH + 16], target[AFX_PATH];
	struct snap s_target;
	struct run_result r;

	afx_root_target(f, "cfgdirtarget", target, sizeof(target));
	snap_take(target, &s_target);
	afx_fmt(ws, "%s/ws", f->tmp);
	afx_sh("install -d -o %s -m 0700 %s", f->user, ws);
	for (int i = 0; i < 2; i++) {
		afx_fmt(state, "%s/state-c", f->tmp);
		afx_fmt(f->extra_env[0], "OPENCLAW_STATE_DIR=%s%s", i ? ws : f->tmp,
			i ? "/x/state" : "/state-c");
		afx_fmt(f->extra_env[1], "OPENCLAW_CONFIG_PATH=%s/cfg/openclaw.json", ws);
		afx_the = *f;
		if (f->rootless)
			AFX_OCR(f, &r, "setup", "--workspace", ws);
		else
			AFX_OCR(f, &r, "setup", "--workspace", ws, "--user", f->user);
		cr_expect_eq(r.exit_code, 1, "setup accepted: %s%s", r.out, r.err);
		cr_expect(strstr(r.err, "lies in the workspace"), "%s", r.err);
		run_result_free(&r);
		cr_expect(!path_exists(state), "setup made the state dir %s", state);
	}
	snap_expect_same(target, &s_target);
}

/* Own: a config dir reached through a symlink is refused (root would write
 * the config wherever the link points at the time); a workspace on another
 * file system (a tmpfs here) is fine: the guard refuses what it must, not
 * everything unusual. */
BOTH_MODES(host, config_dir_link_and_workspace_elsewhere)
{
	char real[AFX_PATH + 16], link[AFX_PATH + 16], fs[AFX_PATH + 16], ws[AFX_PATH + 32];
	struct run_result r;

	afx_fmt(real, "%s/cfg-real", f->tmp);
	afx_fmt(link, "%s/cfg-link", f->tmp);
	afx_sh("install -d -o %s -m 0700 %s && ln -s %s %s", f->rootless ? f->user : "root", real,
	       real, link);
	afx_fmt(f->extra_env[0], "OPENCLAW_CONFIG_PATH=%s/openclaw.json", link);
	afx_the = *f;
	if (f->rootless)
		AFX_OCR(f, &r, "--profile", "c", "setup");
	else
		AFX_OCR(f, &r, "--profile", "c", "setup", "--user", f->user);
	cr_expect_eq(r.exit_code, 1, "setup took a linked config dir: %s%s", r.out, r.err);
	cr_expect(strstr(r.err, "symlink"), "%s", r.err);
	run_result_free(&r);
	char *inside = dir_listing(real);
	cr_expect(!strstr(inside, "openclaw.json"), "setup wrote through the link: %s", inside);
	free(inside);
	f->extra_env[0][0] = '\0';

	afx_fmt(fs, "%s/otherfs", f->tmp);
	cr_assert_eq(mkdir(fs, 0755), 0);
	cr_assert_eq(mount("tmpfs", fs, "tmpfs", 0, "size=1m,mode=0755"), 0, "%s", strerror(errno));
	afx_fmt(f->mounts[f->n_mounts], "%s", fs);
	f->n_mounts++;
	afx_the = *f;
	afx_fmt(ws, "%s/ws", fs);
	afx_sh("install -d -o %s -m 0700 %s", f->user, ws);
	AFX_OCR(f, &r, "--profile", "a", "setup", "--workspace", ws);
	cr_expect_eq(r.exit_code, 0, "setup refused a workspace on a tmpfs: %s%s", r.out, r.err);
	run_result_free(&r);
	afx_payloadf(f, &r, "a", "echo hi > %s/note && echo wrote", ws);
	cr_expect(strstr(r.out, "wrote"), "the pinned workspace is not writable: %s%s", r.out,
		  r.err);
	run_result_free(&r);
}

/* Own: the config's $include names a file below a directory the payload
 * swaps, again and again, between one inside the config dir and a link to
 * a directory out of the sandbox's sight (root-only as root, the account's
 * own rootless). The launcher checks where the include resolves, then
 * opens it: whatever the timing, it never reads the outside file (its
 * value would show in the drift message `check` prints). */
BOTH_MODES(host, include_dir_swapped_for_a_link)
{
	char dir[AFX_PATH], secret[AFX_PATH + 16], script[4 * AFX_PATH];
	struct run_result r;
	bool shown = false;
	pid_t bg;

	afx_fmt(dir, "%s/incsecret", f->tmp);
	cr_assert_eq(mkdir(dir, 0700), 0);
	afx_fmt(secret, "%s/inc.json", dir);
	write_text_file(secret, "{\"agents\": {\"defaults\": {\"workspace\": \"/ROOTSECRET\"}}}\n");
	cr_assert_eq(chmod(secret, 0600), 0);
	if (f->rootless)
		afx_sh("chown -R %s: %s", f->user, dir);
	afx_payloadf(f, &r, "a",
		     "cd \"$OPENCLAW_STATE_DIR\" && mkdir -p inside && echo '{}' > inside/inc.json "
		     "&& ln -s inside d && printf '{\"$include\": \"./d/inc.json\"}' > "
		     "\"$OPENCLAW_CONFIG_PATH\"");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	afx_fmt(script, "exec %s flip \"$OPENCLAW_STATE_DIR/d\" inside %s", f->attacker, dir);
	bg = afx_spawn_payload(f, "a", script);
	for (int i = 0; i < 60 && !shown; i++) {
		AFX_OCR(f, &r, "--profile", "a", "check");
		shown = strstr(r.out, "ROOTSECRET") || strstr(r.err, "ROOTSECRET");
		expect_no_secret(&r, "check");
		run_result_free(&r);
	}
	kill(bg, SIGTERM);
	cr_expect_neq(afx_reap(f, bg, 30), -1);
}
