/* A profile's resource limits (see resources.h). */
#include "resources.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void resources_effective(const struct resources *r, uint64_t host_ram, struct resources *out)
{
	uint64_t memory = RES_DEFAULT_MEMORY;

	/* Two gateways and the host must fit: on a small host each gets half of
	 * what the host's own reserve leaves, but never less than a start needs
	 * (below that the gateway could only crash-loop). */
	if (host_ram > RES_HOST_RESERVE && (host_ram - RES_HOST_RESERVE) / 2 < memory)
		memory = (host_ram - RES_HOST_RESERVE) / 2;
	if (memory < RES_MEMORY_FLOOR)
		memory = RES_MEMORY_FLOOR;
	*out = (struct resources){
	    .memory_max = r->set & RES_MEMORY ? r->memory_max : memory,
	    .swap_max = r->set & RES_SWAP ? r->swap_max : RES_DEFAULT_SWAP,
	    .pids_max = r->set & RES_PIDS ? r->pids_max : RES_DEFAULT_PIDS,
	    .cpu_weight = r->set & RES_CPU_WEIGHT ? r->cpu_weight : RES_DEFAULT_CPU_WEIGHT,
	    .cpu_quota = r->set & RES_CPU_QUOTA ? r->cpu_quota : RES_DEFAULT_CPU_QUOTA,
	    .set = r->set,
	};
}

uint64_t resources_host_ram(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kib = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	}
	fclose(f);
	return (uint64_t)kib * 1024;
}

static bool is_none(const char *text)
{
	return strcasecmp(text, "max") == 0 || strcasecmp(text, "none") == 0;
}

/* A non-negative decimal number (digits, at most one '.') and where it ends. */
static bool parse_decimal(const char *text, double *v, const char **end)
{
	const char *odd;
	char *e;

	if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '.'))
		return false;
	errno = 0;
	*v = strtod(text, &e);
	/* strtod also reads exponents and hex: not sizes a person writes. */
	odd = strpbrk(text, "eEpPxXnN");
	if (errno || e == text || !isfinite(*v) || *v < 0 || (odd && odd < e))
		return false;
	*end = e;
	return true;
}

int resources_parse_size(const char *text, bool allow_zero, uint64_t *bytes, ocr_error *err)
{
	static const char units[] = "KMGT";
	const char *u, *end;
	double v, scale = 1;

	if (is_none(text)) {
		*bytes = 0;
		return 0;
	}
	if (!parse_decimal(text, &v, &end))
		goto bad;
	if (*end && (u = strchr(units, *end & ~0x20)) != NULL) {
		scale = ldexp(1, 10 * (int)(1 + (u - units)));
		end++;
		if (strcasecmp(end, "i") == 0 || strcasecmp(end, "ib") == 0 ||
		    strcasecmp(end, "b") == 0)
			end += strlen(end);
	} else if (*end == 'B' || *end == 'b') {
		end++;
	}
	if (*end || v * scale >= 0x1p63)
		goto bad;
	*bytes = (uint64_t)(v * scale);
	if (*bytes == 0 && !allow_zero)
		return err_set(err, EINVAL, "'%s': a limit of 0 bytes (use \"max\" for none)",
			       text);
	/* cgroups count in pages: below one megabyte nothing can run. */
	if (*bytes && *bytes < (1u << 20) && !allow_zero)
		return err_set(err, EINVAL, "'%s': below 1M", text);
	return 0;
bad:
	return err_set(err, EINVAL, "'%s': expected a size such as 1.5G, 512M or max", text);
}

int resources_parse_count(const char *text, uint64_t *n, ocr_error *err)
{
	char *end;

	if (is_none(text)) {
		*n = 0;
		return 0;
	}
	errno = 0;
	*n = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || *n == 0 || *n > (1u << 22))
		return err_set(err, EINVAL, "'%s': expected a count in 1..4194304 or max", text);
	return 0;
}

int resources_parse_weight(const char *text, unsigned *weight, ocr_error *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end || errno || v < 1 || v > RES_CPU_WEIGHT_MAX)
		return err_set(err, EINVAL,
			       "'%s': expected a weight in 1..10000 (100 is an even share)", text);
	*weight = (unsigned)v;
	return 0;
}

int resources_parse_quota(const char *text, unsigned *pct, ocr_error *err)
{
	const char *end;
	double v;

	if (is_none(text)) {
		*pct = 0;
		return 0;
	}
	if (!parse_decimal(text, &v, &end) || (*end && strcmp(end, "%") != 0))
		goto bad;
	if (!*end)
		v *= 100; /* CPUs */
	if (v < 1 || v > RES_CPU_QUOTA_MAX)
		goto bad;
	*pct = (unsigned)lround(v);
	return 0;
bad:
	return err_set(
	    err, EINVAL,
	    "'%s': expected a share of the CPUs such as 150%% or 1.5 (1%%..100000%%), or "
	    "max",
	    text);
}

void resources_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int i = 0;

	if (!bytes) {
		snprintf(buf, len, "none");
		return;
	}
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, v >= 100 ? "%.0f %s" : "%.3g %s", v, units[i]);
}

int resources_parse_option(enum res_field field, const char *text, struct resources *r,
			   ocr_error *err)
{
	int rc = 0;

	if (strcasecmp(text, "default") == 0) {
		r->set &= ~(unsigned)field;
		return 0;
	}
	switch (field) {
	case RES_MEMORY:
		rc = resources_parse_size(text, false, &r->memory_max, err);
		break;
	case RES_SWAP:
		rc = resources_parse_size(text, true, &r->swap_max, err);
		break;
	case RES_PIDS:
		rc = resources_parse_count(text, &r->pids_max, err);
		break;
	case RES_CPU_WEIGHT:
		rc = resources_parse_weight(text, &r->cpu_weight, err);
		break;
	case RES_CPU_QUOTA:
		rc = resources_parse_quota(text, &r->cpu_quota, err);
		break;
	}
	if (rc == 0)
		r->set |= field;
	return rc;
}

void resources_merge(struct resources *dst, const struct resources *src, unsigned touched)
{
	if (touched & RES_MEMORY)
		dst->memory_max = src->memory_max;
	if (touched & RES_SWAP)
		dst->swap_max = src->swap_max;
	if (touched & RES_PIDS)
		dst->pids_max = src->pids_max;
	if (touched & RES_CPU_WEIGHT)
		dst->cpu_weight = src->cpu_weight;
	if (touched & RES_CPU_QUOTA)
		dst->cpu_quota = src->cpu_quota;
	dst->set = (dst->set & ~touched) | (src->set & touched);
}

void resources_describe(const struct resources *eff, char *buf, size_t len)
{
	char mem[32], swap[32], pids[32] = "none", quota[32] = "none";
	const char *dflt = " (default)";

	resources_format_size(eff->memory_max, mem, sizeof(mem));
	if (eff->swap_max)
		resources_format_size(eff->swap_max, swap, sizeof(swap));
	else
		snprintf(swap, sizeof(swap), "0");
	if (eff->pids_max)
		snprintf(pids, sizeof(pids), "%llu", (unsigned long long)eff->pids_max);
	if (eff->cpu_quota)
		snprintf(quota, sizeof(quota), "%u%%", eff->cpu_quota);
	snprintf(buf, len, "memory %s%s, swap %s%s, pids %s%s, cpu weight %u%s, cpu quota %s%s",
		 mem, eff->set & RES_MEMORY ? "" : dflt, swap, eff->set & RES_SWAP ? "" : dflt,
		 pids, eff->set & RES_PIDS ? "" : dflt, eff->cpu_weight,
		 eff->set & RES_CPU_WEIGHT ? "" : dflt, quota,
		 eff->set & RES_CPU_QUOTA ? "" : dflt);
}

bool resources_explain(const struct sandbox_usage *u, char *buf, size_t len)
{
	char max[32];
	size_t n = 0;

	buf[0] = '\0';
	if (u->memory && u->oom_kills) {
		resources_format_size(u->memory_max, max, sizeof(max));
		n += (size_t)snprintf(
		    buf, len, "the OOM killer killed %llu process%s at the memory limit (%s)",
		    (unsigned long long)u->oom_kills, u->oom_kills == 1 ? "" : "es", max);
	}
	if (u->pids && u->pids_refused && n < len)
		snprintf(buf + n, len - n, "%s%llu fork%s failed at the pids limit (%llu)",
			 n ? "; " : "", (unsigned long long)u->pids_refused,
			 u->pids_refused == 1 ? "" : "s", (unsigned long long)u->pids_max);
	return buf[0] != '\0';
}

void resources_usage_line(const struct sandbox_usage *u, char *buf, size_t len)
{
	char cur[32], max[32], peak[32];
	size_t n = 0;

	buf[0] = '\0';
	if (u->memory) {
		resources_format_size(u->memory_current, cur, sizeof(cur));
		resources_format_size(u->memory_max, max, sizeof(max));
		resources_format_size(u->memory_peak, peak, sizeof(peak));
		n +=
		    (size_t)snprintf(buf, len, "memory %s of %s (peak %s)", cur,
				     u->memory_max ? max : "no limit", u->memory_peak ? peak : "?");
	}
	if (u->pids && n < len) {
		if (u->pids_max)
			snprintf(buf + n, len - n, "%spids %llu of %llu", n ? ", " : "",
				 (unsigned long long)u->pids_current,
				 (unsigned long long)u->pids_max);
		else
			snprintf(buf + n, len - n, "%spids %llu (no limit)", n ? ", " : "",
				 (unsigned long long)u->pids_current);
	}
}
