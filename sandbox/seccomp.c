/* Seccomp: the policy is a text file, one syscall per line:
 *
 *     allow read
 *     errno ENOSYS io_uring_setup   # libuv falls back to epoll
 *     kill mount                    # a new mount could undo the sandbox
 *     allow clone if arg0 & 0x7e020000 == 0   # no CLONE_NEW* flags
 *     allow socket if arg0 == 2 and arg2 == 6  # AF_INET, IPPROTO_TCP
 *
 * Actions: allow, kill (the whole process, SIGSYS), errno NAME|NUMBER.
 * Conditions: `argN [& MASK] OP VALUE` with OP one of == != < <= > >= (a
 * mask only with ==), up to six joined by `and`. A syscall may be listed on
 * several lines only when every one of them has a condition; lines with the
 * same action are alternatives. Every line that is not a plain allow needs
 * a comment saying why. Unlisted syscalls (and a listed one whose conditions
 * all fail) fail with EPERM; a foreign architecture kills. Arguments are
 * compared as 64-bit values, so garbage in the upper half of an int argument
 * matches no allow rule: deny rules only choose the errno, the allow rules
 * are the guard. The policy is compiled once in the launcher (errors name
 * file:line) to raw BPF that the payload installs right before execve. */
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
    {"EPERM", EPERM},
    {"ENOSYS", ENOSYS},
    {"EACCES", EACCES},
    {"EINVAL", EINVAL},
    {"ENOENT", ENOENT},
    {"EIO", EIO},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT},
};

#define MAX_WORDS  32
#define MAX_CONDS  6
#define POLICY_MAX (1 << 20) /* a policy is a few KiB; anything bigger is a mistake */

struct parse_state {
	const char *path;
	unsigned line;
	int seen[1024];	 /* syscall number -> line that named it (0: not yet) */
	bool cond[1024]; /* ... and whether that line had a condition */
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

static const struct {
	const char *op;
	enum scmp_compare cmp;
} ops[] = {
    {"==", SCMP_CMP_EQ}, {"!=", SCMP_CMP_NE}, {"<", SCMP_CMP_LT},
    {"<=", SCMP_CMP_LE}, {">", SCMP_CMP_GT},  {">=", SCMP_CMP_GE},
};

/* One "argN [& MASK] OP VALUE" of W[0..n-1] (n is 3 or 5). */
static int parse_one_condition(char **w, int n, struct scmp_arg_cmp *cmp)
{
	uint64_t mask, value;
	unsigned arg;

	if ((n != 3 && n != 5) || sscanf(w[0], "arg%u", &arg) != 1 || arg > 5 || strlen(w[0]) != 4)
		return -1;
	if (n == 5) {
		if (strcmp(w[1], "&") != 0 || parse_u64(w[2], &mask) < 0 ||
		    strcmp(w[3], "==") != 0 || parse_u64(w[4], &value) < 0)
			return -1;
		*cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, value);
		return 0;
	}
	if (parse_u64(w[2], &value) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(w[1], ops[i].op) == 0) {
			*cmp = SCMP_CMP(arg, ops[i].cmp, value);
			return 0;
		}
	}
	return -1;
}

/* "if COND [and COND]...": the conditions into cmp[], their count or -1. */
static int parse_conditions(char **w, int n, struct scmp_arg_cmp cmp[MAX_CONDS])
{
	int n_cmp = 0, i = 1;

	if (n < 4 || strcmp(w[0], "if") != 0)
		return -1;
	while (i < n) {
		int len = 0;

		while (i + len < n && strcmp(w[i + len], "and") != 0)
			len++;
		if (n_cmp == MAX_CONDS || parse_one_condition(w + i, len, &cmp[n_cmp]) < 0)
			return -1;
		for (int k = 0; k < n_cmp; k++) {
			if (cmp[k].arg == cmp[n_cmp].arg)
				return -1; /* libseccomp takes one test per argument */
		}
		n_cmp++;
		i += len;
		if (i < n && ++i == n)
			return -1; /* a trailing "and" */
	}
	return n_cmp;
}

static int fail(struct parse_state *ps, struct sandbox_error *err, const char *what,
		const char *word)
{
	return sandbox_error_set(err, 0, "%s:%u: %s%s%s%s", ps->path, ps->line, what,
				 word ? " '" : "", word ? word : "", word ? "'" : "");
}

/* Records that line ps->line names syscall NR; a syscall may come back only
 * on lines that all carry a condition. */
static int note_syscall(struct parse_state *ps, int nr, const char *name, bool cond,
			struct sandbox_error *err)
{
	if ((size_t)nr >= sizeof(ps->seen) / sizeof(ps->seen[0]))
		return 0;
	if (ps->seen[nr] && (!cond || !ps->cond[nr]))
		return sandbox_error_set(err, 0,
					 "%s:%u: syscall '%s' already listed on line %d (several "
					 "lines need a condition on each)",
					 ps->path, ps->line, name, ps->seen[nr]);
	if (!ps->seen[nr])
		ps->seen[nr] = (int)ps->line;
	ps->cond[nr] = cond;
	return 0;
}

static int parse_action(struct parse_state *ps, char **w, int n, uint32_t *action,
			struct sandbox_error *err)
{
	int e;

	if (strcmp(w[0], "allow") == 0) {
		*action = SCMP_ACT_ALLOW;
		return 1;
	}
	if (strcmp(w[0], "kill") == 0) {
		*action = SCMP_ACT_KILL_PROCESS;
		return 1;
	}
	if (strcmp(w[0], "errno") == 0) {
		if (n < 2 || parse_errno(w[1], &e) < 0)
			return fail(ps, err, "bad errno", n < 2 ? NULL : w[1]);
		*action = SCMP_ACT_ERRNO((uint32_t)e);
		return 2;
	}
	return fail(ps, err, "unknown action (allow, kill, errno NAME)", w[0]);
}

static int parse_line(scmp_filter_ctx ctx, struct parse_state *ps, char *text,
		      struct sandbox_error *err)
{
	char *comment = strchr(text, '#');
	bool has_comment = false;
	char *w[MAX_WORDS];
	int n = 0, nr, rc, first_arg, n_cmp = 0;
	uint32_t action = 0;
	struct scmp_arg_cmp cmp[MAX_CONDS];

	if (comment) {
		*comment = '\0';
		for (char *c = comment + 1; *c; c++)
			has_comment |= !isspace((unsigned char)*c);
	}
	for (char *tok = strtok(text, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
		if (n == MAX_WORDS)
			return fail(ps, err, "too many words", NULL);
		w[n++] = tok;
	}
	if (n == 0)
		return 0;
	first_arg = parse_action(ps, w, n, &action, err);
	if (first_arg < 0)
		return -1;
	if (n <= first_arg)
		return fail(ps, err, "missing syscall name", NULL);
	nr = seccomp_syscall_resolve_name(w[first_arg]);
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return fail(ps, err, "unknown syscall", w[first_arg]);
	if (n > first_arg + 1) {
		n_cmp = parse_conditions(w + first_arg + 1, n - first_arg - 1, cmp);
		if (n_cmp < 0)
			return fail(ps, err,
				    "bad condition (if argN [& MASK] OP VALUE [and ...], OP one "
				    "of == != < <= > >=, each argument once)",
				    NULL);
	}
	if ((action != SCMP_ACT_ALLOW || n_cmp) && !has_comment)
		return fail(ps, err, "every deny or conditional rule needs a # comment saying why",
			    w[first_arg]);
	if (note_syscall(ps, nr, w[first_arg], n_cmp > 0, err) < 0)
		return -1;
	/* Same as the default: documentation only; libseccomp refuses it. */
	if (action == SCMP_ACT_ERRNO(EPERM) && n_cmp == 0)
		rc = 0;
	else
		rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)n_cmp, n_cmp ? cmp : NULL);
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

static int compile_lines(scmp_filter_ctx ctx, struct parse_state *ps, const char *text, size_t len,
			 struct sandbox_error *err)
{
	char line[1024];

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps->line++;
		if (n >= sizeof(line))
			return fail(ps, err, "line too long", NULL);
		if (memchr(text + pos, '\0', n))
			return fail(ps, err, "NUL byte", NULL);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (parse_line(ctx, ps, line, err) < 0)
			return -1;
		pos += n + 1;
	}
	return 0;
}

int sb_policy_compile_text(const char *path, const char *text, size_t len, struct sb_bpf *out,
			   size_t *n_rules, struct sandbox_error *err)
{
	cleanup_free struct parse_state *ps = calloc(1, sizeof(*ps));
	scmp_filter_ctx ctx;
	int rc = -1;

	out->insns = NULL;
	out->len = 0;
	if (!ps)
		return sandbox_error_set(err, ENOMEM, "%s", path);
	ps->path = path;
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return sandbox_error_set(err, ENOMEM, "%s: seccomp_init", path);
	/* A syscall from another ABI (i386, x32) bypasses the per-name rules. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* We set no_new_privs ourselves, in order. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (compile_lines(ctx, ps, text, len, err) < 0)
		goto out;
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
	seccomp_release(ctx);
	return rc;
}

int sb_policy_read(const char *path, char **text, size_t *len, struct sandbox_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	*text = NULL;
	if (fd < 0)
		return sandbox_error_set(err, errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return sandbox_error_set(err, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return sandbox_error_set(err, EINVAL, "%s: not a regular file", path);
	if (st.st_size > POLICY_MAX)
		return sandbox_error_set(err, EFBIG, "%s: larger than %d bytes", path, POLICY_MAX);
	*text = malloc((size_t)st.st_size + 1);
	if (!*text)
		return sandbox_error_set(err, ENOMEM, "%s", path);
	n = pread(fd, *text, (size_t)st.st_size + 1, 0);
	if (n != st.st_size) {
		free(*text);
		*text = NULL;
		return sandbox_error_set(err, n < 0 ? errno : 0, "%s: read%s", path,
					 n < 0 ? "" : ": changed while read");
	}
	*len = (size_t)n;
	return 0;
}

int sb_policy_compile(const char *path, struct sb_bpf *out, size_t *n_rules,
		      struct sandbox_error *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;

	out->insns = NULL;
	out->len = 0;
	if (sb_policy_read(path, &text, &len, err) < 0)
		return -1;
	return sb_policy_compile_text(path, text, len, out, n_rules, err);
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
