/* The plan: what one instance's sandbox gets, computed from the instance and
 * the command line. See plan.h. */
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_dirs.h"
#include "rescue.h"
#include "resources.h"
#include "service_user.h"
#include "trust.h"

#ifndef OCR_DATADIR_REL
#define OCR_DATADIR_REL "share/openclaw-run"
#endif

#define PLAN_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Defaults, measured on the real gateway (scripts/install-openclaw's; `ls
 * /proc/PID/fd | wc -l` and the Threads: of /proc/PID/status of every
 * process in the sandbox, after start and at idle): the busiest process
 * holds 67 fds, the others 17-20; the sandbox runs 4 processes with 36
 * threads. nofile 1024 is 15x that busiest process (node raises its soft
 * limit to the hard one, so both are set). nproc counts threads, and since
 * Linux 5.14 it is counted per user namespace: inside our own, it bounds
 * only this sandbox's tasks, not every process of the host uid (checked:
 * 30 processes of the uid outside, a limit of 20 inside still forks); 512
 * is 14x the gateway's. nofile x nproc = 512Ki open files at most, a fifth
 * of a small host's fs.file-max (2.4M here), where 65536 x 4096 could
 * exhaust it. nproc follows the profile's pids limit (resources.h, 512 by
 * default), a little above it so that the cgroup's pids.max, which counts
 * and explains what it refuses, is met first where it applies; the rlimit
 * bounds the sandbox where it does not (rootless on cgroup v1). No core
 * dumps of a process that holds API keys. */
#define PLAN_NOFILE	 1024
#define PLAN_NPROC_SLACK 16

struct env_list {
	char **items;
	size_t n;
};

static void env_list_free(struct env_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

/* Adds KEY=VALUE, replacing an earlier entry of the same key. */
static int env_put(struct env_list *l, const char *entry, ocr_error *err)
{
	const char *eq = strchr(entry, '=');
	size_t klen;
	char *copy, **grown;

	if (!eq || eq == entry)
		return err_set(err, EINVAL, "environment entry '%s': expected KEY=VALUE", entry);
	klen = (size_t)(eq - entry) + 1;
	copy = strdup(entry);
	if (!copy)
		return err_set(err, ENOMEM, "environment");
	for (size_t i = 0; i < l->n; i++) {
		if (strncmp(l->items[i], entry, klen) == 0) {
			free(l->items[i]);
			l->items[i] = copy;
			return 0;
		}
	}
	grown = realloc(l->items, (l->n + 2) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return err_set(err, ENOMEM, "environment");
	}
	l->items = grown;
	l->items[l->n++] = copy;
	l->items[l->n] = NULL;
	return 0;
}

static int env_putf(struct env_list *l, ocr_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int env_putf(struct env_list *l, ocr_error *err, const char *fmt, ...)
{
	char buf[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return env_put(l, buf, err);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PATH equals DIR or lies below it. */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int plan_check_state_dir(const struct profile *p, ocr_error *err)
{
	struct stat st;
	const char *label = profile_label(p);

	if (stat(p->state_dir, &st) < 0) {
		if (errno == ENOENT)
			return err_set(err, 0,
				       "profile %s: state dir %s does not exist (run `openclaw-run "
				       "--profile %s setup` first)",
				       label, p->state_dir, label);
		return err_set(err, errno, "profile %s: state dir %s", label, p->state_dir);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "profile %s: state dir %s is not a directory", label,
			       p->state_dir);
	return 0;
}

/* <state>/home, made on first use and given to the payload's host uid. The
 * state dir is the payload's: made and chowned beneath a descriptor of the
 * state dir, never following a link it may have planted there. */
static int make_home(const char *state_dir, bool root, uid_t uid, gid_t gid, char *home, size_t len,
		     ocr_error *err)
{
	struct stat st;
	int state_fd, fd, rc = 0;

	if (snprintf(home, len, "%s/home", state_dir) >= (int)len)
		return err_set(err, ENAMETOOLONG, "home dir under %s", state_dir);
	state_fd = open(state_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (state_fd < 0)
		return err_set(err, errno, "open state dir %s", state_dir);
	fd = trust_mkdir_beneath(state_fd, "home", 0700);
	close(state_fd);
	if (fd < 0)
		return err_set(err, errno, "home dir %s (no links are followed in a state dir)",
			       home);
	if (root && fstat(fd, &st) == 0 && (st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) < 0)
		rc = err_set(err, errno, "chown home dir %s", home);
	close(fd);
	return rc;
}

/* The workspace (and a config dir outside the state dir) come from files the
 * payload can write: bind them only without symlinks in their paths (the
 * sandbox enforces it at open), and never a directory that holds the real
 * HOME with every other profile in it. */
static int add_own_dir(struct sandbox *sb, const struct profile *p, const char *what,
		       const char *dir, ocr_error *err)
{
	if (inside(p->home, dir))
		return err_set(err, 0,
			       "profile %s: %s %s: contains the home %s; refusing to show it in "
			       "the sandbox",
			       profile_label(p), what, dir, p->home);
	if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, dir, dir,
			      SANDBOX_MOUNT_OPTIONAL | SANDBOX_MOUNT_NOFOLLOW, err) < 0)
		return err_prefix(err, "profile %s: %s", profile_label(p), what);
	return 0;
}

/* Another instance's config beside ours: the seed's manual layout keeps
 * every config in ~/.openclaw. Any other *.json there means the dir is
 * shared, so it is shown read-only with only our config writable: the
 * gateway cannot touch the others (a config edit from inside then fails
 * at its rename; the host's CLI still works). */
static bool config_dir_shared(const char *config_dir, const char *config_path)
{
	const char *own = strrchr(config_path, '/') + 1;
	size_t own_len = strlen(own);
	DIR *d = opendir(config_dir);
	struct dirent *de;
	bool shared = false;

	if (!d)
		return false;
	while (!shared && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		shared = n > 5 && strcmp(de->d_name + n - 5, ".json") == 0 &&
			 strncmp(de->d_name, own, own_len) != 0;
	}
	closedir(d);
	return shared;
}

static int add_config(struct sandbox *sb, const struct profile *p, const char *config_dir,
		      ocr_error *err)
{
	if (!config_dir_shared(config_dir, p->config_path))
		return add_own_dir(sb, p, "config dir", config_dir, err);
	if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RO, config_dir, config_dir,
			      SANDBOX_MOUNT_NOFOLLOW, err) < 0 ||
	    sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, p->config_path, p->config_path,
			      SANDBOX_MOUNT_OPTIONAL | SANDBOX_MOUNT_NOFOLLOW, err) < 0)
		return err_prefix(err, "profile %s: config", profile_label(p));
	return 0;
}

static int add_mounts(struct sandbox *sb, const struct profile *p, const struct plan_options *opt,
		      ocr_error *err)
{
	char config_dir[PATH_MAX];
	char *slash;

	if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, p->state_dir, p->state_dir, 0, err) < 0)
		return -1;
	snprintf(config_dir, sizeof(config_dir), "%s", p->config_path);
	slash = strrchr(config_dir, '/');
	if (slash && slash != config_dir) {
		*slash = '\0';
		if (!inside(config_dir, p->state_dir) && add_config(sb, p, config_dir, err) < 0)
			return -1;
	}
	/* A missing workspace is the gateway's to create, inside the state dir
	 * by default; one elsewhere is bound only once it exists. */
	if (p->workspace[0] && !inside(p->workspace, p->state_dir) &&
	    add_own_dir(sb, p, "workspace", p->workspace, err) < 0)
		return -1;
	for (size_t i = 0; i < opt->n_ro_binds; i++) {
		if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RO, opt->ro_binds[i], opt->ro_binds[i],
				      0, err) < 0)
			return -1;
	}
	return 0;
}

static int add_env(struct sandbox *sb, const struct instance *inst, const struct plan_options *opt,
		   const char *home, ocr_error *err)
{
	struct env_list env = {0};
	const struct profile *p = &inst->profile;
	int rc = -1;

	bool rescuer = inst->pinned && inst->pins.n_rescues;

	if (env_putf(&env, err, "PATH=%s", PLAN_PATH) < 0 ||
	    env_putf(&env, err, RESCUE_SANDBOX_ENV "=%s", profile_label(p)) < 0 ||
	    (rescuer && env_put(&env, RESCUE_ENV "=" RESCUE_SANDBOX_DIR, err) < 0) ||
	    env_putf(&env, err, "HOME=%s", home) < 0 || env_put(&env, "TMPDIR=/tmp", err) < 0 ||
	    (p->name[0] && env_putf(&env, err, "OPENCLAW_PROFILE=%s", p->name) < 0) ||
	    env_putf(&env, err, "OPENCLAW_STATE_DIR=%s", p->state_dir) < 0 ||
	    env_putf(&env, err, "OPENCLAW_CONFIG_PATH=%s", p->config_path) < 0 ||
	    env_putf(&env, err, "OPENCLAW_WORKSPACE_DIR=%s", p->workspace) < 0 ||
	    env_putf(&env, err, "OPENCLAW_GATEWAY_PORT=%u", inst->ports.base) < 0)
		goto out;
	for (size_t i = 0; i < opt->n_extra_env; i++) {
		if (env_put(&env, opt->extra_env[i], err) < 0)
			goto out;
	}
	/* A rescuer finds openclaw-run first, whatever PATH the caller chose. */
	for (size_t i = 0; rescuer && i < env.n; i++)
		if (strncmp(env.items[i], "PATH=", 5) == 0) {
			if (env_putf(&env, err, "PATH=" RESCUE_BIN_DIR ":%s", env.items[i] + 5) < 0)
				goto out;
			break;
		}
	rc = sandbox_set_env(sb, env.items, err);
out:
	env_list_free(&env);
	return rc;
}

static int add_ports(struct sandbox *sb, const struct port_block *b, ocr_error *err)
{
	if (sandbox_add_bind_ports(sb, (uint16_t)b->base, (uint16_t)port_block_last(b), err) < 0)
		return -1;
	for (size_t i = 0; i < b->n_explicit; i++) {
		uint16_t port = (uint16_t)b->explicit_ports[i].port;

		if (sandbox_add_bind_ports(sb, port, port, err) < 0)
			return -1;
	}
	return 0;
}

/* Compiled seccomp filters are kept in the launcher's cache dir, which no
 * sandbox ever sees (host_dirs.h); the library verifies each file with a
 * keyed MAC anyway. No usable dir (a read-only HOME) just means compiling at
 * every start. */
static void set_filter_cache(struct sandbox *sb, const struct env_view *env)
{
	struct host_dirs dirs;
	ocr_error ignored = {0};

	if (env && host_dirs_resolve(env, &dirs, &ignored) == 0 &&
	    host_dir_ensure(dirs.cache, &ignored) == 0)
		sandbox_set_filter_cache(sb, dirs.cache, &ignored);
}

void plan_cgroup_prefix(const struct profile *p, char *buf, size_t len)
{
	/* A name of at most 64 characters: the start of a long profile name
	 * is enough to tell people which profile a group is, the slot number
	 * follows. Two profiles whose names share their first 40 characters
	 * share slot names, which is safe: a slot is held by one sandbox at a
	 * time and gets that sandbox's limits at every start. */
	snprintf(buf, len, "openclaw-run-%.40s-", p->name[0] ? p->name : "default");
}

/* The profile's memory, pids and CPU limits: what setup pinned, the
 * defaults for the rest (resources.h). */
void plan_limits(const struct instance *inst, struct sandbox_limits *out)
{
	struct resources r;

	resources_effective(&inst->pins.limits, resources_host_ram(), &r);
	*out = (struct sandbox_limits){.memory_max = r.memory_max,
				       .swap_max = r.swap_max,
				       .pids_max = r.pids_max,
				       .cpu_weight = r.cpu_weight,
				       .cpu_quota_pct = r.cpu_quota};
}

static int set_limits(struct sandbox *sb, const struct instance *inst, rlim_t *nproc,
		      ocr_error *err)
{
	struct sandbox_limits l;
	char prefix[64];

	plan_limits(inst, &l);
	*nproc = l.pids_max ? (rlim_t)l.pids_max + PLAN_NPROC_SLACK : RLIM_INFINITY;
	sandbox_set_limits(sb, &l);
	plan_cgroup_prefix(&inst->profile, prefix, sizeof(prefix));
	return sandbox_set_cgroup_prefix(sb, prefix, err);
}

static int configure(struct sandbox *sb, const struct instance *inst,
		     const struct plan_options *opt, char *const argv[], ocr_error *err)
{
	const struct profile *p = &inst->profile;
	bool root = geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0;
	char home[PATH_MAX], hostname[PROFILE_NAME_MAX + 16], policy[PATH_MAX];
	rlim_t nproc;

	if (!argv || !argv[0] || !argv[0][0])
		return err_set(err, EINVAL, "no command to run");
	if (plan_check_state_dir(p, err) < 0)
		return -1;
	if (!inst->pinned)
		return err_set(err, 0,
			       "profile %s has no records of openclaw-run (what its sandbox may "
			       "write and bind is pinned by setup): run `openclaw-run --profile %s "
			       "setup` first",
			       profile_label(p), profile_label(p));
	if (root && !opt->user && inst->pins.has_ids) {
		/* Resolved at setup: no NSS lookup on the start path. */
		uid = inst->pins.uid;
		gid = inst->pins.gid;
		sandbox_set_host_ids(sb, uid, gid);
	} else if (root) {
		if (service_user_resolve(opt->user, false, &uid, &gid, err) < 0)
			return err_prefix(err, "the sandbox's host user (root runs sandboxes as an "
					       "unprivileged user: run setup, or pass --user)");
		sandbox_set_host_ids(sb, uid, gid);
	} else if (opt->user) {
		return err_set(err, EPERM, "--user %s: only root chooses the sandbox's host user",
			       opt->user);
	}
	if (make_home(p->state_dir, root, uid, gid, home, sizeof(home), err) < 0)
		return -1;
	snprintf(hostname, sizeof(hostname), "openclaw-%s", p->name[0] ? p->name : "default");
	if (sandbox_set_argv(sb, argv, err) < 0 || sandbox_set_hostname(sb, hostname, err) < 0 ||
	    add_env(sb, inst, opt, home, err) < 0 || add_mounts(sb, p, opt, err) < 0 ||
	    rescue_add_mounts(sb, inst, opt->env, err) < 0 || add_ports(sb, &inst->ports, err) < 0)
		return -1;
	if (sandbox_set_cwd(sb,
			    opt->cwd		   ? opt->cwd
			    : is_dir(p->workspace) ? p->workspace
						   : "/",
			    err) < 0)
		return -1;
	if (!opt->seccomp_policy && plan_default_policy(policy, sizeof(policy), err) < 0)
		return -1;
	if (sandbox_set_seccomp_policy(sb, opt->seccomp_policy ? opt->seccomp_policy : policy,
				       err) < 0)
		return -1;
	set_filter_cache(sb, opt->env);
	/* Which limits this host cannot give does not change until it boots
	 * again: said at the first start of a boot, and always by `check`. */
	sandbox_set_limits_warning(sb, !host_boot_note_seen(opt->env, PLAN_LIMITS_NOTE));
	/* A tmpfs costs memory only as it fills; the bound keeps a payload
	 * from filling the host's RAM through it. One inode per 4 KiB: what
	 * it would hold in the smallest files. */
	sandbox_set_tmpfs_size(sb, opt->tmp_size ? opt->tmp_size : PLAN_TMP_SIZE,
			       (opt->tmp_size ? opt->tmp_size : PLAN_TMP_SIZE) / 4096);
	if (set_limits(sb, inst, &nproc, err) < 0 ||
	    sandbox_set_rlimit(sb, RLIMIT_NOFILE, PLAN_NOFILE, PLAN_NOFILE, err) < 0 ||
	    sandbox_set_rlimit(sb, RLIMIT_NPROC, nproc, nproc, err) < 0 ||
	    sandbox_set_rlimit(sb, RLIMIT_CORE, 0, 0, err) < 0)
		return -1;
	sandbox_set_net(sb, opt->net);
	sandbox_set_strict(sb, opt->strict);
	sandbox_set_namespaces(sb, !opt->no_namespaces);
	return 0;
}

int plan_build(const struct instance *inst, const struct plan_options *opt, char *const argv[],
	       struct sandbox **out, ocr_error *err)
{
	struct sandbox *sb = sandbox_new();

	*out = NULL;
	if (!sb)
		return err_set(err, ENOMEM, "sandbox");
	if (configure(sb, inst, opt, argv, err) < 0) {
		sandbox_free(sb);
		return -1;
	}
	*out = sb;
	return 0;
}

void plan_spawned(const struct sandbox *sb, const struct plan_options *opt)
{
	if (sandbox_limits_off(sb, NULL, 0) && !host_boot_note_seen(opt->env, PLAN_LIMITS_NOTE))
		host_boot_note_mark(opt->env, PLAN_LIMITS_NOTE);
}

int plan_default_policy(char *buf, size_t len, ocr_error *err)
{
	static const char *const rel[] = {"/" OCR_DATADIR_REL "/default.policy",
					  "/../" OCR_DATADIR_REL "/default.policy"};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0)
		return err_set(err, errno, "seccomp policy: readlink /proc/self/exe");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(buf, len, "%s%s", exe, rel[i]) < (int)len && access(buf, R_OK) == 0)
			return 0;
	}
	return err_set(err, ENOENT, "seccomp policy: default.policy not found in %s%s or %s%s", exe,
		       rel[0], exe, rel[1]);
}
