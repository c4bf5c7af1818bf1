/* json5 2.2.3's parse states (lib/parse.js parseStates) over json5_lex.c's
 * tokens, with an explicit stack instead of recursion so that any depth the
 * gateway reads, we read. Objects find duplicate keys through a hash table
 * once they grow past a few members: a 100k-key object is linear. */
#include "json5.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json5_lex.h"
#include "json5_unicode.h"

/* Objects with fewer members look keys up by walking the list. */
#define SMALL_OBJECT 8

struct slot {
	uint64_t hash;
	cJSON *item;
};

struct frame {
	cJSON *node, *tail;
	size_t span;	    /* its entry in parser.spans, when recorded */
	struct slot *slots; /* open addressing, NULL until SMALL_OBJECT members */
	size_t nslots, members;
	bool has_index; /* a key that JS orders first */
};

struct parser {
	struct json5_lexer lx;
	struct frame *stack;
	size_t depth, cap;
	cJSON *root;
	struct json5_buf key;
	size_t key_pos;
	bool want_spans;
	struct json5_span *spans;
	size_t nspans, capspans;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	/* FNV's low bits cluster for keys like k0, k1, ...: mix (murmur3's
	 * finalizer) before the table takes them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 33);
}

/* The slot of KEY (hash H): its member's, or the empty one to fill. The
 * hash is stored beside the pointer: probing and growing touch the table
 * only, not every member's key (cache misses were half the time). */
static struct slot *slot_for(const struct frame *f, const char *key, uint64_t h)
{
	size_t mask = f->nslots - 1, i = (size_t)h & mask;

	while (f->slots[i].item && (f->slots[i].hash != h || strcmp(f->slots[i].item->string, key)))
		i = (i + 1) & mask;
	return &f->slots[i];
}

static bool rehash(struct frame *f)
{
	size_t n = f->nslots ? f->nslots * 2 : 4 * SMALL_OBJECT;
	struct slot *old = f->slots;
	size_t old_n = f->nslots;

	f->slots = calloc(n, sizeof(*f->slots));
	if (!f->slots) {
		f->slots = old;
		return false;
	}
	f->nslots = n;
	if (old) {
		for (size_t i = 0; i < old_n; i++)
			if (old[i].item)
				*slot_for(f, old[i].item->string, old[i].hash) = old[i];
		free(old);
	} else {
		for (cJSON *c = f->node->child; c; c = c->next) {
			uint64_t h = hash_key(c->string);

			*slot_for(f, c->string, h) = (struct slot){h, c};
		}
	}
	return true;
}

static cJSON *find_member(const struct frame *f, const char *key, uint64_t h)
{
	if (f->slots)
		return slot_for(f, key, h)->item;
	for (cJSON *c = f->node->child; c; c = c->next)
		if (strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

/* "0".."4294967294" without leading zeros: JS lists these keys first. */
static bool array_index(const char *k, uint64_t *v)
{
	size_t n = strlen(k);

	if (n == 0 || n > 10 || (k[0] == '0' && n > 1))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (k[i] < '0' || k[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(k[i] - '0');
	}
	return *v <= 4294967294u;
}

static void link_last(struct frame *f, cJSON *item)
{
	if (f->tail) {
		f->tail->next = item;
		item->prev = f->tail;
	} else {
		f->node->child = item;
	}
	f->node->child->prev = item; /* cJSON: the first child's prev is the last */
	f->tail = item;
}

/* Moves VALUE's content into OLD, which keeps its key and place (a JS
 * property redefined keeps its position). */
static void replace_value(cJSON *old, cJSON *value)
{
	json5_delete(old->child);
	if (!(old->type & cJSON_IsReference))
		free(old->valuestring);
	old->type = value->type;
	old->valuestring = value->valuestring;
	old->valueint = value->valueint;
	old->valuedouble = value->valuedouble;
	old->child = value->child;
	value->valuestring = NULL;
	value->child = NULL;
	cJSON_Delete(value);
}

/* Puts ITEM into the container on top (or makes it the root); returns the
 * node that holds it now, NULL when out of memory (ITEM freed). */
static cJSON *attach(struct parser *p, cJSON *item)
{
	struct frame *f;
	cJSON *old;
	uint64_t idx, h;

	if (p->depth == 0)
		return p->root = item;
	f = &p->stack[p->depth - 1];
	if (cJSON_IsArray(f->node)) {
		link_last(f, item);
		return item;
	}
	h = hash_key(p->key.data);
	if ((old = find_member(f, p->key.data, h)) != NULL) {
		replace_value(old, item);
		return old;
	}
	if (f->members + 1 >= SMALL_OBJECT && (f->members + 1) * 2 > f->nslots && !rehash(f)) {
		cJSON_Delete(item);
		return NULL;
	}
	item->string = strdup(p->key.data);
	if (!item->string) {
		cJSON_Delete(item);
		return NULL;
	}
	link_last(f, item);
	if (f->slots)
		*slot_for(f, item->string, h) = (struct slot){h, item};
	f->members++;
	f->has_index |= array_index(item->string, &idx);
	return item;
}

static int by_index(const void *a, const void *b)
{
	uint64_t x = 0, y = 0;

	array_index((*(cJSON *const *)a)->string, &x);
	array_index((*(cJSON *const *)b)->string, &y);
	return x < y ? -1 : x > y;
}

/* JS's own-key order: array indices ascending, then the rest as inserted. */
static bool order_members(struct frame *f)
{
	cJSON **items = malloc(f->members * sizeof(*items)), *c;
	size_t n = 0, k = 0;
	uint64_t idx;

	if (!items)
		return false;
	for (c = f->node->child; c; c = c->next)
		if (array_index(c->string, &idx))
			items[n++] = c;
	qsort(items, n, sizeof(*items), by_index);
	k = n;
	for (c = f->node->child; c; c = c->next)
		if (!array_index(c->string, &idx))
			items[k++] = c;
	f->node->child = NULL;
	f->tail = NULL;
	for (size_t i = 0; i < k; i++) {
		items[i]->next = items[i]->prev = NULL;
		link_last(f, items[i]);
	}
	free(items);
	return true;
}

static bool push(struct parser *p, cJSON *node)
{
	if (p->depth == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct frame *bigger = realloc(p->stack, cap * sizeof(*bigger));

		if (!bigger)
			return json5_oom(&p->lx);
		p->stack = bigger;
		p->cap = cap;
	}
	p->stack[p->depth++] = (struct frame){.node = node, .span = p->nspans - 1};
	return true;
}

/* Where NODE's text is: from START to the current position (a container's
 * end is filled in when it closes). A duplicate key adds a second entry for
 * the node that holds it; the last entry is the one upstream reads. */
static bool record(struct parser *p, const cJSON *node, size_t start)
{
	if (!p->want_spans)
		return true;
	if (p->nspans == p->capspans) {
		size_t cap = p->capspans ? p->capspans * 2 : 64;
		struct json5_span *bigger = realloc(p->spans, cap * sizeof(*bigger));

		if (!bigger)
			return json5_oom(&p->lx);
		p->spans = bigger;
		p->capspans = cap;
	}
	p->spans[p->nspans++] = (struct json5_span){
	    .node = node,
	    .parent = p->depth ? p->stack[p->depth - 1].node : NULL,
	    .key = p->depth && cJSON_IsObject(p->stack[p->depth - 1].node) ? p->key_pos : start,
	    .start = start,
	    .end = p->lx.pos};
	return true;
}

static bool pop(struct parser *p)
{
	struct frame *f = &p->stack[--p->depth];
	bool ok = !f->has_index || order_members(f);

	if (p->want_spans)
		p->spans[f->span].end = p->lx.pos;

	free(f->slots);
	return ok || json5_oom(&p->lx);
}

/* json5's value lexState plus push(): one value, or the opening of one. */
static bool value(struct parser *p)
{
	struct json5_lexer *l = &p->lx;
	size_t n;
	int32_t c = json5_peek(l, &n);
	cJSON *item = NULL;
	struct json5_buf s = {0};
	size_t start = l->pos;
	double d;

	if (c == '{' || c == '[') {
		l->pos++;
		item = c == '{' ? cJSON_CreateObject() : cJSON_CreateArray();
		if (!item || !(item = attach(p, item)))
			return json5_oom(l);
		return record(p, item, start) && push(p, item);
	}
	if (c == '"' || c == '\'') {
		if (!json5_lex_string(l, &s)) {
			free(s.data);
			return false;
		}
		item = cJSON_CreateString("");
		if (item) {
			free(item->valuestring);
			item->valuestring = s.data;
			s.data = NULL;
		}
		free(s.data);
	} else if (c == 'n' || c == 't' || c == 'f') {
		l->pos++;
		if (!json5_lex_literal(l, c == 'n' ? "ull" : c == 't' ? "rue" : "alse"))
			return false;
		item = c == 'n' ? cJSON_CreateNull() : cJSON_CreateBool(c == 't');
	} else if (c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 'I' ||
		   c == 'N') {
		if (!json5_lex_number(l, &d))
			return false;
		item = cJSON_CreateNumber(d);
	} else {
		return json5_fail_here(l, "where a value belongs");
	}
	if (!item || !(item = attach(p, item)))
		return json5_oom(l);
	return record(p, item, start);
}

/* One member's key and ':' (beforePropertyName, afterPropertyName). */
static bool member_key(struct parser *p)
{
	struct json5_lexer *l = &p->lx;
	size_t n;
	int32_t c = json5_peek(l, &n);

	p->key_pos = l->pos;
	if (c == '"' || c == '\'') {
		if (!json5_lex_string(l, &p->key))
			return false;
	} else if (c == '\\' || (c >= 0 && json5_id_start((uint32_t)c))) {
		if (!json5_lex_identifier(l, &p->key))
			return false;
	} else {
		return json5_fail_here(l, "where a key or '}' belongs");
	}
	if (!json5_skip_space(l))
		return false;
	if (json5_peek(l, &n) != ':')
		return json5_fail_here(l, "after a key (expected ':')");
	l->pos++;
	return json5_skip_space(l);
}

/* After a value or an opening bracket: the next token of the container on
 * top (OPENED: it has no element yet). Returns false on error. */
static bool step(struct parser *p, bool opened)
{
	struct json5_lexer *l = &p->lx;
	struct frame *f = &p->stack[p->depth - 1];
	bool array = cJSON_IsArray(f->node);
	char close = array ? ']' : '}';
	size_t n;
	int32_t c;

	if (!json5_skip_space(l))
		return false;
	c = json5_peek(l, &n);
	if (!opened) {
		if (c != ',' && c != close)
			return json5_fail_here(l, array ? "after an array element (expected ',' or "
							  "']')"
							: "after a member (expected ',' or '}')");
		l->pos++;
		if (c == close)
			return pop(p);
		if (!json5_skip_space(l))
			return false;
		c = json5_peek(l, &n);
	}
	if (c == close) {
		l->pos++;
		return pop(p);
	}
	if (!array && !member_key(p))
		return false;
	return value(p);
}

static void parser_release(struct parser *p)
{
	while (p->depth > 0)
		free(p->stack[--p->depth].slots);
	free(p->stack);
	free(p->key.data);
}

static int parse(struct parser *p, const char *text, size_t len, cJSON **out, ocr_error *err)
{
	size_t fixed_len = 0;
	bool oom, ok, opened;
	char *fixed = json5_utf8_repair(text, len, &fixed_len, &oom);
	const char *origin = p->lx.origin ? p->lx.origin : "<input>";

	*out = NULL;
	if (oom)
		return err_set(err, ENOMEM, "%s", origin);
	if (fixed && p->want_spans) {
		/* Offsets into the repaired text would not fit the file's bytes. */
		free(fixed);
		return err_set(err, EILSEQ, "%s: holds bytes that are not UTF-8", origin);
	}
	p->lx.s = (const unsigned char *)(fixed ? fixed : text);
	p->lx.len = fixed ? fixed_len : len;
	ok = json5_skip_space(&p->lx);
	if (ok && p->lx.pos >= p->lx.len)
		ok = json5_fail_at(&p->lx, p->lx.pos, "empty document");
	ok = ok && value(p);
	/* A container just opened expects its first element or its end. */
	opened = true;
	while (ok && p->depth > 0) {
		size_t before = p->depth;

		ok = step(p, opened);
		/* A value pushed a container: it is empty so far. A scalar or a
		 * closed container: the container below has a value to follow. */
		opened = p->depth > before;
	}
	ok = ok && json5_skip_space(&p->lx);
	if (ok && p->lx.pos < p->lx.len)
		ok = json5_fail_here(&p->lx, "after the document's value");
	parser_release(p);
	free(fixed);
	if (!ok) {
		json5_delete(p->root);
		return -1;
	}
	*out = p->root;
	return 0;
}

int json5_parse(const char *text, size_t len, const char *origin, cJSON **out, ocr_error *err)
{
	struct parser p = {.lx = {.origin = origin, .err = err}};

	return parse(&p, text, len, out, err);
}

int json5_parse_spans(const char *text, size_t len, const char *origin, cJSON **out,
		      struct json5_span **spans, size_t *nspans, ocr_error *err)
{
	struct parser p = {.lx = {.origin = origin, .err = err}, .want_spans = true};
	int rc = parse(&p, text, len, out, err);

	if (rc < 0) {
		free(p.spans);
		p.spans = NULL;
		p.nspans = 0;
	}
	*spans = p.spans;
	*nspans = p.nspans;
	return rc;
}

const struct json5_span *json5_span_of(const struct json5_span *spans, size_t n, const cJSON *node)
{
	while (n > 0)
		if (spans[--n].node == node)
			return &spans[n];
	return NULL;
}

void json5_delete(cJSON *item)
{
	while (item) {
		cJSON *next = item->next;

		if (item->child && !(item->type & cJSON_IsReference)) {
			cJSON *last = item->child;

			while (last->next)
				last = last->next;
			last->next = next; /* children before the siblings: no recursion */
			next = item->child;
		}
		item->child = NULL;
		item->next = NULL;
		cJSON_Delete(item);
		item = next;
	}
}

struct json5_walk json5_walk_start(cJSON *root)
{
	return (struct json5_walk){.root = root};
}

static bool is_container(const cJSON *it)
{
	return (cJSON_IsArray(it) || cJSON_IsObject(it)) && it->child;
}

cJSON *json5_walk_next(struct json5_walk *w)
{
	cJSON *it = w->node;

	if (!it) {
		/* The first call gives the root; once past the end, nothing. */
		it = w->root;
		w->root = NULL;
		return w->node = it;
	}
	if (is_container(it)) {
		if (w->depth == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 64;
			cJSON **bigger = realloc(w->path, cap * sizeof(*bigger));

			if (!bigger) {
				w->oom = true;
				return w->node = NULL;
			}
			w->path = bigger;
			w->cap = cap;
		}
		w->path[w->depth++] = it;
		return w->node = it->child;
	}
	while (w->depth > 0 && !it->next)
		it = w->path[--w->depth];
	return w->node = w->depth > 0 ? it->next : NULL;
}

cJSON *json5_walk_parent(const struct json5_walk *w)
{
	return w->depth > 0 ? w->path[w->depth - 1] : NULL;
}

void json5_walk_finish(struct json5_walk *w)
{
	free(w->path);
	*w = (struct json5_walk){0};
}

size_t json5_depth(const cJSON *root)
{
	/* The walk never changes the tree. */
	struct json5_walk w = json5_walk_start((cJSON *)root);
	size_t max = 0;

	for (cJSON *it; (it = json5_walk_next(&w));)
		if ((cJSON_IsArray(it) || cJSON_IsObject(it)) && w.depth + 1 > max)
			max = w.depth + 1;
	max = w.oom ? SIZE_MAX : max;
	json5_walk_finish(&w);
	return max;
}
