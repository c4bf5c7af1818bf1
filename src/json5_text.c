/* See json5_text.h. */
#include "json5_text.h"

#include <stdlib.h>
#include <string.h>

struct decoder {
	uint32_t cp;
	int needed, seen;
	unsigned char lower, upper;
};

/* One step of the WHATWG UTF-8 decoder: returns 1 and sets *cp when a code
 * point is complete, 0 when more bytes are needed, -1 for an error (emit
 * U+FFFD); *again asks to feed the same byte once more. */
static int decode_step(struct decoder *d, unsigned char b, uint32_t *cp, bool *again)
{
	*again = false;
	if (d->needed == 0) {
		if (b < 0x80) {
			*cp = b;
			return 1;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			d->needed = 1;
			d->cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			d->lower = b == 0xe0 ? 0xa0 : 0x80;
			d->upper = b == 0xed ? 0x9f : 0xbf;
			d->needed = 2;
			d->cp = b & 0xf;
		} else if (b >= 0xf0 && b <= 0xf4) {
			d->lower = b == 0xf0 ? 0x90 : 0x80;
			d->upper = b == 0xf4 ? 0x8f : 0xbf;
			d->needed = 3;
			d->cp = b & 0x7;
		} else {
			return -1;
		}
		return 0;
	}
	if (b < d->lower || b > d->upper) {
		*d = (struct decoder){.lower = 0x80, .upper = 0xbf};
		*again = true;
		return -1;
	}
	d->lower = 0x80;
	d->upper = 0xbf;
	d->cp = (d->cp << 6) | (b & 0x3f);
	if (++d->seen < d->needed)
		return 0;
	*cp = d->cp;
	*d = (struct decoder){.lower = 0x80, .upper = 0xbf};
	return 1;
}

static size_t encode(uint32_t cp, unsigned char out[4])
{
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

	for (size_t i = n - 1; i > 0; i--, cp >>= 6)
		out[i] = (unsigned char)(0x80 | (cp & 0x3f));
	out[0] = (unsigned char)(lead[n] | cp);
	return n;
}

char *json5_utf8_repair(const char *text, size_t len, size_t *out_len, bool *oom)
{
	const unsigned char *s = (const unsigned char *)text;
	struct decoder d = {.lower = 0x80, .upper = 0xbf};
	size_t i = 0, o = 0, good = 0;
	bool bad = false;
	unsigned char *out;

	/* Fast path: find the first error; most configs have none. */
	for (; i < len && !bad; i++) {
		uint32_t cp;
		bool again;
		int r = decode_step(&d, s[i], &cp, &again);

		if (r == 1)
			good = i + 1;
		bad = r < 0;
	}
	*oom = false;
	if (!bad && d.needed == 0)
		return NULL;
	/* Each input byte yields at most 3 output bytes (U+FFFD). */
	out = malloc(len * 3 + 4);
	if (!out) {
		*oom = true;
		return NULL;
	}
	memcpy(out, s, good);
	o = good;
	d = (struct decoder){.lower = 0x80, .upper = 0xbf};
	for (i = good; i < len;) {
		uint32_t cp;
		bool again;
		int r = decode_step(&d, s[i], &cp, &again);

		if (r != 0)
			o += encode(r > 0 ? cp : 0xfffd, out + o);
		if (!again)
			i++;
	}
	if (d.needed)
		o += encode(0xfffd, out + o);
	*out_len = o;
	return (char *)out;
}

uint32_t json5_cp(const unsigned char *s, size_t left, size_t *n)
{
	unsigned char c = s[0];

	if (c < 0x80 || left < 2) {
		*n = 1;
		return c;
	}
	if (c < 0xe0) {
		*n = 2;
		return ((uint32_t)(c & 0x1f) << 6) | (s[1] & 0x3f);
	}
	if (c < 0xf0 || left < 4) {
		*n = 3;
		return ((uint32_t)(c & 0xf) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
	}
	*n = 4;
	return ((uint32_t)(c & 0x7) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
	       ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

bool json5_buf_put(struct json5_buf *b, const void *data, size_t n)
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

bool json5_buf_put_cp(struct json5_buf *b, uint32_t cp)
{
	unsigned char out[4];
	unsigned char *end = (unsigned char *)b->data + b->len;

	if (cp == 0)
		return json5_buf_put(b, "\xc0\x80", 2);
	/* A high surrogate (ED A0..AF xx) just before: one astral code point. */
	if (cp >= 0xdc00 && cp <= 0xdfff && b->len >= 3 && end[-3] == 0xed && end[-2] >= 0xa0 &&
	    end[-2] <= 0xaf) {
		uint32_t hi = 0xd000 | ((uint32_t)(end[-2] & 0x3f) << 6) | (end[-1] & 0x3f);

		b->len -= 3;
		cp = 0x10000 + ((hi - 0xd800) << 10) + (cp - 0xdc00);
	}
	return json5_buf_put(b, out, encode(cp, out));
}
