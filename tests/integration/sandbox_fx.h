/* The fixture of the sandbox tests (test_sandbox*.c): a temp HOME holding
 * two profiles set up by `setup`, the built binary, policy and probe copied
 * where the unprivileged user can reach them, and `openclaw-run exec --
 * probe ...` run once launched by root (payload as --user nobody) and once
 * by an unprivileged user (setpriv to 65534). */
#ifndef OCR_TEST_SANDBOX_FX_H
#define OCR_TEST_SANDBOX_FX_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY	  65534
#define SIGSYS_RC (128 + SIGSYS)

struct fx {
	bool unpriv;
	char *tmp;
	char home[1024], state[1100], other[1100];
	/* The binary, its policy and the probe, copied into the fixture's 0755
	 * temp dir: the build tree may sit below a directory the unprivileged
	 * user cannot enter, or below /root, which the view must not show. */
	char bin[1100], helpers[1100], probe[1200];
	unsigned base;
};

static inline int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, NOBODY, NOBODY);
}

static inline void copy_file(const char *from, const char *to, mode_t mode)
{
	char *argv[] = {(char *)"/bin/cp", (char *)from, (char *)to, NULL};
	struct run_result r;

	cr_assert_eq(run_argv(&r, NULL, argv, 60), 0);
	cr_assert_eq(r.exit_code, 0, "cp %s %s: %s", from, to, r.err);
	run_result_free(&r);
	cr_assert_eq(chmod(to, mode), 0);
}

/* A world-readable copy of what the tests run. */
static inline void fx_copy_build(struct fx *f)
{
	char dir[PATH_MAX], policy[PATH_MAX + 64];

	snprintf(dir, sizeof(dir), "%s/build", f->tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/build/share", f->tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/build/share/openclaw-run", f->tmp);
	mkdir(dir, 0755);
	snprintf(policy, sizeof(policy), "%s/default.policy", dir);
	copy_file(OCR_BUILD_DIR "/share/openclaw-run/default.policy", policy, 0644);
	snprintf(f->bin, sizeof(f->bin), "%s/build/openclaw-run", f->tmp);
	copy_file(OCR_BIN, f->bin, 0755);
	snprintf(f->helpers, sizeof(f->helpers), "%s/helpers", f->tmp);
	mkdir(f->helpers, 0755);
	snprintf(f->probe, sizeof(f->probe), "%s/probe", f->helpers);
	copy_file(OCR_HELPERS_DIR "/probe", f->probe, 0755);
}

static inline void fx_init(struct fx *f, bool unpriv)
{
	char path[PATH_MAX + 32], config[128];

	memset(f, 0, sizeof(*f));
	f->unpriv = unpriv;
	f->tmp = tmpdir_make("sandbox");
	f->base = free_port_base();
	fx_copy_build(f);
	snprintf(f->home, sizeof(f->home), "%s/home", f->tmp);
	snprintf(f->state, sizeof(f->state), "%s/.openclaw-a", f->home);
	snprintf(f->other, sizeof(f->other), "%s/.openclaw-b", f->home);
	snprintf(config, sizeof(config), "{\"gateway\": {\"port\": %u}}\n", f->base);
	snprintf(path, sizeof(path), "%s/openclaw.json", f->state);
	write_text_file(path, config);
	/* The other profile's block sits next to a's, never on it: left to
	 * upstream's hash of the name it could land inside a's random block and
	 * exec would rightly refuse the pair. */
	snprintf(config, sizeof(config), "{\"gateway\": {\"port\": %u}}\n",
		 f->base + 120 <= 65000 ? f->base + 120 : f->base - 120);
	snprintf(path, sizeof(path), "%s/openclaw.json", f->other);
	write_text_file(path, config);
	snprintf(path, sizeof(path), "%s/secret.txt", f->home);
	write_text_file(path, "host secret\n");
	/* A state dir that is a file, for the bad-input test. */
	snprintf(path, sizeof(path), "%s/.openclaw-file", f->home);
	write_text_file(path, "not a dir\n");
	/* The payload runs as nobody in both modes: it owns the profiles. */
	cr_assert_eq(nftw(f->home, chown_entry, 16, FTW_PHYS), 0);
}

static inline void fx_fini(struct fx *f)
{
	tmpdir_remove(f->tmp);
	free(f->tmp);
	f->tmp = NULL;
}

/* argv for `openclaw-run --profile PROFILE exec [opts] -- probe ARGS...`. */
static inline void build_argv(const struct fx *f, const char *profile, const char *const *opts,
			      const char *const *args, char **argv, size_t max)
{
	size_t n = 0;

	if (f->unpriv) {
		argv[n++] = (char *)"/usr/bin/setpriv";
		argv[n++] = (char *)"--reuid=65534";
		argv[n++] = (char *)"--regid=65534";
		argv[n++] = (char *)"--clear-groups";
	}
	argv[n++] = (char *)f->bin;
	argv[n++] = (char *)"--profile";
	argv[n++] = (char *)profile;
	argv[n++] = (char *)"exec";
	if (!f->unpriv) {
		argv[n++] = (char *)"--user";
		argv[n++] = (char *)"nobody";
	}
	argv[n++] = (char *)"--ro-bind";
	argv[n++] = (char *)f->helpers;
	for (size_t i = 0; opts && opts[i]; i++)
		argv[n++] = (char *)opts[i];
	argv[n++] = (char *)"--";
	for (size_t i = 0; args && args[i] && n < max - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
}

static inline void build_env(const struct fx *f, char *home_var, size_t len, char **envp)
{
	static char records_var[PATH_MAX + 48];
	size_t n = 0;

	snprintf(home_var, len, "HOME=%s", f->home);
	envp[n++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	envp[n++] = home_var;
	/* Root's records default to /var/lib/openclaw-run; rootless, they are
	 * under HOME already. */
	if (!f->unpriv) {
		snprintf(records_var, sizeof(records_var), "OPENCLAW_RUN_RECORDS_DIR=%s/records",
			 f->tmp);
		envp[n++] = records_var;
	}
	n = add_sanitizer_env(envp, n, 7);
	envp[n] = NULL;
}

static inline int run_probe_opts(const struct fx *f, struct run_result *r, const char *profile,
				 const char *const *opts, const char *const *args)
{
	char *argv[64], *envp[8], home_var[PATH_MAX + 8];

	build_argv(f, profile, opts, args, argv, 64);
	build_env(f, home_var, sizeof(home_var), envp);
	return run_argv(r, envp, argv, 120);
}

/* `setup` of PROFILE in the fixture's launch mode: what a sandbox may write
 * and bind is pinned there. As root the files go to nobody, who runs the
 * payload in both modes. */
static inline void fx_setup_run(const struct fx *f, const char *profile, struct run_result *r)
{
	char *argv[16], *envp[8], home_var[PATH_MAX + 8];
	size_t n = 0;

	if (f->unpriv) {
		argv[n++] = (char *)"/usr/bin/setpriv";
		argv[n++] = (char *)"--reuid=65534";
		argv[n++] = (char *)"--regid=65534";
		argv[n++] = (char *)"--clear-groups";
	}
	argv[n++] = (char *)f->bin;
	argv[n++] = (char *)"--profile";
	argv[n++] = (char *)profile;
	argv[n++] = (char *)"setup";
	if (!f->unpriv) {
		argv[n++] = (char *)"--user";
		argv[n++] = (char *)"nobody";
	}
	argv[n] = NULL;
	build_env(f, home_var, sizeof(home_var), envp);
	cr_assert_eq(run_argv(r, envp, argv, 120), 0);
}

static inline void fx_setup(const struct fx *f, const char *profile)
{
	struct run_result r;

	fx_setup_run(f, profile, &r);
	cr_assert_eq(r.exit_code, 0, "setup %s: %s%s", profile, r.out, r.err);
	run_result_free(&r);
}

/* Runs `probe ARGS...` (NULL-terminated) in profile "a". */
#define PROBE_RUN(f, r, ...)                                                                       \
	cr_assert_eq(run_probe_opts((f), (r), "a", NULL,                                           \
				    (const char *const[]){(f)->probe, __VA_ARGS__, NULL}),         \
		     0)

/* ---- both launch modes ----------------------------------------------------- */

/* Criterion runs each test in its own process; .fini runs even after a
 * failed assertion, so the temp HOME never outlives a test. */
static struct fx the_fx;

static inline void fx_cleanup(void)
{
	if (the_fx.tmp)
		fx_fini(&the_fx);
}

#define BOTH_MODES(name)                                                                           \
	Test(sandbox_as_root, name, .fini = fx_cleanup)                                            \
	{                                                                                          \
		if (geteuid() != 0)                                                                \
			cr_skip_test("needs root");                                                \
		fx_init(&the_fx, false);                                                           \
		fx_setup(&the_fx, "a");                                                            \
		fx_setup(&the_fx, "b");                                                            \
		check_##name(&the_fx);                                                             \
	}                                                                                          \
	Test(sandbox_unprivileged, name, .fini = fx_cleanup)                                       \
	{                                                                                          \
		if (geteuid() != 0)                                                                \
			cr_skip_test("needs root to switch to uid 65534");                         \
		fx_init(&the_fx, true);                                                            \
		fx_setup(&the_fx, "a");                                                            \
		fx_setup(&the_fx, "b");                                                            \
		check_##name(&the_fx);                                                             \
	}

#endif
