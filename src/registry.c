/* Instances and the host's registry of them: see registry.h. */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "check_cache.h"
#include "config.h"
#include "host_dirs.h"
#include "text.h"

#define REGISTRY_REL ".config/openclaw-run/instances.json"

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* is_dir() whose answer goes in LOG (check_cache.h; NULL: none). */
static bool is_dir_logged(struct dep_log *log, const char *path)
{
	struct stat st;

	return dep_stat_place(log, path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Base precedence as upstream's resolveGatewayPort: flag, env, config, then
 * the default (18789, or a hash of a profile's name). An out-of-range base
 * is kept, not refused, so that check can report it as a violation. */
static int choose_base(struct instance *inst, const char *env_port, unsigned port_flag,
		       ocr_error *err)
{
	struct port_block *b = &inst->ports;
	const cJSON *cfg = config_get(inst->config, "gateway.port");

	memset(b, 0, sizeof(*b));
	if (port_flag) {
		b->base = port_flag;
		b->origin = PORT_FROM_FLAG;
	} else if (env_port && *env_port) {
		if (port_parse(env_port, &b->base, err) < 0)
			return err_prefix(err, "OPENCLAW_GATEWAY_PORT");
		b->origin = PORT_FROM_ENV;
	} else if (cfg) {
		double d = cfg->valuedouble;

		/* The gateway's schema refuses the whole config then (null, a
		 * string, a fraction, 0 or less), so it never starts on it. */
		if (!cJSON_IsNumber(cfg) || !isfinite(d) || d != floor(d) || d < 1)
			return err_set(err, 0,
				       "%s: gateway.port is not an integer from 1 (the gateway "
				       "refuses this config too)",
				       inst->profile.config_path);
		b->base = d > 999999 ? 999999 : (unsigned)d;
		b->origin = PORT_FROM_CONFIG;
	}
	if (b->base == 0) {
		if (inst->profile.name[0]) {
			b->base = port_profile_hash_base(inst->profile.name);
			b->origin = PORT_FROM_HASH;
		} else {
			b->base = PORT_DEFAULT_BASE;
			b->origin = PORT_FROM_DEFAULT;
		}
	}
	if (config_collect_explicit_ports(inst->config, b, err) < 0)
		return err_prefix(err, "%s", inst->profile.config_path);
	return 0;
}

/* The launcher's records of the instance, applied over what the config
 * says: the pins decide the workspace and the ports; --port and
 * OPENCLAW_GATEWAY_PORT, which a person set, still choose the base. */
static void apply_pins(struct instance *inst)
{
	struct port_block *b = &inst->ports;
	unsigned base = b->base;
	enum port_base_origin origin = b->origin;

	snprintf(inst->profile.workspace, sizeof(inst->profile.workspace), "%s",
		 inst->pins.workspace);
	inst->profile.workspace_origin = ORIGIN_REGISTRY;
	*b = inst->pins.ports;
	if (origin == PORT_FROM_FLAG || origin == PORT_FROM_ENV) {
		b->base = base;
		b->origin = origin;
	}
}

static int load_pins(struct instance *inst, const struct env_view *env, struct dep_log *log,
		     ocr_error *err)
{
	struct host_dirs dirs;
	struct env_view home_only = {0};
	char path[PATH_MAX];

	if (!env) {
		home_only.home = inst->profile.home;
		env = &home_only;
	}
	if (host_dirs_resolve(env, &dirs, err) < 0)
		return -1;
	/* Logged before the read: a change after it is a later ctime. */
	if (log && pins_path(dirs.records, &inst->profile, path, sizeof(path), NULL) == 0)
		dep_stat(log, path, false, NULL);
	return pins_load(dirs.records, &inst->profile, &inst->pins, &inst->pinned, err);
}

/* Workspace and ports as the config (and the caller's env) ask for them. */
static int config_view(struct instance *inst, const struct env_view *env,
		       const char *recorded_workspace, unsigned port_flag, ocr_error *err)
{
	const cJSON *ws = config_get(inst->config, "agents.defaults.workspace");

	if (ws && !cJSON_IsNull(ws) && !cJSON_IsString(ws))
		return err_set(err, 0, "%s: agents.defaults.workspace is not a string",
			       inst->profile.config_path);
	if (cJSON_IsString(ws) && ws->valuestring[0]) {
		if (profile_resolve_workspace(&inst->profile, ws->valuestring, env, err) < 0)
			return -1;
		snprintf(inst->config_workspace, sizeof(inst->config_workspace), "%s",
			 inst->profile.workspace);
	} else if (recorded_workspace) {
		snprintf(inst->profile.workspace, sizeof(inst->profile.workspace), "%s",
			 recorded_workspace);
		inst->profile.workspace_origin = ORIGIN_REGISTRY;
	} else if (profile_resolve_workspace(&inst->profile, NULL, env, err) < 0) {
		return -1;
	}
	return choose_base(inst, env ? env->gateway_port : NULL, port_flag, err);
}

/* Config, workspace and ports of an instance whose profile paths are set. */
static int instance_finish(struct instance *inst, const struct env_view *env,
			   const char *recorded_workspace, unsigned port_flag, struct dep_log *log,
			   ocr_error *err)
{
	struct stat st;
	ocr_error why = {0};

	/* Said plainly here, or the config loader's "open <state>/openclaw.json:
	 * Not a directory" would be the first word of it. */
	if (dep_stat_place(log, inst->profile.state_dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return err_set(err, 0, "state dir %s is not a directory", inst->profile.state_dir);
	if (load_pins(inst, env, log, err) < 0)
		return -1;
	if (config_load_logged(inst->profile.config_path, &inst->config, &inst->config_missing, log,
			       &why) < 0 ||
	    config_substitute_sandbox_env(inst->config, &inst->profile, &why) < 0 ||
	    config_view(inst, env, recorded_workspace, port_flag, &why) < 0) {
		/* It quotes the payload's words (keys, values, include paths),
		 * and every command prints it to a person. */
		text_defang_line(why.msg, strlen(why.msg));
		if (!inst->pinned) {
			*err = why;
			return -1;
		}
		/* The payload may have broken its config: the pins still say what
		 * runs, and the commands say what is wrong with the config. */
		err_text(&why, inst->config_error, sizeof(inst->config_error));
		cJSON_Delete(inst->config);
		inst->config = NULL;
		inst->config_workspace[0] = '\0';
		if (choose_base(inst, env ? env->gateway_port : NULL, port_flag, err) < 0)
			return -1;
	}
	inst->config_ports = inst->ports;
	if (inst->pinned)
		apply_pins(inst);
	return 0;
}

/* instance_load() without the range check of the base. */
static int load_unchecked(const char *profile_name, const struct env_view *env, unsigned port_flag,
			  struct dep_log *log, struct instance *out, ocr_error *err)
{
	memset(out, 0, sizeof(*out));
	if (profile_resolve(profile_name, env, &out->profile, err) < 0)
		return -1;
	if (instance_finish(out, env, NULL, port_flag, log, err) < 0) {
		err_prefix(err, "profile %s", profile_label(&out->profile));
		instance_release(out);
		return -1;
	}
	return 0;
}

int instance_load(const char *profile_name, const struct env_view *env, unsigned port_flag,
		  struct instance *out, ocr_error *err)
{
	if (load_unchecked(profile_name, env, port_flag, NULL, out, err) < 0)
		return -1;
	/* The caller is about to use these ports: refuse a block it cannot bind. */
	if (port_block_validate(&out->ports, err) < 0) {
		err_prefix(err, "profile %s: %s%s%s", profile_label(&out->profile),
			   port_base_origin_label(out->ports.origin),
			   out->ports.origin == PORT_FROM_CONFIG ? " in " : "",
			   out->ports.origin == PORT_FROM_CONFIG ? out->profile.config_path : "");
		instance_release(out);
		return -1;
	}
	return 0;
}

void instance_release(struct instance *inst)
{
	cJSON_Delete(inst->config);
	inst->config = NULL;
}

bool instance_same_place(const struct instance *a, const struct instance *b)
{
	return strcmp(a->profile.state_dir, b->profile.state_dir) == 0 &&
	       strcmp(a->profile.config_path, b->profile.config_path) == 0;
}

static int set_push(struct instance_set *set, struct instance *inst, ocr_error *err)
{
	struct instance *bigger = realloc(set->items, (set->n + 1) * sizeof(*bigger));

	if (!bigger) {
		instance_release(inst);
		return err_set(err, ENOMEM, "instance list");
	}
	set->items = bigger;
	set->items[set->n++] = *inst;
	return 0;
}

/* Keeps the reason an instance could not be read, and goes on. */
static int set_problem(struct instance_set *set, const ocr_error *why, ocr_error *err)
{
	char text[SANDBOX_ERROR_MSG_MAX + 128], *copy;
	char **bigger = realloc(set->problems, (set->n_problems + 1) * sizeof(char *));

	if (!bigger)
		return err_set(err, ENOMEM, "instance list");
	set->problems = bigger;
	copy = strdup(err_text(why, text, sizeof(text)));
	if (!copy)
		return err_set(err, ENOMEM, "instance list");
	set->problems[set->n_problems++] = copy;
	return 0;
}

static void set_remove(struct instance_set *set, size_t i)
{
	instance_release(&set->items[i]);
	memmove(&set->items[i], &set->items[i + 1], (set->n - i - 1) * sizeof(set->items[0]));
	set->n--;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A ~/.openclaw* directory is an instance only when it is one: it has its
 * config, the launcher's records, or state of a gateway that ran. The
 * seed's manual layout makes ~/.openclaw a folder of other instances'
 * configs, which is none of these. */
static bool is_instance(const struct instance *inst, struct dep_log *log)
{
	static const char *const state[] = {"agents",	 "credentials", "sessions", "state",
					    "workspace", "logs",	"home",	    NULL};
	char path[PATH_MAX];

	if (!inst->config_missing || inst->pinned)
		return true;
	for (size_t i = 0; state[i]; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", inst->profile.state_dir, state[i]) <
			(int)sizeof(path) &&
		    is_dir_logged(log, path))
			return true;
	}
	return false;
}

/* Profile names of the ~/.openclaw* directories, sorted; "" is the default. */
static int scan_home(const char *home, char ***names, size_t *n, struct dep_log *log,
		     ocr_error *err)
{
	DIR *dir;
	struct dirent *de;
	bool has_default = false;
	char path[PATH_MAX];

	*names = NULL;
	*n = 0;
	/* Its mtime moves when an entry comes, goes or is renamed. */
	dep_stat(log, home, true, NULL);
	dir = opendir(home);
	if (!dir)
		return errno == ENOENT ? 0 : err_set(err, errno, "open home %s", home);
	while ((de = readdir(dir)) != NULL) {
		const char *name = NULL;

		if (strcmp(de->d_name, ".openclaw") == 0 || strcmp(de->d_name, ".clawdbot") == 0)
			name = "";
		else if (strncmp(de->d_name, ".openclaw-", 10) == 0 &&
			 profile_name_check(de->d_name + 10, NULL) == 0 &&
			 strcasecmp(de->d_name + 10, "default") != 0)
			name = de->d_name + 10;
		if (!name || (!*name && has_default))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", home, de->d_name) >= (int)sizeof(path) ||
		    !is_dir_logged(log, path))
			continue;
		char **bigger = realloc(*names, (*n + 1) * sizeof(char *));
		char *copy = strdup(name);

		if (!bigger || !copy) {
			free(copy);
			if (bigger)
				*names = bigger;
			closedir(dir);
			return err_set(err, ENOMEM, "scan %s", home);
		}
		*names = bigger;
		(*names)[(*n)++] = copy;
		has_default |= !*name;
	}
	closedir(dir);
	if (*n > 1)
		qsort(*names, *n, sizeof(char *), cmp_names);
	return 0;
}

static int load_recorded(const struct env_view *env, const struct profile *home_profile,
			 const cJSON *entry, struct instance *inst, bool *stale,
			 struct dep_log *log, ocr_error *err)
{
	/* Only where the records are: none of the caller's overrides. */
	struct env_view rec = {.home = home_profile->home, .records_dir = env->records_dir};
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "name"));
	const char *state =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "state_dir"));
	const char *config =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "config_path"));
	const char *ws = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "workspace"));
	struct profile *p = &inst->profile;

	memset(inst, 0, sizeof(*inst));
	*stale = false;
	if (!state || !config)
		return err_set(err, 0, "an entry lacks state_dir or config_path");
	if (name && *name && strcasecmp(name, "default") != 0) {
		if (profile_name_check(name, err) < 0)
			return -1;
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
	snprintf(p->home, sizeof(p->home), "%s", home_profile->home);
	if (path_clean(state, p->state_dir, sizeof(p->state_dir), err) < 0 ||
	    path_clean(config, p->config_path, sizeof(p->config_path), err) < 0)
		return -1;
	p->state_origin = p->config_origin = ORIGIN_REGISTRY;
	if (instance_finish(inst, &rec, ws && *ws ? ws : NULL, 0, log, err) < 0) {
		instance_release(inst);
		return err_prefix(err, "profile %s", profile_label(p));
	}
	/* Removed by hand since it was recorded: nothing left to check. */
	*stale = inst->config_missing && !is_dir_logged(log, p->state_dir);
	return 0;
}

static int scan_registry(const struct env_view *env, const struct profile *home_profile,
			 struct instance_set *set, struct dep_log *log, ocr_error *err)
{
	char path[PATH_MAX];
	cJSON *root, *entry;
	bool missing;
	size_t scanned = set->n;

	if (registry_path(env, path, sizeof(path), err) < 0)
		return -1;
	if (config_load_logged(path, &root, &missing, log, err) < 0)
		return -1;
	cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(root, "instances"))
	{
		struct instance inst;
		bool stale, dup = false;

		ocr_error why = {0};

		if (load_recorded(env, home_profile, entry, &inst, &stale, log, &why) < 0) {
			err_prefix(&why, "registry %s", path);
			if (set_problem(set, &why, err) < 0) {
				cJSON_Delete(root);
				return -1;
			}
			continue;
		}
		for (size_t i = 0; i < set->n && !dup; i++)
			dup = instance_same_place(&set->items[i], &inst);
		if (stale || dup) {
			instance_release(&inst);
			continue;
		}
		/* A profile dir found by the scan without a config of its own is
		 * this recorded instance's state dir, not a second instance. */
		for (size_t i = 0; i < scanned; i++) {
			if (set->items[i].config_missing &&
			    strcmp(set->items[i].profile.state_dir, inst.profile.state_dir) == 0) {
				set_remove(set, i);
				scanned--;
				break;
			}
		}
		if (set_push(set, &inst, err) < 0) {
			cJSON_Delete(root);
			return -1;
		}
	}
	cJSON_Delete(root);
	return 0;
}

static void log_in_home(struct dep_log *log, const char *home, const char *name)
{
	char path[PATH_MAX];

	if (!log)
		return;
	if (snprintf(path, sizeof(path), "%s/%s", strcmp(home, "/") == 0 ? "" : home, name) >=
	    (int)sizeof(path))
		log->uncacheable = true;
	else
		dep_stat_place(log, path, NULL);
}

int registry_scan(const struct env_view *env, struct instance_set *out, ocr_error *err)
{
	return registry_scan_logged(env, out, NULL, err);
}

int registry_scan_logged(const struct env_view *env, struct instance_set *out, struct dep_log *log,
			 ocr_error *err)
{
	/* Only where the home is: other profiles are read at their own paths. */
	struct env_view clean = {.home = env->home,
				 .openclaw_home = env->openclaw_home,
				 .records_dir = env->records_dir,
				 .dir_exists = env->dir_exists ? env->dir_exists : is_dir};
	struct profile home_profile;
	char **names;
	size_t n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (profile_resolve(NULL, &clean, &home_profile, err) < 0)
		return -1;
	/* profile_resolve() of the default profile asks for these two (a
	 * legacy ~/.clawdbot counts when ~/.openclaw does not). */
	log_in_home(log, home_profile.home, ".openclaw");
	log_in_home(log, home_profile.home, ".clawdbot");
	if (scan_home(home_profile.home, &names, &n, log, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct instance inst;
		ocr_error why = {0};

		if (rc == 0 &&
		    load_unchecked(names[i][0] ? names[i] : NULL, &clean, 0, log, &inst, &why) < 0)
			rc = set_problem(out, &why, err);
		else if (rc == 0 && !is_instance(&inst, log))
			instance_release(&inst); /* ~/.openclaw holding only others' configs */
		else if (rc == 0)
			rc = set_push(out, &inst, err);
		free(names[i]);
	}
	free(names);
	if (rc == 0)
		rc = scan_registry(env, &home_profile, out, log, err);
	if (rc < 0)
		instance_set_release(out);
	return rc;
}

void instance_set_release(struct instance_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		instance_release(&set->items[i]);
	for (size_t i = 0; i < set->n_problems; i++)
		free(set->problems[i]);
	free(set->items);
	free(set->problems);
	memset(set, 0, sizeof(*set));
}

int registry_path(const struct env_view *env, char *buf, size_t len, ocr_error *err)
{
	struct env_view clean = {.home = env->home, .openclaw_home = env->openclaw_home};
	struct profile p;

	if (profile_resolve(NULL, &clean, &p, err) < 0)
		return -1;
	if (snprintf(buf, len, "%s/%s", strcmp(p.home, "/") == 0 ? "" : p.home, REGISTRY_REL) >=
	    (int)len)
		return err_set(err, ENAMETOOLONG, "registry path under %s", p.home);
	return 0;
}

int registry_mkdirs(const char *path, mode_t mode, ocr_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return err_set(err, ENAMETOOLONG, "%s", path);
	memcpy(buf, path, n + 1);
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(buf, mode) < 0) {
			if (errno != EEXIST)
				return err_set(err, errno, "create directory %s", buf);
			if (!is_dir(buf))
				return err_set(err, ENOTDIR, "create directory %s", buf);
		}
		*s = saved;
		if (!saved)
			break;
	}
	return 0;
}

static cJSON *record_entry(const struct profile *p)
{
	cJSON *e = cJSON_CreateObject();

	if (!e || !cJSON_AddStringToObject(e, "name", p->name) ||
	    !cJSON_AddStringToObject(e, "state_dir", p->state_dir) ||
	    !cJSON_AddStringToObject(e, "config_path", p->config_path) ||
	    !cJSON_AddStringToObject(e, "workspace", p->workspace)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

int registry_record(const struct env_view *env, const struct profile *p, ocr_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	cJSON *root, *list, *entry, *fresh, *old = NULL;
	bool missing;
	int rc;

	if (registry_path(env, path, sizeof(path), err) < 0)
		return -1;
	if (config_load(path, &root, &missing, err) < 0)
		return err_prefix(err, "registry");
	if (!root && !(root = cJSON_CreateObject()))
		return err_set(err, ENOMEM, "registry %s", path);
	list = cJSON_GetObjectItemCaseSensitive(root, "instances");
	if (!list)
		list = cJSON_AddArrayToObject(root, "instances");
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(root);
		return err_set(err, 0, "registry %s: \"instances\" is not an array", path);
	}
	cJSON_ArrayForEach(entry, list)
	{
		const char *s =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "state_dir"));
		const char *c =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "config_path"));

		if (s && c && strcmp(s, p->state_dir) == 0 && strcmp(c, p->config_path) == 0)
			old = entry;
	}
	fresh = record_entry(p);
	if (!fresh) {
		cJSON_Delete(root);
		return err_set(err, ENOMEM, "registry %s", path);
	}
	if (old && cJSON_Compare(old, fresh, true)) {
		cJSON_Delete(fresh);
		cJSON_Delete(root);
		return 0;
	}
	if (old)
		cJSON_ReplaceItemViaPointer(list, old, fresh);
	else
		cJSON_AddItemToArray(list, fresh);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	rc = registry_mkdirs(dir, 0700, err);
	if (rc == 0)
		rc = config_write(path, root, err);
	cJSON_Delete(root);
	return rc < 0 ? err_prefix(err, "registry") : 0;
}
