/* Tokens of json5 2.2.3; each function follows the lexState of lib/parse.js
 * it names, so the accepted set is the same character for character. */
#include "json5_lex.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json5_unicode.h"

/* Line and column (in characters, both from 1) of byte offset POS. */
static void locate(const struct json5_lexer *l, size_t pos, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos && i < l->len; i++) {
		unsigned char c = l->s[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

bool json5_fail_at(struct json5_lexer *l, size_t pos, const char *fmt, ...)
{
	char why[256];
	unsigned line, col;
	va_list ap;

	if (l->failed)
		return false;
	l->failed = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	locate(l, pos, &line, &col);
	err_set(l->err, 0, "%s:%u:%u: %s", l->origin ? l->origin : "<input>", line, col, why);
	return false;
}

bool json5_fail_here(struct json5_lexer *l, const char *context)
{
	size_t n;
	int32_t c = json5_peek(l, &n);
	const char *sep = *context ? " " : "";

	if (c < 0)
		return json5_fail_at(l, l->pos, "invalid end of input%s%s", sep, context);
	if (c >= 0x21 && c < 0x7f)
		return json5_fail_at(l, l->pos, "invalid character '%c'%s%s", c, sep, context);
	return json5_fail_at(l, l->pos, "invalid character U+%04X%s%s", (unsigned)c, sep, context);
}

bool json5_oom(struct json5_lexer *l)
{
	if (!l->failed) {
		l->failed = true;
		err_set(l->err, ENOMEM, "%s", l->origin ? l->origin : "<input>");
	}
	return false;
}

int32_t json5_peek(const struct json5_lexer *l, size_t *n)
{
	if (l->pos >= l->len) {
		*n = 0;
		return -1;
	}
	return (int32_t)json5_cp(l->s + l->pos, l->len - l->pos, n);
}

static bool is_space(int32_t c)
{
	switch (c) {
	case '\t':
	case '\v':
	case '\f':
	case ' ':
	case 0xa0:
	case 0xfeff:
	case '\n':
	case '\r':
	case 0x2028:
	case 0x2029:
		return true;
	}
	return c > 0 && json5_space_separator((uint32_t)c);
}

static bool is_line_end(int32_t c)
{
	return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

bool json5_skip_space(struct json5_lexer *l)
{
	for (;;) {
		size_t n, start = l->pos;
		int32_t c = json5_peek(l, &n);

		if (is_space(c)) {
			l->pos += n;
			continue;
		}
		if (c != '/')
			return true;
		l->pos++;
		c = json5_peek(l, &n);
		if (c == '/') {
			while ((c = json5_peek(l, &n)) >= 0 && !is_line_end(c))
				l->pos += n;
		} else if (c == '*') {
			const unsigned char *end = NULL;

			l->pos++;
			for (size_t i = l->pos; i + 1 < l->len && !end; i++)
				if (l->s[i] == '*' && l->s[i + 1] == '/')
					end = l->s + i;
			if (!end)
				return json5_fail_at(l, start, "unterminated /* comment");
			l->pos = (size_t)(end - l->s) + 2;
		} else {
			return json5_fail_here(l, "after '/'");
		}
	}
}

static int hex_value(int32_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static bool read_hex(struct json5_lexer *l, int digits, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < digits; i++) {
		size_t n;
		int h = hex_value(json5_peek(l, &n));

		if (h < 0)
			return json5_fail_here(l, "in a hex escape");
		*v = *v * 16 + (uint32_t)h;
		l->pos++;
	}
	return true;
}

/* After a backslash in a string (json5's escape()). */
static bool lex_escape(struct json5_lexer *l, struct json5_buf *b)
{
	static const char simple[] = "b\bf\fn\nr\rt\tv\v";
	const char *hit;
	size_t n;
	int32_t c = json5_peek(l, &n);
	uint32_t v;

	if (c < 0 || (c >= '1' && c <= '9'))
		return json5_fail_here(l, "in an escape");
	l->pos += n;
	if (c == '0') {
		int32_t next = json5_peek(l, &n);

		if (next >= '0' && next <= '9')
			return json5_fail_here(l, "after \\0");
		return json5_buf_put_cp(b, 0) || json5_oom(l);
	}
	if (c == 'x' || c == 'u') {
		if (!read_hex(l, c == 'x' ? 2 : 4, &v))
			return false;
		return json5_buf_put_cp(b, v) || json5_oom(l);
	}
	if (c == '\n' || c == 0x2028 || c == 0x2029)
		return true; /* a line continuation */
	if (c == '\r') {
		if (l->pos < l->len && l->s[l->pos] == '\n')
			l->pos++;
		return true;
	}
	if (c < 0x80 && c && (hit = strchr(simple, c)) != NULL && (hit - simple) % 2 == 0)
		return json5_buf_put(b, hit + 1, 1) || json5_oom(l);
	if (c == 0)
		return json5_buf_put_cp(b, 0) || json5_oom(l);
	return json5_buf_put(b, l->s + l->pos - n, n) || json5_oom(l); /* itself */
}

bool json5_lex_string(struct json5_lexer *l, struct json5_buf *b)
{
	unsigned char quote = l->s[l->pos++];

	b->len = 0;
	if (!json5_buf_put(b, "", 0))
		return json5_oom(l);
	for (;;) {
		size_t run = l->pos;
		unsigned char c;

		while (l->pos < l->len && (c = l->s[l->pos]) != quote && c != '\\' && c != '\n' &&
		       c != '\r' && c != '\0')
			l->pos++;
		if (!json5_buf_put(b, l->s + run, l->pos - run))
			return json5_oom(l);
		if (l->pos >= l->len)
			return json5_fail_here(l, "in a string");
		c = l->s[l->pos];
		if (c == quote) {
			l->pos++;
			return true;
		}
		if (c == '\n' || c == '\r')
			return json5_fail_here(l, "in a string (escape a line break with \\)");
		l->pos++;
		if (c == '\0' ? !json5_buf_put_cp(b, 0) : !lex_escape(l, b))
			return l->failed ? false : json5_oom(l);
	}
}

/* "\uXXXX" in an unquoted key; START says whether it is the first character. */
static bool lex_identifier_escape(struct json5_lexer *l, struct json5_buf *b, bool start)
{
	size_t n;
	uint32_t v;

	l->pos++; /* '\' */
	if (json5_peek(l, &n) != 'u')
		return json5_fail_here(l, "in a key escape");
	l->pos++;
	if (!read_hex(l, 4, &v))
		return false;
	if (!(v == '$' || v == '_' ||
	      (start ? json5_id_start(v) : v == 0x200c || v == 0x200d || json5_id_continue(v))))
		return json5_fail_at(l, l->pos - 6, "invalid identifier character");
	return json5_buf_put_cp(b, v) || json5_oom(l);
}

bool json5_lex_identifier(struct json5_lexer *l, struct json5_buf *b)
{
	size_t n;
	int32_t c;

	b->len = 0;
	if (!json5_buf_put(b, "", 0))
		return json5_oom(l);
	if (l->s[l->pos] == '\\') {
		if (!lex_identifier_escape(l, b, true))
			return false;
	} else {
		json5_peek(l, &n);
		if (!json5_buf_put(b, l->s + l->pos, n))
			return json5_oom(l);
		l->pos += n;
	}
	for (;;) {
		c = json5_peek(l, &n);
		if (c == '\\') {
			if (!lex_identifier_escape(l, b, false))
				return false;
		} else if (c >= 0 && json5_id_continue((uint32_t)c)) {
			if (!json5_buf_put(b, l->s + l->pos, n))
				return json5_oom(l);
			l->pos += n;
		} else {
			return true;
		}
	}
}

bool json5_lex_literal(struct json5_lexer *l, const char *rest)
{
	for (; *rest; rest++) {
		if (l->pos >= l->len || l->s[l->pos] != (unsigned char)*rest)
			return json5_fail_here(l, "in a keyword");
		l->pos++;
	}
	return true;
}

static bool is_digit(const struct json5_lexer *l)
{
	return l->pos < l->len && l->s[l->pos] >= '0' && l->s[l->pos] <= '9';
}

static bool at(const struct json5_lexer *l, char a, char b)
{
	return l->pos < l->len && (l->s[l->pos] == a || l->s[l->pos] == b);
}

static void digits(struct json5_lexer *l)
{
	while (is_digit(l))
		l->pos++;
}

/* After 'e' or 'E' (decimalExponent and what follows). */
static bool lex_exponent(struct json5_lexer *l)
{
	if (at(l, '+', '-'))
		l->pos++;
	if (!is_digit(l))
		return json5_fail_here(l, "in a number's exponent");
	digits(l);
	return true;
}

/* The number's text from the first digit or '.' (json5's buffer). */
static bool lex_number_text(struct json5_lexer *l)
{
	unsigned char c = l->s[l->pos++];

	if (c == '.') { /* decimalPointLeading */
		if (!is_digit(l))
			return json5_fail_here(l, "after '.'");
		digits(l);
	} else if (c == '0' && at(l, 'x', 'X')) { /* hexadecimal */
		l->pos++;
		if (l->pos >= l->len || hex_value(l->s[l->pos]) < 0)
			return json5_fail_here(l, "after 0x");
		while (l->pos < l->len && hex_value(l->s[l->pos]) >= 0)
			l->pos++;
		return true;
	} else {
		if (c != '0')
			digits(l); /* decimalInteger; "0" takes no more digits */
		if (at(l, '.', '.')) {
			l->pos++;
			digits(l);
		}
	}
	return !at(l, 'e', 'E') || (l->pos++, lex_exponent(l));
}

bool json5_lex_number(struct json5_lexer *l, double *v)
{
	double sign = 1;
	size_t start;
	char small[64], *text = small;
	int c = l->s[l->pos];

	if (c == '+' || c == '-') {
		sign = c == '-' ? -1 : 1;
		l->pos++;
		c = l->pos < l->len ? l->s[l->pos] : -1;
	}
	if (c == 'I' || c == 'N') {
		l->pos++;
		if (!json5_lex_literal(l, c == 'I' ? "nfinity" : "aN"))
			return false;
		*v = c == 'I' ? sign * INFINITY : NAN;
		return true;
	}
	if (!(c == '.' || (c >= '0' && c <= '9')))
		return json5_fail_here(l, "after a sign");
	start = l->pos;
	if (!lex_number_text(l))
		return false;
	/* glibc's strtod rounds correctly, decimal and hex alike, as Number(). */
	if (l->pos - start >= sizeof(small) && !(text = malloc(l->pos - start + 1)))
		return json5_oom(l);
	memcpy(text, l->s + start, l->pos - start);
	text[l->pos - start] = '\0';
	*v = sign * strtod(text, NULL);
	if (text != small)
		free(text);
	return true;
}
