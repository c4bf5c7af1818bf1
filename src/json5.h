/* The gateway's config reader, in C: what openclaw 2026.9.6 accepts and the
 * values it sees. Upstream decodes the file as UTF-8 (each invalid sequence
 * becomes U+FFFD), tries JSON.parse and falls back to json5 2.2.3, whose
 * language is a superset of JSON with the same values; this is json5 2.2.3,
 * checked against the real thing by tests/differential.
 *
 * The tree is cJSON. Numbers are JS numbers (doubles, -0 and NaN included).
 * Strings are UTF-8, except that U+0000 is written C0 80 and a lone surrogate
 * (only a \u escape makes one) in its 3-byte form, so that each JS string has
 * exactly one spelling and keys compare with strcmp. Members are in JS order:
 * a duplicate key keeps its first place and takes the last value; keys that
 * are array indices ("0".."4294967294") come first, in numeric order.
 *
 * Any nesting depth parses (the parser keeps its own stack); free deep trees
 * with json5_delete, which does not recurse. Errors carry
 * "origin:line:column: why". */
#ifndef OCR_JSON5_H
#define OCR_JSON5_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

int json5_parse(const char *text, size_t len, const char *origin, cJSON **out, ocr_error *err);

/* Where a value is in the text: [start, end) its bytes, key the offset of
 * its member's key (start for array elements and the root). */
struct json5_span {
	const cJSON *node, *parent; /* parent NULL for the root */
	size_t key, start, end;
};

/* json5_parse, also listing every value's span (caller frees *spans). For
 * editing text in place: fails (EILSEQ) on bytes that are not UTF-8. */
int json5_parse_spans(const char *text, size_t len, const char *origin, cJSON **out,
		      struct json5_span **spans, size_t *nspans, ocr_error *err);
/* NODE's span: the last entry for it (a duplicate key's last value). */
const struct json5_span *json5_span_of(const struct json5_span *spans, size_t n, const cJSON *node);

/* cJSON_Delete without recursion: ITEM and the items after it. */
void json5_delete(cJSON *item);

/* The deepest nesting of arrays and objects in ITEM (a scalar is 0). */
size_t json5_depth(const cJSON *item);

/* A pre-order walk of a tree without recursion, for trees of any depth:
 *
 *	struct json5_walk w = json5_walk_start(root);
 *	for (cJSON *it; (it = json5_walk_next(&w));)
 *		...;
 *	json5_walk_finish(&w);
 *
 * The first node is ROOT (its siblings are not walked). The tree's shape
 * must not change during the walk; values may. json5_walk_next returns NULL
 * at the end or when it ran out of memory (then oom is set). */
struct json5_walk {
	cJSON *root, *node; /* node: the one last returned */
	cJSON **path;	    /* node's ancestors, outermost first */
	size_t depth, cap;  /* depth: how many of them */
	bool oom;
};

struct json5_walk json5_walk_start(cJSON *root);
cJSON *json5_walk_next(struct json5_walk *w);
/* The parent of the node last returned; NULL for the root. */
cJSON *json5_walk_parent(const struct json5_walk *w);
void json5_walk_finish(struct json5_walk *w);

#endif
