/* The container entrypoint's configuration and config fixes (see
 * container.h). */
#include "container.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_edit.h"
#include "ports.h"
#include "text.h"

/* Exit codes of supervisor.h, repeated so this file stays in the pure core
 * (supervisor.h pulls in the runtime). */
enum { SUP_STOPPED = 0, SUP_CRASH_LOOP = 4, SUP_KILLED = 6, SUP_CONFIG = 78 };

static const char *const bind_modes[] = {"lan", "loopback", "auto", "custom", "tailnet"};

/* Variables the plan sets for the gateway itself: passing the container's
 * value would point the gateway at another instance's files or port. */
static bool reserved_name(const char *name)
{
	static const char *const exact[] = {"PATH", "HOME", "TMPDIR", "NODE_OPTIONS"};

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(name, exact[i]) == 0)
			return true;
	return strncmp(name, "OPENCLAW_", 9) == 0 || strncmp(name, "LD_", 3) == 0;
}

static bool valid_env_name(const char *s)
{
	if (!*s || (!isalpha((unsigned char)*s) && *s != '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int parse_pass_env(const char *text, struct container_config *cfg, ocr_error *err)
{
	char *save = NULL;

	if (snprintf(cfg->pass_env_buf, sizeof(cfg->pass_env_buf), "%s", text) >=
	    (int)sizeof(cfg->pass_env_buf))
		return err_set(err, E2BIG, "OPENCLAW_RUN_PASS_ENV: longer than %zu characters",
			       sizeof(cfg->pass_env_buf) - 1);
	for (char *name = strtok_r(cfg->pass_env_buf, " ,\t\n", &save); name;
	     name = strtok_r(NULL, " ,\t\n", &save)) {
		if (!valid_env_name(name))
			return err_set(err, EINVAL,
				       "OPENCLAW_RUN_PASS_ENV: '%s' is not a variable name", name);
		if (reserved_name(name))
			return err_set(err, EINVAL,
				       "OPENCLAW_RUN_PASS_ENV: %s is set by openclaw-run itself "
				       "(OPENCLAW_*, LD_*, PATH, HOME, TMPDIR and NODE_OPTIONS "
				       "cannot be passed)",
				       name);
		if (cfg->n_pass_env == CONTAINER_PASS_ENV_MAX)
			return err_set(err, E2BIG, "OPENCLAW_RUN_PASS_ENV: more than %d names",
				       CONTAINER_PASS_ENV_MAX);
		cfg->pass_env[cfg->n_pass_env++] = name;
	}
	return 0;
}

/* "main rescue2" (blanks or commas): profile labels. A grant across
 * containers is control, logs and config; the workspace would need the
 * target's workspace volume in the rescuer's container. */
static int parse_labels(const char *var, const char *text, char (*out)[PROFILE_NAME_MAX + 1],
			size_t *n, ocr_error *err)
{
	char buf[CONTAINER_GRANTS_MAX * (PROFILE_NAME_MAX + 2) + 64], *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return err_set(err, E2BIG, "%s: too long", var);
	for (char *name = strtok_r(buf, " ,\t\n", &save); name;
	     name = strtok_r(NULL, " ,\t\n", &save)) {
		if (strchr(name, ':'))
			return err_set(err, EINVAL,
				       "%s: '%s': a grant between containers is control, logs "
				       "and config; items (such as :workspace) are for profiles "
				       "of one host",
				       var, name);
		if (strcmp(name, "default") != 0 && profile_name_check(name, err) < 0)
			return err_prefix(err, "%s", var);
		bool dup = false;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = strcmp(out[i], name) == 0;
		if (dup)
			continue;
		if (*n == CONTAINER_GRANTS_MAX)
			return err_set(err, E2BIG, "%s: more than %d profiles", var,
				       CONTAINER_GRANTS_MAX);
		snprintf(out[(*n)++], PROFILE_NAME_MAX + 1, "%s", name);
	}
	return 0;
}

/* An IANA zone name as found under /usr/share/zoneinfo: no "..", no
 * leading slash, a short charset. */
static bool valid_tz(const char *tz)
{
	if (!*tz || *tz == '/' || strstr(tz, "..") || strlen(tz) >= 64)
		return false;
	for (const char *c = tz; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return false;
	return true;
}

static bool truthy(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off", ""};

	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true;
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(v, no[i]) == 0)
			return !(*out = false);
	return false;
}

static int parse_bind(const char *v, struct container_config *cfg, ocr_error *err)
{
	for (size_t i = 0; i < sizeof(bind_modes) / sizeof(bind_modes[0]); i++) {
		if (strcmp(v, bind_modes[i]) == 0) {
			snprintf(cfg->bind, sizeof(cfg->bind), "%s", v);
			return 0;
		}
	}
	return err_set(err, EINVAL,
		       "OPENCLAW_GATEWAY_BIND '%s': expected lan, loopback, auto, custom or "
		       "tailnet (upstream's bind modes, not an address)",
		       v);
}

/* A compose file's "${VAR:-}" that its tool did not substitute (podman-
 * compose 1.0 leaves an empty default as it is) must not become a token. */
static int refuse_unsubstituted(container_getenv_fn get, ocr_error *err)
{
	static const char *const names[] = {
	    "OPENCLAW_PROFILE",	       "OPENCLAW_GATEWAY_PORT", "OPENCLAW_GATEWAY_BIND",
	    "OPENCLAW_GATEWAY_TOKEN",  "OPENCLAW_TZ",		"OPENCLAW_RUN_GRACE",
	    "OPENCLAW_RUN_STRICT",     "OPENCLAW_RUN_PASS_ENV", "OPENCLAW_RUN_RESCUES",
	    "OPENCLAW_RUN_RESCUED_BY", "OPENCLAW_RUN_DOCTOR"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = get(names[i]);

		if (v && strstr(v, "${"))
			return err_set(err, EINVAL,
				       "%s holds '%s', a compose variable nobody substituted "
				       "(write ${VAR}, not ${VAR:-}, for podman-compose 1.0)",
				       names[i], v);
	}
	return 0;
}

int container_config_parse(container_getenv_fn get, struct container_config *cfg, ocr_error *err)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	if (refuse_unsubstituted(get, err) < 0)
		return -1;
	snprintf(cfg->bind, sizeof(cfg->bind), "lan");
	snprintf(cfg->tz, sizeof(cfg->tz), "UTC");
	cfg->grace_s = CONTAINER_DEFAULT_GRACE_S;
	cfg->doctor = true;
	if ((v = get("OPENCLAW_PROFILE")) && *v && strcasecmp(v, "default") != 0) {
		if (profile_name_check(v, err) < 0)
			return err_prefix(err, "OPENCLAW_PROFILE");
		snprintf(cfg->profile, sizeof(cfg->profile), "%s", v);
	}
	if ((v = get("OPENCLAW_GATEWAY_PORT")) && *v) {
		struct port_block b = {0};

		if (port_parse(v, &b.base, err) < 0 || port_block_validate(&b, err) < 0)
			return err_prefix(err, "OPENCLAW_GATEWAY_PORT");
		cfg->port = b.base;
	}
	if ((v = get("OPENCLAW_GATEWAY_BIND")) && *v && parse_bind(v, cfg, err) < 0)
		return -1;
	if ((v = get("OPENCLAW_GATEWAY_TOKEN")) && *v) {
		if (strlen(v) < 16 || strpbrk(v, " \t\r\n\""))
			return err_set(err, EINVAL,
				       "OPENCLAW_GATEWAY_TOKEN: expected at least 16 characters "
				       "without blanks or quotes (e.g. `openssl rand -hex 32`)");
		cfg->token = v;
	}
	if ((v = get("OPENCLAW_TZ")) && *v) {
		if (!valid_tz(v))
			return err_set(err, EINVAL,
				       "OPENCLAW_TZ '%s': expected an IANA zone name such as "
				       "Europe/Berlin",
				       v);
		snprintf(cfg->tz, sizeof(cfg->tz), "%s", v);
	}
	if ((v = get("OPENCLAW_RUN_GRACE")) && *v) {
		char *end;
		long s = strtol(v, &end, 10);

		if (*end || s < 1 || s > 3600)
			return err_set(err, EINVAL,
				       "OPENCLAW_RUN_GRACE '%s': expected seconds, 1..3600", v);
		cfg->grace_s = (int)s;
	}
	if ((v = get("OPENCLAW_RUN_STRICT")) && !truthy(v, &cfg->strict))
		return err_set(err, EINVAL, "OPENCLAW_RUN_STRICT '%s': expected 1 or 0", v);
	if ((v = get("OPENCLAW_RUN_DOCTOR")) && *v && !truthy(v, &cfg->doctor))
		return err_set(err, EINVAL, "OPENCLAW_RUN_DOCTOR '%s': expected 1 or 0", v);
	if ((v = get("OPENCLAW_RUN_PASS_ENV")) && *v && parse_pass_env(v, cfg, err) < 0)
		return -1;
	if ((v = get("OPENCLAW_RUN_RESCUES")) && *v &&
	    parse_labels("OPENCLAW_RUN_RESCUES", v, cfg->rescues, &cfg->n_rescues, err) < 0)
		return -1;
	if ((v = get("OPENCLAW_RUN_RESCUED_BY")) && *v &&
	    parse_labels("OPENCLAW_RUN_RESCUED_BY", v, cfg->rescued_by, &cfg->n_rescued_by, err) <
		0)
		return -1;
	return 0;
}

bool container_bind_is_loopback(const char *bind)
{
	return strcmp(bind, "loopback") == 0;
}

int container_exit_code(int supervisor_code, int gateway_last_exit)
{
	if (gateway_last_exit < 0)
		return supervisor_code;
	switch (supervisor_code) {
	case SUP_STOPPED:
	case SUP_KILLED:
	case SUP_CRASH_LOOP:
	case SUP_CONFIG:
		return gateway_last_exit;
	default:
		return supervisor_code;
	}
}

static int set_origins(struct config_text *t, unsigned port, bool *changed, ocr_error *err)
{
	char origin[64];
	cJSON *list = cJSON_CreateArray();
	int rc;

	if (!list)
		return err_set(err, ENOMEM, "config");
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%u", port);
	cJSON_AddItemToArray(list, cJSON_CreateString(origin));
	snprintf(origin, sizeof(origin), "http://localhost:%u", port);
	cJSON_AddItemToArray(list, cJSON_CreateString(origin));
	/* Not replaced when present: the user's choice. */
	rc = config_text_set(t, "gateway.controlUi.allowedOrigins", list, false, changed, err);
	cJSON_Delete(list);
	return rc;
}

/* The edits, as setup makes them: minimal text edits, the file's owner
 * kept (a root entrypoint's gateway runs as another user), written without
 * following links below the state dir. */
static int edit_config(const struct profile *p, const struct container_config *cfg, unsigned port,
		       ocr_error *err)
{
	struct config_text t = {0};
	struct stat st;
	bool missing = false, changed = false;
	cJSON *token = cfg->token ? cJSON_CreateString(cfg->token) : NULL;
	int rc, state_fd = -1;

	rc = config_text_load(p->config_path, &t, &missing, err);
	if (rc == 0 && token)
		rc = config_text_set(&t, "gateway.auth.token", token, true, &changed, err);
	if (rc == 0 && !container_bind_is_loopback(cfg->bind))
		rc = set_origins(&t, port, &changed, err);
	if (rc == 0 && changed) {
		state_fd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (state_fd < 0 || stat(p->config_path, &st) < 0)
			rc =
			    err_set(err, errno, "%s", state_fd < 0 ? p->state_dir : p->config_path);
		else
			rc = config_text_write(p->config_path, &t, p->state_dir, state_fd,
					       geteuid() == 0 ? st.st_uid : (uid_t)-1,
					       geteuid() == 0 ? st.st_gid : (gid_t)-1, err);
	}
	if (state_fd >= 0)
		close(state_fd);
	cJSON_Delete(token);
	config_text_release(&t);
	return rc;
}

int container_fix_config(struct instance *inst, const struct container_config *cfg,
			 bool *token_from_config, ocr_error *err)
{
	const struct profile *p = &inst->profile;
	const cJSON *root = inst->config;
	const char *mode;

	if (!root)
		return err_set(err, ENOENT, "profile %s: no config %s", profile_label(p),
			       p->config_path);
	mode = config_get_string(root, "gateway.auth.mode");
	if (mode && strcmp(mode, "token") != 0 && strcmp(mode, "password") != 0) {
		char shown[64];

		/* The volume's config is the payload's: its words, defanged. */
		snprintf(shown, sizeof(shown), "%s", mode);
		text_defang_line(shown, strlen(shown));
		return err_set(err, EPERM,
			       "profile %s: %s: gateway.auth.mode is '%s': a container's gateway "
			       "is reachable through its published port and keeps token "
			       "auth on (set it to \"token\")",
			       profile_label(p), p->config_path, shown);
	}
	*token_from_config = !cfg->token && config_get_string(root, "gateway.auth.token");
	if (edit_config(p, cfg, inst->ports.base, err) < 0)
		return err_prefix(err, "profile %s", profile_label(p));
	return 0;
}

static bool grant_same(const struct grant *a, const struct grant *b)
{
	return strcmp(a->profile, b->profile) == 0 && strcmp(a->state_dir, b->state_dir) == 0 &&
	       strcmp(a->dir, b->dir) == 0 && strcmp(a->workspace, b->workspace) == 0 &&
	       a->items == b->items;
}

static bool grants_same(const struct grant *a, size_t na, const struct grant *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!grant_same(&a[i], &b[i]))
			return false;
	return true;
}

static void container_grant(struct grant *g, const char *profile, const char *rescuer,
			    const char *target)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->profile, sizeof(g->profile), "%s", profile);
	snprintf(g->dir, sizeof(g->dir), CONTAINER_RESCUE_DIR "/%s/%s", rescuer, target);
	g->items = GRANT_BASE;
}

int container_grants_apply(const struct container_config *cfg, const char *self, struct pins *pins,
			   bool *changed, ocr_error *err)
{
	struct grant rescues[GRANTS_MAX], by[GRANTS_MAX];
	size_t n = 0, n_by = 0;

	*changed = false;
	for (size_t i = 0; i < cfg->n_rescues; i++)
		if (strcmp(cfg->rescues[i], self) == 0)
			return err_set(err, EINVAL,
				       "OPENCLAW_RUN_RESCUES: %s: a profile cannot rescue itself",
				       self);
	for (size_t i = 0; i < cfg->n_rescued_by; i++)
		if (strcmp(cfg->rescued_by[i], self) == 0)
			return err_set(err, EINVAL,
				       "OPENCLAW_RUN_RESCUED_BY: %s: a profile cannot rescue "
				       "itself",
				       self);
	/* Host-made grants stay, unless a container grant takes their name. */
	for (size_t i = 0; i < pins->n_rescues; i++) {
		const struct grant *g = &pins->rescues[i];
		bool taken = g->dir[0] != '\0';

		for (size_t j = 0; j < cfg->n_rescues && !taken; j++)
			taken = strcmp(g->profile, cfg->rescues[j]) == 0;
		if (!taken)
			rescues[n++] = *g;
	}
	for (size_t i = 0; i < cfg->n_rescues; i++) {
		if (n == GRANTS_MAX)
			return err_set(err, ENOSPC, "at most %d rescue grants per profile",
				       GRANTS_MAX);
		container_grant(&rescues[n++], cfg->rescues[i], self, cfg->rescues[i]);
	}
	for (size_t i = 0; i < cfg->n_rescued_by; i++)
		container_grant(&by[n_by++], cfg->rescued_by[i], cfg->rescued_by[i], self);
	if (grants_same(rescues, n, pins->rescues, pins->n_rescues) &&
	    grants_same(by, n_by, pins->rescued_by, pins->n_rescued_by))
		return 0;
	memcpy(pins->rescues, rescues, n * sizeof(rescues[0]));
	pins->n_rescues = n;
	memcpy(pins->rescued_by, by, n_by * sizeof(by[0]));
	pins->n_rescued_by = n_by;
	*changed = true;
	return 0;
}
