/* JSON5 reading: what upstream accepts, and errors with line:column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
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
	bad("{a: 'x}", "t.json5:1:5:", "unterminated string");
	bad("{a: \"x\ny\"}", "t.json5:1:7:", "line break inside a string");
	bad("{/* never closed", "t.json5:1:2:", "unterminated /* comment");
	bad("{a: 01}", "t.json5:1:5:", "leading zeros");
	bad("{a: 0x}", "t.json5:1:7:", "hex digits");
	bad("{a: 1e}", "t.json5:1:7:", "exponent");
	bad("{a: tru}", "t.json5:1:5:", "unexpected character 't'");
	bad("{a: 1} x", "t.json5:1:8:", "expected the end of the document");
	bad("{a: '\\1'}", "t.json5:1:6:", "\\1 is not supported");
	bad("{a: '\\u12'}", "t.json5:1:10:", "hex digits");
	bad("{a: 'x\\u0000'}", "t.json5:1:7:", "NUL character");
	bad("{,}", "t.json5:1:2:", "expected a key");
	bad("{a: [}", "t.json5:1:6:", "unexpected character '}'");
	bad("{a: 1", "t.json5:1:6:", "end of input");
	bad("{\"\xc3\xa9\": 1, b: @}", "t.json5:1:13:", "'@'");
	bad("{a: 5x}", "t.json5:1:6:", "after a number");
	bad("{\r\n\r\n  a 1}", "t.json5:3:5:", "expected ':'");
}

Test(json5, nul_bytes_are_errors_not_truncation)
{
	const char text[] = "{a: 'x\0y'}";
	cJSON *root;
	ocr_error err = {0};

	cr_assert_eq(json5_parse(text, sizeof(text) - 1, "f", &root, &err), -1);
	cr_assert(strstr(err.msg, "f:1:7:"), "%s", err.msg);
	cr_assert_eq(json5_parse("{}\0", 3, "f", &root, &err), -1);
	cr_assert_eq(json5_parse("'\\\0'", 4, "f", &root, &err), -1);
	cr_assert(strstr(err.msg, "f:1:3: NUL byte"), "%s", err.msg);
}

Test(json5, depth_limit)
{
	char deep[600];
	cJSON *root;
	ocr_error err = {0};

	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	cr_assert_eq(json5_parse(deep, sizeof(deep), "d", &root, &err), -1);
	cr_assert(strstr(err.msg, "nested deeper than"), "%s", err.msg);
	cr_assert_eq(json5_parse(deep + 300 - 100, 200, "d", &root, &err), 0, "%s", err.msg);
	cJSON_Delete(root);
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
