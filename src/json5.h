/* A JSON5 reader (what upstream's config loader accepts: comments, trailing
 * commas, unquoted keys, single quotes, hex, +/-Infinity, NaN, multi-line
 * strings) that produces a cJSON tree. Errors carry "file:line:column: why". */
#ifndef OCR_JSON5_H
#define OCR_JSON5_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

int json5_parse(const char *text, size_t len, const char *origin, cJSON **out, ocr_error *err);

#endif
