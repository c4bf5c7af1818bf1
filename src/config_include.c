/* See config_include.h. The walk recurses; config_load has bounded the
 * nesting of every file it parses (CONFIG_MAX_DEPTH), and a running total
 * bounds nesting across included files too. */
#include "config_include.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "config.h"
#include "json5.h"
#include "profile.h"

#define MAX_INCLUDE_DEPTH 10
#define MAX_ROOTS	  16

struct root {
	char lexical[PATH_MAX], real[PATH_MAX];
};

struct ctx {
	struct root roots[MAX_ROOTS]; /* [0]: the main config's directory */
	size_t n_roots;
	const char *chain[MAX_INCLUDE_DEPTH + 2]; /* visited files, main config first */
	size_t n_chain;
	ocr_error *err;
};

static bool blocked_key(const char *k)
{
	return k &&
	       (!strcmp(k, "__proto__") || !strcmp(k, "prototype") || !strcmp(k, "constructor"));
}

static void remove_blocked(cJSON *obj)
{
	for (cJSON *c = obj->child, *next; c; c = next) {
		next = c->next;
		if (blocked_key(c->string))
			json5_delete(cJSON_DetachItemViaPointer(obj, c));
		else if (cJSON_IsObject(c))
			remove_blocked(c);
	}
}

/* Puts NEW where OLD is in OBJ (keeping OLD's key and place), frees OLD
 * (cJSON_ReplaceItemViaPointer does). */
static void replace(cJSON *obj, cJSON *old, cJSON *new)
{
	free(new->string);
	new->string = old->string;
	old->string = NULL;
	cJSON_ReplaceItemViaPointer(obj, old, new); /* frees OLD */
}

static void concat(cJSON *to, cJSON *from)
{
	while (from->child)
		cJSON_AddItemToArray(to, cJSON_DetachItemViaPointer(from, from->child));
	json5_delete(from);
}

/* Members of an object by key, so that merging two big objects stays linear. */
struct index {
	cJSON **slots;
	size_t n;
};

static size_t key_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h ^ (h >> 29);
}

static cJSON **index_slot(const struct index *ix, const char *key)
{
	size_t i = key_hash(key) & (ix->n - 1);

	while (ix->slots[i] && strcmp(ix->slots[i]->string, key))
		i = (i + 1) & (ix->n - 1);
	return &ix->slots[i];
}

static bool index_build(struct index *ix, const cJSON *obj, size_t extra)
{
	size_t n = extra;

	for (const cJSON *c = obj->child; c; c = c->next)
		n++;
	for (ix->n = 16; ix->n < 2 * n; ix->n *= 2)
		;
	ix->slots = calloc(ix->n, sizeof(*ix->slots));
	if (!ix->slots)
		return false;
	for (cJSON *c = obj->child; c; c = c->next)
		*index_slot(ix, c->string) = c;
	return true;
}

/* Merges OVER's members into BASE in place (both objects); consumes OVER. */
static int merge_objects(cJSON *base, cJSON *over)
{
	struct index ix;
	size_t n_over = 0;

	remove_blocked(base);
	for (const cJSON *c = over->child; c; c = c->next)
		n_over++;
	if (!index_build(&ix, base, n_over))
		return -1;
	while (over->child) {
		cJSON *v = cJSON_DetachItemViaPointer(over, over->child);
		cJSON **slot, *cur;

		if (blocked_key(v->string)) {
			json5_delete(v);
			continue;
		}
		slot = index_slot(&ix, v->string);
		cur = *slot;
		if (cJSON_IsObject(v) && cJSON_IsObject(cur)) {
			if (merge_objects(cur, v) < 0) {
				free(ix.slots);
				return -1;
			}
			continue;
		}
		if (cJSON_IsObject(v))
			remove_blocked(v);
		if (cJSON_IsArray(v) && cJSON_IsArray(cur)) {
			concat(cur, v);
		} else if (cur) {
			replace(base, cur, v);
			*slot = v;
		} else {
			cJSON_AddItemToObject(base, v->string, v);
			*slot = v;
		}
	}
	free(ix.slots);
	json5_delete(over);
	return 0;
}

/* deepMerge(base, over) of includes.ts (mergeDeep with arrays "concat"):
 * consumes both; NULL when out of memory. */
static cJSON *merge(cJSON *base, cJSON *over)
{
	if (cJSON_IsArray(base) && cJSON_IsArray(over)) {
		concat(base, over);
		return base;
	}
	if (!cJSON_IsObject(base) || !cJSON_IsObject(over)) {
		json5_delete(base);
		return over;
	}
	if (merge_objects(base, over) < 0) {
		json5_delete(base);
		json5_delete(over);
		return NULL;
	}
	return base;
}

static bool within_root(const struct ctx *c, const char *path, bool real, size_t *which)
{
	for (size_t i = 0; i < c->n_roots; i++)
		if (path_within(path, real ? c->roots[i].real : c->roots[i].lexical)) {
			*which = i;
			return true;
		}
	return false;
}

static cJSON *process(struct ctx *c, cJSON *node, const char *base_path, size_t depth,
		      size_t level);

/* PATH's directory, opened (links in it followed, as upstream follows
 * them), must be where the checks said: the payload may swap a directory
 * of the path for a link between the check and the open. So the directory
 * is judged by what was opened, its name as the kernel gives it, and the
 * file read beneath it without following a link. */
static int read_include(const struct ctx *c, const char *path, char **text, size_t *len,
			ocr_error *err)
{
	char dir[PATH_MAX], proc[64], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t which;
	ssize_t n;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "open %s", dir);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n < 0 || (real[n] = '\0', real[0] != '/') || !within_root(c, real, true, &which)) {
		close(fd);
		return err_set(err, n < 0 ? errno : EPERM,
			       "%s resolves outside the config directory (symlink) %s", dir,
			       c->roots[0].lexical);
	}
	rc = read_file_capped_at(fd, slash + 1, path, CONFIG_INCLUDE_MAX_BYTES, text, len, err);
	close(fd);
	return rc;
}

/* One included file: resolved, checked, read, parsed and processed. */
static cJSON *load_file(struct ctx *c, const char *inc, const char *base_path, size_t depth,
			size_t level)
{
	char joined[PATH_MAX * 2], path[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(base_path, '/');
	char *text = NULL;
	size_t len, which;
	cJSON *parsed = NULL;
	ocr_error why = {0};

	if (strstr(inc, "\xc0\x80")) /* U+0000 in our strings */
		return err_set(c->err, 0, "$include %s: include path must not contain null bytes",
			       inc),
		       NULL;
	if (strlen(inc) >= 4096)
		return err_set(c->err, 0, "$include: include path exceeds 4096 characters"), NULL;
	if (inc[0] == '/')
		snprintf(joined, sizeof(joined), "%s", inc);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - base_path), base_path,
			 inc);
	if (path_clean(joined, path, sizeof(path), &why) < 0)
		return err_set(c->err, 0, "$include %s: %s", inc, why.msg), NULL;
	if (!within_root(c, path, false, &which))
		return err_set(c->err, 0, "$include %s: escapes the config directory %s", inc,
			       c->roots[0].lexical),
		       NULL;
	if (realpath(path, real) && !within_root(c, real, true, &which))
		return err_set(c->err, 0,
			       "$include %s: resolves outside the config directory (symlink) %s",
			       inc, c->roots[0].lexical),
		       NULL;
	for (size_t i = 0; i < c->n_chain; i++)
		if (strcmp(c->chain[i], path) == 0) {
			char chain[1024] = "";

			for (size_t j = 0; j < c->n_chain; j++)
				snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain),
					 "%s -> ", c->chain[j]);
			return err_set(c->err, 0, "circular $include: %s%s", chain, path), NULL;
		}
	if (depth >= MAX_INCLUDE_DEPTH)
		return err_set(c->err, 0, "$include %s: more than %d levels of includes", inc,
			       MAX_INCLUDE_DEPTH),
		       NULL;
	if (read_include(c, path, &text, &len, &why) < 0)
		return err_set(c->err, why.errnum, "$include %s: %s", inc, why.msg), NULL;
	if (json5_parse(text, len, path, &parsed, c->err) < 0) {
		free(text);
		return NULL;
	}
	free(text);
	if (json5_depth(parsed) > CONFIG_MAX_DEPTH) {
		json5_delete(parsed);
		return err_set(c->err, 0, "%s: nested deeper than %d levels", path,
			       CONFIG_MAX_DEPTH),
		       NULL;
	}
	c->chain[c->n_chain++] = path;
	cJSON *done = process(c, parsed, path, depth + 1, level);
	c->n_chain--;
	if (done != parsed)
		json5_delete(parsed);
	return done;
}

/* The $include of an object: what replaces it (a new node), NULL on error. */
static cJSON *process_include(struct ctx *c, cJSON *node, const cJSON *inc, const char *base_path,
			      size_t depth, size_t level)
{
	cJSON *included = NULL, *rest, *item;
	bool siblings = false;

	if (cJSON_IsString(inc)) {
		included = load_file(c, inc->valuestring, base_path, depth, level);
	} else if (cJSON_IsArray(inc)) {
		included = cJSON_CreateObject();
		cJSON_ArrayForEach(item, inc)
		{
			if (!included)
				break;
			if (!cJSON_IsString(item)) {
				json5_delete(included);
				return err_set(c->err, 0,
					       "invalid $include array item in %s: expected "
					       "a string",
					       base_path),
				       NULL;
			}
			cJSON *one = load_file(c, item->valuestring, base_path, depth, level);

			if (!one) {
				json5_delete(included);
				return NULL;
			}
			included = merge(included, one);
		}
	} else {
		return err_set(c->err, 0,
			       "invalid $include value in %s: expected a string or an array of "
			       "strings",
			       base_path),
		       NULL;
	}
	if (!included)
		return c->err->msg[0] ? NULL : (err_set(c->err, ENOMEM, "$include"), NULL);
	for (item = node->child; item; item = item->next)
		siblings |= strcmp(item->string, "$include") != 0;
	if (!siblings)
		return included;
	if (!cJSON_IsObject(included)) {
		json5_delete(included);
		return err_set(c->err, 0,
			       "$include in %s: sibling keys require the included content to be "
			       "an object",
			       base_path),
		       NULL;
	}
	rest = cJSON_CreateObject();
	while (rest && node->child) {
		cJSON *child = cJSON_DetachItemViaPointer(node, node->child), *done;

		if (strcmp(child->string, "$include") == 0) {
			json5_delete(child);
			continue;
		}
		done = process(c, child, base_path, depth, level + 1);
		if (done && done != child) {
			free(done->string);
			done->string = child->string;
			child->string = NULL;
			json5_delete(child);
		} else if (!done) {
			json5_delete(child);
			json5_delete(rest);
			json5_delete(included);
			return NULL;
		}
		cJSON_AddItemToObject(rest, done->string, done);
	}
	return rest ? merge(included, rest) : NULL;
}

/* The include pass over NODE: NODE itself (changed in place), or a new node
 * to take its place (NODE is then the caller's to free), NULL on error. */
static cJSON *process(struct ctx *c, cJSON *node, const char *base_path, size_t depth, size_t level)
{
	const cJSON *inc;

	if (level > CONFIG_MAX_DEPTH)
		return err_set(c->err, 0, "%s: with its includes, nested deeper than %d levels",
			       c->chain[0], CONFIG_MAX_DEPTH),
		       NULL;
	if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
		return node;
	inc = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "$include") : NULL;
	if (inc)
		return process_include(c, node, inc, base_path, depth, level);
	for (cJSON *child = node->child, *next; child; child = next) {
		cJSON *done;

		next = child->next;
		done = process(c, child, base_path, depth, level + 1);
		if (!done)
			return NULL;
		if (done != child && cJSON_IsObject(node)) {
			replace(node, child, done);
		} else if (done != child) {
			cJSON_ReplaceItemViaPointer(node, child, done); /* frees child */
		}
	}
	return node;
}

/* Whether any object in the tree has a "$include" key (without recursion). */
bool config_has_include(const cJSON *root)
{
	/* The walk never changes the tree. */
	struct json5_walk w = json5_walk_start((cJSON *)root);
	bool found = false;

	for (cJSON *it; !found && (it = json5_walk_next(&w));)
		found = it->string && cJSON_IsObject(json5_walk_parent(&w)) &&
			strcmp(it->string, "$include") == 0;
	found = found || w.oom; /* let the walk decide */
	json5_walk_finish(&w);
	return found;
}

static void add_root(struct ctx *c, const char *dir)
{
	struct root *r = &c->roots[c->n_roots];
	ocr_error ignored = {0};

	if (c->n_roots == MAX_ROOTS || dir[0] != '/' ||
	    path_clean(dir, r->lexical, sizeof(r->lexical), &ignored) < 0)
		return;
	if (!realpath(r->lexical, r->real))
		memcpy(r->real, r->lexical, sizeof(r->real));
	c->n_roots++;
}

int config_resolve_includes(cJSON **root, const char *config_path, const char *include_roots,
			    ocr_error *err)
{
	if (!config_has_include(*root))
		return 0; /* the common case: nothing to walk */

	/* Only now: zeroing the context writes ~140 KB of stack, which every
	 * start of `exec` used to pay (and keep as resident memory) for a
	 * config without $include. */
	struct ctx c = {.err = err};
	char dir[PATH_MAX];
	cJSON *done;

	snprintf(dir, sizeof(dir), "%s", config_path);
	*(strrchr(dir, '/') ? strrchr(dir, '/') : dir) = '\0';
	add_root(&c, dir[0] ? dir : "/");
	for (const char *s = include_roots; s && *s;) {
		size_t n = strcspn(s, ":");
		char one[PATH_MAX];

		snprintf(one, sizeof(one), "%.*s", (int)n, s);
		add_root(&c, one);
		s += n + (s[n] == ':');
	}
	c.chain[c.n_chain++] = config_path;
	done = process(&c, *root, config_path, 0, 0);
	if (!done)
		return -1;
	if (done != *root) {
		json5_delete(*root);
		*root = done;
	}
	return 0;
}
