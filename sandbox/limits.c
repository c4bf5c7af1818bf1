/* Limits: rlimits in the payload, and memory/pids limits through a cgroup v2
 * child group when the caller's cgroup is a delegated v2 hierarchy with both
 * controllers available. Hybrid hosts (v1 controllers, an empty v2 at
 * /sys/fs/cgroup/unified) get a clear warning and the run goes on: refusing
 * them, as crun and podman do, helps nobody. */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int sb_rlimits_apply(const struct sandbox *sb, struct sandbox_error *err)
{
	for (size_t i = 0; i < sb->n_rlimits; i++) {
		const struct sb_rlimit *l = &sb->rlimits[i];
		struct rlimit cur, want = {l->soft, l->hard};

		/* Raising a hard limit needs CAP_SYS_RESOURCE in the initial user
		 * namespace, which nobody here has: clamp rather than fail
		 * (crun#255). */
		if (getrlimit(l->resource, &cur) == 0 && want.rlim_max > cur.rlim_max) {
			want.rlim_max = cur.rlim_max;
			if (want.rlim_cur > want.rlim_max)
				want.rlim_cur = want.rlim_max;
		}
		if (setrlimit(l->resource, &want) < 0)
			return sandbox_error_set(err, errno, "sandbox: setrlimit %d", l->resource);
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 64];
	cleanup_close int fd = -1;

	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX, dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	}
	return false;
}

/* The caller's own v2 cgroup directory, if it can hold a child group with the
 * memory and pids controllers; a reason why not otherwise. */
static const char *delegated_cgroup(char *dir, size_t len)
{
	char self[PATH_MAX + 64], controllers[512];
	struct statfs sfs;
	char *line;

	if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return "no unified cgroup v2 hierarchy at /sys/fs/cgroup (hybrid or v1 host)";
	if (read_small("/proc/self/cgroup", self, sizeof(self)) < 0 ||
	    !(line = strstr(self, "0::")))
		return "cannot find our cgroup v2 path";
	line += 3;
	line[strcspn(line, "\n")] = '\0';
	snprintf(dir, len, "/sys/fs/cgroup%s", strcmp(line, "/") == 0 ? "" : line);
	if (snprintf(self, sizeof(self), "%.*s/cgroup.subtree_control", PATH_MAX, dir) < 0)
		return "cgroup path too long";
	if (read_small(self, controllers, sizeof(controllers)) < 0 ||
	    !has_word(controllers, "memory") || !has_word(controllers, "pids"))
		return "memory and pids controllers are not delegated to our cgroup";
	if (access(dir, W_OK) < 0)
		return "our cgroup is not writable (not delegated)";
	return NULL;
}

int sb_cgroup_setup(struct sandbox *sb, pid_t pid, struct sandbox_error *err)
{
	char dir[PATH_MAX], child[PATH_MAX + 96], num[32];
	const char *why;

	if (!sb->memory_max && !sb->pids_max)
		return 0;
	why = delegated_cgroup(dir, sizeof(dir));
	if (why) {
		if (sb->strict)
			return sandbox_error_set(err, 0, "sandbox: cgroup limits: %s", why);
		sb_warn(sb, "memory and pids limits are off: %s", why);
		return 0;
	}
	snprintf(child, sizeof(child), "%s/%s%d", dir,
		 sb->cgroup_prefix ? sb->cgroup_prefix : "sandbox-", (int)pid);
	if (mkdir(child, 0755) < 0)
		return sandbox_error_set(err, errno, "sandbox: cgroup: mkdir %s", child);
	sb->cgroup_dir = strdup(child);
	if (sb->memory_max) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)sb->memory_max);
		if (write_small(child, "memory.max", num) < 0)
			return sandbox_error_set(err, errno, "sandbox: cgroup: memory.max");
	}
	if (sb->pids_max) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)sb->pids_max);
		if (write_small(child, "pids.max", num) < 0)
			return sandbox_error_set(err, errno, "sandbox: cgroup: pids.max");
	}
	snprintf(num, sizeof(num), "%d", (int)pid);
	if (write_small(child, "cgroup.procs", num) < 0)
		return sandbox_error_set(err, errno, "sandbox: cgroup: join %s", child);
	return 0;
}

void sb_cgroup_cleanup(struct sandbox *sb)
{
	if (!sb->cgroup_dir)
		return;
	rmdir(sb->cgroup_dir); /* fails harmlessly if a process lingers */
	free(sb->cgroup_dir);
	sb->cgroup_dir = NULL;
}
