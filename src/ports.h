/* Port blocks: a gateway on base B derives ports up to B+110 (openclaw
 * 2026.9.6: canvas on B, MCP-apps sandbox B+1, browser control B+2, legacy
 * CDP B+3, legacy canvas B+4, relays B+5..B+10, CDP B+11..B+110). Pure. */
#ifndef OCR_PORTS_H
#define OCR_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define PORT_BLOCK_LAST_OFFSET 110 /* the block is base..base+110 */
#define PORT_GRID	       120 /* upstream: leave 120 ports between bases */
#define PORT_DEFAULT_BASE      18789
#define PORT_MIN_BASE	       1024
#define PORT_EXPLICIT_MAX      32

/* One row of the role table: offsets first..last from the base. */
struct port_role {
	unsigned first_offset, last_offset;
	const char *name;
};
/* The table, terminated by a row with name == NULL. */
extern const struct port_role port_roles[];

enum port_base_origin {
	PORT_FROM_FLAG,	   /* --port */
	PORT_FROM_ENV,	   /* OPENCLAW_GATEWAY_PORT */
	PORT_FROM_CONFIG,  /* gateway.port */
	PORT_FROM_DEFAULT, /* 18789, the default profile */
	PORT_FROM_HASH,	   /* upstream's FNV-1a of the profile name */
};

/* A port the config names explicitly (browser.cdpUrl, cdpPort, ...). */
struct port_explicit {
	unsigned port;
	char source[128]; /* the config key, e.g. "browser.profiles.work.cdpPort" */
};

struct port_block {
	unsigned base;
	enum port_base_origin origin;
	size_t n_explicit;
	struct port_explicit explicit_ports[PORT_EXPLICIT_MAX];
};

/* base < 1024 or base+110 > 65535 is an error naming the base. */
int port_block_init(struct port_block *b, unsigned base, enum port_base_origin origin,
		    ocr_error *err);
int port_block_add_explicit(struct port_block *b, unsigned port, const char *source,
			    ocr_error *err);
unsigned port_block_last(const struct port_block *b);
/* The range check of port_block_init() for a block filled by hand (an
 * instance whose configured base is out of range is still loaded, so that
 * check can report it). */
int port_block_validate(const struct port_block *b, ocr_error *err);
/* "--port", "OPENCLAW_GATEWAY_PORT", "gateway.port", ... for messages. */
const char *port_base_origin_label(enum port_base_origin origin);
/* Inside base..base+110 or one of the explicit ports. */
bool port_block_owns(const struct port_block *b, unsigned port);
/* Role of a port of the block ("browser control", ...), NULL if none. */
const char *port_role_of(const struct port_block *b, unsigned port);

/* Lowest port owned by both blocks (ranges and explicit ports); 0 if none. */
unsigned port_blocks_first_collision(const struct port_block *a, const struct port_block *b);

/* Upstream's port for a named profile without a configured port:
 * 20000 + fnv1a32(name) % 40000. */
unsigned port_profile_hash_base(const char *name);

/* Lowest base >= 18789 on the 120-port grid (18789 + k*120) whose block
 * collides with none of TAKEN; -1 if the grid is exhausted. */
int port_alloc_base(const struct port_block *taken, size_t n_taken, unsigned *base, ocr_error *err);
/* Same, on the same grid but starting at the first grid base >= MIN. */
int port_alloc_base_from(const struct port_block *taken, size_t n_taken, unsigned min,
			 unsigned *base, ocr_error *err);

/* Parses "18789", "host:18789" or "[v6]:18789" (OPENCLAW_GATEWAY_PORT) or a
 * plain port; 1..65535. */
int port_parse(const char *text, unsigned *port, ocr_error *err);

#endif
