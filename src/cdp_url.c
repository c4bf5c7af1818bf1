/* See cdp_url.h. The WHATWG URL standard's basic URL parser, reduced to what
 * decides host and port for a special scheme: leading/trailing C0 controls
 * and spaces stripped, tab and newline removed anywhere, any run of '/' or
 * '\' after the scheme, userinfo up to the last '@', the host ended by the
 * first of ":/\?#" (outside brackets), the host percent-decoded and
 * lowercased, IPv4 in any of its number forms, IPv6 in brackets. */
#include "cdp_url.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json5_text.h"
#include "json5_unicode.h"

/* Length of a JS whitespace or line terminator at S (String.prototype.trim
 * strips them; new URL strips C0 controls and space), 0 if none. */
static size_t js_space(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (left == 0)
		return 0;
	if (*s <= 0x20)
		return 1;
	cp = json5_cp(s, left, &n);
	if (n > left)
		return 0;
	return cp == 0xa0 || cp == 0xfeff || cp == 0x2028 || cp == 0x2029 ||
		       json5_space_separator(cp)
		   ? n
		   : 0;
}

/* JS String.prototype.trim() and WHATWG's cleaning of the input. */
static size_t clean(const char *in, char *out, size_t cap)
{
	size_t n = 0, len = strlen(in), k;
	const unsigned char *s = (const unsigned char *)in;

	while (len > 0 && (k = js_space(s, len)) > 0) {
		s += k;
		len -= k;
	}
	for (bool trimmed = false; !trimmed && len > 0;) {
		trimmed = true;
		for (size_t back = 1; back <= 3 && back <= len; back++)
			if (js_space(s + len - back, back) == back) {
				len -= back;
				trimmed = false;
				break;
			}
	}
	for (size_t i = 0; i < len && n + 1 < cap; i++)
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			out[n++] = (char)s[i];
	out[n] = '\0';
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* One IPv4 part: 0x hex, leading-0 octal or decimal; false if not a number. */
static bool ipv4_number(const char *s, size_t n, uint64_t *v)
{
	int base = 10;

	if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0 || d >= base)
			return false;
		*v = *v * (uint64_t)base + (uint64_t)d;
		if (*v > 0xffffffffffULL)
			*v = 0xffffffffffULL; /* saturate: too big either way */
	}
	return true;
}

/* The WHATWG "ends in a number" check and IPv4 parser. 1: an IPv4 address
 * (*addr), 0: not one (a domain), -1: failure (the URL is invalid). */
static int parse_ipv4(const char *host, uint32_t *addr)
{
	const char *parts[8];
	size_t lens[8], n = 0, len = strlen(host);
	uint64_t v, acc = 0;

	for (const char *p = host;;) {
		const char *dot = memchr(p, '.', (size_t)(host + len - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(host + len - p);

		if (n == 8)
			return -1;
		parts[n] = p;
		lens[n++] = l;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (n > 1 && lens[n - 1] == 0)
		n--; /* one trailing dot */
	/* Ends in a number: the last part is digits, or 0x and hex digits. */
	const char *last = parts[n - 1];
	size_t ll = lens[n - 1];
	bool digits = ll > 0 && strspn(last, "0123456789") >= ll;
	bool hex = ll >= 2 && last[0] == '0' && (last[1] | 0x20) == 'x';

	for (size_t i = 2; hex && i < ll; i++)
		hex = hexval(last[i]) >= 0;
	if (!digits && !hex)
		return 0;
	if (n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0 || !ipv4_number(parts[i], lens[i], &v))
			return -1;
		if (i + 1 < n) {
			if (v > 255)
				return -1;
			acc = acc * 256 + v;
		} else {
			if (v >= (1ULL << (8 * (5 - n))))
				return -1;
			acc = (acc << (8 * (5 - n))) + v;
		}
	}
	*addr = (uint32_t)acc;
	return 1;
}

/* Percent-decodes and lowercases HOST; maps the fullwidth forms UTS 46
 * folds to ASCII (so "１２７．０．０．１" is 127.0.0.1, as in node); other
 * non-ASCII makes a domain that cannot be loopback. false: invalid. */
static bool host_to_ascii(const char *in, size_t n, char *out, size_t cap, bool *ascii)
{
	char dec[512];
	size_t d = 0, o = 0;

	*ascii = true;
	for (size_t i = 0; i < n && d + 1 < sizeof(dec); i++) {
		if (in[i] == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			dec[d++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
			i += 2;
		} else {
			dec[d++] = in[i];
		}
	}
	for (size_t i = 0; i < d && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)dec[i];

		if (c == 0xef && i + 2 < d &&
		    ((unsigned char)dec[i + 1] == 0xbc || (unsigned char)dec[i + 1] == 0xbd)) {
			/* U+FF01..U+FF5E: EF BC 81..BF, EF BD 80..9E */
			unsigned cp = 0xff00 | (((unsigned char)dec[i + 1] & 0x3) << 6) |
				      ((unsigned char)dec[i + 2] & 0x3f);

			if (cp >= 0xff01 && cp <= 0xff5e) {
				c = (unsigned char)(cp - 0xff01 + 0x21);
				i += 2;
			}
		} else if (c == 0xe3 && i + 2 < d && (unsigned char)dec[i + 1] == 0x80 &&
			   (unsigned char)dec[i + 2] == 0x82) {
			c = '.'; /* U+3002 ideographic full stop */
			i += 2;
		}
		if (c >= 0x80)
			*ascii = false;
		if (c < 0x80 && (c <= 0x20 || strchr("#%/:<>?@[\\]^|", c) || c == 0x7f))
			return false; /* a forbidden domain code point */
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[o] = '\0';
	return o > 0;
}

static bool loopback6(const struct in6_addr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (IN6_IS_ADDR_LOOPBACK(a))
		return true;
	return memcmp(a->s6_addr, mapped, 12) == 0 && a->s6_addr[12] == 127;
}

static bool parse_port(const char *s, size_t n, unsigned *port, bool *given)
{
	unsigned long v = 0;

	*given = n > 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			return false;
	}
	*port = (unsigned)v;
	return v > 0 || n == 0; /* upstream refuses port 0 */
}

enum cdp_url_kind cdp_url_classify(const char *url, unsigned *port)
{
	char buf[2048], host[512];
	size_t len = clean(url, buf, sizeof(buf));
	const char *colon = memchr(buf, ':', len), *auth, *end, *at, *hp, *pc = NULL;
	unsigned dflt;
	bool secure, given, ascii;

	if (!colon)
		return CDP_URL_INVALID;
	size_t sl = (size_t)(colon - buf);
	if ((sl == 4 && strncasecmp(buf, "http", 4) == 0) ||
	    (sl == 2 && strncasecmp(buf, "ws", 2) == 0))
		secure = false;
	else if ((sl == 5 && strncasecmp(buf, "https", 5) == 0) ||
		 (sl == 3 && strncasecmp(buf, "wss", 3) == 0))
		secure = true;
	else
		return CDP_URL_INVALID;
	dflt = secure ? 443 : 80;
	auth = colon + 1;
	auth += strspn(auth, "/\\");
	end = auth + strcspn(auth, "/\\?#");
	hp = auth;
	for (at = auth; at < end; at++)
		if (*at == '@')
			hp = at + 1;
	if (hp == end)
		return CDP_URL_INVALID; /* no host */
	if (*hp == '[') {
		const char *close = memchr(hp, ']', (size_t)(end - hp));
		char v6[64];
		struct in6_addr a;

		if (!close || (size_t)(close - hp - 1) >= sizeof(v6))
			return CDP_URL_INVALID;
		snprintf(v6, sizeof(v6), "%.*s", (int)(close - hp - 1), hp + 1);
		if (inet_pton(AF_INET6, v6, &a) != 1)
			return CDP_URL_INVALID;
		if (close + 1 < end && close[1] != ':')
			return CDP_URL_INVALID;
		pc = close + 1 < end ? close + 1 : NULL;
		if (pc && !parse_port(pc + 1, (size_t)(end - pc - 1), port, &given))
			return CDP_URL_INVALID;
		if (!pc || !given)
			*port = dflt;
		return loopback6(&a) ? CDP_URL_LOCAL : CDP_URL_REMOTE;
	}
	pc = memchr(hp, ':', (size_t)(end - hp));
	if (!host_to_ascii(hp, (size_t)((pc ? pc : end) - hp), host, sizeof(host), &ascii))
		return CDP_URL_INVALID;
	if (pc && !parse_port(pc + 1, (size_t)(end - pc - 1), port, &given))
		return CDP_URL_INVALID;
	if (!pc || !given)
		*port = dflt;
	uint32_t v4;
	int r = ascii ? parse_ipv4(host, &v4) : 0;

	if (r < 0)
		return CDP_URL_INVALID;
	if (r > 0)
		return v4 >> 24 == 127 ? CDP_URL_LOCAL : CDP_URL_REMOTE;
	/* upstream: "localhost" with any trailing dots */
	len = strlen(host);
	while (len > 0 && host[len - 1] == '.')
		len--;
	return len == 9 && strncmp(host, "localhost", 9) == 0 ? CDP_URL_LOCAL : CDP_URL_REMOTE;
}
