/* Attacks of a rescuer's payload (setup --rescues): profile b may rescue
 * a. Its grant is a control socket and a directory for its copy of a's
 * config; neither may become more than that on the host. */
#include "attack_fx.h"

static void grant_b_on_a(const struct afx *f)
{
	struct run_result r;

	AFX_OCR(f, &r, "--profile", "b", "setup", "--rescues", "a");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
}

static long long du_bytes(const char *dir)
{
	char cmd[AFX_PATH + 64];
	long long bytes = -1;
	FILE *p;

	afx_fmt(cmd, "du -sb '%s' | cut -f1", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%lld", &bytes), 1);
	pclose(p);
	return bytes;
}

/* Profile a's gateway, detached, once b's sandbox reaches its control
 * socket (the supervisor opens it within its rescan, 3 s). */
static void start_a_for_b(struct afx *f)
{
	struct run_result r;

	f->detached[0] = true;
	afx_the = *f;
	AFX_OCR(f, &r, "--profile", "a", "gateway", "--detach", "--gateway-cmd", f->fake);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
}

static void wait_for_socket(const struct afx *f)
{
	struct run_result r;

	for (int i = 0; i < 100; i++) {
		/* No exit-time leak scan in the sanitized build: seccomp kills
		 * its ptrace. */
		afx_payload(f, &r, "b",
			    "ASAN_OPTIONS=detect_leaks=0 openclaw-run --profile a status "
			    ">/dev/null 2>&1; echo rc=$?");
		bool done = strstr(r.out, "rc=0") != NULL;
		run_result_free(&r);
		if (done)
			return;
		usleep(200000);
	}
	cr_assert_fail("b never reached a's control socket");
}

/* The launcher's copy of a's audit log (its log dir, out of every
 * sandbox's reach): its text, or NULL. */
static char *launcher_audit(const struct afx *f)
{
	char cmd[AFX_PATH + 96], path[AFX_PATH + 128] = "";
	FILE *p;

	afx_fmt(cmd, "find '%s' -name 'a-*.audit.log' -path '*/logs/*' | head -1", f->tmp);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (!fgets(path, sizeof(path), p))
		path[0] = '\0';
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return path[0] ? read_text_file(path) : NULL;
}

/* Own: the rescuer's copy of the config lives where its payload writes.
 * The runtime dir (/run as root: a small RAM-backed file system the whole
 * host needs) is not such a place: whatever the payload writes into the
 * grant's config dir must not land there. */
BOTH_MODES(rescue, config_copy_cannot_fill_the_runtime_dir)
{
	struct run_result r;
	long long before, after;

	grant_b_on_a(f);
	before = du_bytes(f->runtime);
	afx_payload(f, &r, "b",
		    "cd \"$OPENCLAW_RUN_RESCUE_DIR/a/config\" && "
		    "dd if=/dev/zero of=big bs=1M count=64 2>&1; ls -la; true");
	cr_expect_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	after = du_bytes(f->runtime);
	cr_expect_lt(after - before, 1 << 20,
		     "the rescuer's payload wrote %lld bytes into the runtime dir %s",
		     after - before, f->runtime);
}

/* Own: main's payload renames a file it cannot read (root's, below its
 * workspace, as a person's `sudo cp` leaves one) to the name of the audit
 * log main's supervisor keeps in the state dir; a rescuer's request then
 * makes the supervisor append to it. Root gives the payload no file it did
 * not make itself: the renamed file stays root's and unread. */
ROOT_ONLY(rescue, audit_log_name_cannot_take_a_root_file)
{
	char ws[AFX_PATH + 16], secret[AFX_PATH + 32], audit[AFX_PATH + 32];
	struct run_result r;
	struct stat st;

	grant_b_on_a(f);
	afx_fmt(ws, "%s/workspace", f->state_a);
	afx_sh("mkdir -p '%s' && chown %u:%u '%s'", ws, (unsigned)f->uid, (unsigned)f->gid, ws);
	afx_fmt(secret, "%s/secret", ws);
	write_text_file(secret, "ROOTSECRET\n");
	cr_assert_eq(chmod(secret, 0600), 0);
	afx_fmt(audit, "%s/openclaw-run-rescue.log", f->state_a);
	start_a_for_b(f);
	afx_payload(f, &r, "a",
		    "cd \"$OPENCLAW_STATE_DIR\" && rm -f openclaw-run-rescue.log && "
		    "mv workspace/secret openclaw-run-rescue.log");
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	run_result_free(&r);
	wait_for_socket(f);
	cr_assert_eq(lstat(audit, &st), 0);
	cr_expect_eq(st.st_uid, 0, "root gave the payload its file %s (uid %u)", audit,
		     (unsigned)st.st_uid);
	afx_payload(f, &r, "a", "cat \"$OPENCLAW_STATE_DIR/openclaw-run-rescue.log\"");
	cr_expect(!strstr(r.out, "ROOTSECRET"), "the payload read root's file: %s", r.out);
	run_result_free(&r);
}

/* Own: every request is audited with what the peer asked for; the peer's
 * words are its own. An op carrying a newline and a whole forged line ("the
 * host stopped it") stays on the rescuer's own line, and no escape reaches
 * the terminal of whoever reads the log. */
BOTH_MODES(rescue, audit_log_lines_cannot_be_forged)
{
	char req[AFX_PATH + 16];
	struct run_result r;
	char *audit;

	grant_b_on_a(f);
	start_a_for_b(f);
	wait_for_socket(f);
	afx_fmt(req, "%s/req.json", f->helpers);
	write_text_file(req, "{\"op\": \"x\\n2026-01-01T00:00:00Z peer pid 1 uid 0 (host) "
			     "FORGED: ok\\u001b]0;PWN\\u0007\"}");
	afx_payloadf(f, &r, "b",
		     "%s flood \"$OPENCLAW_RUN_RESCUE_DIR/a/control.sock\" 1 \"$(cat %s)\"",
		     f->attacker, req);
	cr_expect(strstr(r.out, "ok"), "%s%s", r.out, r.err);
	run_result_free(&r);
	audit = launcher_audit(f);
	cr_assert_not_null(audit, "no audit log");
	cr_expect(strstr(audit, "FORGED"), "the request is not audited: %s", audit);
	cr_expect(!strstr(audit, "\n2026-01-01T00:00:00Z") && !strpbrk(audit, "\033\007"),
		  "the rescuer wrote a line of its own into the audit log: %s", audit);
	free(audit);
}

/* Own: the audit log is bounded, and a rescuer that fills it first must
 * not act unaudited after that: 5 MB of long refused requests, then a
 * status. The launcher's audit log still records that status. */
BOTH_MODES(rescue, audit_log_cannot_be_filled_to_silence)
{
	char req[AFX_PATH + 16], op[1001];
	struct run_result r;
	char *audit;
	size_t len;

	grant_b_on_a(f);
	start_a_for_b(f);
	wait_for_socket(f);
	memset(op, 'x', sizeof(op) - 1);
	op[sizeof(op) - 1] = '\0';
	afx_fmt(req, "%s/req.json", f->helpers);
	write_text_file(req, op);
	afx_payloadf(f, &r, "b",
		     "S=\"$OPENCLAW_RUN_RESCUE_DIR/a/control.sock\"; "
		     "%s flood \"$S\" 5200 \"{\\\"op\\\": \\\"$(cat %s)\\\"}\" && "
		     "%s flood \"$S\" 1 '{\"op\": \"status\"}'",
		     f->attacker, req, f->attacker);
	cr_expect(strstr(r.out, "ok\nok"), "%s%s", r.out, r.err);
	run_result_free(&r);
	audit = launcher_audit(f);
	cr_assert_not_null(audit, "no audit log");
	len = strlen(audit);
	cr_expect(len > 10 && strcmp(audit + len - 11, "status: ok\n") == 0,
		  "the status after the flood is not audited (the log ends: %s)",
		  audit + (len > 200 ? len - 200 : 0));
	free(audit);
}

/* Own: root's supervisor of a writes the copy into b's state dir and reads
 * it back from there: b's payload swaps the copy's directory for a link to
 * a root directory before a pull, and makes the copy a link to a root-only
 * file or a 100 MB file before a validate. Nothing is written to the root
 * directory, nothing root-only is read, every request fails and says so. */
BOTH_MODES(rescue, copy_dir_links_are_not_followed)
{
	char target[AFX_PATH], secret[AFX_PATH + 16];
	struct snap s_target, s_secret;
	struct run_result r;

	afx_root_target(f, "copytarget", target, sizeof(target));
	afx_fmt(secret, "%s/secret", target);
	if (f->rootless)
		afx_sh("chown -R %s: %s", f->user, target);
	snap_take(target, &s_target);
	snap_take(secret, &s_secret);
	grant_b_on_a(f);
	start_a_for_b(f);
	wait_for_socket(f);
	afx_payloadf(
	    f, &r, "b",
	    "export ASAN_OPTIONS=detect_leaks=0; D=\"$OPENCLAW_STATE_DIR/openclaw-run-rescue\"; "
	    "mv \"$D\" \"$D.old\" && ln -s %s \"$D\" || exit 9; "
	    "openclaw-run --profile a config pull; echo pull=$?; "
	    "rm \"$D\" && mv \"$D.old\" \"$D\" || exit 9; C=$(echo \"$D\"/a-*); "
	    "ln -sf %s \"$C/openclaw.json\"; "
	    "openclaw-run --profile a config validate; echo link=$?; "
	    "rm -f \"$C/openclaw.json\"; truncate -s 100M \"$C/openclaw.json\"; "
	    "openclaw-run --profile a config validate; echo big=$?",
	    target, secret);
	cr_expect_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "pull=") && !strstr(r.out, "pull=0"), "pull: %s%s", r.out, r.err);
	cr_expect(strstr(r.out, "link=") && !strstr(r.out, "link=0"), "link: %s%s", r.out, r.err);
	cr_expect(strstr(r.out, "big=") && !strstr(r.out, "big=0"), "big: %s%s", r.out, r.err);
	cr_expect(!strstr(r.out, "ROOTSECRET") && !strstr(r.err, "ROOTSECRET"),
		  "a root-only file was read: %s%s", r.out, r.err);
	run_result_free(&r);
	snap_expect_same(target, &s_target);
	snap_expect_same(secret, &s_secret);
}
