/* A recursive-descent JSON5 reader. It reads bytes with explicit bounds (the
 * text need not be NUL-terminated and may contain NULs), stops at the first
 * error and reports it with the line and column of the offending character. */
#include "json5.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON5_MAX_DEPTH 128

struct parser {
	const unsigned char *s;
	size_t len, pos;
	int depth;
	const char *origin;
	ocr_error *err;
	bool failed;
};

/* Line and column (in characters, both from 1) of byte offset POS. */
static void locate(const struct parser *p, size_t pos, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos && i < p->len; i++) {
		unsigned char c = p->s[i];

		if (c == '\n' || (c == '\r' && (i + 1 >= p->len || p->s[i + 1] != '\n'))) {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

__attribute__((format(printf, 3, 4))) static void *fail_at(struct parser *p, size_t pos,
							   const char *fmt, ...)
{
	char why[512];
	unsigned line, col;
	va_list ap;

	if (p->failed)
		return NULL;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	locate(p, pos, &line, &col);
	err_set(p->err, 0, "%s:%u:%u: %s", p->origin ? p->origin : "<input>", line, col, why);
	return NULL;
}

static void *oom(struct parser *p)
{
	if (!p->failed) {
		p->failed = true;
		err_set(p->err, ENOMEM, "%s", p->origin ? p->origin : "<input>");
	}
	return NULL;
}

static const char *describe(const struct parser *p, size_t pos, char *buf, size_t len);

/* "<what>, found <the character at the current position>". */
static void *fail_found(struct parser *p, const char *what)
{
	char found[32];

	return fail_at(p, p->pos, "%s, found %s", what, describe(p, p->pos, found, sizeof(found)));
}

static int peek(const struct parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? p->s[p->pos + ahead] : -1;
}

/* A description of the character at POS for "unexpected ..." messages. */
static const char *describe(const struct parser *p, size_t pos, char *buf, size_t len)
{
	if (pos >= p->len)
		return "end of input";
	unsigned char c = p->s[pos];
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, len, "character '%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

/* Length of a multi-byte whitespace or line terminator at POS (NBSP, BOM,
 * U+2028, U+2029), 0 if none. */
static size_t unicode_space(const struct parser *p, size_t pos)
{
	const unsigned char *s = p->s + pos;
	size_t left = p->len - pos;

	if (left >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (left >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	return 0;
}

static bool skip_space(struct parser *p)
{
	while (p->pos < p->len) {
		int c = p->s[p->pos];
		size_t u;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			p->pos++;
		} else if ((u = unicode_space(p, p->pos)) > 0) {
			p->pos += u;
		} else if (c == '/' && peek(p, 1) == '/') {
			while (p->pos < p->len && p->s[p->pos] != '\n' && p->s[p->pos] != '\r')
				p->pos++;
		} else if (c == '/' && peek(p, 1) == '*') {
			size_t start = p->pos;

			p->pos += 2;
			while (p->pos < p->len && !(p->s[p->pos] == '*' && peek(p, 1) == '/'))
				p->pos++;
			if (p->pos >= p->len) {
				fail_at(p, start, "unterminated /* comment");
				return false;
			}
			p->pos += 2;
		} else {
			break;
		}
	}
	return true;
}

struct buf {
	char *data;
	size_t len, cap;
};

static bool buf_put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char *bigger;

		while (cap < b->len + n + 1)
			cap *= 2;
		bigger = realloc(b->data, cap);
		if (!bigger)
			return false;
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static bool put_utf8(struct buf *b, unsigned long cp)
{
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	unsigned char out[4];

	for (size_t i = n - 1; i > 0; i--, cp >>= 6)
		out[i] = (unsigned char)(0x80 | (cp & 0x3f));
	out[0] = (unsigned char)(lead[n] | cp);
	return buf_put(b, out, n);
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20; /* ASCII lower case; -1 stays -1 */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* N hex digits at the current position; -1 (and an error) if not. */
static long read_hex(struct parser *p, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		int h = hex_value(peek(p, 0));

		if (h < 0) {
			fail_at(p, p->pos, "expected %d hex digits", n);
			return -1;
		}
		v = v * 16 + h;
		p->pos++;
	}
	return v;
}

/* After "\u": one code point, joining a surrogate pair. */
static long read_unicode_escape(struct parser *p)
{
	long cp = read_hex(p, 4);

	if (cp < 0)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff && peek(p, 0) == '\\' && peek(p, 1) == 'u') {
		size_t save = p->pos;
		long lo;

		p->pos += 2;
		lo = read_hex(p, 4);
		if (lo < 0)
			return -1;
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p->pos = save;
	}
	/* A lone surrogate cannot be encoded in UTF-8: use U+FFFD, as a JS
	 * runtime does when it writes such a string out. */
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	return cp;
}

/* After a backslash: appends what the escape stands for (nothing for a line
 * continuation). Returns false on error. */
static bool read_escape(struct parser *p, struct buf *b, size_t start)
{
	static const char simple[] = "b\bf\fn\nr\rt\tv\v";
	const char *hit;
	int e = peek(p, 0);
	long cp;

	if (e < 0) {
		fail_at(p, start, "unterminated string");
		return false;
	}
	p->pos++;
	if (e == 0) {
		fail_at(p, p->pos - 1, "NUL byte inside a string");
		return false;
	}
	if (e >= '0' && e <= '9') {
		fail_at(p, p->pos - 2, "\\%c is not supported in a string", e);
		return false;
	}
	if (e == '\r' || e == '\n') { /* line continuation */
		if (e == '\r' && peek(p, 0) == '\n')
			p->pos++;
		return true;
	}
	if (e == 0xe2 && peek(p, 0) == 0x80 && (peek(p, 1) == 0xa8 || peek(p, 1) == 0xa9)) {
		p->pos += 2; /* \ U+2028 / U+2029: line continuation */
		return true;
	}
	if (e == 'x' || e == 'u') {
		cp = e == 'x' ? read_hex(p, 2) : read_unicode_escape(p);
		if (cp == 0)
			fail_at(p, start, "a NUL character in a string is not supported");
		if (cp <= 0)
			return false;
	} else if ((hit = strchr(simple, e)) != NULL && (hit - simple) % 2 == 0) {
		cp = hit[1];
	} else {
		/* Any other character escapes to itself ("\'", "\q", "\é"). */
		cp = -1;
	}
	if (!(cp < 0 ? buf_put(b, p->s + p->pos - 1, 1) : put_utf8(b, (unsigned long)cp))) {
		oom(p);
		return false;
	}
	return true;
}

static char *parse_string(struct parser *p)
{
	size_t start = p->pos;
	unsigned char quote = p->s[p->pos++];
	struct buf b = {0};

	if (!buf_put(&b, "", 0))
		return oom(p);
	for (;;) {
		size_t run = p->pos, esc;
		unsigned char c;

		while (p->pos < p->len && p->s[p->pos] != quote && p->s[p->pos] != '\\' &&
		       p->s[p->pos] != '\n' && p->s[p->pos] != '\r' && p->s[p->pos] != '\0')
			p->pos++;
		if (!buf_put(&b, p->s + run, p->pos - run)) {
			oom(p);
			break;
		}
		if (p->pos >= p->len) {
			fail_at(p, start, "unterminated string");
			break;
		}
		c = p->s[p->pos];
		if (c == quote) {
			p->pos++;
			return b.data;
		}
		if (c != '\\') {
			fail_at(p, p->pos,
				c ? "line break inside a string (escape it with \\)"
				  : "NUL byte inside a string");
			break;
		}
		esc = p->pos++;
		if (!read_escape(p, &b, esc))
			break;
	}
	free(b.data);
	return NULL;
}

static bool ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
	       c >= 0x80;
}

static bool ident_part(int c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

/* An unquoted key: ECMAScript identifier names, taking any non-ASCII byte
 * as a letter (upstream's parser accepts Unicode letters there). */
static char *parse_identifier(struct parser *p)
{
	size_t start = p->pos;
	struct buf b = {0};

	while (p->pos < p->len && ident_part(p->s[p->pos])) {
		if (unicode_space(p, p->pos))
			break;
		p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '\\')
		return fail_at(p, p->pos, "escapes in unquoted keys are not supported");
	if (!buf_put(&b, p->s + start, p->pos - start))
		return oom(p);
	return b.data;
}

static bool match_word(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	if (p->pos + n < p->len && ident_part(p->s[p->pos + n]))
		return false;
	p->pos += n;
	return true;
}

static cJSON *parse_number(struct parser *p)
{
	size_t start = p->pos;
	double sign = 1, v;
	char tmp[128];
	char *end;

	if (peek(p, 0) == '+' || peek(p, 0) == '-') {
		sign = peek(p, 0) == '-' ? -1 : 1;
		p->pos++;
	}
	if (match_word(p, "Infinity"))
		return cJSON_CreateNumber(sign * INFINITY);
	if (match_word(p, "NaN"))
		return cJSON_CreateNumber(NAN);
	if (peek(p, 0) == '0' && (peek(p, 1) == 'x' || peek(p, 1) == 'X')) {
		size_t digits;

		p->pos += 2;
		digits = p->pos;
		v = 0;
		while (hex_value(peek(p, 0)) >= 0)
			v = v * 16 + hex_value(p->s[p->pos++]);
		if (p->pos == digits)
			return fail_at(p, digits, "expected hex digits after 0x");
	} else {
		size_t num = p->pos, int_digits = 0, frac_digits = 0;

		if (peek(p, 0) == '0' && peek(p, 1) >= '0' && peek(p, 1) <= '9')
			return fail_at(p, p->pos, "leading zeros are not allowed");
		while (peek(p, 0) >= '0' && peek(p, 0) <= '9') {
			p->pos++;
			int_digits++;
		}
		if (peek(p, 0) == '.') {
			p->pos++;
			while (peek(p, 0) >= '0' && peek(p, 0) <= '9') {
				p->pos++;
				frac_digits++;
			}
		}
		if (int_digits + frac_digits == 0) {
			char what[32];

			return fail_at(p, start, "unexpected %s",
				       describe(p, start, what, sizeof(what)));
		}
		if (peek(p, 0) == 'e' || peek(p, 0) == 'E') {
			size_t exp;

			p->pos++;
			if (peek(p, 0) == '+' || peek(p, 0) == '-')
				p->pos++;
			exp = p->pos;
			while (peek(p, 0) >= '0' && peek(p, 0) <= '9')
				p->pos++;
			if (p->pos == exp)
				return fail_at(p, exp, "expected digits in the exponent");
		}
		if (p->pos - num >= sizeof(tmp))
			return fail_at(p, num, "number too long");
		memcpy(tmp, p->s + num, p->pos - num);
		tmp[p->pos - num] = '\0';
		v = strtod(tmp, &end);
	}
	if (p->pos < p->len && ident_part(p->s[p->pos]) && !unicode_space(p, p->pos))
		return fail_at(p, p->pos, "unexpected character after a number");
	return cJSON_CreateNumber(sign * v);
}

static cJSON *parse_value(struct parser *p);

static cJSON *parse_object(struct parser *p)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return oom(p);
	p->pos++; /* '{' */
	for (;;) {
		char *key;
		cJSON *val;
		int c;

		if (!skip_space(p))
			goto fail;
		c = peek(p, 0);
		if (c == '}') {
			p->pos++;
			return obj;
		}
		if (c == '"' || c == '\'') {
			key = parse_string(p);
		} else if (c >= 0 && ident_start(c) && !unicode_space(p, p->pos)) {
			key = parse_identifier(p);
		} else {
			fail_found(p, "expected a key or '}'");
			goto fail;
		}
		if (!key)
			goto fail;
		if (!skip_space(p)) {
			free(key);
			goto fail;
		}
		if (peek(p, 0) != ':') {
			char what[32];

			fail_at(p, p->pos, "expected ':' after key \"%.60s\", found %s", key,
				describe(p, p->pos, what, sizeof(what)));
			free(key);
			goto fail;
		}
		p->pos++;
		val = parse_value(p);
		if (!val) {
			free(key);
			goto fail;
		}
		/* Duplicate keys: the last one wins, as in JavaScript. */
		if (cJSON_GetObjectItemCaseSensitive(obj, key))
			cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
		if (!cJSON_AddItemToObject(obj, key, val)) {
			cJSON_Delete(val);
			free(key);
			oom(p);
			goto fail;
		}
		free(key);
		if (!skip_space(p))
			goto fail;
		c = peek(p, 0);
		if (c == ',') {
			p->pos++;
		} else if (c != '}') {
			fail_found(p, "expected ',' or '}' in an object");
			goto fail;
		}
	}
fail:
	cJSON_Delete(obj);
	return NULL;
}

static cJSON *parse_array(struct parser *p)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return oom(p);
	p->pos++; /* '[' */
	for (;;) {
		cJSON *val;
		int c;

		if (!skip_space(p))
			goto fail;
		if (peek(p, 0) == ']') {
			p->pos++;
			return arr;
		}
		val = parse_value(p);
		if (!val)
			goto fail;
		if (!cJSON_AddItemToArray(arr, val)) {
			cJSON_Delete(val);
			oom(p);
			goto fail;
		}
		if (!skip_space(p))
			goto fail;
		c = peek(p, 0);
		if (c == ',') {
			p->pos++;
		} else if (c != ']') {
			fail_found(p, "expected ',' or ']' in an array");
			goto fail;
		}
	}
fail:
	cJSON_Delete(arr);
	return NULL;
}

static cJSON *parse_value(struct parser *p)
{
	cJSON *v = NULL;
	char what[32];
	int c;

	if (!skip_space(p))
		return NULL;
	c = peek(p, 0);
	if (c == '{' || c == '[') {
		if (++p->depth > JSON5_MAX_DEPTH)
			return fail_at(p, p->pos, "nested deeper than %d levels", JSON5_MAX_DEPTH);
		v = c == '{' ? parse_object(p) : parse_array(p);
		p->depth--;
		return v;
	}
	if (c == '"' || c == '\'') {
		char *s = parse_string(p);

		if (!s)
			return NULL;
		v = cJSON_CreateString(s);
		free(s);
		return v ? v : oom(p);
	}
	if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') || c == 'I' || c == 'N')
		return (v = parse_number(p)) || p->failed ? v : oom(p);
	if (match_word(p, "true"))
		v = cJSON_CreateTrue();
	else if (match_word(p, "false"))
		v = cJSON_CreateFalse();
	else if (match_word(p, "null"))
		v = cJSON_CreateNull();
	else
		return fail_at(p, p->pos, "unexpected %s", describe(p, p->pos, what, sizeof(what)));
	return v ? v : oom(p);
}

int json5_parse(const char *text, size_t len, const char *origin, cJSON **out, ocr_error *err)
{
	struct parser p = {
	    .s = (const unsigned char *)text, .len = len, .origin = origin, .err = err};
	cJSON *root;

	*out = NULL;
	if (!skip_space(&p))
		return -1;
	if (p.pos >= p.len) {
		fail_at(&p, p.pos, "empty document");
		return -1;
	}
	root = parse_value(&p);
	if (!root)
		return -1;
	if (!skip_space(&p)) {
		cJSON_Delete(root);
		return -1;
	}
	if (p.pos < p.len) {
		fail_found(&p, "expected the end of the document");
		cJSON_Delete(root);
		return -1;
	}
	*out = root;
	return 0;
}
