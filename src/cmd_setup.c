/* `setup`: create a profile's directories and config, with a port block that
 * collides with no other instance of the host; refuse anything that breaks
 * the isolation checklist. Idempotent: a second run writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "config.h"
#include "registry.h"
#include "service_user.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] setup [--port N] [--user NAME]\n"
	      "\n"
	      "Create the profile's state dir, workspace and logs dir (0700) and its config\n"
	      "(gateway.mode local, bind loopback, token auth, workspace, log file). An\n"
	      "existing config keeps every value; only missing keys are added. Without\n"
	      "--port the lowest free base on the grid 18789 + k*120 is chosen.\n"
	      "\n"
	      "  --port N     use base port N (refused if it overlaps another instance)\n"
	      "  --user NAME  as root: the account the gateway runs as, which gets the\n"
	      "               files (default: " SERVICE_USER_DEFAULT ", created if missing)\n"
	      "  -h, --help   show this help\n",
	      out);
}

/* The other instances: the scan minus this one, and minus a scanned profile
 * dir without a config that is in fact this instance's state dir. */
static void drop_self(struct instance_set *set, const struct instance *self)
{
	for (size_t i = 0; i < set->n;) {
		const struct instance *o = &set->items[i];

		if (instance_same_place(o, self) ||
		    (o->config_missing &&
		     strcmp(o->profile.state_dir, self->profile.state_dir) == 0)) {
			instance_release(&set->items[i]);
			memmove(&set->items[i], &set->items[i + 1],
				(set->n - i - 1) * sizeof(set->items[0]));
			set->n--;
		} else {
			i++;
		}
	}
}

static int pick_ports(struct instance *self, const struct instance_set *others, unsigned port_flag)
{
	struct port_block *taken = calloc(others->n + 1, sizeof(*taken));
	size_t n = 0;
	ocr_error err = {0};
	int rc = EXIT_OK;

	if (!taken) {
		cli_errorf("setup: out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < others->n; i++)
		if (port_block_validate(&others->items[i].ports, NULL) == 0)
			taken[n++] = others->items[i].ports;
	if (self->ports.origin == PORT_FROM_DEFAULT || self->ports.origin == PORT_FROM_HASH) {
		/* Upstream's default may land in another block: pick and write one. */
		if (port_alloc_base(taken, n, &self->ports.base, &err) < 0) {
			err_prefix(&err, "setup: profile %s", profile_label(&self->profile));
			err_print(&err);
			rc = EXIT_FAIL;
		}
		self->ports.origin = PORT_FROM_CONFIG;
		goto out;
	}
	if (port_block_validate(&self->ports, &err) < 0) {
		err_prefix(&err, "setup: profile %s: %s", profile_label(&self->profile),
			   port_base_origin_label(self->ports.origin));
		err_print(&err);
		rc = port_flag ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < others->n; i++) {
		const struct instance *o = &others->items[i];
		unsigned hit = port_blocks_first_collision(&self->ports, &o->ports);
		unsigned next;

		if (!hit || port_block_validate(&o->ports, NULL) < 0)
			continue;
		if (port_alloc_base_from(taken, n, self->ports.base, &next, &err) < 0 &&
		    port_alloc_base(taken, n, &next, &err) < 0)
			next = 0;
		cli_errorf("setup: profile %s: %s %u: ports %u..%u overlap profile %s (state dir "
			   "%s, ports %u..%u) from port %u; next free base: %u%s",
			   profile_label(&self->profile),
			   port_base_origin_label(self->ports.origin), self->ports.base,
			   self->ports.base, port_block_last(&self->ports),
			   profile_label(&o->profile), o->profile.state_dir, o->ports.base,
			   port_block_last(&o->ports), hit, next,
			   next ? " (setup --port that)" : " (none left)");
		rc = EXIT_FAIL;
		break;
	}
out:
	free(taken);
	return rc;
}

/* Paths that break the checklist against the other instances. */
static int check_paths(const struct instance *self, const struct instance_set *others)
{
	struct instance *all = calloc(others->n + 1, sizeof(*all));
	struct violation_list vl;
	ocr_error err = {0};
	size_t found = 0;

	if (!all) {
		cli_errorf("setup: out of memory");
		return EXIT_FAIL;
	}
	if (others->n)
		memcpy(all, others->items, others->n * sizeof(*all));
	all[others->n] = *self;
	if (check_instances(all, others->n + 1, &vl, &err) < 0) {
		free(all);
		err_print(&err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < vl.n; i++) {
		if (!violation_involves(&vl.items[i], others->n))
			continue;
		cli_errorf("setup: refused, %s: %s", violation_kind_name(vl.items[i].kind),
			   vl.items[i].detail);
		found++;
	}
	violation_list_release(&vl);
	free(all);
	return found ? EXIT_FAIL : EXIT_OK;
}

/* Adds KEY = VALUE when KEY is absent; the user's values always win. */
static int add_missing(cJSON *root, const char *key, cJSON *value, bool *changed, ocr_error *err)
{
	int rc;

	if (config_get(root, key)) {
		cJSON_Delete(value);
		return 0;
	}
	if (!value)
		return err_set(err, ENOMEM, "config key %s", key);
	rc = config_set(root, key, value, err);
	if (rc > 0)
		*changed = true;
	return rc < 0 ? -1 : 0;
}

static int fill_config(cJSON *root, const struct instance *self, bool force_port, bool *changed,
		       ocr_error *err)
{
	const struct profile *p = &self->profile;
	unsigned char raw[32];
	char token[65], log_file[PATH_MAX + 32];
	const char *mode;

	if (force_port) {
		int rc =
		    config_set(root, "gateway.port", cJSON_CreateNumber(self->ports.base), err);

		if (rc < 0)
			return -1;
		*changed |= rc > 0;
	}
	if (add_missing(root, "gateway.mode", cJSON_CreateString("local"), changed, err) < 0 ||
	    add_missing(root, "gateway.port", cJSON_CreateNumber(self->ports.base), changed, err) <
		0 ||
	    add_missing(root, "gateway.bind", cJSON_CreateString("loopback"), changed, err) < 0 ||
	    add_missing(root, "gateway.auth.mode", cJSON_CreateString("token"), changed, err) < 0)
		return -1;
	mode = config_get_string(root, "gateway.auth.mode");
	if (mode && strcmp(mode, "token") == 0 && !config_get(root, "gateway.auth.token")) {
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return err_set(err, errno, "getrandom for the gateway token");
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(token + 2 * i, 3, "%02x", raw[i]);
		if (add_missing(root, "gateway.auth.token", cJSON_CreateString(token), changed,
				err) < 0)
			return -1;
	}
	snprintf(log_file, sizeof(log_file), "%s/logs/openclaw.log", p->state_dir);
	if (add_missing(root, "agents.defaults.workspace", cJSON_CreateString(p->workspace),
			changed, err) < 0 ||
	    add_missing(root, "logging.file", cJSON_CreateString(log_file), changed, err) < 0)
		return -1;
	return 0;
}

static int make_dirs(const struct profile *p, char *logs, size_t logs_len, ocr_error *err)
{
	char parent[PATH_MAX];

	snprintf(logs, logs_len, "%s/logs", p->state_dir);
	snprintf(parent, sizeof(parent), "%s", p->config_path);
	*strrchr(parent, '/') = '\0';
	if (registry_mkdirs(p->state_dir, 0700, err) < 0 ||
	    registry_mkdirs(p->workspace, 0700, err) < 0 || registry_mkdirs(logs, 0700, err) < 0 ||
	    (parent[0] && registry_mkdirs(parent, 0700, err) < 0))
		return -1;
	return 0;
}

/* Hands PATH to uid:gid as root without following a symlink. The state dir
 * belongs to the sandbox's user, whose payload can plant links in it
 * (logs -> /etc) for a later root `setup` to chown their targets: below the
 * state dir no component may be a link; elsewhere the last one may not. */
static int chown_nofollow(const char *state_dir, const char *path, uid_t uid, gid_t gid,
			  ocr_error *err)
{
	size_t n = strlen(state_dir);
	struct stat st;
	int fd, rc = -1;

	if (strncmp(path, state_dir, n) == 0 && path[n] == '/') {
		struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
				       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
		int dir = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dir < 0)
			return err_set(err, errno, "open %s", state_dir);
		fd = (int)syscall(SYS_openat2, dir, path + n + 1, &how, sizeof(how));
		close(dir);
	} else {
		fd = open(path, O_PATH | O_CLOEXEC | (strcmp(path, state_dir) ? O_NOFOLLOW : 0));
	}
	if (fd < 0)
		return err_set(err, errno, "chown %s: refusing to follow a symlink as root", path);
	if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) /* O_PATH|O_NOFOLLOW opened the link */
		errno = ELOOP;
	else if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == 0)
		rc = 0;
	if (rc < 0)
		err_set(err, errno, "chown %s to uid %u", path, (unsigned)uid);
	close(fd);
	return rc;
}

static int give_to_user(const char *user, const struct profile *p, const char *logs, ocr_error *err)
{
	const char *paths[] = {p->state_dir, p->workspace, logs, p->config_path};
	uid_t uid;
	gid_t gid;

	if (service_user_resolve(user, true, &uid, &gid, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (chown_nofollow(p->state_dir, paths[i], uid, gid, err) < 0)
			return -1;
	return 0;
}

static int run(const struct cli_context *ctx, const char *user, unsigned port_flag,
	       struct instance *self, struct instance_set *others)
{
	const struct profile *p = &self->profile;
	char logs[PATH_MAX + 8];
	cJSON *root;
	bool changed = false;
	ocr_error err = {0};
	int rc;

	if (instance_load(ctx->profile, &ctx->env, port_flag, self, &err) < 0 ||
	    registry_scan(&ctx->env, others, &err) < 0) {
		err_prefix(&err, "setup");
		err_print(&err);
		return EXIT_FAIL;
	}
	drop_self(others, self);
	if ((rc = pick_ports(self, others, port_flag)) != EXIT_OK ||
	    (rc = check_paths(self, others)) != EXIT_OK)
		return rc;
	root = self->config ? self->config : cJSON_CreateObject();
	self->config = root;
	if (!root || make_dirs(p, logs, sizeof(logs), &err) < 0 ||
	    fill_config(root, self, port_flag != 0, &changed, &err) < 0 ||
	    ((changed || self->config_missing) && config_write(p->config_path, root, &err) < 0) ||
	    (geteuid() == 0 && give_to_user(user, p, logs, &err) < 0) ||
	    ((p->state_origin == ORIGIN_ENV || p->config_origin == ORIGIN_ENV) &&
	     registry_record(&ctx->env, p, &err) < 0)) {
		if (!root)
			err_set(&err, ENOMEM, "config");
		err_prefix(&err, "setup: profile %s: %s", profile_label(p), p->config_path);
		err_print(&err);
		return EXIT_FAIL;
	}
	printf("profile %s: state dir %s\n"
	       "  config    %s (%s)\n"
	       "  workspace %s\n"
	       "  ports     %u..%u\n",
	       profile_label(p), p->state_dir, p->config_path,
	       self->config_missing ? "created"
	       : changed	    ? "updated"
				    : "unchanged",
	       p->workspace, self->ports.base, port_block_last(&self->ports));
	return EXIT_OK;
}

int cmd_setup(const struct cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
	    {"port", required_argument, NULL, 'P'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct instance self = {0};
	struct instance_set others = {0};
	const char *user = NULL;
	unsigned port_flag = 0;
	ocr_error err = {0};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 'P':
			if (cli_parse_base_port("setup", optarg, &port_flag) < 0)
				return EXIT_USAGE;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
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
	if (user && geteuid() != 0)
		cli_warnf("setup: --user %s ignored: only root hands the files to another account",
			  user);
	rc = run(ctx, user, port_flag, &self, &others);
	instance_release(&self);
	instance_set_release(&others);
	return rc;
}
