/* Where node keeps the installed openclaw's compile cache.
 *
 * Upstream's launcher (openclaw.mjs, resolvePackagedCompileCacheDirectory)
 * wants its compile cache in BASE/openclaw/<version>/<mtime ms>-<size>, of
 * its own package.json, with BASE from NODE_COMPILE_CACHE (else node's
 * temp dir). When node already runs with a cache elsewhere, the launcher
 * starts node again with that directory and waits for it: a second node
 * process for every `openclaw` command, and a wrapper above every gateway.
 * Giving NODE_COMPILE_CACHE the directory it would pick spares that. A
 * mismatch (a future layout) only costs the respawn again. */
#ifndef OCR_NODE_CACHE_H
#define OCR_NODE_CACHE_H

#include <stddef.h>
#include <sys/stat.h>

/* Upstream's sanitizeCompileCachePathSegment: each run of characters
 * outside [A-Za-z0-9._-] becomes "_", then leading and trailing "_" go;
 * "unknown" when nothing is left. Writes at most LEN bytes. */
void node_cache_segment(const char *in, char *out, size_t len);

/* The directory for BASE, the package.json's text (NULL: unreadable) and
 * its stat (NULL: missing). Caller frees; NULL when out of memory. */
char *node_cache_dir_for(const char *base, const char *package_json, const struct stat *st);

/* The same, reading PACKAGE_DIR/package.json of a trusted install (never a
 * payload's file: the install is root's or the person's). */
char *node_cache_dir(const char *base, const char *package_dir);

#endif
