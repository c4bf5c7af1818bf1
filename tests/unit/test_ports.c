/* Port arithmetic, roles, overlap detection and base allocation. */
#include <criterion/criterion.h>
#include <string.h>

#include "ports.h"

static struct port_block block(unsigned base)
{
	struct port_block b;

	cr_assert_eq(port_block_init(&b, base, PORT_FROM_CONFIG, NULL), 0, "base %u", base);
	return b;
}

Test(ports, block_and_roles)
{
	struct port_block b = block(18789);

	cr_assert_eq(port_block_last(&b), 18899);
	cr_assert_str_eq(port_role_of(&b, 18789), "gateway and canvas");
	cr_assert_str_eq(port_role_of(&b, 18790), "MCP-apps sandbox");
	cr_assert_str_eq(port_role_of(&b, 18791), "browser control");
	cr_assert_str_eq(port_role_of(&b, 18792), "legacy CDP");
	cr_assert_str_eq(port_role_of(&b, 18793), "legacy canvas");
	cr_assert_str_eq(port_role_of(&b, 18794), "extension relays");
	cr_assert_str_eq(port_role_of(&b, 18799), "extension relays");
	cr_assert_str_eq(port_role_of(&b, 18800), "CDP (browser profiles)");
	cr_assert_str_eq(port_role_of(&b, 18899), "CDP (browser profiles)");
	cr_assert_null(port_role_of(&b, 18900));
	cr_assert_null(port_role_of(&b, 18788));
	cr_assert(port_block_owns(&b, 18899));
	cr_assert_not(port_block_owns(&b, 18900));
}

Test(ports, roles_table_covers_block_without_gaps)
{
	unsigned next = 0;

	for (const struct port_role *r = port_roles; r->name; r++) {
		cr_assert_eq(r->first_offset, next);
		cr_assert_geq(r->last_offset, r->first_offset);
		next = r->last_offset + 1;
	}
	cr_assert_eq(next, PORT_BLOCK_LAST_OFFSET + 1);
}

Test(ports, range_limits)
{
	struct port_block b;
	ocr_error err = {0};

	cr_assert_eq(port_block_init(&b, 1023, PORT_FROM_FLAG, &err), -1);
	cr_assert(strstr(err.msg, "1023"), "%s", err.msg);
	cr_assert_eq(port_block_init(&b, 1024, PORT_FROM_FLAG, NULL), 0);
	cr_assert_eq(port_block_init(&b, 65425, PORT_FROM_FLAG, NULL), 0);
	cr_assert_eq(port_block_last(&b), 65535);
	cr_assert_eq(port_block_init(&b, 65426, PORT_FROM_FLAG, &err), -1);
	cr_assert(strstr(err.msg, "65426"), "%s", err.msg);
}

Test(ports, overlap_identical_adjacent_partial)
{
	struct port_block a = block(18789), b = block(18789);

	cr_assert_eq(port_blocks_first_collision(&a, &b), 18789);
	b = block(18900); /* adjacent: 18789..18899 and 18900..19010 */
	cr_assert_eq(port_blocks_first_collision(&a, &b), 0);
	b = block(18899); /* one shared port */
	cr_assert_eq(port_blocks_first_collision(&a, &b), 18899);
	cr_assert_eq(port_blocks_first_collision(&b, &a), 18899);
	/* The seed's "20 ports apart": rescue on 18809 starts inside main's block. */
	b = block(18809);
	cr_assert_eq(port_blocks_first_collision(&a, &b), 18809);
	cr_assert_eq(port_blocks_first_collision(&b, &a), 18809);
	cr_assert_str_eq(port_role_of(&a, 18809), "CDP (browser profiles)");
	/* The seed's 19001: 18789..18899 vs 19001..19111, clean. */
	b = block(19001);
	cr_assert_eq(port_blocks_first_collision(&a, &b), 0);
}

Test(ports, overlap_at_65535)
{
	struct port_block a = block(65425), b = block(65400);

	cr_assert_eq(port_blocks_first_collision(&a, &b), 65425);
	b = block(65314); /* ends at 65424 */
	cr_assert_eq(port_blocks_first_collision(&a, &b), 0);
}

Test(ports, explicit_ports)
{
	struct port_block a = block(18789), b = block(19001);
	ocr_error err = {0};

	/* An explicit CDP port of b inside a's block. */
	cr_assert_eq(port_block_add_explicit(&b, 18850, "browser.profiles.work.cdpPort", NULL), 0);
	cr_assert_eq(port_blocks_first_collision(&a, &b), 18850);
	cr_assert_str_eq(port_role_of(&b, 18850), "browser.profiles.work.cdpPort");
	/* Two equal explicit ports outside both blocks. */
	a = block(18789);
	b = block(19001);
	cr_assert_eq(port_block_add_explicit(&a, 9222, "browser.cdpUrl", NULL), 0);
	cr_assert_eq(port_block_add_explicit(&b, 9222, "browser.cdpUrl", NULL), 0);
	cr_assert_eq(port_blocks_first_collision(&a, &b), 9222);
	/* The lowest wins: an explicit port below the ranges' overlap. */
	b = block(18850);
	cr_assert_eq(port_block_add_explicit(&b, 18795, "mcp.apps.sandboxPort", NULL), 0);
	cr_assert_eq(port_blocks_first_collision(&a, &b), 18795);
	/* Duplicates are kept once; out of range refused. */
	cr_assert_eq(port_block_add_explicit(&a, 9222, "x", NULL), 0);
	cr_assert_eq(a.n_explicit, 1);
	cr_assert_eq(port_block_add_explicit(&a, 0, "x", &err), -1);
	cr_assert_eq(port_block_add_explicit(&a, 70000, "k.port", &err), -1);
	cr_assert(strstr(err.msg, "k.port"), "%s", err.msg);
	for (unsigned i = 0; i < PORT_EXPLICIT_MAX - 1; i++)
		cr_assert_eq(port_block_add_explicit(&a, 30000 + i, "x", NULL), 0);
	cr_assert_eq(port_block_add_explicit(&a, 40000, "x", NULL), -1);
}

Test(ports, hash_base_matches_upstream)
{
	/* Checked against upstream's CLI: profile p1 gets 21274. */
	cr_assert_eq(port_profile_hash_base("p1"), 21274);
	for (const char *n = "abcdefgh"; *n; n++) {
		unsigned b = port_profile_hash_base(n);

		cr_assert(b >= 20000 && b < 60000);
	}
}

Test(ports, alloc_base)
{
	struct port_block taken[3];
	unsigned base;

	cr_assert_eq(port_alloc_base(NULL, 0, &base, NULL), 0);
	cr_assert_eq(base, 18789);
	taken[0] = block(18789);
	cr_assert_eq(port_alloc_base(taken, 1, &base, NULL), 0);
	cr_assert_eq(base, 18909);
	/* An off-grid block blocks two grid slots. */
	taken[1] = block(18950);
	cr_assert_eq(port_alloc_base(taken, 2, &base, NULL), 0);
	cr_assert_eq(base, 19149);
	/* A hole left by a removed instance is reused. */
	taken[0] = block(19149);
	cr_assert_eq(port_alloc_base(taken, 1, &base, NULL), 0);
	cr_assert_eq(base, 18789);
	/* Explicit ports of others count too. */
	taken[0] = block(30000);
	cr_assert_eq(port_block_add_explicit(&taken[0], 18800, "browser.cdpUrl", NULL), 0);
	cr_assert_eq(port_alloc_base(taken, 1, &base, NULL), 0);
	cr_assert_eq(base, 18909);
	cr_assert_eq(port_alloc_base_from(NULL, 0, 18810, &base, NULL), 0);
	cr_assert_eq(base, 18909);
	cr_assert_eq(port_alloc_base_from(NULL, 0, 18909, &base, NULL), 0);
	cr_assert_eq(base, 18909);
	cr_assert_eq(port_alloc_base_from(NULL, 0, 65500, &base, NULL), -1);
}

Test(ports, alloc_exhausted)
{
	struct port_block many[600];
	unsigned base;
	ocr_error err = {0};
	size_t n = 0;

	for (unsigned b = 18789; b + 110 <= 65535; b += 120)
		many[n++] = block(b);
	cr_assert_eq(port_alloc_base(many, n, &base, &err), -1);
	cr_assert(strstr(err.msg, "no free port base"), "%s", err.msg);
}

Test(ports, parse)
{
	unsigned p;

	cr_assert_eq(port_parse("18789", &p, NULL), 0);
	cr_assert_eq(p, 18789);
	cr_assert_eq(port_parse("127.0.0.1:19001", &p, NULL), 0);
	cr_assert_eq(p, 19001);
	cr_assert_eq(port_parse("[::1]:20001", &p, NULL), 0);
	cr_assert_eq(p, 20001);
	cr_assert_eq(port_parse("", &p, NULL), -1);
	cr_assert_eq(port_parse("0", &p, NULL), -1);
	cr_assert_eq(port_parse("65536", &p, NULL), -1);
	cr_assert_eq(port_parse("99999999999999999999", &p, NULL), -1);
	cr_assert_eq(port_parse("12a", &p, NULL), -1);
	cr_assert_eq(port_parse("-1", &p, NULL), -1);
	cr_assert_eq(port_parse("host:", &p, NULL), -1);
	cr_assert_eq(port_parse("[::1]", &p, NULL), -1);
}
