/* Tokens of json5 2.2.3 (lib/parse.js lexStates), for json5.c. Internal. */
#ifndef OCR_JSON5_LEX_H
#define OCR_JSON5_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json5_text.h"

struct json5_lexer {
	const unsigned char *s; /* valid UTF-8 */
	size_t len, pos;
	const char *origin;
	ocr_error *err;
	bool failed;
};

/* Records the first error, at byte POS; always returns false. */
bool json5_fail_at(struct json5_lexer *l, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "invalid character X" / "invalid end of input" at the current position. */
bool json5_fail_here(struct json5_lexer *l, const char *context);
bool json5_oom(struct json5_lexer *l);

/* The code point at the current position, -1 at the end; *n its length. */
int32_t json5_peek(const struct json5_lexer *l, size_t *n);

/* Whitespace and comments (json5's default lexState). */
bool json5_skip_space(struct json5_lexer *l);
/* At a quote: the string, into B (cleared first). */
bool json5_lex_string(struct json5_lexer *l, struct json5_buf *b);
/* At '$', '_', '\' or an ID_Start character: an unquoted key, into B. */
bool json5_lex_identifier(struct json5_lexer *l, struct json5_buf *b);
/* At '+', '-', '.', a digit, 'I' or 'N': a number as JS's Number() reads it. */
bool json5_lex_number(struct json5_lexer *l, double *v);
/* The rest of a keyword whose first character was read. */
bool json5_lex_literal(struct json5_lexer *l, const char *rest);

#endif
