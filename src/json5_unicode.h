/* Character classes of json5 2.2.3, the gateway's config parser, for code
 * points (tables generated from the package by scripts/gen-json5-unicode.js). */
#ifndef OCR_JSON5_UNICODE_H
#define OCR_JSON5_UNICODE_H

#include <stdbool.h>
#include <stdint.h>

/* May start an unquoted key: ASCII letters, '$', '_', Unicode ID_Start. */
bool json5_id_start(uint32_t cp);
/* May continue one: the above, digits, ZWNJ, ZWJ, ID_Continue. */
bool json5_id_continue(uint32_t cp);
/* Unicode Space_Separator beyond ASCII (U+1680, U+2000-200A, ...). */
bool json5_space_separator(uint32_t cp);

#endif
