/* ${VAR} in config strings, substituted as the gateway does when it reads
 * its config (openclaw 2026.9.6, src/config/env-substitution.ts): only in
 * string values (not keys), VAR matching [A-Z_][A-Z0-9_]*, "$${VAR}" a
 * literal "${VAR}", and an unset or empty VAR left as written (the gateway
 * warns and keeps it). */
#ifndef OCR_CONFIG_ENV_H
#define OCR_CONFIG_ENV_H

#include <cjson/cJSON.h>

#include "error.h"

/* ENV: "KEY=VALUE" entries, NULL-terminated. Rewrites ROOT's strings. */
int config_substitute_env(cJSON *root, const char *const *env, ocr_error *err);

/* What node hands the OS for each string value: a lone surrogate (the tree
 * keeps it, see json5.h) is written as U+FFFD when a JS string becomes a
 * path or an argument. Keys are left as they are (they name members). */
int config_strings_for_os(cJSON *root, ocr_error *err);

#endif
