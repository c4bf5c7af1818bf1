/* The isolation checklist of upstream's multiple-gateways page, enforced:
 * pure, over a set of loaded instances. */
#ifndef OCR_CHECK_H
#define OCR_CHECK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "registry.h"

enum violation_kind {
	VIOLATION_SHARED_CONFIG,
	VIOLATION_SHARED_STATE_DIR,
	VIOLATION_SHARED_WORKSPACE,
	VIOLATION_PORT_OVERLAP,	  /* blocks (or explicit ports) overlap */
	VIOLATION_SHARED_CDP_URL, /* the same browser.cdpUrl in two instances */
	VIOLATION_NESTED,	  /* a's path lies inside b's state dir or workspace */
	VIOLATION_BAD_PORT,	  /* one instance: block out of range */
};

struct violation {
	enum violation_kind kind;
	size_t a, b;   /* indexes into the instance array (b == a for one-instance kinds) */
	unsigned port; /* first colliding port, for port kinds */
	char detail[PATH_MAX + 256]; /* a full sentence naming both instances */
};

struct violation_list {
	struct violation *items;
	size_t n;
};

int check_instances(const struct instance *inst, size_t n, struct violation_list *out,
		    ocr_error *err);
/* Everything check_instances() reads of one instance (paths, port block,
 * CDP URLs), as text in which each value is length-prefixed: two instances
 * with the same facts get the same verdicts. The key of the cached verdict
 * (check_cache.h): a check that starts reading something else of an
 * instance must add it here. Caller frees; NULL when out of memory. */
char *check_instance_facts(const struct instance *inst);
bool violation_involves(const struct violation *v, size_t index);
const char *violation_kind_name(enum violation_kind kind); /* "port-overlap", ... */
void violation_list_release(struct violation_list *list);

#endif
