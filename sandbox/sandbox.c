/* The plan: the opaque struct sandbox and its setters. Nothing here touches
 * the kernel; sandbox_spawn() (spawn.c) does. */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct sandbox *sandbox_new(void)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->net = SANDBOX_NET_HOST;
	sb->warning_fd = 2;
	sb->limits_warning = true;
	sb->pidfd = -1;
	sb->init_pid = -1;
	sb->stdio[0] = sb->stdio[1] = sb->stdio[2] = -1;
	return sb;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void sandbox_free(struct sandbox *sb)
{
	if (!sb)
		return;
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	sb_stdio_release(sb);
	sb_mounts_release(sb);
	free_strv(sb->argv);
	free_strv(sb->envp);
	free(sb->cwd);
	free(sb->hostname);
	free(sb->policy_path);
	free(sb->filter_cache_dir);
	for (size_t i = 0; i < sb->n_mounts; i++) {
		free(sb->mounts[i].src);
		free(sb->mounts[i].dst);
	}
	free(sb->mounts);
	free(sb->ports);
	free(sb->cgroup_prefix);
	sb_cgroup_forget(sb);
	free(sb);
}

static int copy_strv(char ***dst, char *const src[], const char *what, struct sandbox_error *err)
{
	size_t n = 0;
	char **v;

	while (src && src[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return sandbox_error_set(err, ENOMEM, "%s", what);
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			free_strv(v);
			return sandbox_error_set(err, ENOMEM, "%s", what);
		}
	}
	free_strv(*dst);
	*dst = v;
	return 0;
}

int sandbox_set_argv(struct sandbox *sb, char *const argv[], struct sandbox_error *err)
{
	if (!argv || !argv[0] || !argv[0][0])
		return sandbox_error_set(err, EINVAL, "sandbox: no command to run");
	return copy_strv(&sb->argv, argv, "sandbox: argv", err);
}

int sandbox_set_env(struct sandbox *sb, char *const envp[], struct sandbox_error *err)
{
	return copy_strv(&sb->envp, envp, "sandbox: env", err);
}

static int set_string(char **slot, const char *value, const char *what, struct sandbox_error *err)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return sandbox_error_set(err, ENOMEM, "sandbox: %s", what);
	free(*slot);
	*slot = copy;
	return 0;
}

int sandbox_set_cwd(struct sandbox *sb, const char *cwd, struct sandbox_error *err)
{
	if (cwd && cwd[0] != '/')
		return sandbox_error_set(err, EINVAL, "sandbox: cwd %s: not an absolute path", cwd);
	return set_string(&sb->cwd, cwd, "cwd", err);
}

int sandbox_set_hostname(struct sandbox *sb, const char *hostname, struct sandbox_error *err)
{
	if (hostname && strlen(hostname) > 64)
		return sandbox_error_set(err, ENAMETOOLONG, "sandbox: hostname %s", hostname);
	return set_string(&sb->hostname, hostname, "hostname", err);
}

void sandbox_set_net(struct sandbox *sb, enum sandbox_net net)
{
	sb->net = net;
}

/* Destinations are absolute and free of "..", so building them inside the new
 * root can never climb out of it. */
static bool clean_abs_path(const char *p)
{
	if (!p || p[0] != '/')
		return false;
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool starts = s == p || s[-1] == '/';
		bool ends = s[2] == '\0' || s[2] == '/';

		if (starts && ends)
			return false;
	}
	return true;
}

int sandbox_add_mount(struct sandbox *sb, enum sandbox_mount_kind kind, const char *src,
		      const char *dst, unsigned flags, struct sandbox_error *err)
{
	struct sb_mount *grown, *m;

	if (!clean_abs_path(dst))
		return sandbox_error_set(err, EINVAL,
					 "sandbox: mount destination %s: not a clean "
					 "absolute path",
					 dst ? dst : "(null)");
	if (kind != SANDBOX_MOUNT_TMPFS && !clean_abs_path(src))
		return sandbox_error_set(err, EINVAL,
					 "sandbox: mount source %s: not a clean "
					 "absolute path",
					 src ? src : "(null)");
	if (strcmp(dst, "/") == 0)
		return sandbox_error_set(err, EINVAL, "sandbox: cannot mount over /");
	grown = realloc(sb->mounts, (sb->n_mounts + 1) * sizeof(*grown));
	if (!grown)
		return sandbox_error_set(err, ENOMEM, "sandbox: mount %s", dst);
	sb->mounts = grown;
	m = &sb->mounts[sb->n_mounts];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->flags = flags;
	m->tree_fd = m->path_fd = -1;
	m->dst = strdup(dst);
	m->src = kind == SANDBOX_MOUNT_TMPFS ? NULL : strdup(src);
	if (!m->dst || (kind != SANDBOX_MOUNT_TMPFS && !m->src)) {
		free(m->dst);
		free(m->src);
		return sandbox_error_set(err, ENOMEM, "sandbox: mount %s", dst);
	}
	sb->n_mounts++;
	return 0;
}

int sandbox_add_bind_ports(struct sandbox *sb, uint16_t first, uint16_t last,
			   struct sandbox_error *err)
{
	struct sb_ports *grown;

	if (first > last)
		return sandbox_error_set(err, EINVAL, "sandbox: port range %u-%u is empty", first,
					 last);
	grown = realloc(sb->ports, (sb->n_ports + 1) * sizeof(*grown));
	if (!grown)
		return sandbox_error_set(err, ENOMEM, "sandbox: ports");
	sb->ports = grown;
	sb->ports[sb->n_ports++] = (struct sb_ports){first, last};
	return 0;
}

void sandbox_set_host_ids(struct sandbox *sb, uid_t uid, gid_t gid)
{
	sb->have_host_ids = true;
	sb->host_uid = uid;
	sb->host_gid = gid;
}

int sandbox_set_seccomp_policy(struct sandbox *sb, const char *path, struct sandbox_error *err)
{
	return set_string(&sb->policy_path, path, "seccomp policy", err);
}

int sandbox_set_filter_cache(struct sandbox *sb, const char *dir, struct sandbox_error *err)
{
	if (dir && dir[0] != '/')
		return sandbox_error_set(err, EINVAL,
					 "sandbox: filter cache %s: not an absolute path", dir);
	return set_string(&sb->filter_cache_dir, dir, "filter cache", err);
}

int sandbox_set_cgroup_prefix(struct sandbox *sb, const char *prefix, struct sandbox_error *err)
{
	size_t n = prefix ? strlen(prefix) : 0;

	/* A cgroup name, not a path: nothing that could climb or nest. */
	if (n == 0 || n > 64 ||
	    strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789-_.") != n ||
	    prefix[0] == '.')
		return sandbox_error_set(err, EINVAL, "sandbox: cgroup prefix '%s': not a name",
					 prefix ? prefix : "");
	return set_string(&sb->cgroup_prefix, prefix, "cgroup prefix", err);
}

void sandbox_set_tmpfs_size(struct sandbox *sb, uint64_t bytes, uint64_t inodes)
{
	sb->tmpfs_size = bytes;
	sb->tmpfs_inodes = inodes;
}

int sandbox_set_rlimit(struct sandbox *sb, int resource, rlim_t soft, rlim_t hard,
		       struct sandbox_error *err)
{
	if (resource < 0 || resource >= RLIM_NLIMITS)
		return sandbox_error_set(err, EINVAL, "sandbox: rlimit %d: unknown resource",
					 resource);
	if (soft > hard)
		return sandbox_error_set(err, EINVAL, "sandbox: rlimit %d: soft above hard",
					 resource);
	for (size_t i = 0; i < sb->n_rlimits; i++) {
		if (sb->rlimits[i].resource == resource) {
			sb->rlimits[i].soft = soft;
			sb->rlimits[i].hard = hard;
			return 0;
		}
	}
	if (sb->n_rlimits == SB_MAX_RLIMITS)
		return sandbox_error_set(err, ENOSPC, "sandbox: too many rlimits");
	sb->rlimits[sb->n_rlimits++] = (struct sb_rlimit){resource, soft, hard};
	return 0;
}

void sandbox_set_limits(struct sandbox *sb, const struct sandbox_limits *limits)
{
	sb->limits = *limits;
}

void sb_stdio_release(struct sandbox *sb)
{
	for (int i = 0; i < 3; i++) {
		if (sb->stdio[i] >= 0)
			close(sb->stdio[i]);
		sb->stdio[i] = -1;
	}
}

int sandbox_set_stdio(struct sandbox *sb, const int fds[3], bool ctty, struct sandbox_error *err)
{
	int copy[3] = {-1, -1, -1};

	if (ctty && (fds[0] < 0 || !isatty(fds[0])))
		return sandbox_error_set(err, ENOTTY, "sandbox: stdin is no terminal to control");
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0 && (copy[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) {
			int e = errno;

			for (int j = 0; j < i; j++)
				if (copy[j] >= 0)
					close(copy[j]);
			return sandbox_error_set(err, e, "sandbox: stdio fd %d", fds[i]);
		}
	}
	sb_stdio_release(sb);
	memcpy(sb->stdio, copy, sizeof(copy));
	sb->ctty = ctty;
	return 0;
}

void sandbox_set_namespaces(struct sandbox *sb, bool on)
{
	sb->no_namespaces = !on;
}

void sandbox_set_strict(struct sandbox *sb, bool strict)
{
	sb->strict = strict;
}

void sandbox_want_namespace_ids(struct sandbox *sb, bool want)
{
	sb->want_ns_ids = want;
}

void sandbox_set_limits_warning(struct sandbox *sb, bool on)
{
	sb->limits_warning = on;
}

void sandbox_set_warning_fd(struct sandbox *sb, int fd)
{
	sb->warning_fd = fd;
}

void sb_warn(const struct sandbox *sb, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n;

	if (sb->warning_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "sandbox: warning: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write so concurrent warnings do not interleave mid-line. */
	if (write(sb->warning_fd, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
}

void sb_send_error(int fd, const struct sandbox_error *err)
{
	struct sb_msg msg = {.type = SB_MSG_ERROR, .errnum = err->errnum};

	snprintf(msg.text, sizeof(msg.text), "%s", err->msg);
	if (send(fd, &msg, sizeof(msg), MSG_NOSIGNAL) < 0) {
		/* The launcher is gone; the pdeathsig will end us. */
	}
}

void sb_send_type(int fd, int type)
{
	struct sb_msg msg = {.type = type};

	if (send(fd, &msg, sizeof(msg), MSG_NOSIGNAL) < 0) {
		/* As above. */
	}
}
