/* Reading what a sandbox's cgroups hold and saw: current and peak memory,
 * the limit, how often it was hit and whether the OOM killer acted; tasks
 * against pids.max and the forks it refused; the CPU weight and quota. The
 * counters survive the processes, so they tell why a sandbox died. */
#include "sandbox_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* v1 writes "no limit" as the largest page-aligned value, v2 as "max". */
#define SB_V1_UNLIMITED (1ull << 62)

static uint64_t read_u64(const char *dir, const char *file)
{
	char buf[64];

	if (sb_cg_read(dir, file, buf, sizeof(buf)) < 0 || strncmp(buf, "max", 3) == 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

static uint64_t limit_u64(const char *dir, const char *file)
{
	uint64_t v = read_u64(dir, file);

	return v >= SB_V1_UNLIMITED ? 0 : v;
}

/* The value of KEY in a flat keyed file ("key value" lines). */
static uint64_t read_key(const char *dir, const char *file, const char *key)
{
	char buf[1024];
	size_t n = strlen(key);

	if (sb_cg_read(dir, file, buf, sizeof(buf)) < 0)
		return 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			return strtoull(line + n + 1, NULL, 10);
	}
	return 0;
}

static void read_memory(const char *d, int version, struct sandbox_usage *u)
{
	u->memory = true;
	if (version == 2) {
		u->memory_current = read_u64(d, "memory.current");
		u->memory_peak = read_u64(d, "memory.peak");
		u->memory_max = read_u64(d, "memory.max");
		u->memory_max_hits = read_key(d, "memory.events", "max");
		u->oom_kills = read_key(d, "memory.events", "oom_kill");
		return;
	}
	u->memory_current = read_u64(d, "memory.usage_in_bytes");
	u->memory_peak = read_u64(d, "memory.max_usage_in_bytes");
	u->memory_max = limit_u64(d, "memory.limit_in_bytes");
	u->memory_max_hits = read_u64(d, "memory.failcnt");
	u->oom_kills = read_key(d, "memory.oom_control", "oom_kill");
}

static void read_cpu(const char *d, int version, struct sandbox_usage *u)
{
	char buf[64];
	long long quota = -1, period = 100000;

	u->cpu = true;
	if (version == 2) {
		u->cpu_weight = (unsigned)read_u64(d, "cpu.weight");
		if (sb_cg_read(d, "cpu.max", buf, sizeof(buf)) == 0 &&
		    sscanf(buf, "%lld %lld", &quota, &period) != 2)
			quota = -1;
	} else {
		u->cpu_weight = (unsigned)(read_u64(d, "cpu.shares") * 100 / 1024);
		if (sb_cg_read(d, "cpu.cfs_quota_us", buf, sizeof(buf)) == 0)
			quota = strtoll(buf, NULL, 10);
		period = (long long)read_u64(d, "cpu.cfs_period_us");
	}
	u->cpu_quota_pct = quota > 0 && period > 0 ? (unsigned)(quota * 100 / period) : 0;
}

void sb_cg_read_usage(const char *dir, int version, unsigned controllers, struct sandbox_usage *u)
{
	if (controllers & SB_CG_MEMORY)
		read_memory(dir, version, u);
	if (controllers & SB_CG_PIDS) {
		u->pids = true;
		u->pids_current = read_u64(dir, "pids.current");
		u->pids_max = read_u64(dir, "pids.max");
		u->pids_refused = read_key(dir, "pids.events", "max");
	}
	if (controllers & SB_CG_CPU)
		read_cpu(dir, version, u);
}

void sb_cg_usage_now(const struct sandbox *sb, struct sandbox_usage *u)
{
	memset(u, 0, sizeof(*u));
	for (size_t j = 0; j < sb->n_cgroups; j++)
		sb_cg_read_usage(sb->cgroups[j].dir, sb->cgroups[j].version,
				 sb->cgroups[j].controllers, u);
}

static uint64_t since(uint64_t now, uint64_t base)
{
	return now > base ? now - base : 0;
}

/* The slot is kept across starts: its counters are this start's only
 * against their value when it began. */
void sandbox_usage_get(const struct sandbox *sb, struct sandbox_usage *u)
{
	if (sb->have_final_usage) {
		*u = sb->final_usage;
		return;
	}
	sb_cg_usage_now(sb, u);
	u->memory_max_hits = since(u->memory_max_hits, sb->usage_base.memory_max_hits);
	u->oom_kills = since(u->oom_kills, sb->usage_base.oom_kills);
	u->pids_refused = since(u->pids_refused, sb->usage_base.pids_refused);
}

int sandbox_usage_of(pid_t init_pid, const char *prefix, struct sandbox_usage *u,
		     struct sandbox_error *err)
{
	struct sb_cg_place place[SB_CG_N];

	memset(u, 0, sizeof(*u));
	if (init_pid <= 0)
		return sandbox_error_set(err, ESRCH, "sandbox: usage: no such process");
	sb_cg_locate(init_pid, place);
	for (int i = 0; i < SB_CG_N; i++) {
		const char *base = strrchr(place[i].dir, '/');

		/* A group the sandbox did not get (that controller's limits were
		 * off) is the launcher's: not the sandbox's usage. */
		if (!place[i].version || !base || strncmp(base + 1, prefix, strlen(prefix)) != 0)
			continue;
		sb_cg_read_usage(place[i].dir, place[i].version, 1u << i, u);
	}
	return 0;
}
