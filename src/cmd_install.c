/* openclaw-run [--profile NAME] install|uninstall: a systemd unit for the
 * profile's gateway (service.h): the template openclaw-run@.service and the
 * profile's EnvironmentFile; --now enables and starts it where systemd
 * runs. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "gateway_env.h"
#include "registry.h"
#include "service.h"

static void usage_install(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] install [--user|--system] [--force] [--now]\n"
	      "                                          [--unit-dir DIR]\n"
	      "\n"
	      "Install a systemd unit for the profile's gateway: the template\n"
	      "openclaw-run@.service (instance = the profile) runs `openclaw-run --profile\n"
	      "NAME serve` in the foreground (Type=notify, upstream's restart policy: Restart=\n"
	      "always, RestartPreventExitStatus=78, ...), and the profile's EnvironmentFile\n"
	      "(mode 0600) holds HOME and the OPENCLAW_* paths as seen now. A profile that\n"
	      "fails the isolation checklist is refused; an existing unit or environment file\n"
	      "that differs is never overwritten without --force; installing again is a no-op.\n"
	      "\n"
	      "  --user       ~/.config/systemd/user (default when not root)\n"
	      "  --system     /etc/systemd/system, environment in /etc/openclaw-run (default\n"
	      "               for root)\n"
	      "  --force      overwrite a unit or environment file that differs\n"
	      "  --now        systemctl daemon-reload and enable --now (only where systemd is\n"
	      "               PID 1; otherwise says so and skips)\n"
	      "  --unit-dir DIR  write the unit to DIR and the environment to\n"
	      "               DIR/openclaw-run.env.d (packaging, tests)\n"
	      "\n"
	      "Exit codes: 0 installed (or already), 1 refused or failed, 2 bad usage.\n",
	      out);
}

static void usage_uninstall(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] uninstall [--user|--system] [--now]\n"
	      "                                            [--unit-dir DIR]\n"
	      "\n"
	      "Remove the profile's EnvironmentFile, and the template openclaw-run@.service\n"
	      "once no other profile uses it. --now first runs systemctl disable --now where\n"
	      "systemd runs. Uninstalling what is not installed is fine.\n"
	      "\n"
	      "Exit codes: 0 removed (or nothing there), 1 failed, 2 bad usage.\n",
	      out);
}

struct install_args {
	enum service_scope scope;
	bool force, now;
	const char *unit_dir;
};

static int parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
		 struct install_args *a)
{
	static const struct option options[] = {
	    {"user", no_argument, NULL, 'u'},
	    {"system", no_argument, NULL, 's'},
	    {"force", no_argument, NULL, 'f'},
	    {"now", no_argument, NULL, 'n'},
	    {"unit-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	a->scope = geteuid() == 0 ? SERVICE_SYSTEM : SERVICE_USER;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'u':
		case 's':
			a->scope = opt == 'u' ? SERVICE_USER : SERVICE_SYSTEM;
			break;
		case 'f':
			if (strcmp(cmd, "install") != 0)
				goto bad;
			a->force = true;
			break;
		case 'n':
			a->now = true;
			break;
		case 'd':
			a->unit_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			goto bad;
		}
	}
	if (optind < argc) {
		cli_errorf("%s: unexpected argument '%s'", cmd, argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
bad:
	usage(stderr);
	return EXIT_USAGE;
}

/* What resolves the profile as we saw it, for the unit's environment. */
static void service_env(const struct cli_context *ctx, char **env, size_t max, char *store,
			size_t len)
{
	const struct {
		const char *key, *value;
	} vars[] = {
	    {"HOME", ctx->env.home},
	    {"OPENCLAW_HOME", ctx->env.openclaw_home},
	    {"OPENCLAW_STATE_DIR", ctx->env.state_dir},
	    {"OPENCLAW_CONFIG_PATH", ctx->env.config_path},
	    {"OPENCLAW_RUN_RECORDS_DIR", ctx->env.records_dir},
	    {"OPENCLAW_RUN_PREFIX", getenv("OPENCLAW_RUN_PREFIX")},
	};
	size_t n = 0, used = 0;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && n + 1 < max; i++) {
		int w;

		if (!vars[i].value || !*vars[i].value)
			continue;
		w = snprintf(store + used, len - used, "%s=%s", vars[i].key, vars[i].value);
		if (w < 0 || (size_t)w >= len - used)
			break;
		env[n++] = store + used;
		used += (size_t)w + 1;
	}
	env[n] = NULL;
}

static const char *scope_flag(enum service_scope scope)
{
	return scope == SERVICE_USER ? " --user" : "";
}

/* --now where systemd runs; elsewhere say what to run where it does. */
static int enable_now(const struct service_paths *p, bool now)
{
	char unit[PROFILE_NAME_MAX + 32];
	ocr_error err = {0};

	snprintf(unit, sizeof(unit), "openclaw-run@%s.service", p->instance);
	if (now && service_systemd_running()) {
		const char *reload[] = {"daemon-reload", NULL};
		const char *enable[] = {"enable", "--now", unit, NULL};

		if (service_systemctl(p->scope, reload, &err) < 0 ||
		    service_systemctl(p->scope, enable, &err) < 0) {
			err_print(&err);
			return EXIT_FAIL;
		}
		printf("%s: enabled and started %s\n", p->instance, unit);
		return EXIT_OK;
	}
	if (now)
		cli_warnf("%s: systemd is not running on this machine (PID 1 is not systemd): not "
			  "enabling %s",
			  p->instance, unit);
	printf("Where systemd runs: systemctl%s daemon-reload && systemctl%s enable --now %s\n",
	       scope_flag(p->scope), scope_flag(p->scope), unit);
	return EXIT_OK;
}

/* Writes the unit and its environment file for INST; 0 or EXIT_FAIL. */
static int install_unit(const struct cli_context *ctx, const struct install_args *a,
			const struct instance *inst)
{
	struct service_paths p;
	struct service_change c;
	ocr_error err = {0};
	char bin[PATH_MAX], store[8 * PATH_MAX], *env[8];
	cleanup_free char *unit = NULL;
	cleanup_free char *envf = NULL;

	if (!realpath("/proc/self/exe", bin)) {
		cli_errorf("install: cannot resolve openclaw-run's own path");
		return EXIT_FAIL;
	}
	if (service_paths_resolve(a->scope, a->unit_dir, ctx->env.home, getenv("XDG_CONFIG_HOME"),
				  inst->profile.name, &p, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	service_env(ctx, env, sizeof(env) / sizeof(env[0]), store, sizeof(store));
	unit = service_render_unit(&p, bin);
	envf = service_render_env(&p, env);
	if (!unit || !envf || service_install(&p, unit, envf, a->force, &c, &err) < 0) {
		if (!unit || !envf)
			err_set(&err, 0, "out of memory");
		err_prefix(&err, "install: %s", profile_label(&inst->profile));
		err_print(&err);
		return EXIT_FAIL;
	}
	printf("%s: %s %s (environment %s, mode 0600)\n", profile_label(&inst->profile),
	       c.unit_written || c.env_written ? "installed" : "already installed, unchanged:",
	       p.unit, p.env);
	return enable_now(&p, a->now);
}

int cmd_install(const struct cli_context *ctx, int argc, char **argv)
{
	struct install_args a = {0};
	cleanup_instance struct instance inst = {0};
	ocr_error err = {0};
	int rc = parse(argc, argv, "install", usage_install, &a);

	if (rc >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	if (gateway_require_setup(&inst, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if (cli_refuse_unisolated(ctx, &inst, "install") < 0) {
		fprintf(stderr, "Fix the config (see `openclaw-run check`) and install again.\n");
		return EXIT_FAIL;
	}
	return install_unit(ctx, &a, &inst);
}

int cmd_uninstall(const struct cli_context *ctx, int argc, char **argv)
{
	struct install_args a = {0};
	struct service_paths p;
	ocr_error err = {0};
	bool removed, template_removed;
	char unit[PROFILE_NAME_MAX + 32];
	int rc = parse(argc, argv, "uninstall", usage_uninstall, &a);

	if (rc >= 0)
		return rc;
	if (ctx->profile && profile_name_check(ctx->profile, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	if (service_paths_resolve(a.scope, a.unit_dir, ctx->env.home, getenv("XDG_CONFIG_HOME"),
				  ctx->profile, &p, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	snprintf(unit, sizeof(unit), "openclaw-run@%s.service", p.instance);
	if (a.now && service_systemd_running()) {
		const char *disable[] = {"disable", "--now", unit, NULL};

		if (service_systemctl(p.scope, disable, &err) < 0)
			err_print(&err); /* not loaded: go on removing the files */
	} else if (a.now) {
		cli_warnf("%s: systemd is not running on this machine: nothing to disable",
			  p.instance);
	}
	if (service_uninstall(&p, &removed, &template_removed, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if (!removed && !template_removed)
		printf("%s: not installed\n", p.instance);
	else
		printf("%s: uninstalled %s%s%s\n", p.instance, p.env,
		       template_removed ? " and " : "", template_removed ? p.unit : "");
	return EXIT_OK;
}
