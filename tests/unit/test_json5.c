/* JSON5 reading: what upstream accepts, and errors with line:column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "json5.h"

static cJSON *ok(const char *text)
{
	cJSON *root = NULL;
	ocr_error err = {0};

	cr_assert_eq(json5_parse(text, strlen(text), "t.json5", &root, &err), 0, "%s: %s", text,
		     err.msg);
	cr_assert_not_null(root);
	return root;
}

static void bad(const char *text, const char *where, const char *why)
{
	cJSON *root = (cJSON *)1;
	ocr_error err = {0};

	cr_assert_eq(json5_parse(text, strlen(text), "t.json5", &root, &err), -1, "%s", text);
	cr_assert_null(root);
	cr_assert(strncmp(err.msg, where, strlen(where)) == 0, "[%s] want %s, got %s", text, where,
		  err.msg);
	cr_assert(strstr(err.msg, why), "[%s] want \"%s\" in %s", text, why, err.msg);
}

Test(json5, plain_json)
{
	cJSON *r = ok("{\"gateway\": {\"port\": 18789, \"bind\": \"loopback\"}, \"a\": [1, 2.5, "
		      "true, false, null]}");

	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "gateway"), "port")->valueint,
		     18789);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "a")), 5);
	cJSON_Delete(r);
}

Test(json5, upstream_extensions)
{
	const char *text = "// a comment\n"
			   "{\n"
			   "  /* block\n comment */\n"
			   "  gateway: { port: 18789, bind: 'loopback', },\n"
			   "  $odd_key1: 0x1F,\n"
			   "  neg: -.5, pos: +5., exp: 1e3,\n"
			   "  inf: Infinity, ninf: -Infinity, nan: NaN,\n"
			   "  s: 'it\\'s \"q\" \\x41\\u00e9\\uD83D\\uDE00 \\\n"
			   "next',\n"
			   "  list: [1, 2, ],\n"
			   "  dup: 1, dup: 2,\n"
			   "}\n";
	cJSON *r = ok(text);

	cr_assert_str_eq(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r, "gateway"), "bind")->valuestring,
	    "loopback");
	cr_assert_eq(cJSON_GetObjectItem(r, "$odd_key1")->valuedouble, 31);
	cr_assert_eq(cJSON_GetObjectItem(r, "neg")->valuedouble, -0.5);
	cr_assert_eq(cJSON_GetObjectItem(r, "pos")->valuedouble, 5);
	cr_assert_eq(cJSON_GetObjectItem(r, "exp")->valuedouble, 1000);
	cr_assert(isinf(cJSON_GetObjectItem(r, "inf")->valuedouble));
	cr_assert(cJSON_GetObjectItem(r, "ninf")->valuedouble < 0);
	cr_assert(isnan(cJSON_GetObjectItem(r, "nan")->valuedouble));
	cr_assert_str_eq(cJSON_GetObjectItem(r, "s")->valuestring,
			 "it's \"q\" A\xc3\xa9\xf0\x9f\x98\x80 next");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "list")), 2);
	cr_assert_eq(cJSON_GetObjectItem(r, "dup")->valuedouble, 2, "the last duplicate wins");
	cr_assert_eq(cJSON_GetArraySize(r), 11);
	cJSON_Delete(r);
}

Test(json5, bom_and_unicode_space)
{
	cJSON *r = ok("\xef\xbb\xbf{\xc2\xa0"
		      "a:1\xe2\x80\xa8}");

	cr_assert_eq(cJSON_GetObjectItem(r, "a")->valuedouble, 1);
	cJSON_Delete(r);
}

Test(json5, scalars_at_top)
{
	cJSON *r = ok("  'x'  ");

	cr_assert_str_eq(r->valuestring, "x");
	cJSON_Delete(r);
}

Test(json5, errors_with_line_and_column)
{
	bad("", "t.json5:1:1:", "empty document");
	bad("{\n  a: 1,\n  b 2\n}", "t.json5:3:5:", "expected ':'");
	bad("{a: 1 b: 2}", "t.json5:1:7:", "expected ',' or '}'");
	bad("[1 2]", "t.json5:1:4:", "expected ',' or ']'");
	bad("{a: 'x}", "t.json5:1:8:", "invalid end of input in a string");
	bad("{a: \"x\ny\"}", "t.json5:1:7:", "escape a line break");
	bad("{/* never closed", "t.json5:1:2:", "unterminated /* comment");
	bad("{a: 01}", "t.json5:1:6:", "invalid character '1'");
	bad("{a: 0x}", "t.json5:1:7:", "after 0x");
	bad("{a: 1e}", "t.json5:1:7:", "exponent");
	bad("{a: tru}", "t.json5:1:8:", "in a keyword");
	bad("{a: 1} x", "t.json5:1:8:", "after the document's value");
	bad("{a: '\\1'}", "t.json5:1:7:", "in an escape");
	bad("{a: '\\u12'}", "t.json5:1:10:", "hex escape");
	bad("{,}", "t.json5:1:2:", "where a key or '}' belongs");
	bad("{a: [}", "t.json5:1:6:", "invalid character '}'");
	bad("{a: 1", "t.json5:1:6:", "end of input");
	bad("{\"\xc3\xa9\": 1, b: @}", "t.json5:1:13:", "'@'");
	bad("{a: 5x}", "t.json5:1:6:", "invalid character 'x'");
	bad("{\r\n\r\n  a 1}", "t.json5:3:5:", "expected ':'");
	bad("{\xe2\x82\xac: 1}", "t.json5:1:2:", "U+20AC");
	bad("{\\u0031: 1}", "t.json5:1:2:", "invalid identifier character");
}

/* NUL is a character like any other (upstream's strings are JS strings);
 * the tree spells it C0 80 so that C strings keep their length. */
Test(json5, nul_in_strings)
{
	const char text[] = "{a: 'x\0y', b: '\\0', c: '\\u0000'}";
	cJSON *root;
	ocr_error err = {0};

	cr_assert_eq(json5_parse(text, sizeof(text) - 1, "f", &root, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cJSON_GetObjectItem(root, "a")->valuestring, "x\xc0\x80y");
	cr_assert_str_eq(cJSON_GetObjectItem(root, "b")->valuestring, "\xc0\x80");
	cr_assert_str_eq(cJSON_GetObjectItem(root, "c")->valuestring, "\xc0\x80");
	json5_delete(root);
	cr_assert_eq(json5_parse("{}\0", 3, "f", &root, &err), -1);
	cr_assert(strstr(err.msg, "f:1:3: invalid character U+0000"), "%s", err.msg);
}

/* Upstream's json5 keeps its own stack: so do we, and free without recursion. */
Test(json5, any_depth)
{
	size_t depth = 200000;
	char *deep = malloc(2 * depth);
	cJSON *root;
	ocr_error err = {0};

	cr_assert_not_null(deep);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	cr_assert_eq(json5_parse(deep, 2 * depth, "d", &root, &err), 0, "%s", err.msg);
	cr_assert_eq(json5_depth(root), depth);
	json5_delete(root);
	cr_assert_eq(json5_parse(deep, 2 * depth - 1, "d", &root, &err), -1);
	free(deep);
}

/* The walk visits every node once, in document order, with its parent,
 * and never the root's siblings. */
Test(json5, walk_pre_order)
{
	cJSON *root = ok("{a: [1, {b: 2}, []], c: {}, d: 'x'}");
	struct json5_walk w = json5_walk_start(root);
	char seen[128] = "";
	size_t n = 0;

	for (cJSON *it; (it = json5_walk_next(&w));) {
		cJSON *parent = json5_walk_parent(&w);

		cr_assert_eq(parent == NULL, it == root);
		n += (size_t)snprintf(seen + n, sizeof(seen) - n, "%s%zu,",
				      it->string ? it->string : "_", w.depth);
	}
	cr_assert_not(w.oom);
	cr_assert_str_eq(seen, "_0,a1,_2,_2,b3,_2,c1,d1,");
	json5_walk_finish(&w);
	/* A scalar root, and a root with siblings: only the root. */
	w = json5_walk_start(root->child->child);
	cr_assert_eq(json5_walk_next(&w), root->child->child);
	cr_assert_null(json5_walk_next(&w));
	cr_assert_null(json5_walk_next(&w));
	json5_walk_finish(&w);
	w = json5_walk_start(NULL);
	cr_assert_null(json5_walk_next(&w));
	json5_walk_finish(&w);
	json5_delete(root);
}

Test(json5, unicode_whitespace_and_line_ends)
{
	/* A // comment ends at U+2028 / U+2029; U+3000 and friends are spaces. */
	cJSON *r = ok("{ // note\xe2\x80\xa8 gateway\xe3\x80\x80: {port:\xe1\x9a\x80 1,"
		      " a: true\xc2\xa0}, // x\xe2\x80\xa9 b\xe2\x80\xaf:2 }");

	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "gateway"), "port")->valuedouble,
		     1);
	cr_assert_eq(cJSON_GetObjectItem(r, "b")->valuedouble, 2);
	json5_delete(r);
}

Test(json5, js_member_order)
{
	cJSON *r = ok("{b: 1, a: 2, b: 3, '10': 4, '9': 5, '01': 6, '4294967295': 7}");
	const char *want[] = {"9", "10", "b", "a", "01", "4294967295"};
	size_t i = 0;
	cJSON *c;

	cJSON_ArrayForEach(c, r)
	{
		cr_assert_lt(i, 6);
		cr_assert_str_eq(c->string, want[i], "member %zu", i);
		i++;
	}
	cr_assert_eq(i, 6);
	cr_assert_eq(cJSON_GetObjectItem(r, "b")->valuedouble, 3, "the last duplicate wins");
	json5_delete(r);
}

Test(json5, values_as_js_sees_them)
{
	cJSON *r = ok("{a: 9007199254740993, b: 0x20000000000003, c: '\\ud83d\\ude00\\ud800',"
		      " d: '\xff', e: -0}");

	cr_assert_eq(cJSON_GetObjectItem(r, "a")->valuedouble, 9007199254740992.0);
	cr_assert_eq(cJSON_GetObjectItem(r, "b")->valuedouble, 9007199254740996.0);
	cr_assert_str_eq(cJSON_GetObjectItem(r, "c")->valuestring, "\xf0\x9f\x98\x80\xed\xa0\x80");
	cr_assert_str_eq(cJSON_GetObjectItem(r, "d")->valuestring, "\xef\xbf\xbd");
	cr_assert(signbit(cJSON_GetObjectItem(r, "e")->valuedouble));
	json5_delete(r);
}

Test(json5, fuzz_random_bytes_and_mutations)
{
	static const char seed[] = "{ gateway: { port: 18789, auth: {mode: 'token'} }, // c\n"
				   " a: [1, -2.5e3, 0x1f, 'x\\u00e9', \"y\\n\", null, true], }";
	const char alphabet[] = "{}[]:,'\"\\/*\n \tabcxu0123456789.-+eE";
	char buf[256];
	unsigned state = 12345;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len;
		cJSON *root = NULL;
		ocr_error err = {0};

		if (iter % 2 == 0) {
			len = (size_t)(rand_r(&state) % sizeof(buf));
			for (size_t i = 0; i < len; i++)
				buf[i] = iter % 4 == 0
					     ? (char)rand_r(&state)
					     : alphabet[rand_r(&state) % (sizeof(alphabet) - 1)];
		} else {
			len = sizeof(seed) - 1;
			memcpy(buf, seed, len);
			for (int m = 0; m < 1 + iter % 4; m++) {
				size_t at;

				if (len == 0)
					break;
				at = (size_t)rand_r(&state) % len;

				if (rand_r(&state) % 3 == 0)
					len = at; /* truncate */
				else
					buf[at] = alphabet[rand_r(&state) % (sizeof(alphabet) - 1)];
			}
		}
		if (json5_parse(buf, len, "fuzz", &root, &err) == 0) {
			cr_assert_not_null(root);
			cJSON_Delete(root);
		} else {
			cr_assert_null(root);
			cr_assert(strncmp(err.msg, "fuzz:", 5) == 0, "%s", err.msg);
		}
	}
}
