/* A profile's resource limits: memory (and swap on top), pids, CPU weight
 * and quota. A person sets them with `setup` (--memory 1.5G, --pids 1024,
 * --cpu-weight 200, --cpu-quota 150%); they are kept with the pins in the
 * launcher's records, never in the config the gateway can write. What was
 * not set follows the defaults below, so a later openclaw-run can size them
 * anew. Pure: parsing, defaults, formatting. */
#ifndef OCR_RESOURCES_H
#define OCR_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sandbox.h"

/* Defaults, from a measurement of the real gateway (scripts/bench-limits,
 * BENCHMARKS.md "Resources"): from its start until 30 s after ready it
 * charged at most 887-993 MiB to its cgroup (RAM and page cache; its
 * processes' RSS summed to 1.13 GiB, shared pages counted twice) and ran at
 * most 44-48 tasks (processes and threads). 2 GiB leaves room for its agents'
 * tools; two gateways and the host fit in 6 GiB. On a smaller host each gets
 * (RAM - 1 GiB) / 2, never below the floor of a start with headroom (below
 * it the gateway could only crash-loop). 512 tasks (10x its peak, and the
 * sandbox's RLIMIT_NPROC, plan.c) stop a fork storm long before the host's
 * pid space fills. CPU: an even share against the other bot, no quota. */
#define RES_DEFAULT_MEMORY     (2ull << 30)
#define RES_MEMORY_FLOOR       (1536ull << 20)
#define RES_HOST_RESERVE       (1ull << 30)
#define RES_DEFAULT_PIDS       512
#define RES_DEFAULT_CPU_WEIGHT 100
#define RES_DEFAULT_CPU_QUOTA  0
#define RES_DEFAULT_SWAP       0
#define RES_CPU_WEIGHT_MAX     10000
#define RES_CPU_QUOTA_MAX      100000 /* percent: 1000 CPUs */

enum res_field {
	RES_MEMORY = 1u << 0,
	RES_SWAP = 1u << 1,
	RES_PIDS = 1u << 2,
	RES_CPU_WEIGHT = 1u << 3,
	RES_CPU_QUOTA = 1u << 4,
};

struct resources {
	uint64_t memory_max; /* bytes; 0: no limit */
	uint64_t swap_max;   /* bytes of swap on top of memory_max */
	uint64_t pids_max;   /* 0: no limit */
	unsigned cpu_weight; /* 1..10000, 100 an even share */
	unsigned cpu_quota;  /* percent of one CPU; 0: none */
	unsigned set;	     /* res_field bits a person chose; the rest are defaults */
};

/* The limits in force: R's chosen fields, the defaults for the others, for
 * a host with HOST_RAM bytes of RAM (0: unknown). */
void resources_effective(const struct resources *r, uint64_t host_ram, struct resources *out);
/* MemTotal of /proc/meminfo in bytes, 0 if unknown. */
uint64_t resources_host_ram(void);

/* "1.5G", "512M", "2048K", "1073741824" (bytes), suffixes K M G T with an
 * optional "i"/"iB"/"B" (all powers of 1024); "max" or "none": no limit (0).
 * ALLOW_ZERO: "0" is accepted (swap). */
int resources_parse_size(const char *text, bool allow_zero, uint64_t *bytes, ocr_error *err);
/* A count, or "max"/"none" for no limit (0). */
int resources_parse_count(const char *text, uint64_t *n, ocr_error *err);
/* 1..10000. */
int resources_parse_weight(const char *text, unsigned *weight, ocr_error *err);
/* "150%" or "1.5" (CPUs); "max"/"none": no quota (0). */
int resources_parse_quota(const char *text, unsigned *pct, ocr_error *err);

/* One option of `setup`: TEXT for FIELD into R (and its bit into R->set);
 * "default" clears the bit. Errors name the value; the caller adds the
 * option. */
int resources_parse_option(enum res_field field, const char *text, struct resources *r,
			   ocr_error *err);
/* DST takes SRC's value and chosen bit of every field in TOUCHED. */
void resources_merge(struct resources *dst, const struct resources *src, unsigned touched);

/* "1.5 GiB", "512 MiB", "none" (0). */
void resources_format_size(uint64_t bytes, char *buf, size_t len);
/* "memory 2 GiB (default), swap none (default), pids 1024, cpu weight 100
 * (default), cpu quota none (default)" for the limits in force EFF. */
void resources_describe(const struct resources *eff, char *buf, size_t len);

/* Why a sandbox that ended badly may have died, from its cgroups' counters
 * (not a guess): "the OOM killer killed 1 process at the memory limit (64
 * MiB)", "12 forks failed at the pids limit (40)". false: the counters show
 * nothing. */
bool resources_explain(const struct sandbox_usage *u, char *buf, size_t len);
/* "612 MiB of 2 GiB" / "37 of 1024 pids", for status; "" when unknown. */
void resources_usage_line(const struct sandbox_usage *u, char *buf, size_t len);

#endif
