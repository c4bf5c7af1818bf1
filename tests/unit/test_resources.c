/* A profile's limits without root: setup's option syntax, the defaults and
 * how a small host shrinks them, the records (old ones without limits, only
 * chosen fields written), and the explanations status and exec give from a
 * cgroup's counters. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pins.h"
#include "resources.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

Test(resources, sizes)
{
	uint64_t b = 1;
	ocr_error err = {0};

	cr_assert_eq(resources_parse_size("1.5G", false, &b, &err), 0);
	cr_assert_eq(b, 1536 * MiB);
	cr_assert_eq(resources_parse_size("800M", false, &b, &err), 0);
	cr_assert_eq(b, 800 * MiB);
	cr_assert_eq(resources_parse_size("2GiB", false, &b, &err), 0);
	cr_assert_eq(b, 2 * GiB);
	cr_assert_eq(resources_parse_size("512mb", false, &b, &err), 0);
	cr_assert_eq(b, 512 * MiB);
	cr_assert_eq(resources_parse_size("1073741824", false, &b, &err), 0);
	cr_assert_eq(b, GiB);
	cr_assert_eq(resources_parse_size("max", false, &b, &err), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(resources_parse_size("0", true, &b, &err), 0); /* swap 0 */
	cr_assert_eq(b, 0);
	static const char *const bad[] = {"",  "G",   "-1G", "1e9", "0x10M", "1.5X",	 "1GG",
					  "0", "12K", "nan", "inf", "1.5 G", "99999999T"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(resources_parse_size(bad[i], false, &b, &err), -1, "%s", bad[i]);
	cr_assert(strstr(err.msg, "'99999999T'"), "%s", err.msg);
}

Test(resources, counts_weights_quotas)
{
	uint64_t n;
	unsigned u;
	ocr_error err = {0};

	cr_assert_eq(resources_parse_count("1024", &n, &err), 0);
	cr_assert_eq(n, 1024);
	cr_assert_eq(resources_parse_count("max", &n, &err), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(resources_parse_count("0", &n, &err), -1);
	cr_assert_eq(resources_parse_count("12x", &n, &err), -1);
	cr_assert_eq(resources_parse_weight("100", &u, &err), 0);
	cr_assert_eq(u, 100);
	cr_assert_eq(resources_parse_weight("0", &u, &err), -1);
	cr_assert_eq(resources_parse_weight("10001", &u, &err), -1);
	cr_assert_eq(resources_parse_quota("150%", &u, &err), 0);
	cr_assert_eq(u, 150);
	cr_assert_eq(resources_parse_quota("1.5", &u, &err), 0);
	cr_assert_eq(u, 150);
	cr_assert_eq(resources_parse_quota("max", &u, &err), 0);
	cr_assert_eq(u, 0);
	cr_assert_eq(resources_parse_quota("0.5%", &u, &err), -1);
	cr_assert_eq(resources_parse_quota("150%%", &u, &err), -1);
}

Test(resources, defaults_fit_two_gateways_and_the_host)
{
	struct resources none = {0}, eff;

	resources_effective(&none, 24 * GiB, &eff);
	cr_assert_eq(eff.memory_max, RES_DEFAULT_MEMORY);
	cr_assert_eq(eff.pids_max, RES_DEFAULT_PIDS);
	cr_assert_eq(eff.cpu_weight, 100);
	cr_assert_eq(eff.cpu_quota, 0);
	cr_assert_eq(eff.swap_max, 0);
	/* 4 GiB: (4 - 1) / 2 each. */
	resources_effective(&none, 4 * GiB, &eff);
	cr_assert_eq(eff.memory_max, 1536 * MiB);
	/* Below what a start needs, the floor: never a crash loop by default. */
	resources_effective(&none, 2 * GiB, &eff);
	cr_assert_eq(eff.memory_max, RES_MEMORY_FLOOR);
	resources_effective(&none, 0, &eff); /* unknown host */
	cr_assert_eq(eff.memory_max, RES_DEFAULT_MEMORY);
}

Test(resources, options_merge_and_default_resets)
{
	struct resources given = {0}, pinned = {0}, eff;
	ocr_error err = {0};
	unsigned touched = 0;

	cr_assert_eq(resources_parse_option(RES_MEMORY, "1.5G", &given, &err), 0);
	touched |= RES_MEMORY;
	cr_assert_eq(resources_parse_option(RES_CPU_QUOTA, "150%", &given, &err), 0);
	touched |= RES_CPU_QUOTA;
	resources_merge(&pinned, &given, touched);
	cr_assert_eq(pinned.set, RES_MEMORY | RES_CPU_QUOTA);
	resources_effective(&pinned, 24 * GiB, &eff);
	cr_assert_eq(eff.memory_max, 1536 * MiB);
	cr_assert_eq(eff.cpu_quota, 150);
	cr_assert_eq(eff.pids_max, RES_DEFAULT_PIDS);

	/* A later setup: --memory default, --pids 64; the quota stays. */
	given = (struct resources){0};
	cr_assert_eq(resources_parse_option(RES_MEMORY, "default", &given, &err), 0);
	cr_assert_eq(resources_parse_option(RES_PIDS, "64", &given, &err), 0);
	resources_merge(&pinned, &given, RES_MEMORY | RES_PIDS);
	cr_assert_eq(pinned.set, RES_PIDS | RES_CPU_QUOTA);
	resources_effective(&pinned, 24 * GiB, &eff);
	cr_assert_eq(eff.memory_max, RES_DEFAULT_MEMORY);
	cr_assert_eq(eff.pids_max, 64);
	cr_assert_eq(eff.cpu_quota, 150);
}

Test(resources, records_keep_only_chosen_limits)
{
	struct pins in = {0}, out;
	ocr_error err = {0};
	cJSON *j, *l;

	snprintf(in.state_dir, sizeof(in.state_dir), "/srv/a");
	snprintf(in.config_path, sizeof(in.config_path), "/srv/a/openclaw.json");
	snprintf(in.workspace, sizeof(in.workspace), "/srv/a/ws");
	cr_assert_eq(port_block_init(&in.ports, 20029, PORT_FROM_CONFIG, NULL), 0);
	j = pins_to_json(&in);
	cr_assert_null(cJSON_GetObjectItem(j, "limits")); /* nothing chosen: none written */
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.limits.set, 0);
	cJSON_Delete(j);

	in.limits = (struct resources){.memory_max = 1536 * MiB,
				       .pids_max = 0,
				       .cpu_weight = 200,
				       .set = RES_MEMORY | RES_PIDS | RES_CPU_WEIGHT};
	j = pins_to_json(&in);
	l = cJSON_GetObjectItem(j, "limits");
	cr_assert_not_null(l);
	cr_assert_null(cJSON_GetObjectItem(l, "swap_max"));
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.limits.set, RES_MEMORY | RES_PIDS | RES_CPU_WEIGHT);
	cr_assert_eq(out.limits.memory_max, 1536 * MiB);
	cr_assert_eq(out.limits.pids_max, 0); /* chosen: no limit */
	cr_assert_eq(out.limits.cpu_weight, 200);

	cJSON_ReplaceItemInObject(l, "cpu_weight", cJSON_CreateNumber(0));
	cr_assert_eq(pins_from_json(j, &out, &err), -1);
	cJSON_ReplaceItemInObject(l, "cpu_weight", cJSON_CreateString("200"));
	cr_assert_eq(pins_from_json(j, &out, &err), -1);
	cr_assert(strstr(err.msg, "limits.cpu_weight"), "%s", err.msg);
	cJSON_Delete(j);
}

Test(resources, explanations_come_from_the_counters)
{
	struct sandbox_usage u = {0};
	char buf[256];

	cr_assert_eq(resources_explain(&u, buf, sizeof(buf)), false);
	u.memory = true;
	u.memory_max = 64 * MiB;
	u.memory_max_hits = 9; /* reclaim at the limit is no kill */
	cr_assert_eq(resources_explain(&u, buf, sizeof(buf)), false);
	u.oom_kills = 1;
	cr_assert(resources_explain(&u, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "the OOM killer killed 1 process at the memory limit (64 MiB)");
	u.pids = true;
	u.pids_max = 40;
	u.pids_refused = 3;
	cr_assert(resources_explain(&u, buf, sizeof(buf)));
	cr_assert(strstr(buf, "; 3 forks failed at the pids limit (40)"), "%s", buf);

	u.memory_current = 612 * MiB;
	u.memory_peak = 1126 * MiB;
	u.memory_max = 2 * GiB;
	u.pids_current = 37;
	u.pids_max = 512;
	resources_usage_line(&u, buf, sizeof(buf));
	cr_assert_str_eq(buf, "memory 612 MiB of 2 GiB (peak 1.1 GiB), pids 37 of 512");
}
