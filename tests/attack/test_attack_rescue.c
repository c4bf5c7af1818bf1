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
