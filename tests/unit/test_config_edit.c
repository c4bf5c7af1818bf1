/* Minimal text edits of a config: exact output for the layouts people use. */
#include <criterion/criterion.h>
#include <string.h>

#include "config_edit.h"

static char *edit(const char *text, const char *key, cJSON *v, bool replace, bool *changed)
{
	struct config_text t;
	ocr_error err = {0};
	char *out;

	*changed = false;
	cr_assert_eq(config_text_init(&t, "c.json5", text, text ? strlen(text) : 0, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(config_text_set(&t, key, v, replace, changed, &err), 0, "%s", err.msg);
	out = strdup(t.text);
	config_text_release(&t);
	cJSON_Delete(v);
	return out;
}

static void check(const char *text, const char *key, cJSON *v, const char *want)
{
	bool changed;
	char *out = edit(text, key, v, false, &changed);

	cr_assert_str_eq(out, want, "from:\n%s", text ? text : "(new file)");
	cr_assert_eq(changed, strcmp(text ? text : "", want) != 0);
	free(out);
}

Test(config_edit, new_file)
{
	check(NULL, "gateway.auth.mode", cJSON_CreateString("token"),
	      "{\n  \"gateway\": {\n    \"auth\": {\n      \"mode\": \"token\"\n    }\n  }\n}\n");
}

Test(config_edit, keeps_style_of_the_object)
{
	check("{\n\tgateway: {\n\t\tport: 0x4965, // hex\n\t},\n}\n", "gateway.bind",
	      cJSON_CreateString("loopback"),
	      "{\n\tgateway: {\n\t\tport: 0x4965, // hex\n\t\tbind: \"loopback\"\n\t},\n}\n");
	check("{\r\n  'a': 1 /* c */\r\n}\r\n", "b", cJSON_CreateNumber(2),
	      "{\r\n  'a': 1, /* c */\r\n  'b': 2\r\n}\r\n");
	check("{a: {b: 1}}", "a.c", cJSON_CreateString("x"), "{a: {b: 1, c: \"x\"}}");
	check("{ a: 1 }", "b.c", cJSON_CreateNumber(2), "{ a: 1, b: {c: 2} }");
	check("{}", "a", cJSON_CreateNumber(1), "{\"a\": 1}");
	check("{\n  \"a\": 1}", "b", cJSON_CreateNumber(2), "{\n  \"a\": 1,\n  \"b\": 2\n}");
}

Test(config_edit, present_keys_stay_unless_replaced)
{
	bool changed;
	char *out;

	check("{a: {b: 0x10}}", "a.b", cJSON_CreateNumber(1), "{a: {b: 0x10}}");
	out = edit("{a: {b: 0x10 /* c */}}", "a.b", cJSON_CreateNumber(17), true, &changed);
	cr_assert_str_eq(out, "{a: {b: 17 /* c */}}");
	cr_assert(changed);
	free(out);
	out = edit("{a: {b: 0x11}}", "a.b", cJSON_CreateNumber(17), true, &changed);
	cr_assert_str_eq(out, "{a: {b: 0x11}}", "an equal value keeps its spelling");
	cr_assert_not(changed);
	free(out);
	/* Duplicate keys: the last one is what the gateway reads. */
	out = edit("{a: 1, a: 2}", "a", cJSON_CreateNumber(3), true, &changed);
	cr_assert_str_eq(out, "{a: 1, a: 3}");
	free(out);
	check("{g: {x: 1}, g: {y: 2}}", "g.z", cJSON_CreateNumber(3),
	      "{g: {x: 1}, g: {y: 2, z: 3}}");
}

Test(config_edit, refusals)
{
	struct config_text t;
	ocr_error err = {0};
	bool changed = false;
	cJSON *v = cJSON_CreateNumber(1);

	cr_assert_eq(config_text_init(&t, "c.json5", "{a: 'x'}", 8, &err), 0);
	cr_assert_eq(config_text_set(&t, "a.b", v, false, &changed, &err), -1);
	cr_assert(strstr(err.msg, "a is not an object"), "%s", err.msg);
	cr_assert_str_eq(t.text, "{a: 'x'}");
	config_text_release(&t);
	cJSON_Delete(v);
	/* Not UTF-8: read (as the gateway reads it), but not edited. */
	v = cJSON_CreateNumber(1);
	cr_assert_eq(config_text_init(&t, "c.json5", "{a: '\xff'}", 8, &err), 0, "%s", err.msg);
	cr_assert_eq(config_text_set(&t, "a", v, false, &changed, &err), 0, "present: no edit");
	cr_assert_eq(config_text_set(&t, "b", v, false, &changed, &err), -1);
	cr_assert(strstr(err.msg, "not UTF-8"), "%s", err.msg);
	config_text_release(&t);
	cJSON_Delete(v);
	cr_assert_eq(config_text_init(&t, "c.json5", "[1]", 3, &err), -1);
	cr_assert(strstr(err.msg, "not an object"), "%s", err.msg);
}
