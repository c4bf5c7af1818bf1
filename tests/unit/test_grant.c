/* Rescue grants: parsing, naming, the list and their place in the pins. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "grant.h"
#include "pins.h"

Test(grant, parse_plain_and_with_items)
{
	char name[PROFILE_NAME_MAX + 1];
	unsigned items;
	ocr_error err = {0};

	cr_assert_eq(grant_parse("main", name, sizeof(name), &items, &err), 0, "%s", err.msg);
	cr_assert_str_eq(name, "main");
	cr_assert_eq(items, GRANT_BASE);
	cr_assert_eq(grant_parse("main:workspace", name, sizeof(name), &items, &err), 0);
	cr_assert_eq(items, GRANT_ALL);
	cr_assert_eq(grant_parse("default", name, sizeof(name), &items, &err), 0);
}

Test(grant, parse_refuses_bad_names_and_items)
{
	char name[PROFILE_NAME_MAX + 1];
	unsigned items;
	ocr_error err = {0};

	cr_assert_eq(grant_parse("", name, sizeof(name), &items, &err), -1);
	cr_assert_eq(grant_parse(":workspace", name, sizeof(name), &items, &err), -1);
	cr_assert_eq(grant_parse("main:secrets", name, sizeof(name), &items, &err), -1);
	cr_assert(strstr(err.msg, "secrets"), "%s", err.msg);
	cr_assert_eq(grant_parse("../main", name, sizeof(name), &items, &err), -1);
}

Test(grant, items_text)
{
	char buf[96];

	grant_items_text(GRANT_ALL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "control, logs, config, workspace");
	grant_items_text(GRANT_CONTROL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "control");
}

Test(grant, list_add_narrow_remove)
{
	struct grant list[GRANTS_MAX];
	size_t n = 0;
	ocr_error err = {0};

	cr_assert_eq(grant_list_set(list, &n, "main", "/s/main", GRANT_ALL, &err), 1);
	cr_assert_eq(grant_list_set(list, &n, "main", "/s/main", GRANT_ALL, &err), 0);
	cr_assert_eq(grant_list_set(list, &n, "main", "/s/main", GRANT_BASE, &err), 1);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].items, GRANT_BASE);
	cr_assert_eq(grant_list_set(list, &n, "main", "/s/main", 0, &err), 1);
	cr_assert_eq(n, 0);
	for (int i = 0; i < GRANTS_MAX; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "p%d", i);
		cr_assert_eq(grant_list_set(list, &n, nm, "/s", GRANT_BASE, &err), 1);
	}
	cr_assert_eq(grant_list_set(list, &n, "one-more", "/s", GRANT_BASE, &err), -1);
}

Test(grant, pins_round_trip_and_absent_list)
{
	struct pins in = {0}, out;
	ocr_error err = {0};

	strcpy(in.state_dir, "/s/rescue");
	strcpy(in.config_path, "/s/rescue/openclaw.json");
	strcpy(in.workspace, "/s/rescue/workspace");
	cr_assert_eq(port_block_init(&in.ports, 18789, PORT_FROM_CONFIG, &err), 0);
	cJSON *j = pins_to_json(&in);
	/* Records written before grants existed have no "rescues". */
	cr_assert_null(cJSON_GetObjectItem(j, "rescues"));
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.n_rescues, 0);
	cJSON_Delete(j);

	grant_list_set(in.rescues, &in.n_rescues, "main", "/s/main", GRANT_ALL, &err);
	j = pins_to_json(&in);
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.n_rescues, 1);
	cr_assert_str_eq(out.rescues[0].profile, "main");
	cr_assert_str_eq(out.rescues[0].state_dir, "/s/main");
	cr_assert_eq(out.rescues[0].items, GRANT_BASE, "no workspace recorded: none granted");
	cJSON_Delete(j);
}

Test(grant, unknown_items_grant_nothing)
{
	struct grant g;
	ocr_error err = {0};
	cJSON *o = cJSON_Parse("{\"profile\":\"main\",\"state_dir\":\"/s/main\","
			       "\"items\":[\"control\",\"everything\"]}");

	cr_assert_eq(grant_from_json(o, &g, &err), 0, "%s", err.msg);
	cr_assert_eq(g.items, GRANT_CONTROL);
	cJSON_Delete(o);
	o = cJSON_Parse("{\"profile\":\"main\",\"state_dir\":\"relative\"}");
	cr_assert_eq(grant_from_json(o, &g, &err), -1);
	cJSON_Delete(o);
}

Test(grant, container_grants_keep_their_dir_and_need_no_state_dir)
{
	struct pins in = {0}, out;
	ocr_error err = {0};
	cJSON *o;
	struct grant g;

	strcpy(in.state_dir, "/s/main");
	strcpy(in.config_path, "/s/main/openclaw.json");
	strcpy(in.workspace, "/s/main/workspace");
	cr_assert_eq(port_block_init(&in.ports, 18789, PORT_FROM_CONFIG, &err), 0);
	in.n_rescued_by = 1;
	strcpy(in.rescued_by[0].profile, "rescue");
	strcpy(in.rescued_by[0].dir, "/v/rescue/main");
	in.rescued_by[0].items = GRANT_BASE;
	cJSON *j = pins_to_json(&in);
	cr_assert_eq(pins_from_json(j, &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.n_rescued_by, 1);
	cr_assert_str_eq(out.rescued_by[0].profile, "rescue");
	cr_assert_str_eq(out.rescued_by[0].dir, "/v/rescue/main");
	cr_assert_str_eq(out.rescued_by[0].state_dir, "");
	cr_assert_eq(out.rescued_by[0].items, GRANT_BASE);
	cJSON_Delete(j);

	/* Without a dir the state dir is required; a relative dir grants nothing. */
	o = cJSON_Parse("{\"profile\":\"main\",\"dir\":\"/v/rescue/main\"}");
	cr_assert_eq(grant_from_json(o, &g, &err), 0, "%s", err.msg);
	cr_assert_str_eq(g.dir, "/v/rescue/main");
	cJSON_Delete(o);
	o = cJSON_Parse("{\"profile\":\"main\"}");
	cr_assert_eq(grant_from_json(o, &g, &err), -1);
	cJSON_Delete(o);
	o = cJSON_Parse("{\"profile\":\"main\",\"dir\":\"v/rescue\"}");
	cr_assert_eq(grant_from_json(o, &g, &err), -1);
	cJSON_Delete(o);
}
