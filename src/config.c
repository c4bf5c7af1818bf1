/* Instance configs: see config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cdp_url.h"
#include "check_cache.h"
#include "config_edit.h"
#include "config_env.h"
#include "profile.h"
#include "config_include.h"
#include "trust.h"
#include "json5.h"
#include "text.h"

int config_load(const char *path, cJSON **root, bool *missing, ocr_error *err)
{
	return config_load_logged(path, root, missing, NULL, err);
}

int config_load_logged(const char *path, cJSON **root, bool *missing, struct dep_log *log,
		       ocr_error *err)
{
	char *text;
	size_t len;
	cJSON *tree;

	*root = NULL;
	*missing = false;
	ocr_error why = {0};

	/* Before the read: a change after it moves the ctime logged here. The
	 * last component is not followed, as read_whole_file() does not. */
	if (log)
		dep_stat(log, path, false, NULL);
	if (read_whole_file(path, &text, &len, &why) < 0) {
		if (why.errnum == ENOENT) {
			*missing = true;
			return 0;
		}
		if (why.errnum == ELOOP)
			return err_set(
			    err, ELOOP,
			    "%s is a symlink; openclaw-run does not follow links where "
			    "the sandbox can write; point OPENCLAW_CONFIG_PATH at the target",
			    path);
		if (err)
			*err = why;
		return -1;
	}
	if (json5_parse(text, len, path, &tree, err) < 0) {
		free(text);
		return -1;
	}
	free(text);
	if (!cJSON_IsObject(tree)) {
		json5_delete(tree);
		return err_set(err, 0, "%s: the top-level value is not an object", path);
	}
	/* The parser takes any depth, as upstream's does; the gateway's include
	 * pass then recurses and overflows its stack (at ~CONFIG_MAX_DEPTH_UPSTREAM
	 * levels), so a deeper config never runs there. Refusing past a bound
	 * above that keeps cJSON's recursive walkers here safe. */
	if (json5_depth(tree) > CONFIG_MAX_DEPTH) {
		json5_delete(tree);
		return err_set(err, 0,
			       "%s: nested deeper than %d levels (the gateway itself fails "
			       "beyond about %d)",
			       path, CONFIG_MAX_DEPTH, CONFIG_MAX_DEPTH_UPSTREAM);
	}
	/* $include as the gateway resolves it in our sandbox, whose environment
	 * has no OPENCLAW_INCLUDE_ROOTS: included files lie in the config's
	 * directory. A port set in an included file is the gateway's port. */
	if (log && config_has_include(tree))
		log->uncacheable = true; /* its files are not logged */
	if (path[0] == '/' && config_resolve_includes(&tree, path, NULL, err) < 0) {
		json5_delete(tree);
		/* It names the payload's include paths: printed to a person. */
		if (err)
			text_defang_line(err->msg, strlen(err->msg));
		return err_prefix(err, "%s", path);
	}
	if (!cJSON_IsObject(tree)) {
		json5_delete(tree);
		return err_set(err, 0, "%s: its $include made the top-level value not an object",
			       path);
	}
	/* The launcher uses the values as paths and URLs: as node would pass them. */
	if (config_strings_for_os(tree, err) < 0) {
		json5_delete(tree);
		return -1;
	}
	*root = tree;
	return 0;
}

const cJSON *config_get(const cJSON *root, const char *dotted)
{
	const cJSON *node = root;
	const char *s = dotted;

	while (node && *s) {
		char key[256];
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (n >= sizeof(key) || !cJSON_IsObject(node))
			return NULL;
		memcpy(key, s, n);
		key[n] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(node, key);
		s += n + (dot ? 1 : 0);
	}
	return node;
}

const char *config_get_string(const cJSON *root, const char *dotted)
{
	const cJSON *v = config_get(root, dotted);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int config_set(cJSON *root, const char *dotted, cJSON *value, ocr_error *err)
{
	cJSON *node = root;
	const char *s = dotted;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(value);
		return err_set(err, 0, "config: the top-level value is not an object");
	}
	for (;;) {
		char key[256];
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		cJSON *child;

		if (n == 0 || n >= sizeof(key)) {
			cJSON_Delete(value);
			return err_set(err, 0, "config key \"%s\": bad path", dotted);
		}
		memcpy(key, s, n);
		key[n] = '\0';
		child = cJSON_GetObjectItemCaseSensitive(node, key);
		if (!dot) {
			if (child && cJSON_Compare(child, value, true)) {
				cJSON_Delete(value);
				return 0;
			}
			/* ReplaceItemInObject, unlike ..ViaPointer, keeps the key. */
			if (child ? !cJSON_ReplaceItemInObjectCaseSensitive(node, key, value)
				  : !cJSON_AddItemToObject(node, key, value)) {
				cJSON_Delete(value);
				return err_set(err, ENOMEM, "config key %s", dotted);
			}
			return 1;
		}
		if (!child) {
			child = cJSON_AddObjectToObject(node, key);
			if (!child) {
				cJSON_Delete(value);
				return err_set(err, ENOMEM, "config key %s", dotted);
			}
		} else if (!cJSON_IsObject(child)) {
			cJSON_Delete(value);
			return err_set(err, 0, "config key %s: %.*s is not an object", dotted,
				       (int)(dot - dotted), dotted);
		}
		node = child;
		s = dot + 1;
	}
}

/* A port from a JSON number; the key names it in errors. */
static int number_port(const cJSON *v, const char *key, unsigned *port, ocr_error *err)
{
	double d = v->valuedouble;

	if (!isfinite(d) || d != floor(d) || d < 1 || d > 65535)
		return err_set(err, 0, "config key %s: %g is not a port (1..65535)", key, d);
	*port = (unsigned)d;
	return 0;
}

static int add_url(const cJSON *v, const char *key, struct port_block *b, ocr_error *err)
{
	unsigned port = 0;

	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return err_set(err, 0, "config key %s: not a string", key);
	/* As the gateway reads it (cdp_url.h); a URL it refuses takes no port. */
	if (cdp_url_classify(v->valuestring, &port) == CDP_URL_LOCAL)
		return port_block_add_explicit(b, port, key, err);
	return 0;
}

static int add_number(const cJSON *v, const char *key, struct port_block *b, ocr_error *err)
{
	unsigned port = 0;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return err_set(err, 0, "config key %s: not a number", key);
	if (number_port(v, key, &port, err) < 0)
		return -1;
	return port_block_add_explicit(b, port, key, err);
}

int config_collect_explicit_ports(const cJSON *root, struct port_block *b, ocr_error *err)
{
	const cJSON *profiles, *prof;

	if (!root)
		return 0;
	if (add_url(config_get(root, "browser.cdpUrl"), "browser.cdpUrl", b, err) < 0 ||
	    add_number(config_get(root, "mcp.apps.sandboxPort"), "mcp.apps.sandboxPort", b, err) <
		0 ||
	    add_number(config_get(root, "canvasHost.port"), "canvasHost.port", b, err) < 0)
		return -1;
	profiles = config_get(root, "browser.profiles");
	cJSON_ArrayForEach(prof, profiles)
	{
		char key[160];

		if (!cJSON_IsObject(prof) || !prof->string)
			continue;
		snprintf(key, sizeof(key), "browser.profiles.%.64s.cdpPort", prof->string);
		if (add_number(cJSON_GetObjectItemCaseSensitive(prof, "cdpPort"), key, b, err) < 0)
			return -1;
		snprintf(key, sizeof(key), "browser.profiles.%.64s.cdpUrl", prof->string);
		if (add_url(cJSON_GetObjectItemCaseSensitive(prof, "cdpUrl"), key, b, err) < 0)
			return -1;
	}
	return 0;
}

int config_write(const char *path, const cJSON *root, ocr_error *err)
{
	char *text = cJSON_Print(root);
	size_t len;
	int rc;

	if (!text)
		return err_set(err, ENOMEM, "write %s", path);
	len = strlen(text);
	/* A trailing newline, as editors leave it: text files end in one. */
	char *with_nl = realloc(text, len + 2);
	if (!with_nl) {
		free(text);
		return err_set(err, ENOMEM, "write %s", path);
	}
	with_nl[len] = '\n';
	with_nl[len + 1] = '\0';
	rc = atomic_write_file(path, with_nl, len + 1, 0600, err);
	free(with_nl);
	return rc;
}

int config_text_load(const char *path, struct config_text *t, bool *missing, ocr_error *err)
{
	char *text = NULL;
	size_t len = 0;
	ocr_error why = {0};
	int rc;

	*missing = false;
	if (read_whole_file(path, &text, &len, &why) < 0) {
		if (why.errnum != ENOENT) {
			if (err)
				*err = why;
			return -1;
		}
		*missing = true;
	}
	rc = config_text_init(t, path, text, len, err);
	free(text);
	return rc;
}

int config_text_write(const char *path, const struct config_text *t, const char *state_dir,
		      int state_fd, uid_t uid, gid_t gid, ocr_error *err)
{
	struct atomic_write_opts o = {.mode = 0600, .uid = uid, .gid = gid, .backup = true};
	size_t n = strlen(state_dir);
	char rel[PATH_MAX];
	int dir = -1, rc;

	if (state_fd >= 0 && strncmp(path, state_dir, n) == 0 && path[n] == '/') {
		snprintf(rel, sizeof(rel), "%s", path + n + 1);
		if (strrchr(rel, '/'))
			*strrchr(rel, '/') = '\0';
		else
			rel[0] = '\0'; /* the config sits in the state dir itself */
		dir = trust_open_beneath(state_fd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY, 0);
		if (dir < 0)
			return err_set(err, errno,
				       "open the directory of %s (no links are followed in a "
				       "state dir)",
				       path);
		o.dir_fd = &dir;
	}
	rc = atomic_write_file_opts(path, t->text, t->len, &o, err);
	if (dir >= 0)
		close(dir);
	return rc;
}

int config_substitute_sandbox_env(cJSON *root, const struct profile *p, ocr_error *err)
{
	char home[PATH_MAX + 16], state[PATH_MAX + 24], config[PATH_MAX + 24], name[96];
	const char *env[] = {home, "TMPDIR=/tmp", state, config, p->name[0] ? name : NULL, NULL};

	if (!root)
		return 0;
	snprintf(home, sizeof(home), "HOME=%s/home", p->state_dir);
	snprintf(state, sizeof(state), "OPENCLAW_STATE_DIR=%s", p->state_dir);
	snprintf(config, sizeof(config), "OPENCLAW_CONFIG_PATH=%s", p->config_path);
	snprintf(name, sizeof(name), "OPENCLAW_PROFILE=%s", p->name);
	return config_substitute_env(root, env, err);
}
