/* openclaw-run entrypoint: a container's pid 1. Reads the container's
 * environment (container.h), sets the profile up on an empty state volume,
 * fixes its config for a published port, then runs the supervised gateway in
 * this process (the supervisor reaps every orphan and passes signals on) and
 * exits with the gateway's code. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "host_dirs.h"
#include "runtime.h"
#include "supervisor.h"

#define MAX_GATEWAY_ARGS 128

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run entrypoint [--strict] [--gateway-cmd PATH] [-- EXTRA_ARGS]\n"
	      "\n"
	      "Run one OpenClaw gateway as a container's main process (pid 1): on an empty\n"
	      "state volume run `setup` first, then the supervised gateway in its sandbox,\n"
	      "listening where the published port reaches it, with token auth on. Reaps\n"
	      "every zombie, passes SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGUSR2 on to the\n"
	      "gateway as they are (SIGUSR1 never: it opens Node's inspector), stops on\n"
	      "SIGTERM/SIGINT within OPENCLAW_RUN_GRACE and exits with the gateway's code\n"
	      "(128+N when a signal N ended it).\n"
	      "\n"
	      "Environment (upstream's names where they exist):\n"
	      "  OPENCLAW_PROFILE       profile name (default: the default profile)\n"
	      "  OPENCLAW_STATE_DIR     state dir, the volume (upstream: ~/.openclaw)\n"
	      "  OPENCLAW_GATEWAY_PORT  base port, inside and published (default: the\n"
	      "                         profile's, 18789 for the default profile)\n"
	      "  OPENCLAW_GATEWAY_BIND  lan (default), loopback, auto, custom, tailnet\n"
	      "  OPENCLAW_GATEWAY_TOKEN the gateway token; unset: generated once into the\n"
	      "                         config on the state volume (0600)\n"
	      "  OPENCLAW_TZ            the gateway's time zone (default UTC)\n"
	      "  OPENCLAW_RUN_GRACE     seconds between SIGTERM and SIGKILL (default 8)\n"
	      "  OPENCLAW_RUN_STRICT    1: a sandbox layer the engine does not allow is\n"
	      "                         an error instead of a warning\n"
	      "  OPENCLAW_RUN_DOCTOR    0: on exit 78 (config error) wait for a person or\n"
	      "                         a rescuer instead of `openclaw doctor --fix`\n"
	      "  OPENCLAW_RUN_PASS_ENV  names of variables the gateway gets as well\n"
	      "                         (e.g. \"OPENAI_API_KEY TELEGRAM_BOT_TOKEN\")\n"
	      "  OPENCLAW_RUN_RESCUES   profiles in other containers this one's sandbox\n"
	      "                         may rescue (status, logs, start/stop/restart,\n"
	      "                         config), through the volume at\n"
	      "                         " CONTAINER_RESCUE_DIR "\n"
	      "  OPENCLAW_RUN_RESCUED_BY  profiles in other containers that may rescue\n"
	      "                         this one (the same volume mounted in both)\n"
	      "\n"
	      "Options:\n"
	      "      --strict            as OPENCLAW_RUN_STRICT=1\n"
	      "      --gateway-cmd PATH  run PATH instead of `openclaw gateway run` (tests)\n"
	      "  -h, --help              show this help\n"
	      "\n"
	      "Exit codes: the gateway's, 128+N after signal N; 1 could not start, 2 bad\n"
	      "environment or command line, 5 not ready in time.\n",
	      out);
}

struct argv_list {
	char *items[MAX_GATEWAY_ARGS + 1];
	int n;
	char *owned[MAX_GATEWAY_ARGS];
	int n_owned;
};

static void args_release(struct argv_list *a)
{
	for (int i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
}

static int args_add(struct argv_list *a, const char *s)
{
	if (a->n == MAX_GATEWAY_ARGS) {
		cli_errorf("entrypoint: too many arguments");
		return -1;
	}
	a->items[a->n++] = (char *)s;
	a->items[a->n] = NULL;
	return 0;
}

static int args_addf(struct argv_list *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int args_addf(struct argv_list *a, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || a->n_owned == MAX_GATEWAY_ARGS) {
		free(n < 0 ? NULL : s);
		cli_errorf("entrypoint: out of memory");
		return -1;
	}
	a->owned[a->n_owned++] = s;
	return args_add(a, s);
}

/* Runs `setup` when the state volume holds no config yet, or the launcher
 * has no records of it; then loads the instance as the gateway will see it. */
static int prepare_instance(const struct cli_context *ctx, const struct container_config *cfg,
			    struct instance *inst)
{
	ocr_error err = {0};
	char port[16];

	if (instance_load(ctx->profile, &ctx->env, 0, inst, &err) < 0) {
		err_prefix(&err, "entrypoint");
		err_print(&err);
		return -1;
	}
	/* A fresh state volume, or a state volume without the launcher's
	 * records of it (a new records volume, a volume from upstream's image). */
	if (inst->config_missing || !inst->pinned) {
		char *argv[] = {(char *)"setup", (char *)"--port", port, NULL};

		printf("openclaw-run: %s: %s: running setup\n", profile_label(&inst->profile),
		       inst->config_missing ? "no config on the state volume yet"
					    : "no records of this state volume yet");
		snprintf(port, sizeof(port), "%u", cfg->port ? cfg->port : inst->ports.base);
		instance_release(inst);
		optind = 0;
		if (cmd_setup(ctx, 3, argv) != EXIT_OK)
			return -1;
		if (instance_load(ctx->profile, &ctx->env, 0, inst, &err) < 0) {
			err_print(&err);
			return -1;
		}
	}
	return 0;
}

/* Whether the engine lets us build the full sandbox. Where it does not,
 * one line says which layers are off and why, and what is kept; with
 * --strict that is an error. Returns -1 to stop, else 0 with *full set. */
static int check_sandbox(const struct instance *inst, bool strict, bool *full)
{
	ocr_error err = {0};
	char why[SANDBOX_ERROR_MSG_MAX + 128];

	*full = sandbox_probe_namespaces(&err) == 0;
	if (*full)
		return 0;
	err_text(&err, why, sizeof(why));
	if (strict) {
		cli_errorf("%s: entrypoint --strict: the engine refuses the full sandbox (%s); run "
			   "the container with --cap-add SYS_ADMIN --security-opt "
			   "systempaths=unconfined (see README)",
			   profile_label(&inst->profile), why);
		return -1;
	}
	cli_warnf("%s: sandbox: namespaces, private root and fresh /proc off: the engine refuses "
		  "%s; kept: no capabilities, no_new_privs, seccomp, Landlock, rlimits (full "
		  "sandbox: --cap-add SYS_ADMIN --security-opt systempaths=unconfined)",
		  profile_label(&inst->profile), why);
	return 0;
}

static int build_gateway_args(const struct container_config *cfg, bool strict, bool full,
			      const char *gateway_cmd, int n_extra, char **extra,
			      struct argv_list *a)
{
	if (args_add(a, "gateway") < 0 || args_add(a, "--forward-signals") < 0 ||
	    args_addf(a, "--grace=%d", cfg->grace_s) < 0 ||
	    args_addf(a, "--env=TZ=%s", cfg->tz) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_pass_env; i++) {
		const char *v = getenv(cfg->pass_env[i]);

		if (!v) {
			cli_warnf("entrypoint: OPENCLAW_RUN_PASS_ENV names %s, which is not set",
				  cfg->pass_env[i]);
			continue;
		}
		if (args_addf(a, "--env=%s=%s", cfg->pass_env[i], v) < 0)
			return -1;
	}
	if ((strict && args_add(a, "--strict") < 0) ||
	    (!cfg->doctor && args_add(a, "--no-doctor") < 0) ||
	    (!full && args_add(a, "--no-namespaces") < 0) ||
	    (gateway_cmd && args_addf(a, "--gateway-cmd=%s", gateway_cmd) < 0))
		return -1;
	/* The gateway's own --bind comes after openclaw-run's `--bind loopback`
	 * and wins (the last value of an option counts). */
	if (args_add(a, "--") < 0 || args_add(a, "--bind") < 0 || args_add(a, cfg->bind) < 0)
		return -1;
	for (int i = 0; i < n_extra; i++)
		if (args_add(a, extra[i]) < 0)
			return -1;
	return 0;
}

/* An engine that was asked for --cap-add SYS_ADMIN (so that its seccomp
 * profile allows the sandbox's user namespace) hands a non-root pid 1 that
 * capability in its ambient and effective sets; the sandbox needs none of
 * it. Root keeps its own: it runs the sandbox as another user. */
static void drop_own_capabilities(void)
{
	cap_t empty;

	if (geteuid() == 0)
		return;
	cap_reset_ambient();
	empty = cap_init();
	if (empty && cap_set_proc(empty) < 0)
		cli_warnf("entrypoint: cannot drop the capabilities the engine gave: %s",
			  strerror(errno));
	cap_free(empty);
}

/* The rescue grants a person declared for this container (compose.yaml)
 * into the launcher's records, where `gateway`, `exec` and `status` find
 * them, exactly as declared: a grant gone from the environment goes from
 * the records. Only with the full sandbox: without a private root both
 * gateways would see the shared volume, and main's own gateway (the same
 * uid as rescue's) could use the control socket. */
static int sync_grants(const struct cli_context *ctx, struct instance *inst,
		       const struct container_config *cfg, bool full)
{
	const char *label = profile_label(&inst->profile);
	struct host_dirs dirs;
	struct stat here, up;
	ocr_error err = {0};
	bool changed = false;

	if (!full && (cfg->n_rescues || cfg->n_rescued_by)) {
		cli_errorf("%s: entrypoint: OPENCLAW_RUN_RESCUES / OPENCLAW_RUN_RESCUED_BY need "
			   "the full sandbox: without it each gateway sees the volume at "
			   "%s and its control socket (run the container with --cap-add "
			   "SYS_ADMIN --security-opt systempaths=unconfined, or drop the grant)",
			   label, CONTAINER_RESCUE_DIR);
		return -1;
	}
	if (container_grants_apply(cfg, label, &inst->pins, &changed, &err) < 0 ||
	    (changed && (host_dirs_resolve(&ctx->env, &dirs, &err) < 0 ||
			 pins_save(dirs.records, &inst->profile, &inst->pins, &err) < 0))) {
		err_prefix(&err, "%s: entrypoint", label);
		err_print(&err);
		return -1;
	}
	if ((cfg->n_rescues || cfg->n_rescued_by) &&
	    (stat(CONTAINER_RESCUE_DIR, &here) < 0 || stat(CONTAINER_RESCUE_DIR "/..", &up) < 0 ||
	     here.st_dev == up.st_dev))
		cli_warnf("%s: %s is not a volume of its own: the other container will not "
			  "meet this one there (compose.yaml mounts one volume there in both)",
			  label, CONTAINER_RESCUE_DIR);
	for (size_t i = 0; i < cfg->n_rescues; i++)
		printf("openclaw-run: %s: rescue grant: this profile may rescue %s (another "
		       "container): control, logs, config, in %s/%s/%s\n",
		       label, cfg->rescues[i], CONTAINER_RESCUE_DIR, label, cfg->rescues[i]);
	for (size_t i = 0; i < cfg->n_rescued_by; i++)
		printf("openclaw-run: %s: rescue grant: %s (another container) may rescue this "
		       "profile: control, logs, config, in %s/%s/%s\n",
		       label, cfg->rescued_by[i], CONTAINER_RESCUE_DIR, cfg->rescued_by[i], label);
	fflush(stdout);
	return 0;
}

/* The gateway's last exit status from the state file the supervisor left. */
static int gateway_last_exit(const struct instance *inst)
{
	struct runtime_paths rp;
	struct runtime_state st;
	ocr_error err = {0};
	bool found = false;

	if (runtime_paths_for(&inst->profile, &rp, &err) < 0 ||
	    runtime_state_read(&rp, &st, &found, &err) < 0 || !found)
		return -1;
	return st.last_exit;
}

static void say_token(const struct instance *inst, const struct container_config *cfg,
		      bool from_config)
{
	const char *label = profile_label(&inst->profile);

	if (cfg->token)
		printf("openclaw-run: %s: gateway token: from OPENCLAW_GATEWAY_TOKEN\n", label);
	else if (from_config)
		printf("openclaw-run: %s: gateway token: gateway.auth.token in %s (mode 0600, "
		       "on the state volume); set OPENCLAW_GATEWAY_TOKEN to choose your own\n",
		       label, inst->profile.config_path);
}

static int parse_args(int argc, char **argv, bool *strict, const char **gateway_cmd)
{
	static const struct option options[] = {
	    {"strict", no_argument, NULL, 's'},
	    {"gateway-cmd", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			*strict = true;
			break;
		case 'c':
			*gateway_cmd = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

int cmd_entrypoint(const struct cli_context *ctx, int argc, char **argv)
{
	struct container_config cfg;
	struct cli_context ectx = *ctx;
	struct instance inst = {0};
	struct argv_list a = {0};
	const char *gateway_cmd = NULL;
	ocr_error err = {0};
	bool strict = false, token_from_config = false, full = true;
	int rc;

	/* First of all: as pid 1, a signal with no handler is dropped, and a
	 * `stop` that arrives during setup must wait for the supervisor. */
	if (supervisor_block_signals(&err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if ((rc = parse_args(argc, argv, &strict, &gateway_cmd)) >= 0)
		return rc;
	drop_own_capabilities();
	if (container_config_parse(getenv, &cfg, &err) < 0) {
		err_prefix(&err, "entrypoint");
		err_print(&err);
		return EXIT_USAGE;
	}
	strict |= cfg.strict;
	if (!ectx.profile && cfg.profile[0])
		ectx.profile = cfg.profile;
	rc = EXIT_FAIL;
	if (prepare_instance(&ectx, &cfg, &inst) < 0)
		goto out;
	if (container_fix_config(&inst, &cfg, &token_from_config, &err) < 0) {
		err_prefix(&err, "entrypoint");
		err_print(&err);
		goto out;
	}
	printf("openclaw-run: %s: container entrypoint (pid %ld): port %u, bind %s, grace %d s, "
	       "TZ %s\n",
	       profile_label(&inst.profile), (long)getpid(), inst.ports.base, cfg.bind, cfg.grace_s,
	       cfg.tz);
	say_token(&inst, &cfg, token_from_config);
	fflush(stdout);
	if (check_sandbox(&inst, strict, &full) < 0 || sync_grants(&ectx, &inst, &cfg, full) < 0 ||
	    build_gateway_args(&cfg, strict, full, gateway_cmd, argc - optind, argv + optind, &a) <
		0)
		goto out;
	optind = 0;
	rc = cmd_gateway(&ectx, a.n, a.items);
	rc = container_exit_code(rc, gateway_last_exit(&inst));
out:
	args_release(&a);
	instance_release(&inst);
	return rc;
}
