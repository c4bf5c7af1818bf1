/* Profiles: see profile.h. Mirrors upstream's resolution order; every path is
 * normalised so that check can compare instances as strings. */
#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

#define NAME_RULE "^[a-z0-9][a-z0-9_-]{0,63}$, any case"

/* Quotes NAME for a message without letting control bytes reach the terminal. */
static void quote_name(const char *name, char *buf, size_t len)
{
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)name; *s && o + 5 < len; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\') {
			buf[o++] = (char)*s;
		} else {
			snprintf(buf + o, len - o, "\\x%02x", *s);
			o += 4;
		}
	}
	buf[o] = '\0';
}

int profile_name_check(const char *name, ocr_error *err)
{
	char quoted[4 * PROFILE_NAME_MAX + 16];
	size_t n;

	if (!name)
		name = "";
	n = strlen(name);
	bool ok = n >= 1 && n <= PROFILE_NAME_MAX && ascii_alnum((unsigned char)name[0]);
	for (size_t i = 1; ok && i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		ok = ascii_alnum(c) || c == '_' || c == '-';
	}
	if (ok)
		return 0;
	quote_name(name, quoted, sizeof(quoted));
	if (n > PROFILE_NAME_MAX)
		return err_set(err, 0,
			       "invalid profile name \"%.40s...\" (%zu characters): must match %s",
			       quoted, n, NAME_RULE);
	return err_set(err, 0, "invalid profile name \"%s\": must match %s", quoted, NAME_RULE);
}

int path_clean(const char *in, char *out, size_t len, ocr_error *err)
{
	size_t o = 0;
	const char *s = in;

	if (!in || in[0] != '/')
		return err_set(err, 0, "path \"%s\" is not absolute", in ? in : "");
	if (len < 2)
		return err_set(err, ENAMETOOLONG, "%s", in);
	out[o++] = '/';
	while (*s) {
		const char *seg;
		size_t n;

		while (*s == '/')
			s++;
		seg = s;
		while (*s && *s != '/')
			s++;
		n = (size_t)(s - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			/* Back to the previous '/', never above the root. */
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
			continue;
		}
		if (o + (o > 1) + n + 1 > len)
			return err_set(err, ENAMETOOLONG, "%s", in);
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, seg, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int path_expand(const char *in, const char *home, const char *what, char *out, size_t len,
		ocr_error *err)
{
	char buf[PATH_MAX];

	if (in[0] == '~') {
		if (in[1] != '\0' && in[1] != '/')
			return err_set(err, 0, "%s: \"%s\": only \"~\" and \"~/\" are expanded",
				       what, in);
		if (snprintf(buf, sizeof(buf), "%s%s", home, in + 1) >= (int)sizeof(buf))
			return err_set(err, ENAMETOOLONG, "%s: %s", what, in);
		in = buf;
	}
	if (path_clean(in, out, len, err) < 0)
		return err_prefix(err, "%s", what);
	return 0;
}

static bool set(const char *s)
{
	return s && *s;
}

static int join(char *out, size_t len, const char *dir, const char *name, ocr_error *err)
{
	if (snprintf(out, len, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) >= (int)len)
		return err_set(err, ENAMETOOLONG, "%s/%s", dir, name);
	return 0;
}

int profile_resolve(const char *name, const struct env_view *env, struct profile *out,
		    ocr_error *err)
{
	char tmp[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (name && strcasecmp(name, "default") != 0) {
		if (profile_name_check(name, err) < 0)
			return -1;
		snprintf(out->name, sizeof(out->name), "%s", name);
	}
	/* OPENCLAW_HOME itself may start with "~", meaning HOME. */
	if (set(env->openclaw_home)) {
		if (!set(env->home) && env->openclaw_home[0] == '~')
			return err_set(err, 0, "OPENCLAW_HOME \"%s\" needs HOME",
				       env->openclaw_home);
		if (path_expand(env->openclaw_home, env->home ? env->home : "", "OPENCLAW_HOME",
				out->home, sizeof(out->home), err) < 0)
			return -1;
	} else if (set(env->home)) {
		if (path_clean(env->home, out->home, sizeof(out->home), err) < 0)
			return err_prefix(err, "HOME");
	} else {
		return err_set(err, 0, "neither OPENCLAW_HOME nor HOME is set");
	}

	if (set(env->state_dir)) {
		if (path_expand(env->state_dir, out->home, "OPENCLAW_STATE_DIR", out->state_dir,
				sizeof(out->state_dir), err) < 0)
			return -1;
		out->state_origin = ORIGIN_ENV;
	} else if (out->name[0]) {
		snprintf(tmp, sizeof(tmp), ".openclaw-%s", out->name);
		if (join(out->state_dir, sizeof(out->state_dir), out->home, tmp, err) < 0)
			return -1;
		out->state_origin = ORIGIN_PROFILE;
	} else {
		char legacy[PATH_MAX];

		if (join(out->state_dir, sizeof(out->state_dir), out->home, ".openclaw", err) < 0 ||
		    join(legacy, sizeof(legacy), out->home, ".clawdbot", err) < 0)
			return -1;
		if (env->dir_exists && !env->dir_exists(out->state_dir) && env->dir_exists(legacy))
			snprintf(out->state_dir, sizeof(out->state_dir), "%s", legacy);
		out->state_origin = ORIGIN_DEFAULT;
	}

	if (set(env->config_path)) {
		if (path_expand(env->config_path, out->home, "OPENCLAW_CONFIG_PATH",
				out->config_path, sizeof(out->config_path), err) < 0)
			return -1;
		out->config_origin = ORIGIN_ENV;
	} else {
		if (join(out->config_path, sizeof(out->config_path), out->state_dir,
			 "openclaw.json", err) < 0)
			return -1;
		out->config_origin = out->state_origin;
	}
	return 0;
}

int profile_resolve_workspace(struct profile *p, const char *config_workspace,
			      const struct env_view *env, ocr_error *err)
{
	if (set(config_workspace)) {
		if (path_expand(config_workspace, p->home, "agents.defaults.workspace",
				p->workspace, sizeof(p->workspace), err) < 0)
			return err_prefix(err, "%s", p->config_path);
		p->workspace_origin = ORIGIN_CONFIG;
		return 0;
	}
	if (env && set(env->workspace_dir)) {
		if (path_expand(env->workspace_dir, p->home, "OPENCLAW_WORKSPACE_DIR", p->workspace,
				sizeof(p->workspace), err) < 0)
			return -1;
		p->workspace_origin = ORIGIN_ENV;
		return 0;
	}
	/* Upstream keeps the default profile's workspace under ~/.openclaw even
	 * when the legacy ~/.clawdbot state dir is in use. */
	if (p->state_origin != ORIGIN_DEFAULT) {
		p->workspace_origin = p->state_origin;
		return join(p->workspace, sizeof(p->workspace), p->state_dir, "workspace", err);
	}
	p->workspace_origin = ORIGIN_DEFAULT;
	return join(p->workspace, sizeof(p->workspace), p->home, ".openclaw/workspace", err);
}

bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char *profile_label(const struct profile *p)
{
	return p->name[0] ? p->name : "default";
}

const char *path_origin_label(enum path_origin origin)
{
	switch (origin) {
	case ORIGIN_DEFAULT:
		return "default";
	case ORIGIN_PROFILE:
		return "profile";
	case ORIGIN_ENV:
		return "environment";
	case ORIGIN_CONFIG:
		return "config";
	case ORIGIN_REGISTRY:
		return "registry";
	}
	return "unknown";
}
