/* The attack suite's fixture (issue 7): a throwaway host account that the
 * hostile payload runs as, two profiles "a" and "b" set up on neighbouring
 * port blocks, and the launcher run either by root (the payload is the
 * throwaway account, as `setup --user` pinned it) or rootless (setpriv to
 * that account, records/cache/logs under its own temp HOME).
 *
 * Everything the test makes (the account, its group, temp dirs, bind mounts,
 * detached gateways) is undone by afx_fini, the suites' .fini: Criterion runs
 * it even after a failed assertion. Header-only (static): one copy per test
 * binary. */
#ifndef OCR_ATTACK_FX_H
#define OCR_ATTACK_FX_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define AFX_MAX_ARGS 48
/* Fixture paths are short (a temp dir); locals built from them get 1024. */
#define AFX_PATH 512
/* snprintf into an array, asserting nothing was cut. */
#define afx_fmt(buf, ...)                                                                          \
	cr_assert_lt((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__), sizeof(buf),               \
		     "too long: %s", (buf))

struct afx {
	bool rootless;
	char *tmp;
	char user[32];
	uid_t uid;
	gid_t gid;
	bool user_made;
	char user2[32]; /* a second account, for "another HOME" */
	bool user2_made;
	/* A world-readable copy of the binary, its policy and the helpers: the
	 * build tree may lie where the account cannot enter. */
	char bin[AFX_PATH], helpers[AFX_PATH], attacker[AFX_PATH], fake[AFX_PATH];
	char home[AFX_PATH];	/* the launcher's HOME */
	char uhome[AFX_PATH];	/* the account's HOME (= home rootless) */
	char records[AFX_PATH]; /* the launcher's records dir */
	char runtime[AFX_PATH]; /* XDG_RUNTIME_DIR */
	char state_a[AFX_PATH], state_b[AFX_PATH];
	char config_a[AFX_PATH], config_b[AFX_PATH];
	unsigned base_a, base_b;
	char mounts[4][AFX_PATH];
	int n_mounts;
	bool detached[2]; /* profile a, b: `stop` them at the end */
	pid_t bg[4];	  /* launchers running in the background */
	int n_bg;
	char extra_env[2][AFX_PATH + 32]; /* "KEY=VALUE" for every launcher run */
};

static __attribute__((unused)) long afx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The fixture of the running test, for afx_fini. */
static struct afx afx_the;

static __attribute__((unused)) void afx_sh(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* A host-side shell command run by the test itself (as root). */
static __attribute__((unused)) void afx_sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
	struct run_result r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(run_argv(&r, NULL, argv, 60), 0);
	cr_assert_eq(r.exit_code, 0, "%s: %s%s", cmd, r.out, r.err);
	run_result_free(&r);
}

static __attribute__((unused)) void afx_quiet_sh(const char *cmd)
{
	char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL};
	struct run_result r;

	if (run_argv(&r, NULL, argv, 60) == 0)
		run_result_free(&r);
}

/* argv/env of the launcher in the fixture's mode; ARGS NULL-terminated. */
static __attribute__((unused)) void afx_argv(const struct afx *f, const char *const *args,
					     char **argv)
{
	static char reuid[32], regid[32];
	size_t n = 0;

	if (f->rootless) {
		afx_fmt(reuid, "--reuid=%u", (unsigned)f->uid);
		afx_fmt(regid, "--regid=%u", (unsigned)f->gid);
		argv[n++] = (char *)"/usr/bin/setpriv";
		argv[n++] = reuid;
		argv[n++] = regid;
		argv[n++] = (char *)"--clear-groups";
	}
	argv[n++] = (char *)f->bin;
	for (size_t i = 0; args[i] && n < AFX_MAX_ARGS - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
}

static __attribute__((unused)) void afx_env(const struct afx *f, char **envp)
{
	static char home[PATH_MAX + 8], runtime[PATH_MAX + 32], records[PATH_MAX + 48];
	size_t n = 0;

	afx_fmt(home, "HOME=%s", f->home);
	afx_fmt(runtime, "XDG_RUNTIME_DIR=%s", f->runtime);
	afx_fmt(records, "OPENCLAW_RUN_RECORDS_DIR=%s", f->records);
	envp[n++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	envp[n++] = home;
	envp[n++] = runtime;
	/* Rootless, the records stay where a real user has them (~/.config):
	 * the filter cache attack needs the real layout. */
	if (!f->rootless)
		envp[n++] = records;
	for (size_t i = 0; i < 2; i++)
		if (f->extra_env[i][0])
			envp[n++] = (char *)f->extra_env[i];
	n = add_sanitizer_env(envp, n, 11);
	envp[n] = NULL;
}

/* openclaw-run ARGS... in the fixture's mode, killed after TIMEOUT_S. */
static __attribute__((unused)) int afx_run(const struct afx *f, struct run_result *r, int timeout_s,
					   const char *const *args)
{
	char *argv[AFX_MAX_ARGS], *envp[12];

	afx_argv(f, args, argv);
	afx_env(f, envp);
	return run_argv(r, envp, argv, timeout_s);
}

#define AFX_OCR(f, r, ...)                                                                         \
	cr_assert_eq(afx_run((f), (r), 120, (const char *const[]){__VA_ARGS__, NULL}), 0)

/* The payload: `/bin/sh -c SCRIPT` inside profile PROFILE's sandbox, with
 * the helpers shown read-only. */
static __attribute__((unused)) void afx_payload(const struct afx *f, struct run_result *r,
						const char *profile, const char *script)
{
	AFX_OCR(f, r, "--profile", profile, "exec", "--ro-bind", f->helpers, "--", "/bin/sh", "-c",
		script);
}

static __attribute__((unused)) void afx_payloadf(const struct afx *f, struct run_result *r,
						 const char *profile, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static __attribute__((unused)) void afx_payloadf(const struct afx *f, struct run_result *r,
						 const char *profile, const char *fmt, ...)
{
	char script[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	afx_payload(f, r, profile, script);
}

static __attribute__((unused)) void afx_setup(const struct afx *f, const char *profile,
					      unsigned base)
{
	struct run_result r;
	char port[16];

	afx_fmt(port, "%u", base);
	if (f->rootless)
		AFX_OCR(f, &r, "--profile", profile, "setup", "--port", port);
	else
		AFX_OCR(f, &r, "--profile", profile, "setup", "--port", port, "--user", f->user);
	cr_assert_eq(r.exit_code, 0, "setup %s: %s%s", profile, r.out, r.err);
	run_result_free(&r);
}

static __attribute__((unused)) void afx_copy(const char *from, const char *to, mode_t mode)
{
	afx_sh("cp '%s' '%s'", from, to);
	cr_assert_eq(chmod(to, mode), 0);
}

/* A throwaway account NAME with HOME (not created here); its uid/gid. */
static __attribute__((unused)) void afx_useradd(const char *name, const char *home, uid_t *uid,
						gid_t *gid)
{
	char path[64], *text, *line;
	size_t len = strlen(name);

	/* Retried: another test binary's useradd/userdel may hold the lock of
	 * /etc/passwd for a moment. */
	afx_sh("for i in $(seq 50); do useradd -M -U -d '%s' -s /usr/sbin/nologin '%s' && "
	       "exit 0; sleep 0.2; done; exit 1",
	       home, name);
	afx_fmt(path, "/etc/passwd");
	text = read_text_file(path);
	cr_assert_not_null(text);
	for (line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			unsigned u, g;

			cr_assert_eq(sscanf(line + len, ":%*[^:]:%u:%u:", &u, &g), 2);
			*uid = u;
			*gid = g;
			free(text);
			return;
		}
	}
	free(text);
	cr_assert_fail("useradd %s: not in /etc/passwd", name);
}

/* ROOTLESS or root; profiles a and b set up on neighbouring blocks. */
static __attribute__((unused)) void afx_init(struct afx *f, bool rootless)
{
	char dir[PATH_MAX + 64];
	int hold[2];

	memset(f, 0, sizeof(*f));
	if (geteuid() != 0)
		cr_skip_test("needs root (to make the throwaway account)");
	f->rootless = rootless;
	/* The launcher's stdin: a pipe that never delivers anything, so a
	 * config linked to /proc/self/fd/0 would hang the command reading it. */
	cr_assert_eq(pipe(hold), 0);
	dup2(hold[0], 0);
	f->tmp = tmpdir_make("atk");
	afx_fmt(f->user, "ocratk%d", (int)getpid());
	afx_fmt(f->uhome, "%s/uhome", f->tmp);
	afx_the = *f;
	afx_useradd(f->user, f->uhome, &f->uid, &f->gid);
	f->user_made = true;
	afx_the = *f;
	afx_fmt(dir, "%s/build/share/openclaw-run", f->tmp);
	afx_sh("mkdir -p '%s' && chmod -R 0755 '%s/build'", dir, f->tmp);
	afx_copy(OCR_BUILD_DIR "/share/openclaw-run/default.policy", strcat(dir, "/default.policy"),
		 0644);
	afx_fmt(f->bin, "%s/build/openclaw-run", f->tmp);
	afx_copy(OCR_BIN, f->bin, 0755);
	afx_fmt(f->helpers, "%s/helpers", f->tmp);
	cr_assert_eq(mkdir(f->helpers, 0755), 0);
	afx_fmt(f->attacker, "%s/attacker", f->helpers);
	afx_copy(OCR_HELPERS_DIR "/attacker", f->attacker, 0755);
	afx_fmt(f->fake, "%s/fake_gateway", f->helpers);
	afx_copy(OCR_HELPERS_DIR "/fake_gateway", f->fake, 0755);

	cr_assert_eq(mkdir(f->uhome, 0700), 0);
	cr_assert_eq(chown(f->uhome, f->uid, f->gid), 0);
	afx_fmt(f->runtime, "%s/run", f->tmp);
	cr_assert_eq(mkdir(f->runtime, 0700), 0);
	if (rootless) {
		afx_fmt(f->home, "%s", f->uhome);
		afx_fmt(f->records, "%s/.config/openclaw-run", f->home);
		cr_assert_eq(chown(f->runtime, f->uid, f->gid), 0);
	} else {
		afx_fmt(f->home, "%s/roothome", f->tmp);
		cr_assert_eq(mkdir(f->home, 0755), 0);
		afx_fmt(f->records, "%s/records", f->tmp);
	}
	afx_fmt(f->state_a, "%s/.openclaw-a", f->home);
	afx_fmt(f->state_b, "%s/.openclaw-b", f->home);
	afx_fmt(f->config_a, "%s/openclaw.json", f->state_a);
	afx_fmt(f->config_b, "%s/openclaw.json", f->state_b);
	f->base_a = free_port_base();
	f->base_b = f->base_a + 120 <= 65000 ? f->base_a + 120 : f->base_a - 120;
	afx_the = *f;
	afx_setup(f, "a", f->base_a);
	afx_setup(f, "b", f->base_b);
}

/* A second throwaway account with its own HOME (made, owned by it). */
static __attribute__((unused)) void afx_second_user(struct afx *f, char *home, size_t len)
{
	uid_t uid;
	gid_t gid;

	afx_fmt(f->user2, "ocratk%db", (int)getpid());
	snprintf(home, len, "%s/home2", f->tmp);
	afx_useradd(f->user2, home, &uid, &gid);
	f->user2_made = true;
	afx_the = *f;
	cr_assert_eq(mkdir(home, 0700), 0);
	cr_assert_eq(chown(home, uid, gid), 0);
}

/* mount --bind FROM TO, undone at the end. */
static __attribute__((unused)) void afx_bind_mount(struct afx *f, const char *from, const char *to)
{
	cr_assert_lt(f->n_mounts, 4);
	cr_assert_eq(mount(from, to, NULL, MS_BIND, NULL), 0, "bind %s %s: %s", from, to,
		     strerror(errno));
	snprintf(f->mounts[f->n_mounts++], AFX_PATH, "%.*s", AFX_PATH - 1, to);
	afx_the = *f;
}

/* Starts a payload `/bin/sh -c SCRIPT` in PROFILE in the background, its
 * output discarded; afx_reap waits for it, afx_fini kills it. */
static __attribute__((unused)) pid_t afx_spawn_payload(struct afx *f, const char *profile,
						       const char *script)
{
	const char *const args[] = {"--profile", profile,   "exec", "--ro-bind", f->helpers,
				    "--",	 "/bin/sh", "-c",   script,	 NULL};
	char *argv[AFX_MAX_ARGS], *envp[12];
	pid_t pid;

	cr_assert_lt(f->n_bg, 4);
	afx_argv(f, args, argv);
	afx_env(f, envp);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(null, 1);
		dup2(null, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	f->bg[f->n_bg++] = pid;
	return pid;
}

/* Waits up to TIMEOUT_S for a background launcher; its exit code or -1. */
static __attribute__((unused)) int afx_reap(struct afx *f, pid_t pid, int timeout_s)
{
	long deadline = afx_now_ms() + timeout_s * 1000L;
	int status;

	while (afx_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			for (int i = 0; i < f->n_bg; i++)
				if (f->bg[i] == pid)
					f->bg[i] = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(100000);
	}
	return -1;
}

static __attribute__((unused)) void afx_fini(void)
{
	struct afx *f = &afx_the;
	struct run_result r;
	char cmd[512];

	for (int i = 0; i < f->n_bg; i++) {
		if (f->bg[i] <= 0)
			continue;
		kill(f->bg[i], SIGTERM);
		if (afx_reap(f, f->bg[i], 20) < 0) {
			kill(-f->bg[i], SIGKILL);
			waitpid(f->bg[i], NULL, 0);
		}
	}

	for (int i = 0; i < 2; i++) {
		if (f->detached[i])
			if (afx_run(f, &r, 60,
				    (const char *const[]){"--profile", i ? "b" : "a", "stop",
							  "--timeout", "20", NULL}) == 0)
				run_result_free(&r);
	}
	for (int i = f->n_mounts - 1; i >= 0; i--)
		umount2(f->mounts[i], MNT_DETACH);
	/* -f: a process of the account may still be exiting. */
	if (f->user_made) {
		afx_fmt(cmd,
			"for i in $(seq 50); do id %s >/dev/null 2>&1 || break; "
			"userdel -f %s && break; sleep 0.2; done; "
			"getent group %s >/dev/null && groupdel %s",
			f->user, f->user, f->user, f->user);
		afx_quiet_sh(cmd);
	}
	if (f->user2_made) {
		afx_fmt(cmd,
			"for i in $(seq 50); do id %s >/dev/null 2>&1 || break; "
			"userdel -f %s && break; sleep 0.2; done; "
			"getent group %s >/dev/null && groupdel %s",
			f->user2, f->user2, f->user2, f->user2);
		afx_quiet_sh(cmd);
	}
	if (f->tmp) {
		tmpdir_remove(f->tmp);
		free(f->tmp);
	}
	memset(f, 0, sizeof(*f));
}

/* ---- what must not change on the host --------------------------------------- */

struct snap {
	bool exists;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	char *content; /* a file's bytes, a directory's sorted entry names */
};

static __attribute__((unused)) int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static __attribute__((unused)) char *dir_listing(const char *path)
{
	DIR *d = opendir(path);
	char *names[512], *out;
	size_t n = 0, len = 1;
	struct dirent *e;

	if (!d)
		return strdup("");
	while ((e = readdir(d)) && n < 512)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, names[i]);
		strcat(out, "\n");
		free(names[i]);
	}
	return out;
}

static __attribute__((unused)) void snap_take(const char *path, struct snap *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (lstat(path, &st) < 0)
		return;
	s->exists = true;
	s->uid = st.st_uid;
	s->gid = st.st_gid;
	s->mode = st.st_mode;
	if (S_ISDIR(st.st_mode))
		s->content = dir_listing(path);
	else if (S_ISREG(st.st_mode))
		s->content = read_text_file(path);
}

/* PATH is as BEFORE was: existence, owner, mode, content or entries. */
static __attribute__((unused)) void snap_expect_same(const char *path, struct snap *before)
{
	struct snap now;

	snap_take(path, &now);
	cr_expect_eq(now.exists, before->exists, "%s: %s", path,
		     now.exists ? "appeared" : "disappeared");
	cr_expect_eq(now.uid, before->uid, "%s: owner %u, was %u", path, (unsigned)now.uid,
		     (unsigned)before->uid);
	cr_expect_eq(now.gid, before->gid, "%s: group changed", path);
	cr_expect_eq(now.mode, before->mode, "%s: mode %o, was %o", path, now.mode, before->mode);
	cr_expect_str_eq(now.content ? now.content : "", before->content ? before->content : "",
			 "%s: content changed", path);
	free(now.content);
	free(before->content);
	before->content = NULL;
}

/* Is anything listening on TCP PORT on the host (v4 or v6)? */
static __attribute__((unused)) bool host_listens(unsigned port)
{
	static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char want[8];
	bool found = false;

	afx_fmt(want, ":%04X", port);
	for (size_t i = 0; i < 2; i++) {
		char *text = read_text_file(tables[i]), *line;

		for (line = text; line && *line;
		     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char local[128], state[8];

			if (sscanf(line, " %*[^:]: %127s %*s %7s", local, state) == 2 &&
			    strstr(local, want) && strlen(strstr(local, want)) == 5 &&
			    strcmp(state, "0A") == 0)
				found = true;
		}
		free(text);
	}
	return found;
}

static __attribute__((unused)) int root_owned_entry(const char *path, const struct stat *st,
						    int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	cr_expect_neq(st->st_uid, 0, "root-owned %s in the payload's tree", path);
	return 0;
}

/* Root made nothing in DIR that the payload could then swap or read. */
static __attribute__((unused)) void expect_no_root_files(const char *dir)
{
	nftw(dir, root_owned_entry, 16, FTW_PHYS);
}

/* A root-owned directory with a root-only file: what the payload points at. */
static __attribute__((unused)) void afx_root_target(const struct afx *f, const char *name,
						    char *dir, size_t len)
{
	char file[PATH_MAX + 16];

	snprintf(dir, len, "%s/%s", f->tmp, name);
	cr_assert_eq(mkdir(dir, 0755), 0);
	afx_fmt(file, "%s/secret", dir);
	write_text_file(file, "{\"ROOTSECRET\": 1, bad}\n");
	cr_assert_eq(chmod(file, 0600), 0);
}

/* Runs a test body in both launch modes. */
#define BOTH_MODES(suite, name)                                                                    \
	static __attribute__((unused)) void attack_##name(struct afx *f);                          \
	Test(suite##_as_root, name, .fini = afx_fini)                                              \
	{                                                                                          \
		afx_init(&afx_the, false);                                                         \
		attack_##name(&afx_the);                                                           \
	}                                                                                          \
	Test(suite##_rootless, name, .fini = afx_fini)                                             \
	{                                                                                          \
		afx_init(&afx_the, true);                                                          \
		attack_##name(&afx_the);                                                           \
	}                                                                                          \
	static __attribute__((unused)) void attack_##name(struct afx *f)

#define ROOT_ONLY(suite, name)                                                                     \
	static __attribute__((unused)) void attack_##name(struct afx *f);                          \
	Test(suite##_as_root, name, .fini = afx_fini)                                              \
	{                                                                                          \
		afx_init(&afx_the, false);                                                         \
		attack_##name(&afx_the);                                                           \
	}                                                                                          \
	static __attribute__((unused)) void attack_##name(struct afx *f)

#define ROOTLESS_ONLY(suite, name)                                                                 \
	static __attribute__((unused)) void attack_##name(struct afx *f);                          \
	Test(suite##_rootless, name, .fini = afx_fini)                                             \
	{                                                                                          \
		afx_init(&afx_the, true);                                                          \
		attack_##name(&afx_the);                                                           \
	}                                                                                          \
	static __attribute__((unused)) void attack_##name(struct afx *f)

#endif
