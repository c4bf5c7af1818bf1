/* Seccomp: the policy is a text file, one syscall per line:
 *
 *     allow read
 *     errno ENOSYS io_uring_setup   # libuv falls back to epoll
 *     kill mount                    # a new mount could undo the sandbox
 *     allow clone if arg0 & 0x7e020000 == 0   # no CLONE_NEW* flags
 *
 * Actions: allow, kill (the whole process, SIGSYS), errno NAME|NUMBER.
 * Every line that is not a plain allow needs a comment saying why. Unlisted
 * syscalls fail with EPERM; a foreign architecture kills. The policy is
 * compiled once in the launcher (errors name file:line) to raw BPF that the
 * payload installs right before execve. */
#include "sandbox_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static const struct {
	const char *name;
	int value;
} errno_names[] = {
    {"EPERM", EPERM},		{"ENOSYS", ENOSYS},
    {"EACCES", EACCES},		{"EINVAL", EINVAL},
    {"ENOENT", ENOENT},		{"EIO", EIO},
    {"EOPNOTSUPP", EOPNOTSUPP}, {"EAFNOSUPPORT", EAFNOSUPPORT},
};

struct parse_state {
	const char *path;
	unsigned line;
	int seen[1024]; /* syscall number -> line that named it (0: not yet) */
	size_t n_rules;
};

static int parse_errno(const char *word, int *out)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++) {
		if (strcmp(word, errno_names[i].name) == 0) {
			*out = errno_names[i].value;
			return 0;
		}
	}
	v = strtol(word, &end, 10);
	if (*word && !*end && v > 0 && v < 4096) {
		*out = (int)v;
		return 0;
	}
	return -1;
}

static int parse_u64(const char *word, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(word, &end, 0);
	return (*word && !*end && errno == 0) ? 0 : -1;
}

/* "if argN & MASK == VALUE", "if argN == VALUE", "if argN != VALUE". */
static int parse_condition(char **w, int n, struct scmp_arg_cmp *cmp)
{
	uint64_t mask, value;
	unsigned arg;

	if (n != 4 && n != 6)
		return -1;
	if (strcmp(w[0], "if") != 0 || sscanf(w[1], "arg%u", &arg) != 1 || arg > 5 ||
	    strlen(w[1]) != 4)
		return -1;
	if (n == 6) {
		if (strcmp(w[2], "&") != 0 || parse_u64(w[3], &mask) < 0 ||
		    strcmp(w[4], "==") != 0 || parse_u64(w[5], &value) < 0)
			return -1;
		*cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value);
		return 0;
	}
	if (parse_u64(w[3], &value) < 0)
		return -1;
	if (strcmp(w[2], "==") == 0)
		*cmp = SCMP_CMP(arg, SCMP_CMP_EQ, value);
	else if (strcmp(w[2], "!=") == 0)
		*cmp = SCMP_CMP(arg, SCMP_CMP_NE, value);
	else
		return -1;
	return 0;
}

static int fail(struct parse_state *ps, struct sandbox_error *err, const char *what,
		const char *word)
{
	return sandbox_error_set(err, 0, "%s:%u: %s%s%s%s", ps->path, ps->line, what,
				 word ? " '" : "", word ? word : "", word ? "'" : "");
}

static int parse_line(scmp_filter_ctx ctx, struct parse_state *ps, char *text,
		      struct sandbox_error *err)
{
	char *comment = strchr(text, '#');
	bool has_comment = false;
	char *w[10];
	int n = 0, nr, rc;
	uint32_t action;
	int first_arg;
	struct scmp_arg_cmp cmp;

	if (comment) {
		*comment = '\0';
		for (char *c = comment + 1; *c; c++)
			has_comment |= !isspace((unsigned char)*c);
	}
	for (char *tok = strtok(text, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
		if (n == 10)
			return fail(ps, err, "too many words", NULL);
		w[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (strcmp(w[0], "allow") == 0) {
		action = SCMP_ACT_ALLOW;
		first_arg = 1;
	} else if (strcmp(w[0], "kill") == 0) {
		action = SCMP_ACT_KILL_PROCESS;
		first_arg = 1;
	} else if (strcmp(w[0], "errno") == 0) {
		int e;

		if (n < 2 || parse_errno(w[1], &e) < 0)
			return fail(ps, err, "bad errno", n < 2 ? NULL : w[1]);
		action = SCMP_ACT_ERRNO((uint32_t)e);
		first_arg = 2;
	} else {
		return fail(ps, err, "unknown action (allow, kill, errno NAME)", w[0]);
	}
	if (n <= first_arg)
		return fail(ps, err, "missing syscall name", NULL);
	nr = seccomp_syscall_resolve_name(w[first_arg]);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return fail(ps, err, "unknown syscall", w[first_arg]);
	if (n > first_arg + 1 && parse_condition(w + first_arg + 1, n - first_arg - 1, &cmp) < 0)
		return fail(ps, err, "bad condition (if argN [& MASK] ==|!= VALUE)", NULL);
	if ((action != SCMP_ACT_ALLOW || n > first_arg + 1) && !has_comment)
		return fail(ps, err, "every deny or conditional rule needs a # comment saying why",
			    w[first_arg]);
	if ((size_t)nr < sizeof(ps->seen) / sizeof(ps->seen[0])) {
		if (ps->seen[nr])
			return sandbox_error_set(err, 0,
						 "%s:%u: syscall '%s' already listed on "
						 "line %d",
						 ps->path, ps->line, w[first_arg], ps->seen[nr]);
		ps->seen[nr] = (int)ps->line;
	}
	/* Same as the default: documentation only; libseccomp refuses it. */
	if (action == SCMP_ACT_ERRNO(EPERM) && n == first_arg + 1)
		rc = 0;
	else if (n > first_arg + 1)
		rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
	else
		rc = seccomp_rule_add_array(ctx, action, nr, 0, NULL);
	if (rc < 0)
		return sandbox_error_set(err, -rc, "%s:%u: add rule for '%s'", ps->path, ps->line,
					 w[first_arg]);
	ps->n_rules++;
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sb_bpf *out, const char *path,
		      struct sandbox_error *err)
{
	cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0)
		return sandbox_error_set(err, errno, "%s: memfd_create", path);
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return sandbox_error_set(err, -rc, "%s: compile", path);
	if (fstat(fd, &st) < 0)
		return sandbox_error_set(err, errno, "%s: compile", path);
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0)
		return sandbox_error_set(err, EINVAL, "%s: compiled filter has a bad size", path);
	out->insns = malloc((size_t)st.st_size);
	if (!out->insns)
		return sandbox_error_set(err, ENOMEM, "%s: compile", path);
	if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size) {
		sb_bpf_release(out);
		return sandbox_error_set(err, errno, "%s: read compiled filter", path);
	}
	out->len = (size_t)st.st_size / sizeof(struct sock_filter);
	return 0;
}

int sb_policy_compile(const char *path, struct sb_bpf *out, size_t *n_rules,
		      struct sandbox_error *err)
{
	struct parse_state *ps = calloc(1, sizeof(*ps));
	scmp_filter_ctx ctx = NULL;
	FILE *f = NULL;
	char line[1024];
	int rc = -1;

	out->insns = NULL;
	out->len = 0;
	if (!ps)
		return sandbox_error_set(err, ENOMEM, "%s", path);
	ps->path = path;
	f = fopen(path, "re");
	if (!f) {
		sandbox_error_set(err, errno, "%s", path);
		goto out;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		sandbox_error_set(err, ENOMEM, "%s: seccomp_init", path);
		goto out;
	}
	/* A syscall from another ABI (i386, x32) bypasses the per-name rules. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* We set no_new_privs ourselves, in order. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	while (fgets(line, sizeof(line), f)) {
		ps->line++;
		if (!strchr(line, '\n') && !feof(f)) {
			fail(ps, err, "line too long", NULL);
			goto out;
		}
		if (parse_line(ctx, ps, line, err) < 0)
			goto out;
	}
	if (ferror(f)) {
		sandbox_error_set(err, errno, "%s: read", path);
		goto out;
	}
	if (ps->n_rules == 0) {
		sandbox_error_set(err, 0, "%s: no rules", path);
		goto out;
	}
	if (export_bpf(ctx, out, path, err) < 0)
		goto out;
	if (n_rules)
		*n_rules = ps->n_rules;
	rc = 0;
out:
	if (ctx)
		seccomp_release(ctx);
	if (f)
		fclose(f);
	free(ps);
	return rc;
}

/* ---- compiled-filter cache --------------------------------------------------
 * Compiling the default policy costs ~1.2 ms, a tenth of a whole sandbox
 * start, and libseccomp's work raises the launcher's peak RSS. The BPF is
 * kept in $HOME/.cache/openclaw-run/, keyed by the policy file's identity
 * (device, inode, size, mtime) and libseccomp's version; a cache file that is
 * not ours or is writable by others is ignored. */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int cache_path(const char *policy, char *buf, size_t len)
{
	const struct scmp_version *v = seccomp_version();
	const char *home = getenv("HOME");
	uint64_t h = 0xcbf29ce484222325ULL;
	struct stat st;
	uint64_t key[6];

	if (!home || home[0] != '/' || stat(policy, &st) < 0 || !v)
		return -1;
	key[0] = st.st_dev;
	key[1] = st.st_ino;
	key[2] = (uint64_t)st.st_size;
	key[3] = (uint64_t)st.st_mtim.tv_sec;
	key[4] = (uint64_t)st.st_mtim.tv_nsec;
	key[5] = (uint64_t)v->major << 32 | v->minor << 16 | v->micro;
	h = fnv1a(h, key, sizeof(key));
	h = fnv1a(h, policy, strlen(policy));
	return snprintf(buf, len, "%s/.cache/openclaw-run/seccomp-%016llx.bpf", home,
			(unsigned long long)h) < (int)len
		   ? 0
		   : -1;
}

static int cache_read(const char *path, struct sb_bpf *out)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size == 0 || st.st_size % sizeof(struct sock_filter) || st.st_size > 1 << 20)
		return -1;
	out->insns = malloc((size_t)st.st_size);
	if (!out->insns)
		return -1;
	if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size) {
		sb_bpf_release(out);
		return -1;
	}
	out->len = (size_t)st.st_size / sizeof(struct sock_filter);
	return 0;
}

/* Best effort: a read-only HOME just means no cache. */
static void cache_write(const char *path, const struct sb_bpf *bpf)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	size_t size = bpf->len * sizeof(struct sock_filter);
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir(dir, 0755); /* ~/.cache */
	*slash = '/';
	mkdir(dir, 0700);
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, bpf->insns, size) != (ssize_t)size || close(fd) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

int sb_policy_load(const char *path, struct sb_bpf *out, struct sandbox_error *err)
{
	char cache[PATH_MAX];
	bool cacheable = cache_path(path, cache, sizeof(cache)) == 0;

	if (cacheable && cache_read(cache, out) == 0)
		return 0;
	if (sb_policy_compile(path, out, NULL, err) < 0)
		return -1;
	if (cacheable)
		cache_write(cache, out);
	return 0;
}

void sb_bpf_release(struct sb_bpf *bpf)
{
	free(bpf->insns);
	bpf->insns = NULL;
	bpf->len = 0;
}

int sb_seccomp_apply(const struct sb_bpf *bpf, struct sandbox_error *err)
{
	struct sock_fprog prog = {.len = (unsigned short)bpf->len, .filter = bpf->insns};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return sandbox_error_set(err, errno, "sandbox: seccomp");
	return 0;
}

int sandbox_policy_check(const char *path, size_t *n_rules, struct sandbox_error *err)
{
	struct sb_bpf bpf;

	if (sb_policy_compile(path, &bpf, n_rules, err) < 0)
		return -1;
	sb_bpf_release(&bpf);
	return 0;
}
