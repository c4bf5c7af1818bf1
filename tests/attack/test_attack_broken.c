/* Attack 7 of issue 7: one profile's payload breaks its own config (a
 * syntax error, a 120 MB file, a link to /proc/self/fd/0, a FIFO); no
 * command of another profile is blocked by it, none hangs, each says which
 * file is at fault. The broken profile itself stays usable through exec. */
#include "attack_fx.h"

/* Generous for a loaded 2-core box: only a hang or a 64 MB read misses it. */
#define BOUND_MS 20000

struct timed {
	const char *name;
	const char *args[12];
	int want;   /* exit code, or -1: any that is not a kill, -2: any failure */
	bool names; /* the output must name the broken file */
};

/* Runs CMD within BOUND_MS; its output names the file NAMED. */
static void run_bounded(const struct afx *f, const struct timed *cmd, const char *named,
			const char *kind)
{
	const char *args[12];
	struct run_result r;
	long start = afx_now_ms(), took;

	for (size_t i = 0; i < 12; i++)
		args[i] =
		    cmd->args[i] && strcmp(cmd->args[i], "FAKE") == 0 ? f->fake : cmd->args[i];
	cr_assert_eq(afx_run(f, &r, 60, args), 0);
	took = afx_now_ms() - start;
	cr_expect_lt(took, BOUND_MS, "%s: %s took %ld ms", kind, cmd->name, took);
	if (cmd->want == -2)
		cr_expect(r.exit_code > 0 && r.exit_code < 128, "%s: %s exited %d: %s%s", kind,
			  cmd->name, r.exit_code, r.out, r.err);
	else if (cmd->want >= 0)
		cr_expect_eq(r.exit_code, cmd->want, "%s: %s exited %d: %s%s", kind, cmd->name,
			     r.exit_code, r.out, r.err);
	else
		cr_expect_lt(r.exit_code, 128, "%s: %s killed: %s", kind, cmd->name, r.err);
	if (cmd->names)
		cr_expect(strstr(r.out, named) || strstr(r.err, named),
			  "%s: %s does not name %s: %s%s", kind, cmd->name, named, r.out, r.err);
	run_result_free(&r);
}

/* Profile a's commands, with b broken: they run as if b were fine; `check`
 * of the host reports b's file. */
static const struct timed others[] = {
    {"exec", {"--profile", "a", "exec", "--", "/bin/true"}, 0, false},
    {"gateway",
     {"--profile", "a", "gateway", "--gateway-cmd", "FAKE", "--env", "FAKE_MODE=exit78"},
     78,
     false},
    {"setup", {"--profile", "a", "setup"}, 0, false},
    {"check", {"check"}, -2, true},
    {"list", {"list"}, -1, false},
};

/* Profile b's own, with its config broken: exec still runs (a person must
 * be able to repair), the others refuse, none hangs. */
static const struct timed own[] = {
    {"own exec", {"--profile", "b", "exec", "--", "/bin/true"}, 0, true},
    {"own gateway", {"--profile", "b", "gateway", "--gateway-cmd", "FAKE"}, -2, true},
    {"own setup", {"--profile", "b", "setup"}, 1, true},
    {"own check", {"--profile", "b", "check"}, -2, true},
};

BOTH_MODES(broken, one_config_blocks_no_other)
{
	const struct {
		const char *kind, *script; /* NULL: the test plants it */
	} breaks[] = {
	    {"syntax error", "printf '{ \"gateway\": ' > \"$OPENCLAW_CONFIG_PATH\""},
	    {"120 MB file", "truncate -s 120M \"$OPENCLAW_CONFIG_PATH\""},
	    {"link to /proc/self/fd/0", "ln -sf /proc/self/fd/0 \"$OPENCLAW_CONFIG_PATH\""},
	    /* mknod is refused inside: a FIFO stands for one made another way. */
	    {"FIFO", NULL},
	};
	struct run_result r;

	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		if (breaks[i].script) {
			long start = afx_now_ms();

			afx_payload(f, &r, "b", breaks[i].script);
			cr_expect_eq(r.exit_code, 0, "%s: %s", breaks[i].kind, r.err);
			cr_expect_lt(afx_now_ms() - start, BOUND_MS, "b's own exec hung");
			run_result_free(&r);
		} else {
			afx_sh("rm -f %s && mkfifo -m 0600 %s && chown %u %s", f->config_b,
			       f->config_b, (unsigned)f->uid, f->config_b);
		}
		for (size_t c = 0; c < sizeof(others) / sizeof(others[0]); c++)
			run_bounded(f, &others[c], f->config_b, breaks[i].kind);
		for (size_t c = 0; c < sizeof(own) / sizeof(own[0]); c++)
			run_bounded(f, &own[c], f->config_b, breaks[i].kind);
	}
	cr_expect(!host_listens(f->base_b), "profile b's gateway listens");
}

/* Own: the gateway's output reaches the person who started it. A payload
 * that prints terminal escapes (retitle, erase the line, a fake
 * "openclaw-run: ... ready") and fails: the log tail that `gateway
 * --detach` shows carries none of them. */
BOTH_MODES(broken, gateway_output_cannot_drive_the_terminal)
{
	char script[AFX_PATH + 16];
	struct run_result r;

	afx_fmt(script, "%s/evil-gateway", f->helpers);
	write_text_file(script, "#!/bin/sh\n"
				"printf 'plain\\n\\033]0;PWNED\\007\\033[2K\\r"
				"openclaw-run: a: gateway ready\\n\\302\\23331m'\n"
				"exit 78\n");
	cr_assert_eq(chmod(script, 0755), 0);
	f->detached[0] = true;
	afx_the = *f;
	AFX_OCR(f, &r, "--profile", "a", "gateway", "--detach", "--gateway-cmd", script);
	cr_expect_neq(r.exit_code, 0, "%s", r.err);
	cr_expect(strstr(r.err, "plain"), "no log tail: %s", r.err);
	cr_expect(!strchr(r.err, '\033') && !strchr(r.err, '\007') && !strchr(r.err, '\r') &&
		      !strstr(r.err, "\302\233"),
		  "a control character reached the terminal: %s", r.err);
	run_result_free(&r);
}

/* Own: a process of the sandbox names itself with an escape sequence (its
 * comm, which it may set) and holds a port of its block; `check` and
 * `setup`, which name the holder of a busy port, show it defanged. */
BOTH_MODES(broken, port_holder_name_cannot_drive_the_terminal)
{
	char script[AFX_PATH + 128];
	const char *const cmds[][4] = {{"check", NULL}, {"--profile", "a", "setup", NULL}};
	struct run_result r;
	pid_t bg;

	afx_fmt(script, "exec %s hold %u \"$(printf '\\033]0;PWN\\007\\033[2K')\"", f->attacker,
		f->base_a + 3);
	bg = afx_spawn_payload(f, "a", script);
	for (int i = 0; i < 100 && !host_listens(f->base_a + 3); i++)
		usleep(100000);
	cr_assert(host_listens(f->base_a + 3), "the payload never listened");
	for (size_t i = 0; i < 2; i++) {
		AFX_OCR(f, &r, cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3]);
		cr_expect(i == 1 || strstr(r.out, "PWN") || strstr(r.err, "PWN"),
			  "%s: holder not named: %s%s", cmds[i][0], r.out, r.err);
		cr_expect(!strpbrk(r.out, "\033\007") && !strpbrk(r.err, "\033\007"),
			  "%s: a control character reached the terminal: %s%s", cmds[i][0], r.out,
			  r.err);
		run_result_free(&r);
	}
	kill(bg, SIGTERM);
	cr_expect_neq(afx_reap(f, bg, 30), -1);
}

/* Own: the gateway's health answers are its words, and `status` and `list`
 * print them inside lines of their own. A payload whose /readyz says it is
 * failing "db\nFORGED b: running" would start a line of its choosing there
 * (a row for another profile in `list`, an "ok" in `status`): a word from
 * the payload stays on its line. */
BOTH_MODES(broken, health_words_cannot_forge_lines)
{
	const char *const cmds[][4] = {{"--profile", "a", "status", NULL}, {"list", NULL}};
	struct run_result r;

	f->detached[0] = true;
	afx_the = *f;
	AFX_OCR(f, &r, "--profile", "a", "gateway", "--detach", "--gateway-cmd", f->fake, "--env",
		"FAKE_READY_FAILING=db\\nFORGED b: running\\tTAB");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	for (size_t i = 0; i < 2; i++) {
		AFX_OCR(f, &r, cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3]);
		cr_expect(strstr(r.out, "FORGED"), "%s: the failing check is not shown: %s%s",
			  cmds[i][0], r.out, r.err);
		cr_expect(!strstr(r.out, "\nFORGED") && !strstr(r.err, "\nFORGED") &&
			      !strstr(r.out, "\tTAB"),
			  "%s: the payload started a line of its own: %s%s", cmds[i][0], r.out,
			  r.err);
		run_result_free(&r);
	}
}

/* Own: upstream's CLI run as root left a file of root's in the state dir;
 * the payload renames the directory holding it to an escape sequence.
 * The commands that name the first foreign file show the name defanged. */
ROOT_ONLY(broken, foreign_file_name_cannot_drive_the_terminal)
{
	const char *const cmds[][6] = {
	    {"--profile", "a", "check", NULL},
	    {"--profile", "a", "gateway", "--gateway-cmd", f->fake, NULL}};
	char dir[AFX_PATH + 16], file[AFX_PATH + 32];
	struct run_result r;

	afx_fmt(dir, "%s/agents", f->state_a);
	afx_sh("mkdir -p '%s' && chown %u:%u '%s'", dir, (unsigned)f->uid, (unsigned)f->gid, dir);
	afx_fmt(file, "%s/auth.json", dir);
	write_text_file(file, "{}\n");
	afx_payload(f, &r, "a",
		    "cd \"$OPENCLAW_STATE_DIR\" && "
		    "mv agents \"$(printf 'x\\033]0;PWN\\007\\033[2K\\nFORGED')\"");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(afx_run(f, &r, 120, cmds[i]), 0);
		cr_expect(strstr(r.out, "PWN") || strstr(r.err, "PWN"),
			  "%s: the foreign file is not named: %s%s", cmds[i][2], r.out, r.err);
		cr_expect(!strpbrk(r.out, "\033\007") && !strpbrk(r.err, "\033\007") &&
			      !strstr(r.out, "\nFORGED") && !strstr(r.err, "\nFORGED"),
			  "%s: the payload's name drove the terminal: %s%s", cmds[i][2], r.out,
			  r.err);
		run_result_free(&r);
	}
}
