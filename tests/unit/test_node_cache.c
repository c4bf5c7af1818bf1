/* NODE_COMPILE_CACHE as upstream's launcher names it (openclaw.mjs,
 * sanitizeCompileCachePathSegment and resolvePackagedCompileCacheDirectory). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "node_cache.h"

static void seg(const char *in, const char *want)
{
	char out[64];

	node_cache_segment(in, out, sizeof(out));
	cr_assert_str_eq(out, want, "segment of \"%s\"", in);
}

Test(node_cache, segments_as_upstream_sanitizes)
{
	seg("2026.9.6", "2026.9.6");
	seg("1.0.0-beta+build 7", "1.0.0-beta_build_7");
	seg("a$$$b", "a_b"); /* a run is one "_" */
	seg("a_$b", "a__b"); /* a kept "_" beside a run */
	seg("__a__", "a");   /* leading and trailing "_" go */
	seg("$a$", "a");
	seg("", "unknown");
	seg("$$$", "unknown");
	seg("\xc3\xa9t\xc3\xa9", "t"); /* bytes outside ASCII are a run */
}

Test(node_cache, directory_from_version_mtime_and_size)
{
	struct stat st;
	char *dir;

	memset(&st, 0, sizeof(st));
	st.st_mtim.tv_sec = 1796657330;
	st.st_mtim.tv_nsec = 913999000;
	st.st_size = 142802;
	dir = node_cache_dir_for("/s/cache/node-compile-cache", "{\"version\": \"2026.9.6\"}", &st);
	cr_assert_str_eq(dir, "/s/cache/node-compile-cache/openclaw/2026.9.6/1796657330913-142802");
	free(dir);
	/* In doubles, as JS adds sec * 1e3 + nsec / 1e6: node 24 prints
	 * ...914 for this one (913.999999 ms is not representable there). */
	st.st_mtim.tv_nsec = 913999999;
	dir = node_cache_dir_for("/s", "{\"version\": \"2026.9.6\"}", &st);
	cr_assert_str_eq(dir, "/s/openclaw/2026.9.6/1796657330914-142802");
	free(dir);
	st.st_mtim.tv_nsec = 913999000;
	/* No usable version, no package.json at all: upstream's fallbacks. */
	dir = node_cache_dir_for("/b", "{\"version\": \"  \"}", &st);
	cr_assert_str_eq(dir, "/b/openclaw/unknown/1796657330913-142802");
	free(dir);
	dir = node_cache_dir_for("/b", "not json", NULL);
	cr_assert_str_eq(dir, "/b/openclaw/unknown/no-package-json");
	free(dir);
}
