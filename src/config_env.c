/* See config_env.h. */
#include "config_env.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json5.h"
#include "json5_text.h"

static const char *lookup(const char *const *env, const char *name, size_t n)
{
	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* A "{NAME}" at S (after the '$'): NAME's length, 0 if none. */
static size_t braced_name(const char *s)
{
	const char *end;

	if (s[0] != '{' || !(end = strchr(s + 1, '}')) || end == s + 1)
		return 0;
	if (!(s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z')))
		return 0;
	for (const char *p = s + 2; p < end; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return (size_t)(end - s - 1);
}

/* substituteString: NULL when S has nothing to substitute (or on OOM,
 * with *oom set), else the new string. */
static char *substitute(const char *s, const char *const *env, bool *oom)
{
	struct json5_buf b = {0};
	bool changed = false;

	*oom = !json5_buf_put(&b, "", 0);
	for (const char *p = s; *p && !*oom; p++) {
		size_t n;
		const char *v;

		if (*p != '$') {
			*oom = !json5_buf_put(&b, p, 1);
		} else if (p[1] == '$' && (n = braced_name(p + 2)) > 0) {
			*oom = !json5_buf_put(&b, p + 1, n + 3); /* "$${X}" -> "${X}" */
			p += n + 3;
			changed = true;
		} else if ((n = braced_name(p + 1)) > 0) {
			v = lookup(env, p + 2, n);
			if (v && *v) {
				*oom = !json5_buf_put(&b, v, strlen(v));
				changed = true;
			} else {
				*oom = !json5_buf_put(&b, p, n + 3); /* kept as written */
			}
			p += n + 2;
		} else {
			*oom = !json5_buf_put(&b, p, 1);
		}
	}
	if (*oom || !changed) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

/* Calls FN on every string value of ROOT, without recursion. */
static int each_string(cJSON *root, int (*fn)(cJSON *s, void *ctx), void *ctx, ocr_error *err)
{
	struct json5_walk w = json5_walk_start(root);
	int rc = 0;

	for (cJSON *it; rc == 0 && (it = json5_walk_next(&w));)
		if (cJSON_IsString(it))
			rc = fn(it, ctx);
	if (rc < 0 || w.oom)
		rc = err_set(err, ENOMEM, "config strings");
	json5_walk_finish(&w);
	return rc;
}

static int substitute_one(cJSON *it, void *env)
{
	bool oom;
	char *s;

	if (!strchr(it->valuestring, '$'))
		return 0;
	s = substitute(it->valuestring, env, &oom);
	if (oom)
		return -1;
	if (s) {
		free(it->valuestring);
		it->valuestring = s;
	}
	return 0;
}

int config_substitute_env(cJSON *root, const char *const *env, ocr_error *err)
{
	return each_string(root, substitute_one, (void *)env, err);
}

/* A lone surrogate (ED A0..BF xx in the tree) becomes EF BF BD in place. */
static int well_formed_one(cJSON *it, void *unused)
{
	(void)unused;
	for (unsigned char *p = (unsigned char *)it->valuestring; *p; p++)
		if (p[0] == 0xed && p[1] >= 0xa0 && p[1] <= 0xbf && p[2]) {
			p[0] = 0xef;
			p[1] = 0xbf;
			p[2] = 0xbd;
			p += 2;
		}
	return 0;
}

int config_strings_for_os(cJSON *root, ocr_error *err)
{
	return each_string(root, well_formed_one, NULL, err);
}
