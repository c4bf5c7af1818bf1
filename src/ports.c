/* Port blocks: see ports.h. */
#include "ports.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const struct port_role port_roles[] = {
    {0, 0, "gateway and canvas"},
    {1, 1, "MCP-apps sandbox"},
    {2, 2, "browser control"},
    {3, 3, "legacy CDP"},
    {4, 4, "legacy canvas"},
    {5, 10, "extension relays"},
    {11, PORT_BLOCK_LAST_OFFSET, "CDP (browser profiles)"},
    {0, 0, NULL},
};

int port_block_validate(const struct port_block *b, ocr_error *err)
{
	if (b->base < PORT_MIN_BASE)
		return err_set(err, 0, "port base %u is below %u", b->base, PORT_MIN_BASE);
	if (b->base > 65535 - PORT_BLOCK_LAST_OFFSET)
		return err_set(
		    err, 0, "port base %u: its block ends at %u, above 65535 (highest base %u)",
		    b->base, b->base + PORT_BLOCK_LAST_OFFSET, 65535 - PORT_BLOCK_LAST_OFFSET);
	return 0;
}

int port_block_init(struct port_block *b, unsigned base, enum port_base_origin origin,
		    ocr_error *err)
{
	memset(b, 0, sizeof(*b));
	b->base = base;
	b->origin = origin;
	return port_block_validate(b, err);
}

int port_block_add_explicit(struct port_block *b, unsigned port, const char *source, ocr_error *err)
{
	if (port < 1 || port > 65535)
		return err_set(err, 0, "%s: port %u is not in 1..65535", source, port);
	for (size_t i = 0; i < b->n_explicit; i++)
		if (b->explicit_ports[i].port == port)
			return 0;
	if (b->n_explicit == PORT_EXPLICIT_MAX)
		return err_set(err, 0, "%s: more than %d explicit ports", source,
			       PORT_EXPLICIT_MAX);
	b->explicit_ports[b->n_explicit].port = port;
	snprintf(b->explicit_ports[b->n_explicit].source,
		 sizeof(b->explicit_ports[b->n_explicit].source), "%s", source);
	b->n_explicit++;
	return 0;
}

unsigned port_block_last(const struct port_block *b)
{
	return b->base + PORT_BLOCK_LAST_OFFSET;
}

static bool in_range(const struct port_block *b, unsigned port)
{
	return port >= b->base && port <= port_block_last(b);
}

bool port_block_owns(const struct port_block *b, unsigned port)
{
	if (in_range(b, port))
		return true;
	for (size_t i = 0; i < b->n_explicit; i++)
		if (b->explicit_ports[i].port == port)
			return true;
	return false;
}

const char *port_role_of(const struct port_block *b, unsigned port)
{
	for (size_t i = 0; i < b->n_explicit; i++)
		if (b->explicit_ports[i].port == port)
			return b->explicit_ports[i].source;
	if (!in_range(b, port))
		return NULL;
	for (const struct port_role *r = port_roles; r->name; r++)
		if (port - b->base >= r->first_offset && port - b->base <= r->last_offset)
			return r->name;
	return NULL;
}

static unsigned lower(unsigned cur, unsigned candidate)
{
	return cur == 0 || candidate < cur ? candidate : cur;
}

unsigned port_blocks_first_collision(const struct port_block *a, const struct port_block *b)
{
	unsigned first = 0;
	unsigned lo = a->base > b->base ? a->base : b->base;
	unsigned hi =
	    port_block_last(a) < port_block_last(b) ? port_block_last(a) : port_block_last(b);

	if (lo <= hi)
		first = lo;
	/* An explicit port may sit anywhere, also below the ranges' overlap. */
	for (size_t i = 0; i < a->n_explicit; i++)
		if (port_block_owns(b, a->explicit_ports[i].port))
			first = lower(first, a->explicit_ports[i].port);
	for (size_t i = 0; i < b->n_explicit; i++)
		if (port_block_owns(a, b->explicit_ports[i].port))
			first = lower(first, b->explicit_ports[i].port);
	return first;
}

unsigned port_profile_hash_base(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		h ^= *s;
		h *= 16777619u;
	}
	return 20000u + h % 40000u;
}

int port_alloc_base_from(const struct port_block *taken, size_t n_taken, unsigned min,
			 unsigned *base, ocr_error *err)
{
	unsigned start = PORT_DEFAULT_BASE;

	if (min > start)
		start += (min - start + PORT_GRID - 1) / PORT_GRID * PORT_GRID;
	for (unsigned cand = start; cand + PORT_BLOCK_LAST_OFFSET <= 65535; cand += PORT_GRID) {
		struct port_block b = {.base = cand, .origin = PORT_FROM_FLAG};
		bool free = true;

		for (size_t i = 0; free && i < n_taken; i++)
			free = port_blocks_first_collision(&b, &taken[i]) == 0;
		if (free) {
			*base = cand;
			return 0;
		}
	}
	return err_set(err, 0, "no free port base on the %u-port grid from %u to 65535", PORT_GRID,
		       start);
}

int port_alloc_base(const struct port_block *taken, size_t n_taken, unsigned *base, ocr_error *err)
{
	return port_alloc_base_from(taken, n_taken, PORT_DEFAULT_BASE, base, err);
}

int port_parse(const char *text, unsigned *port, ocr_error *err)
{
	const char *digits = text;
	unsigned long v = 0;

	if (!text || !*text)
		return err_set(err, 0, "empty port");
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return err_set(err, 0, "port \"%s\": expected \"[host]:port\"", text);
		digits = close + 2;
	} else if (strrchr(text, ':')) {
		digits = strrchr(text, ':') + 1;
	}
	if (!*digits)
		return err_set(err, 0, "port \"%s\": no port number", text);
	for (const char *s = digits; *s; s++) {
		if (*s < '0' || *s > '9')
			return err_set(err, 0, "port \"%s\": not a number", text);
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return err_set(err, 0, "port \"%s\": not in 1..65535", text);
	}
	if (v == 0)
		return err_set(err, 0, "port \"%s\": not in 1..65535", text);
	*port = (unsigned)v;
	return 0;
}

const char *port_base_origin_label(enum port_base_origin origin)
{
	switch (origin) {
	case PORT_FROM_FLAG:
		return "--port";
	case PORT_FROM_ENV:
		return "OPENCLAW_GATEWAY_PORT";
	case PORT_FROM_CONFIG:
		return "gateway.port";
	case PORT_FROM_DEFAULT:
		return "upstream's default";
	case PORT_FROM_HASH:
		return "upstream's hash of the profile name";
	}
	return "unknown";
}
