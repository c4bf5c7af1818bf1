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
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

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

/* Groups PREFIX<pid> left by launchers before groups were kept across
 * starts (a group per start, named by its init's pid), whose init is gone.
 * A group still holding a process cannot be removed, so nothing alive is
 * ever touched. Swept when a slot is first made. */
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
		while (sb_cg_write(parent, "cgroup.subtree_control", "+%s", sb_cg_names[i]) < 0) {
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
				sb_cg_write(leaf, "cgroup.procs", "%s", p);
		}
	}
	return NULL;
}

/* v1: memsw counts RAM and swap together and may never be below the RAM
 * limit, so a kept group's two limits are written in the order that never
 * crosses them: RAM first when it goes down, memsw first when it goes up. */
static int write_memory_v1(const char *d, const struct sandbox_limits *l)
{
	unsigned long long ram = l->memory_max, memsw = l->memory_max + l->swap_max;

	if (!sb_cg_has_file(d, "memory.memsw.limit_in_bytes"))
		return sb_cg_write(d, "memory.limit_in_bytes", "%llu", ram);
	if (sb_cg_write(d, "memory.limit_in_bytes", "%llu", ram) == 0)
		return sb_cg_write(d, "memory.memsw.limit_in_bytes", "%llu", memsw);
	if (errno != EINVAL)
		return -1;
	return sb_cg_write(d, "memory.memsw.limit_in_bytes", "%llu", memsw) ||
	       sb_cg_write(d, "memory.limit_in_bytes", "%llu", ram);
}

/* Weight and quota; no weight is an even share, no quota none. */
static int write_cpu(const struct sb_cgroup *g, const struct sandbox_limits *l,
		     struct sandbox_error *err)
{
	unsigned weight = l->cpu_weight ? l->cpu_weight : 100, quota = l->cpu_quota_pct * 1000u;
	/* v1's shares are 1024 for an even share where v2's weight is 100. */
	unsigned shares = weight * 1024u / 100u < 2 ? 2 : weight * 1024u / 100u;
	const char *d = g->dir;
	int rc;

	rc = g->version == 2 ? sb_cg_write(d, "cpu.weight", "%u", weight)
			     : sb_cg_write(d, "cpu.shares", "%u", shares);
	if (rc)
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: cpu weight", d);
	if (g->version == 2)
		rc = quota ? sb_cg_write(d, "cpu.max", "%u 100000", quota)
			   : sb_cg_write(d, "cpu.max", "max 100000");
	else
		rc = sb_cg_write(d, "cpu.cfs_period_us", "100000") ||
		     (quota ? sb_cg_write(d, "cpu.cfs_quota_us", "%u", quota)
			    : sb_cg_write(d, "cpu.cfs_quota_us", "-1"));
	if (rc)
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: cpu quota", d);
	return 0;
}

/* Every limit of the plan, written at every start: a kept group may hold
 * another start's (a changed `setup`), and writing costs what reading to
 * compare would. A limit that is off is written as none. */
static int write_limits(const struct sb_cgroup *g, const struct sandbox_limits *l,
			struct sandbox_error *err)
{
	const char *d = g->dir;
	int rc = 0;

	if (g->controllers & SB_CG_MEMORY) {
		if (g->version == 2)
			rc = sb_cg_write(d, "memory.max", "%llu",
					 (unsigned long long)l->memory_max) ||
			     (sb_cg_has_file(d, "memory.swap.max") &&
			      sb_cg_write(d, "memory.swap.max", "%llu",
					  (unsigned long long)l->swap_max));
		else
			rc = write_memory_v1(d, l);
		if (rc)
			return sandbox_error_set(err, errno, "sandbox: cgroup %s: memory limit", d);
	}
	if ((g->controllers & SB_CG_PIDS) &&
	    sb_cg_write(d, "pids.max", "%llu", (unsigned long long)l->pids_max) < 0)
		return sandbox_error_set(err, errno, "sandbox: cgroup %s: pids.max", d);
	if (!(g->controllers & SB_CG_CPU))
		return 0;
	return write_cpu(g, l, err);
}

/* "memory, pids limits are off: WHY" for the controllers OFF. */
static void off_text(unsigned off, const char *why, char *buf, size_t len)
{
	char names[64] = "";

	for (int i = 0; i < SB_CG_N; i++) {
		if (off & (1u << i))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? ", " : "", sb_cg_names[i]);
	}
	snprintf(buf, len, "%s limits are off: %s", names, why);
}

/* The controllers we cannot use, said once per spawn in one line (unless
 * the caller said it already), and kept for sandbox_limits_off(). */
static int say_off(struct sandbox *sb, unsigned off, const char *why, struct sandbox_error *err)
{
	off_text(off, why, sb->limits_off, sizeof(sb->limits_off));
	if (sb->strict)
		return sandbox_error_set(err, 0, "sandbox: cgroup limits: %s", sb->limits_off);
	if (sb->limits_warning)
		sb_warn(sb, "%s", sb->limits_off);
	return 0;
}

/* The controllers of WANT that cannot be used from PLACE by a caller that
 * is ROOT or not, and why; *V2 gets those only v2 offers (usable once
 * enabled below our cgroup). */
static unsigned unusable(const struct sb_cg_place place[SB_CG_N], unsigned want, bool root,
			 unsigned *v2, const char **why)
{
	unsigned off = 0;

	*v2 = 0;
	for (int i = 0; i < SB_CG_N; i++) {
		unsigned bit = 1u << i;

		if (!(want & bit))
			continue;
		if (!place[i].version) {
			off |= bit;
			*why = "the controller is not available to our cgroup";
		} else if (place[i].version == 1 && !root) {
			off |= bit;
			*why = "this host has cgroup v1 controllers, which only root can use "
			       "(run as root, or on a cgroup v2 host with a delegated cgroup)";
		} else if (place[i].version == 2) {
			*v2 |= bit;
		}
	}
	return off;
}

static const char *v2_parent(const struct sb_cg_place place[SB_CG_N], unsigned v2)
{
	for (int i = 0; i < SB_CG_N; i++)
		if (v2 & (1u << i))
			return place[i].dir;
	return "";
}

/* Which groups to make: the controllers we can use, one group per distinct
 * directory (comounted v1 controllers share one). */
static unsigned plan_groups(struct sandbox *sb, struct sb_cg_place place[SB_CG_N], unsigned want,
			    const char **why)
{
	unsigned v2, off = unusable(place, want, sb->root_launch, &v2, why);

	if (v2) {
		const char *fail = v2_enable(v2_parent(place, v2), v2, prefix_of(sb));

		if (fail) {
			off |= v2;
			*why = fail;
		}
	}
	return want & ~off;
}

bool sandbox_limits_probe(const struct sandbox_limits *limits, char *buf, size_t len)
{
	struct sb_cg_place place[SB_CG_N];
	unsigned want = wanted(limits), v2, off;
	const char *why = "", *parent;
	char have[256];

	buf[0] = '\0';
	if (!want)
		return false;
	sb_cg_locate(0, place);
	off = unusable(place, want, geteuid() == 0, &v2, &why);
	/* Read-only: v2's controllers count as usable when they are enabled
	 * below our cgroup already or we may enable them (a start would). */
	parent = v2_parent(place, v2);
	if (v2 && sb_cg_read(parent, "cgroup.subtree_control", have, sizeof(have)) == 0) {
		for (int i = 0; i < SB_CG_N; i++) {
			char path[PATH_MAX + 32];

			snprintf(path, sizeof(path), "%s/cgroup.subtree_control", parent);
			if ((v2 & (1u << i)) && !sb_cg_has_word(have, sb_cg_names[i], " \n") &&
			    access(path, W_OK) < 0) {
				off |= 1u << i;
				why = "our cgroup is not delegated to us (not writable)";
			}
		}
	} else if (v2) {
		off |= v2;
		why = "cannot read cgroup.subtree_control of our cgroup";
	}
	if (off)
		off_text(off, why, buf, len);
	return off != 0;
}

bool sandbox_limits_off(const struct sandbox *sb, char *buf, size_t len)
{
	if (buf && len)
		snprintf(buf, len, "%s", sb->limits_off);
	return sb->limits_off[0] != '\0';
}

/* ---- the groups of a start: slots kept across starts ------------------------
 * Making a group per start and removing it after cost little; moving a
 * process into a v1 group by pid costs a lot: the kernel takes its global
 * threadgroup lock for writing, which waits out an RCU grace period (5-13
 * ms on a loaded 2-vCPU host, BENCHMARKS.md). A thread moving itself (`0`
 * into `tasks`) skips that lock. So on v1 the launcher moves itself into the
 * sandbox's groups, clones the sandbox's init there (it is born inside: its
 * cgroup namespace is rooted at its own groups, and nothing of it ever runs
 * outside) and moves back; on v2 the init is moved by pid as before.
 *
 * That needs the groups before the init's pid exists, so they are named by
 * slot: PREFIX"s"N, made once and kept. Each running sandbox holds one slot
 * (an exclusive flock() on each of its directories, held by the launcher
 * for the sandbox's life), so the gateway and an `exec` of one profile each
 * get their own slot and their own full limits, as when groups were made
 * per start. A slot is taken only when the directory is ours (owned by our
 * uid, not a link), nobody holds its lock and it holds no process (the
 * sandbox of a launcher killed a moment ago may still be ending in it: the
 * next slot is taken then). Its limits are written at every start, so a
 * changed `setup` holds from the next one; its counters (OOM kills, forks
 * refused) are read against their value at the start. The payload cannot
 * reach any of it: it sees no cgroupfs, and its cgroup namespace starts
 * below the slot. */
#define SB_CG_SLOTS 64

/* DIR (below PARENT) made if missing, opened, checked and locked: its fd;
 * -1 with errno EBUSY when another sandbox holds it or something still runs
 * in it, any other errno when it cannot be used. */
static int take_slot(const char *parent, const char *dir, const char *prefix)
{
	cleanup_close int fd = -1, procs = -1;
	struct stat st;
	char buf[16];
	ssize_t n;
	int ours;

	if (mkdir(dir, 0755) == 0)
		sweep_stale(parent, prefix);
	else if (errno != EEXIST)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	if (st.st_uid != geteuid())
		return errno = EPERM, -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno = errno == EWOULDBLOCK ? EBUSY : errno, -1;
	procs = openat(fd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (procs < 0 || (n = read(procs, buf, sizeof(buf))) < 0)
		return -1;
	if (n > 0)
		return errno = EBUSY, -1;
	ours = fd;
	fd = -1;
	return ours;
}

/* The groups of slot SLOT for the controllers USE: 0, or 1 when the slot
 * is busy, or -1 with ERR. */
static int try_slot(struct sandbox *sb, const struct sb_cg_place place[SB_CG_N], unsigned use,
		    int slot, struct sandbox_error *err)
{
	for (int i = 0; i < SB_CG_N; i++) {
		char child[PATH_MAX + 100];
		struct sb_cgroup *g = NULL;
		int fd;

		if (!(use & (1u << i)))
			continue;
		if (snprintf(child, sizeof(child), "%s/%ss%d", place[i].dir, prefix_of(sb), slot) >=
		    (int)sizeof(child))
			return sandbox_error_set(err, ENAMETOOLONG, "sandbox: cgroup under %s",
						 place[i].dir);
		for (size_t j = 0; j < sb->n_cgroups; j++) /* comounted v1 controllers */
			if (strcmp(sb->cgroups[j].dir, child) == 0)
				g = &sb->cgroups[j];
		if (g) {
			g->controllers |= 1u << i;
			continue;
		}
		fd = take_slot(place[i].dir, child, prefix_of(sb));
		if (fd < 0 && errno == EBUSY)
			return 1;
		if (fd < 0)
			return sandbox_error_set(err, errno, "sandbox: cgroup %s", child);
		g = &sb->cgroups[sb->n_cgroups++];
		*g = (struct sb_cgroup){strdup(child), place[i].version, 1u << i, fd};
		if (!g->dir)
			return sandbox_error_set(err, ENOMEM, "sandbox: cgroup");
	}
	return 0;
}

static int take_slots(struct sandbox *sb, const struct sb_cg_place place[SB_CG_N], unsigned use,
		      struct sandbox_error *err)
{
	for (int slot = 0; slot < SB_CG_SLOTS; slot++) {
		int rc = try_slot(sb, place, use, slot, err);

		if (rc == 0)
			return 0;
		sb_cgroup_forget(sb);
		if (rc < 0)
			return -1;
	}
	return sandbox_error_set(err, EBUSY, "sandbox: cgroup: %d sandboxes named %s* run already",
				 SB_CG_SLOTS, prefix_of(sb));
}

/* The launcher's thread back into its own groups (the parents of ours). */
static int leave_v1(struct sandbox *sb, size_t n, struct sandbox_error *err)
{
	int rc = 0;

	for (size_t j = 0; j < n; j++) {
		char parent[PATH_MAX + 100];
		const struct sb_cgroup *g = &sb->cgroups[j];

		if (g->version != 1)
			continue;
		snprintf(parent, sizeof(parent), "%s", g->dir);
		*strrchr(parent, '/') = '\0';
		if (sb_cg_write(parent, "tasks", "0") < 0 && rc == 0)
			rc = sandbox_error_set(err, errno, "sandbox: cgroup: back to %s", parent);
	}
	return rc;
}

/* Limits, counters at the start, and on v1 the launcher's thread moved in. */
static int ready_groups(struct sandbox *sb, struct sandbox_error *err)
{
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		const struct sb_cgroup *g = &sb->cgroups[j];

		if (write_limits(g, &sb->limits, err) < 0)
			return -1;
		/* The peak and the hits since this start (v2's peak cannot be
		 * reset for every reader: it is the slot's). */
		if (g->version == 1 && (g->controllers & SB_CG_MEMORY)) {
			sb_cg_write(g->dir, "memory.max_usage_in_bytes", "0");
			sb_cg_write(g->dir, "memory.failcnt", "0");
		}
	}
	sb_cg_usage_now(sb, &sb->usage_base);
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		if (sb->cgroups[j].version == 1 &&
		    sb_cg_write(sb->cgroups[j].dir, "tasks", "0") < 0) {
			sandbox_error_set(err, errno, "sandbox: cgroup: join %s",
					  sb->cgroups[j].dir);
			leave_v1(sb, j, err);
			return -1;
		}
	}
	return 0;
}

int sb_cgroup_prepare(struct sandbox *sb, struct sandbox_error *err)
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
	if (use && (take_slots(sb, place, use, err) < 0 || ready_groups(sb, err) < 0)) {
		sb_cgroup_forget(sb);
		return -1;
	}
	return 0;
}

int sb_cgroup_leave(struct sandbox *sb, struct sandbox_error *err)
{
	return leave_v1(sb, sb->n_cgroups, err);
}

int sb_cgroup_join(struct sandbox *sb, pid_t pid, struct sandbox_error *err)
{
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		const struct sb_cgroup *g = &sb->cgroups[j];

		if (g->version == 2 && sb_cg_write(g->dir, "cgroup.procs", "%d", (int)pid) < 0)
			return sandbox_error_set(err, errno, "sandbox: cgroup: join %s", g->dir);
	}
	return 0;
}

void sb_cgroup_close_fds(struct sandbox *sb)
{
	for (size_t j = 0; j < sb->n_cgroups; j++) {
		if (sb->cgroups[j].fd >= 0)
			close(sb->cgroups[j].fd);
		sb->cgroups[j].fd = -1;
	}
}

void sb_cgroup_forget(struct sandbox *sb)
{
	sb_cgroup_close_fds(sb);
	for (size_t j = 0; j < sb->n_cgroups; j++)
		free(sb->cgroups[j].dir);
	sb->n_cgroups = 0;
}

/* The groups stay for the next start; closing their fds frees the slot. */
void sb_cgroup_cleanup(struct sandbox *sb)
{
	if (!sb->n_cgroups)
		return;
	sandbox_usage_get(sb, &sb->final_usage);
	sb->have_final_usage = true;
	sb_cgroup_forget(sb);
}
