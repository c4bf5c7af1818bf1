/* NODE_COMPILE_CACHE as upstream's launcher would choose it (node_cache.h). */
#include "node_cache.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cleanup.h"

#define PACKAGE_JSON_MAX (1u << 20)

static bool segment_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

void node_cache_segment(const char *in, char *out, size_t len)
{
	size_t n = 0, start = 0;

	if (len == 0)
		return;
	for (const char *p = in; *p && n + 1 < len; p++) {
		if (segment_char(*p))
			out[n++] = *p;
		else if (n == 0 || out[n - 1] != '_' || segment_char(p[-1]))
			out[n++] = '_'; /* one "_" for a whole run */
	}
	while (n > 0 && out[n - 1] == '_')
		n--;
	while (start < n && out[start] == '_')
		start++;
	memmove(out, out + start, n - start);
	n -= start;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, len, "unknown");
}

/* package.json's "version" when it is a string with more than blanks. */
static void package_version(const char *json, char *out, size_t len)
{
	cJSON *root = json ? cJSON_Parse(json) : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");

	if (cJSON_IsString(v) && v->valuestring[strspn(v->valuestring, " \t\r\n\v\f")])
		node_cache_segment(v->valuestring, out, len);
	else
		snprintf(out, len, "unknown");
	cJSON_Delete(root);
}

char *node_cache_dir_for(const char *base, const char *package_json, const struct stat *st)
{
	char version[256], marker[128] = "no-package-json", *dir;

	package_version(package_json, version, sizeof(version));
	if (st) {
		/* JS: Math.trunc(stat.mtimeMs) of sec * 1e3 + nsec / 1e6, in doubles. */
		double ms = (double)st->st_mtim.tv_sec * 1e3 + (double)st->st_mtim.tv_nsec / 1e6;
		char raw[96];

		snprintf(raw, sizeof(raw), "%lld-%lld", (long long)ms, (long long)st->st_size);
		node_cache_segment(raw, marker, sizeof(marker));
	}
	if (asprintf(&dir, "%s/openclaw/%s/%s", base, version, marker) < 0)
		return NULL;
	return dir;
}

char *node_cache_dir(const char *base, const char *package_dir)
{
	char path[PATH_MAX + 32];
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct stat st;
	bool found;

	snprintf(path, sizeof(path), "%s/package.json", package_dir);
	found = stat(path, &st) == 0;
	if (found && read_file_capped(path, PACKAGE_JSON_MAX, &text, &len, NULL) < 0)
		text = NULL;
	return node_cache_dir_for(base, text, found ? &st : NULL);
}
