/* The text layer under the JSON5 parser: UTF-8 decoding as the gateway does
 * it (Node's readFileSync(path, "utf-8"), the WHATWG decoder: every invalid
 * sequence becomes U+FFFD), code points, and the growing string buffer that
 * holds values in the tree's encoding (see json5.h). */
#ifndef OCR_JSON5_TEXT_H
#define OCR_JSON5_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NULL when TEXT is already valid UTF-8 (use it as is), else a malloc'ed
 * copy with each maximal invalid subpart replaced by U+FFFD; *out_len its
 * length. Sets *oom on allocation failure. */
char *json5_utf8_repair(const char *text, size_t len, size_t *out_len, bool *oom);

/* The code point at S (valid UTF-8, LEFT > 0 bytes); *n its length. */
uint32_t json5_cp(const unsigned char *s, size_t left, size_t *n);

struct json5_buf {
	char *data;
	size_t len, cap;
};

bool json5_buf_put(struct json5_buf *b, const void *data, size_t n);
/* Appends one UTF-16 code unit or code point: U+0000 as C0 80, a lone
 * surrogate in its 3-byte form, a low surrogate after a high one joined. */
bool json5_buf_put_cp(struct json5_buf *b, uint32_t cp);

#endif
