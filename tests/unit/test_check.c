/* The isolation checklist over hand-built instances. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"

/* An instance of profile NAME under /h with base BASE; paths may be
 * overridden afterwards. CONFIG_JSON (may be NULL) becomes its config. */
static struct instance make(const char *name, unsigned base, const char *config_json)
{
	struct env_view env = {.home = "/h"};
	struct instance inst;

	memset(&inst, 0, sizeof(inst));
	cr_assert_eq(profile_resolve(name, &env, &inst.profile, NULL), 0);
	cr_assert_eq(profile_resolve_workspace(&inst.profile, NULL, &env, NULL), 0);
	inst.ports.base = base;
	inst.ports.origin = PORT_FROM_CONFIG;
	if (config_json) {
		inst.config = cJSON_Parse(config_json);
		cr_assert_not_null(inst.config);
		cr_assert_eq(config_collect_explicit_ports(inst.config, &inst.ports, NULL), 0);
	}
	return inst;
}

static void release(struct instance *inst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		instance_release(&inst[i]);
}

static size_t count(const struct violation_list *vl, enum violation_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < vl->n; i++)
		n += vl->items[i].kind == kind;
	return n;
}

static const struct violation *find(const struct violation_list *vl, enum violation_kind kind)
{
	for (size_t i = 0; i < vl->n; i++)
		if (vl->items[i].kind == kind)
			return &vl->items[i];
	cr_assert_fail("no %s violation", violation_kind_name(kind));
	return NULL;
}

Test(check, clean_pair)
{
	struct instance inst[2] = {make(NULL, 18789, NULL), make("rescue", 18909, NULL)};
	struct violation_list vl;

	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(vl.n, 0, "%s", vl.n ? vl.items[0].detail : "");
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, seed_twenty_ports_apart_overlaps)
{
	struct instance inst[2] = {make("main", 18789, NULL), make("rescue", 18809, NULL)};
	struct violation_list vl;
	const struct violation *v;

	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(vl.n, 1);
	v = find(&vl, VIOLATION_PORT_OVERLAP);
	cr_assert_eq(v->port, 18809);
	cr_assert(violation_involves(v, 0) && violation_involves(v, 1));
	cr_assert(strstr(v->detail, "\"main\"") && strstr(v->detail, "\"rescue\""), "%s",
		  v->detail);
	cr_assert(strstr(v->detail, "first shared port 18809"), "%s", v->detail);
	cr_assert_str_eq(violation_kind_name(v->kind), "port-overlap");
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, shared_paths)
{
	struct instance inst[2] = {make("a", 18789, NULL), make("b", 18909, NULL)};
	struct violation_list vl;

	strcpy(inst[1].profile.config_path, inst[0].profile.config_path);
	strcpy(inst[1].profile.workspace, inst[0].profile.workspace);
	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(count(&vl, VIOLATION_SHARED_CONFIG), 1);
	cr_assert_eq(count(&vl, VIOLATION_SHARED_WORKSPACE), 1);
	cr_assert_eq(count(&vl, VIOLATION_SHARED_STATE_DIR), 0);
	cr_assert_eq(count(&vl, VIOLATION_NESTED), 0, "sharing is not reported twice");
	cr_assert(
	    strstr(find(&vl, VIOLATION_SHARED_CONFIG)->detail, "/h/.openclaw-a/openclaw.json"));
	violation_list_release(&vl);
	strcpy(inst[1].profile.state_dir, inst[0].profile.state_dir);
	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(count(&vl, VIOLATION_SHARED_STATE_DIR), 1);
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, same_cdp_url)
{
	struct instance inst[2] = {
	    make("a", 18789, "{\"browser\": {\"cdpUrl\": \"http://chrome.lan:9222\"}}"),
	    make("b", 18909,
		 "{\"browser\": {\"profiles\": {\"w\": {\"cdpUrl\": "
		 "\"http://chrome.lan:9222/\"}}}}"),
	};
	struct violation_list vl;

	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(vl.n, 1);
	cr_assert(strstr(find(&vl, VIOLATION_SHARED_CDP_URL)->detail, "http://chrome.lan:9222"));
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, explicit_cdp_port_inside_other_block)
{
	struct instance inst[2] = {
	    make("a", 18789, NULL),
	    make("b", 18909, "{\"browser\": {\"profiles\": {\"w\": {\"cdpPort\": 18850}}}}"),
	};
	struct violation_list vl;
	const struct violation *v;

	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(vl.n, 1);
	v = find(&vl, VIOLATION_PORT_OVERLAP);
	cr_assert_eq(v->port, 18850);
	cr_assert(strstr(v->detail, "browser.profiles.w.cdpPort"), "%s", v->detail);
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, nesting_from_upstream_docs)
{
	/* OPENCLAW_CONFIG_PATH=~/.openclaw/rescue.json, state ~/.openclaw-rescue,
	 * workspace ~/.openclaw/workspace-rescue. */
	struct instance inst[2] = {make(NULL, 18789, NULL), make("rescue", 19001, NULL)};
	struct violation_list vl;
	size_t nested = 0;

	strcpy(inst[1].profile.config_path, "/h/.openclaw/rescue.json");
	strcpy(inst[1].profile.workspace, "/h/.openclaw/workspace-rescue");
	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	for (size_t i = 0; i < vl.n; i++) {
		cr_assert_eq(vl.items[i].kind, VIOLATION_NESTED, "%s", vl.items[i].detail);
		cr_assert_eq(vl.items[i].a, 1);
		cr_assert_eq(vl.items[i].b, 0);
		nested++;
	}
	cr_assert_eq(nested, 2);
	cr_assert(strstr(vl.items[0].detail, "/h/.openclaw/rescue.json"), "%s", vl.items[0].detail);
	cr_assert(strstr(vl.items[1].detail, "/h/.openclaw/workspace-rescue"), "%s",
		  vl.items[1].detail);
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, sibling_prefix_is_not_nesting)
{
	/* /h/.openclaw-rescue starts with "/h/.openclaw" but is not inside it. */
	struct instance inst[2] = {make(NULL, 18789, NULL), make("rescue", 18909, NULL)};
	struct violation_list vl;

	strcpy(inst[0].profile.workspace, "/h/ws");
	strcpy(inst[1].profile.workspace, "/h/ws2");
	cr_assert_eq(check_instances(inst, 2, &vl, NULL), 0);
	cr_assert_eq(vl.n, 0, "%s", vl.n ? vl.items[0].detail : "");
	violation_list_release(&vl);
	release(inst, 2);
}

Test(check, bad_port_and_three_instances)
{
	struct instance inst[3] = {make("a", 65500, NULL), make("b", 18789, NULL),
				   make("c", 18850, NULL)};
	struct violation_list vl;
	const struct violation *v;

	cr_assert_eq(check_instances(inst, 3, &vl, NULL), 0);
	cr_assert_eq(vl.n, 2);
	v = find(&vl, VIOLATION_BAD_PORT);
	cr_assert_eq(v->a, 0);
	cr_assert(strstr(v->detail, "65500"), "%s", v->detail);
	v = find(&vl, VIOLATION_PORT_OVERLAP);
	cr_assert(v->a == 1 && v->b == 2 && v->port == 18850);
	cr_assert_not(violation_involves(v, 0));
	violation_list_release(&vl);
	release(inst, 3);
}
