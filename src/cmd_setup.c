/* `setup`: create a profile's directories and config, with a port block that
 * collides with no other instance of the host; refuse anything that breaks
 * the isolation checklist. Idempotent: a second run writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "config_edit.h"
#include "registry.h"
#include "resources.h"
#include "host_dirs.h"
#include "pins.h"
#include "rescue.h"
#include "service_user.h"
#include "setup.h"
#include "trust.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] setup [OPTIONS]\n"
	      "\n"
	      "Create the profile's state dir, workspace and logs dir (0700) and its config\n"
	      "(gateway.mode local, bind loopback, token auth, workspace, log file). An\n"
	      "existing config keeps every value; only missing keys are added. Without\n"
	      "--port the lowest free base on the grid 18789 + k*120 is chosen.\n"
	      "\n"
	      "setup pins, in openclaw-run's own records, what the sandbox may write and\n"
	      "bind: the workspace, the port block and the explicit ports outside it. Every\n"
	      "start uses the pins; a config that later disagrees is drift, which `gateway`\n"
	      "refuses and `exec` reports, until a person accepts it here.\n"
	      "\n"
	      "  --port N          pin base port N (refused if it overlaps another instance)\n"
	      "  --workspace DIR   pin DIR as the workspace (refused: system trees, a HOME or\n"
	      "                    a dot dir of one, another instance's or openclaw-run's dirs)\n"
	      "  --accept-config   pin the workspace, gateway.port and explicit ports the\n"
	      "                    config names now (after the same checks)\n"
	      "  --rescues P[:workspace]  let this profile rescue profile P from inside its\n"
	      "                    sandbox: P's control socket (status, logs, restart, stop,\n"
	      "                    start) and a copy of P's config it may apply after\n"
	      "                    validation; :workspace adds P's workspace (repeatable)\n"
	      "  --no-rescues P    revoke that grant (repeatable)\n"
	      "  --user NAME       as root: the account the gateway runs as, which gets the\n"
	      "                    files (default: " SERVICE_USER_DEFAULT ", created if missing)\n"
	      "  --memory SIZE     memory limit of each sandbox (1.5G, 800M, max; default 2G,\n"
	      "                    less on a small host); --swap SIZE of swap on top (0)\n"
	      "  --pids N          processes and threads at most (default 512, or max)\n"
	      "  --cpu-weight N    CPU share, 1..10000 (default 100: even with the others)\n"
	      "  --cpu-quota P     CPU time at most: 150% or 1.5 (CPUs), or max (default)\n"
	      "                    Each limit also takes \"default\" to follow the default.\n"
	      "  -h, --help        show this help\n",
	      out);
}

static int put_key(cJSON *root, struct config_text *t, const char *key, cJSON *value, bool force,
		   bool *changed, ocr_error *err)
{
	int rc;

	if (!value)
		return err_set(err, ENOMEM, "config key %s", key);
	if (!force && config_get(root, key)) {
		cJSON_Delete(value);
		return 0;
	}
	if (config_text_set(t, key, value, force, changed, err) < 0) {
		cJSON_Delete(value);
		return -1;
	}
	rc = config_set(root, key, value, err);
	return rc < 0 ? -1 : 0;
}

/* Adds KEY = VALUE when KEY is absent; the user's values always win. */
static int add_missing(cJSON *root, struct config_text *t, const char *key, cJSON *value,
		       bool *changed, ocr_error *err)
{
	return put_key(root, t, key, value, false, changed, err);
}

static int fill_config(cJSON *root, struct config_text *t, const struct instance *self,
		       bool force_port, bool force_workspace, bool *changed, ocr_error *err)
{
	const struct profile *p = &self->profile;
	unsigned char raw[32];
	char token[65], log_file[PATH_MAX + 32];
	const char *mode;

	if (force_port && put_key(root, t, "gateway.port", cJSON_CreateNumber(self->ports.base),
				  true, changed, err) < 0)
		return -1;
	if (add_missing(root, t, "gateway.mode", cJSON_CreateString("local"), changed, err) < 0 ||
	    add_missing(root, t, "gateway.port", cJSON_CreateNumber(self->ports.base), changed,
			err) < 0 ||
	    add_missing(root, t, "gateway.bind", cJSON_CreateString("loopback"), changed, err) <
		0 ||
	    add_missing(root, t, "gateway.auth.mode", cJSON_CreateString("token"), changed, err) <
		0)
		return -1;
	mode = config_get_string(root, "gateway.auth.mode");
	if (mode && strcmp(mode, "token") == 0 && !config_get(root, "gateway.auth.token")) {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return err_set(err, errno, "getrandom for the gateway token");
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(token + 2 * i, 3, "%02x", raw[i]);
		if (add_missing(root, t, "gateway.auth.token", cJSON_CreateString(token), changed,
				err) < 0)
			return -1;
	}
	if (force_workspace && put_key(root, t, "agents.defaults.workspace",
				       cJSON_CreateString(p->workspace), true, changed, err) < 0)
		return -1;
	snprintf(log_file, sizeof(log_file), "%s/logs/openclaw.log", p->state_dir);
	if (add_missing(root, t, "agents.defaults.workspace", cJSON_CreateString(p->workspace),
			changed, err) < 0 ||
	    add_missing(root, t, "logging.file", cJSON_CreateString(log_file), changed, err) < 0)
		return -1;
	return 0;
}

struct setup_args {
	unsigned port;
	const char *user;
	const char *workspace; /* --workspace, as given */
	bool accept_config;
	char **rescues, **no_rescues; /* --rescues SPEC, --no-rescues NAME */
	size_t n_rescues, n_no_rescues;
	struct resources limits; /* --memory, --pids, ... */
	unsigned limits_touched; /* res_field bits given on the command line */
};

/* The workspace this setup pins: --workspace, else the config's with
 * --accept-config, else what is pinned, else (first setup) what the config
 * or the environment names now, printed so the person sees it. */
static int choose_workspace(struct instance *self, const struct setup_args *a, ocr_error *err)
{
	struct profile *p = &self->profile;
	char *dst = p->workspace;

	if (a->workspace)
		return path_expand(a->workspace, p->home, "--workspace", dst, sizeof(p->workspace),
				   err);
	if (a->accept_config && self->config_workspace[0]) {
		snprintf(dst, sizeof(p->workspace), "%s", self->config_workspace);
		return 0;
	}
	if (self->pinned)
		snprintf(dst, sizeof(p->workspace), "%s", self->pins.workspace);
	return 0;
}

/* --accept-config: the config's base and explicit ports become the pins. */
static void accept_config_ports(struct instance *self)
{
	if (self->config_ports.origin == PORT_FROM_CONFIG) {
		self->ports = self->config_ports;
		return;
	}
	unsigned base = self->ports.base;

	self->ports = self->config_ports;
	self->ports.base = base;
	self->ports.origin = PORT_FROM_CONFIG;
}

/* Every host dir the sandbox will see read-write, against everything it
 * must never see. */
static int validate_dirs(const struct cli_context *ctx, const struct instance *self,
			 const struct instance_set *others, ocr_error *err)
{
	const struct profile *p = &self->profile;
	struct trust_guard *guard;
	struct host_dirs dirs;
	char config_dir[PATH_MAX];
	int rc;

	snprintf(config_dir, sizeof(config_dir), "%s", p->config_path);
	*strrchr(config_dir, '/') = '\0';
	if (host_dirs_resolve(&ctx->env, &dirs, err) < 0 ||
	    trust_guard_build(p, others, &dirs, &guard, err) < 0)
		return -1;
	rc =
	    trust_check_own_dirs(p->state_dir, config_dir[0] ? config_dir : "/", p->workspace, err);
	if (rc == 0)
		rc = trust_guard_check(guard, "state dir", p->state_dir, TRUST_ALLOW_SERVICE_TREES,
				       err);
	if (rc == 0 && !path_within(config_dir, p->state_dir))
		rc = trust_guard_check(guard, "config dir", config_dir[0] ? config_dir : "/",
				       TRUST_ALLOW_SERVICE_TREES, err);
	if (rc == 0 && !path_within(p->workspace, p->state_dir))
		rc = trust_guard_check(guard, "workspace", p->workspace, 0, err);
	trust_guard_free(guard);
	return rc;
}

/* The pins of this setup: the workspace, the base and the explicit ports
 * that lie outside the block, and root's sandbox account. */
static int save_pins(const struct cli_context *ctx, struct instance *self, bool root,
		     const char *user, const struct setup_args *a, uid_t uid, gid_t gid,
		     ocr_error *err)
{
	const struct profile *p = &self->profile;
	struct pins pin = {0};
	struct host_dirs dirs;

	snprintf(pin.state_dir, sizeof(pin.state_dir), "%s", p->state_dir);
	snprintf(pin.config_path, sizeof(pin.config_path), "%s", p->config_path);
	snprintf(pin.workspace, sizeof(pin.workspace), "%s", p->workspace);
	if (port_block_init(&pin.ports, self->ports.base, PORT_FROM_CONFIG, err) < 0)
		return -1;
	for (size_t i = 0; i < self->ports.n_explicit; i++) {
		const struct port_explicit *e = &self->ports.explicit_ports[i];

		if (!port_block_owns(&pin.ports, e->port) &&
		    port_block_add_explicit(&pin.ports, e->port, e->source, err) < 0)
			return -1;
	}
	pin.limits = self->pinned ? self->pins.limits : (struct resources){0};
	resources_merge(&pin.limits, &a->limits, a->limits_touched);
	if (root) {
		pin.has_ids = true;
		pin.uid = uid;
		pin.gid = gid;
		snprintf(pin.user, sizeof(pin.user), "%s", user);
	}
	pin.n_rescues = self->pins.n_rescues;
	memcpy(pin.rescues, self->pins.rescues, sizeof(pin.rescues));
	/* A container's rescuers are the entrypoint's to keep (container.h). */
	pin.n_rescued_by = self->pins.n_rescued_by;
	memcpy(pin.rescued_by, self->pins.rescued_by, sizeof(pin.rescued_by));
	if (host_dirs_resolve(&ctx->env, &dirs, err) < 0 ||
	    pins_save(dirs.records, p, &pin, err) < 0)
		return -1;
	self->pins = pin;
	self->pinned = true;
	return 0;
}

static void print_result(const struct instance *self, bool changed, bool first, bool root,
			 uid_t uid)
{
	const struct profile *p = &self->profile;
	struct trust_drift d[TRUST_DRIFT_MAX];
	size_t n_drift = trust_drift_find(self, d, TRUST_DRIFT_MAX);
	struct resources eff;
	char limits[256];
	struct stat st;

	printf("profile %s: state dir %s\n"
	       "  config    %s (%s)\n"
	       "  workspace %s%s\n"
	       "  ports     %u..%u\n",
	       profile_label(p), p->state_dir, p->config_path,
	       self->config_missing ? "created"
	       : changed	    ? "updated"
				    : "unchanged",
	       p->workspace,
	       first && self->config_workspace[0] &&
		       strcmp(self->config_workspace, p->workspace) == 0
		   ? " (from the config)"
		   : "",
	       self->ports.base, port_block_last(&self->ports));
	for (size_t i = 0; i < self->ports.n_explicit; i++) {
		const struct port_explicit *e = &self->ports.explicit_ports[i];

		if (e->port < self->ports.base || e->port > port_block_last(&self->ports))
			printf("  port      %u (%s)\n", e->port, e->source);
	}
	for (size_t i = 0; i < self->pins.n_rescues; i++) {
		char items[96];

		grant_items_text(self->pins.rescues[i].items, items, sizeof(items));
		printf("  rescues   %s (%s)\n", self->pins.rescues[i].profile, items);
	}
	resources_effective(&self->pins.limits, resources_host_ram(), &eff);
	resources_describe(&eff, limits, sizeof(limits));
	printf("  limits    %s\n", limits);
	/* Root hands nothing outside the state dir to the sandbox's account. */
	if (root && !path_within(p->workspace, p->state_dir) && stat(p->workspace, &st) == 0 &&
	    st.st_uid != uid)
		cli_warnf("setup: profile %s: workspace %s belongs to uid %u, not the sandbox's "
			  "uid %u: the gateway may not be able to write it",
			  profile_label(p), p->workspace, (unsigned)st.st_uid, (unsigned)uid);
	if (n_drift) {
		cli_warnf(
		    "setup: profile %s: the config still disagrees with the pins (the gateway "
		    "will not start until one side changes):",
		    profile_label(p));
		trust_drift_print(stderr, d, n_drift < TRUST_DRIFT_MAX ? n_drift : TRUST_DRIFT_MAX);
	}
}

static int fail(struct instance *self, ocr_error *err)
{
	err_prefix(err, "setup: profile %s", profile_label(&self->profile));
	err_print(err);
	return EXIT_FAIL;
}

static int run(const struct cli_context *ctx, const struct setup_args *a, struct instance *self,
	       struct instance_set *others)
{
	const struct profile *p = &self->profile;
	bool root = geteuid() == 0, changed = false, first;
	uid_t uid = 0;
	gid_t gid = 0;
	ocr_error err = {0};
	struct config_text text = {0};
	bool missing;
	cJSON *cfg;
	int rc, state_fd;

	if (instance_load(ctx->profile, &ctx->env, a->port, self, &err) < 0 ||
	    registry_scan(&ctx->env, others, &err) < 0) {
		err_prefix(&err, "setup");
		err_print(&err);
		return EXIT_FAIL;
	}
	cli_warn_scan_problems(others, "setup");
	if (self->config_error[0]) {
		cli_errorf("setup: profile %s: %s (fix the config first; nothing was changed)",
			   profile_label(p), self->config_error);
		return EXIT_FAIL;
	}
	first = !self->pinned;
	if (rescue_grants_update(&ctx->env, self, a->rescues, a->n_rescues, a->no_rescues,
				 a->n_no_rescues, &self->pins, &changed, &err) < 0)
		return fail(self, &err);
	changed = false;
	setup_drop_self(others, self);
	if (a->accept_config)
		accept_config_ports(self);
	if (choose_workspace(self, a, &err) < 0)
		return fail(self, &err);
	if ((rc = setup_pick_ports(self, others, a->port)) != EXIT_OK ||
	    (rc = setup_check_paths(self, others)) != EXIT_OK)
		return rc;
	if (validate_dirs(ctx, self, others, &err) < 0)
		return fail(self, &err);
	/* The account: --user, else the one pinned, else the default. The same
	 * name is pinned again: a plain re-run must not hand the profile over. */
	const char *user = a->user				? a->user
			   : self->pinned && self->pins.has_ids ? self->pins.user
								: SERVICE_USER_DEFAULT;
	if (root && service_user_resolve(user, true, &uid, &gid, &err) < 0)
		return fail(self, &err);
	cfg = self->config ? self->config : cJSON_CreateObject();
	self->config = cfg;
	if (!cfg)
		return fail(self, (err_set(&err, ENOMEM, "config"), &err));
	state_fd = setup_make_dirs(p, root, &err);
	if (state_fd < 0)
		return fail(self, &err);
	rc = config_text_load(p->config_path, &text, &missing, &err);
	if (rc == 0)
		rc = fill_config(cfg, &text, self, a->port != 0 || (a->accept_config && !first),
				 a->workspace != NULL, &changed, &err);
	/* What the config says now, for the drift left after this setup. */
	if (a->workspace)
		snprintf(self->config_workspace, sizeof(self->config_workspace), "%s",
			 p->workspace);
	if (a->port) {
		self->config_ports.base = self->ports.base;
		self->config_ports.origin = PORT_FROM_CONFIG;
	}
	if (rc == 0 && (changed || missing))
		rc = config_text_write(p->config_path, &text, p->state_dir, state_fd,
				       root ? uid : (uid_t)-1, root ? gid : (gid_t)-1, &err);
	config_text_release(&text);
	if (rc == 0 && root)
		rc = setup_give_to_user(state_fd, p, uid, gid, &err);
	if (rc == 0 && root)
		setup_repair_ownership(state_fd, p, uid, gid);
	close(state_fd);
	if (rc == 0)
		rc = save_pins(ctx, self, root, user, a, uid, gid, &err);
	if (rc == 0 && (p->state_origin == ORIGIN_ENV || p->config_origin == ORIGIN_ENV))
		rc = registry_record(&ctx->env, p, &err);
	if (rc < 0)
		return fail(self, &err);
	print_result(self, changed, first, root, uid);
	return EXIT_OK;
}

int cmd_setup(const struct cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
	    {"port", required_argument, NULL, 'P'},
	    {"user", required_argument, NULL, 'u'},
	    {"workspace", required_argument, NULL, 'w'},
	    {"accept-config", no_argument, NULL, 'A'},
	    {"rescues", required_argument, NULL, 'R'},
	    {"no-rescues", required_argument, NULL, 'N'},
	    {"memory", required_argument, NULL, RES_MEMORY},
	    {"swap", required_argument, NULL, RES_SWAP},
	    {"pids", required_argument, NULL, RES_PIDS},
	    {"cpu-weight", required_argument, NULL, RES_CPU_WEIGHT},
	    {"cpu-quota", required_argument, NULL, RES_CPU_QUOTA},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct instance self = {0};
	struct instance_set others = {0};
	struct setup_args a = {0};
	ocr_error err = {0};
	int opt, rc, li = 0;
	char *grant_specs[2 * (size_t)argc + 2];

	a.rescues = grant_specs;
	a.no_rescues = grant_specs + argc + 1;
	while ((opt = getopt_long(argc, argv, "+h", options, &li)) != -1) {
		switch (opt) {
		case 'P':
			if (cli_parse_base_port("setup", optarg, &a.port) < 0)
				return EXIT_USAGE;
			break;
		case 'u':
			a.user = optarg;
			break;
		case 'w':
			a.workspace = optarg;
			break;
		case 'A':
			a.accept_config = true;
			break;
		case 'R':
			a.rescues[a.n_rescues++] = optarg;
			break;
		case 'N':
			a.no_rescues[a.n_no_rescues++] = optarg;
			break;
		case RES_MEMORY:
		case RES_SWAP:
		case RES_PIDS:
		case RES_CPU_WEIGHT:
		case RES_CPU_QUOTA:
			if (resources_parse_option(opt, optarg, &a.limits, &err) < 0) {
				err_prefix(&err, "setup: --%s", options[li].name);
				err_print(&err);
				return EXIT_USAGE;
			}
			a.limits_touched |= (unsigned)opt;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("setup", argv);
		}
	}
	if (optind < argc) {
		cli_errorf("setup: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (ctx->profile && profile_name_check(ctx->profile, &err) < 0 &&
	    strcasecmp(ctx->profile, "default") != 0) {
		err_prefix(&err, "setup");
		err_print(&err);
		return EXIT_USAGE;
	}
	if (a.user && geteuid() != 0)
		cli_warnf("setup: --user %s ignored: only root hands the files to another account",
			  a.user);
	rc = run(ctx, &a, &self, &others);
	instance_release(&self);
	instance_set_release(&others);
	return rc;
}
