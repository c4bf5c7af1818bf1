/* $include, resolved as the gateway resolves it (openclaw 2026.9.6,
 * src/config/includes.ts): a "$include" key names a file (or a list of
 * files, merged in order) relative to the including file; the included value
 * replaces the object, or is deep-merged under its sibling keys (objects
 * merge, arrays concatenate, other values: the sibling wins). Files must lie
 * in the main config's directory or an OPENCLAW_INCLUDE_ROOTS entry, also
 * after resolving links; at most 10 levels; a file including itself, directly
 * or not, is an error naming the chain. */
#ifndef OCR_CONFIG_INCLUDE_H
#define OCR_CONFIG_INCLUDE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

/* Largest include file upstream reads. */
#define CONFIG_INCLUDE_MAX_BYTES ((size_t)2 << 20)

/* Replaces *ROOT (the parse of CONFIG_PATH, absolute) by its resolution.
 * INCLUDE_ROOTS: OPENCLAW_INCLUDE_ROOTS (':'-separated absolute paths) or
 * NULL. On error *ROOT is left for the caller to free. */
/* Whether any object in ROOT has a "$include" key. */
bool config_has_include(const cJSON *root);
int config_resolve_includes(cJSON **root, const char *config_path, const char *include_roots,
			    ocr_error *err);

#endif
