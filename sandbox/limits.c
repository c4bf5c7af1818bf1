/* Limits: rlimits in the payload, and cgroups for memory, pids and CPU.
 *
 * The sandbox's groups are made below the groups the launcher itself runs
 * in, one per controller on cgroup v1 and hybrid hosts (each controller is
 * its own hierarchy there, and the launcher may sit at different depths in
 * each: in a nested memory group but at the root of pids, say), one on a
 * cgroup v2 host. Never at a hierarchy's root: a limit the host placed on
 * the launcher must keep holding for everything the sandbox runs. The
 * sandbox's init joins them before the go signal, so nothing of the payload
 * ever runs outside. A controller that cannot be used (not mounted, v1 as
 * a user) is a warning and the run goes on, as the rest of the sandbox
 * does not depend on it; strict makes it an error. */
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

/* ---- small file I/O on cgroupfs -------------------------------------------- */

int sb_cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	cleanup_close int fd = -1;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int cg_write(const char *dir, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cg_write(const char *dir, const char *file, const char *fmt, ...)
{
	char path[PATH_MAX + 64], text[64];
	cleanup_close int fd = -1;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	return write(fd, text, (size_t)n) == n ? 0 : -1;
}

static bool cg_has_file(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* WORD is an item of LIST, separated by any of SEPS. */
bool sb_cg_has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || strchr(seps, p[-1])) && (!p[n] || strchr(seps, p[n])))
			return true;
	}
	return false;
}

/* ---- where a process's groups are ------------------------------------------ */

const char *const sb_cg_names[SB_CG_N] = {"memory", "pids", "cpu"};

/* The mount of the v1 hierarchy of CONTROLLER (or of v2 when NULL) whose
 * root holds PATH; DIR gets the directory of PATH in it. */
static bool cg_mount_dir(const char *controller, const char *path, char *dir, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], point[PATH_MAX], type[32], opts[512];
		const char *sep = strstr(line, " - ");
		size_t rlen;

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
		    sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2)
			continue;
		if (controller
			? strcmp(type, "cgroup") != 0 || !sb_cg_has_word(opts, controller, ",")
			: strcmp(type, "cgroup2") != 0)
			continue;
		/* A hierarchy mounted from below its root (a container's view)
		 * shows only what lies under that root. */
		rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(path, root, rlen) != 0 || (path[rlen] && path[rlen] != '/'))
			continue;
		found = snprintf(dir, len, "%s%s", point,
				 strcmp(path + rlen, "/") == 0 ? "" : path + rlen) < (int)len;
	}
	free(line);
	fclose(f);
	return found;
}

void sb_cg_locate(pid_t pid, struct sb_cg_place out[SB_CG_N])
{
	char file[64], *line = NULL, v2_path[PATH_MAX] = "";
	size_t cap = 0;
	FILE *f;

	memset(out, 0, SB_CG_N * sizeof(*out));
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid ? (int)pid : (int)getpid());
	f = fopen(file, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*path++ = '\0';
		ctrls++;
		path[strcspn(path, "\n")] = '\0';
		if (!*ctrls) {
			snprintf(v2_path, sizeof(v2_path), "%s", path);
			continue;
		}
		for (int i = 0; i < SB_CG_N; i++) {
			if (sb_cg_has_word(ctrls, sb_cg_names[i], ",") &&
			    cg_mount_dir(sb_cg_names[i], path, out[i].dir, sizeof(out[i].dir)))
				out[i].version = 1;
		}
	}
	free(line);
	fclose(f);
	/* Controllers no v1 hierarchy has are v2's, if it offers them here. */
	for (int i = 0; i < SB_CG_N; i++) {
		char avail[256];

		if (out[i].version || !v2_path[0] ||
		    !cg_mount_dir(NULL, v2_path, out[i].dir, sizeof(out[i].dir)))
			continue;
		if (sb_cg_read(out[i].dir, "cgroup.controllers", avail, sizeof(avail)) == 0 &&
		    sb_cg_has_word(avail, sb_cg_names[i], " \n"))
			out[i].version = 2;
	}
}

/* ---- making the groups ---------------------------------------------------- */

static unsigned wanted(const struct sandbox_limits *l)
{
	return (l->memory_max ? SB_CG_MEMORY : 0u) | (l->pids_max ? SB_CG_PIDS : 0u) |
	       (l->cpu_weight || l->cpu_quota_pct ? SB_CG_CPU : 0u);
}

static const char *prefix_of(const struct sandbox *sb)
{
	return sb->cgroup_prefix ? sb->cgroup_prefix : "sandbox-";
}

/* Groups PREFIX<pid> whose init is gone: left by a launcher that was killed
 * before it could remove them. A group still holding a process cannot be
 * removed, so nothing alive is ever touched. */
static void sweep_stale(const char *parent, const char *prefix)
{
	DIR *d = opendir(parent);
	size_t n = strlen(prefix);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end, path[PATH_MAX + 300];
		long pid;

		if (e->d_type != DT_DIR || strncmp(e->d_name, prefix, n) != 0)
			continue;
		pid = strtol(e->d_name + n, &end, 10);
		if (*end || end == e->d_name + n || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) < (int)sizeof(path))
			rmdir(path);
	}
	closedir(d);
}

/* cgroup v2 gives controllers to children only when the parent holds no
 * process itself, and the launcher always sits in its own group: the
 * processes of a delegated group move to a leaf PREFIX"leaf" beside the
 * sandboxes (still below the group, so every limit on it still holds),
 * then the controllers are enabled. NULL on success, else why not. */
static const char *v2_enable(const char *parent, unsigned bits, const char *prefix)
{
	char have[256], leaf[PATH_MAX + 80], procs[4096];
	int moved = 0;

	if (sb_cg_read(parent, "cgroup.subtree_control", have, sizeof(have)) < 0)
		return "cannot read cgroup.subtree_control of our cgroup";
	for (int i = 0; i < SB_CG_N; i++) {
		if (!(bits & (1u << i)) || sb_cg_has_word(have, sb_cg_names[i], " \n"))
			continue;
		while (cg_write(parent, "cgroup.subtree_control", "+%s", sb_cg_names[i]) < 0) {
			if (errno != EBUSY || moved++)
				return errno == EACCES || errno == EPERM
					   ? "our cgroup is not delegated to us (not writable)"
					   : "cannot enable the controllers below our cgroup";
			snprintf(leaf, sizeof(leaf), "%.*s/%.64sleaf", PATH_MAX, parent, prefix);
			if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) ||
			    sb_cg_read(parent, "cgroup.procs", procs, sizeof(procs)) < 0)
				return "our cgroup holds processes and no leaf can be made for "
				       "them";
			for (char *p = strtok(procs, "\n"); p; p = strtok(NULL, "\n"))
				cg_write(leaf, "cgroup.procs", "%s", p);
		}
	}
	return NULL;
}

static int write_limits(const struct sb_cgroup *g, const struct sandbox_limits *l,
			struct sandbox_error *err)
{
	const char *d = g->dir;
	int rc = 0;

	if (g->controllers & SB_CG_MEMORY) {
		if (g->version == 2)
			rc = cg_write(d, "memory.max", "%llu", (unsigned long long)l->memory_max) ||
			     (cg_has_file(d, "memory.swap.max") &&
			      cg_write(d, "memory.swap.max", "%llu",
				       (unsigned long long)l->swap_max));
		else /* memsw counts RAM and swap together, and must not be below it */
			rc = cg_write(d, "memory.limit_in_bytes", "%llu",
				      (unsigned long long)l->memory_max) ||
			     (cg_has_file(d, "memory.memsw.limit_in_bytes") &&
			      cg_write(d, "memory.memsw.limit_in_bytes", "%llu",
				       (unsigned long long)(l->memory_max + l->swap_max)));
		if (rc)
			return sandbox_error_set(err, errno, "sandbox: cgroup %s: memory limit", d);
	}
	if ((g->controllers & SB_CG_PIDS) &&
	    cg_write(d, "pids.max", "%llu", (unsigned long long)l->pids_max) < 0)
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: pids.max", d);
	if (!(g->controllers & SB_CG_CPU))
		return 0;
	/* v1's shares are 1024 for an even share where v2's weight is 100. */
	if (l->cpu_weight &&
	    (g->version == 2
		 ? cg_write(d, "cpu.weight", "%u", l->cpu_weight)
		 : cg_write(d, "cpu.shares", "%u",
			    l->cpu_weight * 1024u / 100u < 2 ? 2 : l->cpu_weight * 1024u / 100u)))
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: cpu weight", d);
	if (l->cpu_quota_pct &&
	    (g->version == 2 ? cg_write(d, "cpu.max", "%u 100000", l->cpu_quota_pct * 1000u)
			     : cg_write(d, "cpu.cfs_period_us", "100000") ||
				   cg_write(d, "cpu.cfs_quota_us", "%u", l->cpu_quota_pct * 1000u)))
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: cpu quota", d);
	return 0;
}

/* The controllers we cannot use, said once per spawn in one line. */
static int say_off(const struct sandbox *sb, unsigned off, const char *why,
		   struct sandbox_error *err)
{
	char names[64] = "";

	for (int i = 0; i < SB_CG_N; i++) {
		if (off & (1u << i))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? ", " : "", sb_cg_names[i]);
	}
	if (sb->strict)
		return sandbox_error_set(err, 0, "sandbox: cgroup limits (%s): %s", names, why);
	sb_warn(sb, "%s limits are off: %s", names, why);
	return 0;
}

/* Which groups to make: the controllers we can use, one group per distinct
 * directory (comounted v1 controllers share one). */
static unsigned plan_groups(struct sandbox *sb, struct sb_cg_place place[SB_CG_N], unsigned want,
			    const char **why)
{
	unsigned off = 0, v2 = 0;
	const char *v2_parent = NULL;

	for (int i = 0; i < SB_CG_N; i++) {
		unsigned bit = 1u << i;

		if (!(want & bit))
			continue;
		if (!place[i].version) {
			off |= bit;
			*why = "the controller is not available to our cgroup";
		} else if (place[i].version == 1 && !sb->root_launch) {
			off |= bit;
			*why = "this host has cgroup v1 controllers, which only root can use "
			       "(run as root, or on a cgroup v2 host with a delegated cgroup)";
		} else if (place[i].version == 2) {
			v2 |= bit;
			v2_parent = place[i].dir;
		}
	}
	if (v2) {
		const char *fail = v2_enable(v2_parent, v2, prefix_of(sb));

		if (fail) {
			off |= v2;
			*why = fail;
		}
	}
	return want & ~off;
}

static int add_group(struct sandbox *sb, const char *parent, int version, unsigned bit, pid_t pid,
		     struct sandbox_error *err)
{
	char child[PATH_MAX + 100];
	struct sb_cgroup *g;

	if (snprintf(child, sizeof(child), "%s/%s%d", parent, prefix_of(sb), (int)pid) >=
	    (int)sizeof(child))
		return sandbox_error_set(err, ENAMETOOLONG, "sandbox: cgroup under %s", parent);
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		if (strcmp(sb->cgroups[j].dir, child) == 0) {
			sb->cgroups[j].controllers |= bit;
			return 0;
		}
	}
	sweep_stale(parent, prefix_of(sb));
	if (mkdir(child, 0755) < 0)
		return sandbox_error_set(err, errno, "sandbox: cgroup: mkdir %s", child);
	g = &sb->cgroups[sb->n_cgroups++];
	*g = (struct sb_cgroup){strdup(child), version, bit};
	if (!g->dir) {
		rmdir(child);
		sb->n_cgroups--;
		return sandbox_error_set(err, ENOMEM, "sandbox: cgroup");
	}
	return 0;
}

int sb_cgroup_setup(struct sandbox *sb, pid_t pid, struct sandbox_error *err)
{
	struct sb_cg_place place[SB_CG_N];
	unsigned want = wanted(&sb->limits), use;
	const char *why = NULL;

	if (!want)
		return 0;
	sb_cg_locate(0, place);
	use = plan_groups(sb, place, want, &why);
	if (use != want && say_off(sb, want & ~use, why, err) < 0)
		return -1;
	for (int i = 0; i < SB_CG_N; i++) {
		if ((use & (1u << i)) &&
		    add_group(sb, place[i].dir, place[i].version, 1u << i, pid, err) < 0)
			return -1;
	}
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		const struct sb_cgroup *g = &sb->cgroups[j];

		if (write_limits(g, &sb->limits, err) < 0)
			return -1;
		if (cg_write(g->dir, "cgroup.procs", "%d", (int)pid) < 0)
			return sandbox_error_set(err, errno, "sandbox: cgroup: join %s", g->dir);
	}
	return 0;
}

void sb_cgroup_forget(struct sandbox *sb)
{
	for (size_t j = 0; j < sb->n_cgroups; j++)
		free(sb->cgroups[j].dir);
	sb->n_cgroups = 0;
}

void sb_cgroup_cleanup(struct sandbox *sb)
{
	if (!sb->n_cgroups)
		return;
	sandbox_usage_get(sb, &sb->final_usage);
	sb->have_final_usage = true;
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		/* The last tasks of a killed pid namespace may leave the group a
		 * moment after its init was reaped: retry for up to a second. */
		for (int tries = 0; rmdir(sb->cgroups[j].dir) < 0 && errno == EBUSY && tries < 100;
		     tries++)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	sb_cgroup_forget(sb);
}
