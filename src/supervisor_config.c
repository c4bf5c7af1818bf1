/* The target's config for a rescuer (control_proto.h: config-read,
 * config-validate, config-apply). The rescuer never sees the target's
 * config dir: it edits a copy (config/ in its grant directory, kept in its
 * own state dir: rescue.h) with upstream's tools; a copy reaches the target only through
 * config-apply, which takes its bytes once and checks those very bytes:
 *   1. they parse, as the gateway reads them (json5.h);
 *   2. nothing but gateway.port departs from what setup pinned (the
 *      workspace and explicit ports stay a person's decision on the host);
 *   3. a new port block is free: no other instance's (check.h) and no
 *      other program's (port_probe.h);
 *   4. upstream's `openclaw config validate --json` accepts them, run in
 *      the target's sandbox with the copy bound read-only as its config.
 * Then the previous config is kept as .bak (the gateway's own ring), the
 * new one installed, the pins follow a new base, and the gateway restarts.
 * Anything refused leaves the running gateway and its config alone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "check.h"
#include "cleanup.h"
#include "config.h"
#include "json5.h"
#include "port_probe.h"
#include "supervisor_internal.h"
#include "trust.h"

#define CANDIDATE_NAME	   "openclaw.json"
#define STAGED_NAME	   "staged.json" /* the launcher's copy of the bytes it checks */
#define VALIDATE_TIMEOUT_S 90
#define VALIDATE_OUT_MAX   16384

static cJSON *refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *refuse(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ctl_answer(false, msg);
}

static int grant_dir_of(const struct sup *s, const struct rescuer *who, char *dir, size_t len,
			ocr_error *err)
{
	return rescue_rescuer_dir(who, &ctl_target(s)->profile, dir, len, err);
}

static int open_config_dir(const struct profile *p, ocr_error *err);

/* The target's config, as the payload left it: through its directory
 * opened without links below the state dir, regular, one name, bounded.
 * Its bytes go to another sandbox, so nothing else may be read here. */
static int read_target_config(const struct profile *p, char **data, size_t *len, ocr_error *err)
{
	cleanup_close int dir = open_config_dir(p, err);
	cleanup_close int fd = -1;
	struct stat st;
	ssize_t n;

	if (dir < 0)
		return -1;
	fd = trust_open_beneath(dir, strrchr(p->config_path, '/') + 1, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return err_set(err, errno, "open %s (no links)", p->config_path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_size > (off_t)READ_FILE_MAX)
		return err_set(err, EINVAL,
			       "%s is not a regular file of one name and at most 1 MiB",
			       p->config_path);
	*data = malloc((size_t)st.st_size + 1);
	if (!*data)
		return err_set(err, ENOMEM, "read %s", p->config_path);
	n = read(fd, *data, (size_t)st.st_size);
	if (n < 0)
		return err_set(err, errno, "read %s", p->config_path);
	(*data)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/* The rescuer's copy's directory, in its own state dir, or in the grant
 * directory for a rescuer in another container (rescue.h). */
static int open_copy_dir(const struct sup *s, const struct rescuer *who, char *path, size_t len,
			 ocr_error *err)
{
	return rescue_rescuer_copy_dir_open(who, &ctl_target(s)->profile, path, len, err);
}

cJSON *ctl_config_read(struct sup *s, const struct rescuer *who)
{
	const struct profile *p = &ctl_target(s)->profile;
	char dir[PATH_MAX], path[PATH_MAX + 32], buf[SANDBOX_ERROR_MSG_MAX + 64];
	cleanup_free char *data = NULL;
	cleanup_close int cfd = -1;
	size_t len = 0;
	ocr_error err = {0};
	cJSON *o;

	if (read_target_config(p, &data, &len, &err) < 0 ||
	    (cfd = open_copy_dir(s, who, dir, sizeof(dir), &err)) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	snprintf(path, sizeof(path), "%s/" CANDIDATE_NAME, dir);
	struct atomic_write_opts wo = {
	    .mode = 0600, .uid = who->uid, .gid = who->gid, .dir_fd = &cfd};
	if (atomic_write_file_opts(path, data, len, &wo, &err) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	o = ctl_answer(true, NULL);
	snprintf(path, sizeof(path), RESCUE_SANDBOX_DIR "/%s/" RESCUE_CONFIG_DIR "/" CANDIDATE_NAME,
		 profile_label(p));
	cJSON_AddStringToObject(o, "path", path);
	cJSON_AddStringToObject(o, "config_path", p->config_path);
	return o;
}

/* The rescuer's copy: regular, no link, bounded, read once. */
static int read_candidate(const struct sup *s, const struct rescuer *who, char **data, size_t *len,
			  ocr_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	cleanup_close int cfd = open_copy_dir(s, who, dir, sizeof(dir), err);

	if (cfd < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" CANDIDATE_NAME, dir);
	if (read_file_capped_at(cfd, CANDIDATE_NAME, path, READ_FILE_MAX, data, len, err) < 0)
		return err->errnum == ENOENT
			   ? err_set(err, 0, "no copy to apply: ask for one first (config pull)")
			   : -1;
	return 0;
}

/* Step 2 and 3: what the candidate asks for against the pins, and a new
 * block against the host. *PORTS is the block to run on. */
static cJSON *check_ports(struct sup *s, const cJSON *cand, struct port_block *ports)
{
	const struct instance *inst = ctl_target(s);
	const cJSON *port = config_get(cand, "gateway.port");
	const cJSON *ws = config_get(cand, "agents.defaults.workspace");
	unsigned base = inst->pins.ports.base;
	struct port_block asked;
	ocr_error err = {0};
	char buf[SANDBOX_ERROR_MSG_MAX + 64];

	if (port && (!cJSON_IsNumber(port) || port->valuedouble != (unsigned)port->valuedouble))
		return refuse("gateway.port is not a port number");
	if (port)
		base = (unsigned)port->valuedouble;
	if (port_block_init(&asked, base, PORT_FROM_CONFIG, &err) < 0 ||
	    port_block_validate(&asked, &err) < 0 ||
	    config_collect_explicit_ports(cand, &asked, &err) < 0)
		return refuse("gateway.port %u: %s", base, err_text(&err, buf, sizeof(buf)));
	for (size_t i = 0; i < asked.n_explicit; i++)
		if (!port_block_owns(&asked, asked.explicit_ports[i].port) &&
		    !port_block_owns(&inst->pins.ports, asked.explicit_ports[i].port))
			return refuse("%s asks for port %u outside the block: new ports are a "
				      "person's decision (on the host: openclaw-run --profile %s "
				      "setup --accept-config)",
				      asked.explicit_ports[i].source, asked.explicit_ports[i].port,
				      profile_label(&inst->profile));
	if (cJSON_IsString(ws) && ws->valuestring[0] &&
	    strcmp(ws->valuestring, inst->pins.workspace) != 0)
		return refuse(
		    "agents.defaults.workspace %s differs from the pinned %s: a new "
		    "workspace is a person's decision (on the host: openclaw-run --profile "
		    "%s setup --workspace DIR)",
		    ws->valuestring, inst->pins.workspace, profile_label(&inst->profile));
	*ports = inst->pins.ports;
	if (base == inst->pins.ports.base)
		return NULL;
	if (port_block_init(ports, base, PORT_FROM_CONFIG, &err) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	for (size_t i = 0; i < inst->pins.ports.n_explicit; i++) {
		const struct port_explicit *e = &inst->pins.ports.explicit_ports[i];

		if (!port_block_owns(ports, e->port))
			port_block_add_explicit(ports, e->port, e->source, &err);
	}
	return NULL;
}

/* Step 3: the new block collides with no other instance of the host. */
static cJSON *check_isolated(struct sup *s, const struct port_block *ports)
{
	const struct instance *inst = ctl_target(s);
	struct instance_set set = {0};
	struct violation_list vl = {0};
	struct instance *all;
	ocr_error err = {0};
	char buf[SANDBOX_ERROR_MSG_MAX + 64];
	size_t n = 0, self;
	cJSON *r = NULL;
	unsigned hit;

	if (registry_scan(s->o->env, &set, &err) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	all = calloc(set.n + 1, sizeof(*all));
	for (size_t i = 0; all && i < set.n; i++)
		if (strcmp(set.items[i].profile.state_dir, inst->profile.state_dir) != 0)
			all[n++] = set.items[i];
	if (!all) {
		instance_set_release(&set);
		return ctl_answer(false, "out of memory");
	}
	self = n;
	all[n] = *inst;
	all[n++].ports = *ports;
	if (check_instances(all, n, &vl, &err) < 0)
		r = ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	for (size_t i = 0; !r && i < vl.n; i++)
		if (violation_involves(&vl.items[i], self))
			r = refuse("ports %u..%u: %s", ports->base, port_block_last(ports),
				   vl.items[i].detail);
	if (!r && (hit = port_probe_busy(ports->base, port_block_last(ports))) != 0) {
		char holder[128];

		port_describe_holder(hit, holder, sizeof(holder));
		r = refuse("ports %u..%u: port %u is held by %s", ports->base,
			   port_block_last(ports), hit, holder);
	}
	violation_list_release(&vl);
	free(all);
	instance_set_release(&set);
	return r;
}

/* The launcher's copy of the bytes under check, in the grant directory
 * (the launcher's own): neither the rescuer nor the target can change it
 * between the check and the install. */
static int stage(const char *dir, const char *data, size_t len, char *path, size_t plen,
		 ocr_error *err)
{
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct atomic_write_opts wo = {
	    .mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1, .dir_fd = &dfd};

	snprintf(path, plen, "%s/" STAGED_NAME, dir);
	if (dfd < 0)
		return err_set(err, errno, "open %s", dir);
	return atomic_write_file_opts(path, data, len, &wo, err);
}

/* Reads FD until EOF or DEADLINE_MS into OUT (capped). */
static bool drain(int fd, char *out, size_t cap, int64_t deadline_ms)
{
	size_t used = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline_ms - runtime_now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
		if (used + (size_t)n < cap) {
			memcpy(out + used, buf, (size_t)n);
			used += (size_t)n;
			out[used] = '\0';
		}
	}
}

/* Spawns ARGV in the target's sandbox with its stdout and stderr on FD. */
static int spawn_captured(struct sup *s, const struct plan_options *popt, char *const *argv, int fd,
			  struct sandbox **sb, ocr_error *err)
{
	struct sandbox_status status = {0};
	int saved1, saved2, rc;

	if (plan_build(&s->inst, popt, argv, sb, err) < 0)
		return -1;
	sandbox_set_warning_fd(*sb, -1);
	/* The sandbox inherits the caller's stdio: lend it FD for the spawn. */
	fflush(stdout);
	fflush(stderr);
	saved1 = dup(STDOUT_FILENO);
	saved2 = dup(STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	rc = sandbox_spawn(*sb, &status, err);
	dup2(saved1, STDOUT_FILENO);
	dup2(saved2, STDERR_FILENO);
	close(saved1);
	close(saved2);
	if (rc < 0) {
		sandbox_free(*sb);
		*sb = NULL;
	}
	return rc;
}

/* Step 4: upstream's `openclaw config validate --json` on the staged copy,
 * in the target's sandbox. 0 accepted, 1 refused (OUT says why), -1 could
 * not run. */
static int upstream_validate(struct sup *s, const char *staged, char *out, size_t cap,
			     ocr_error *err)
{
	const struct supervisor_launch *l = &s->o->launch;
	struct plan_options popt = l->popt;
	char *argv[16], env_cfg[PATH_MAX + 64];
	const char *binds[l->popt.n_ro_binds + 1];
	char *env[l->popt.n_extra_env + 1];
	struct sandbox *sb = NULL;
	cleanup_close int rd = -1;
	int p[2], code = -1;
	size_t n = 0;

	out[0] = '\0';
	for (char *const *a = l->tool_argv; a && *a && n < 12 && strcmp(*a, "doctor") != 0; a++)
		argv[n++] = *a;
	if (!n)
		return err_set(err, 0, "no openclaw command to validate with");
	argv[n++] = (char *)"config";
	argv[n++] = (char *)"validate";
	argv[n++] = (char *)"--json";
	argv[n] = NULL;
	memcpy(env, l->popt.extra_env, l->popt.n_extra_env * sizeof(*env));
	snprintf(env_cfg, sizeof(env_cfg), "OPENCLAW_CONFIG_PATH=%s", staged);
	env[l->popt.n_extra_env] = env_cfg;
	memcpy(binds, l->popt.ro_binds, l->popt.n_ro_binds * sizeof(*binds));
	binds[l->popt.n_ro_binds] = staged;
	popt.extra_env = env;
	popt.n_extra_env = l->popt.n_extra_env + 1;
	popt.ro_binds = binds;
	popt.n_ro_binds = l->popt.n_ro_binds + 1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(err, errno, "pipe");
	rd = p[0];
	if (spawn_captured(s, &popt, argv, p[1], &sb, err) < 0) {
		close(p[1]);
		return -1;
	}
	close(p[1]);
	if (!drain(rd, out, cap, runtime_now_ms() + VALIDATE_TIMEOUT_S * 1000LL))
		sandbox_kill(sb, err);
	sandbox_wait(sb, 0, &code, err);
	sandbox_free(sb);
	return code == 0 ? 0 : 1;
}

/* "gateway.port: Invalid input; ..." from upstream's JSON answer. */
static void upstream_issues(const char *out, char *buf, size_t len)
{
	cJSON *o = cJSON_Parse(strchr(out, '{') ? strchr(out, '{') : out);
	const cJSON *e;

	buf[0] = '\0';
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "issues"))
	{
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "path"));
		const char *m =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s%s: %s", used ? "; " : "", p ? p : "?",
			 m ? m : "?");
	}
	if (!buf[0])
		snprintf(buf, len, "%.*s", (int)(len - 1), out);
	cJSON_Delete(o);
}

/* The target's config dir, for writing without following links below the
 * state dir (the payload's). */
static int open_config_dir(const struct profile *p, ocr_error *err)
{
	char dir[PATH_MAX];
	const char *rel;
	int sfd, fd;

	snprintf(dir, sizeof(dir), "%s", p->config_path);
	*strrchr(dir, '/') = '\0';
	if (!path_within(dir, p->state_dir)) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? err_set(err, errno, "open %s", dir) : fd;
	}
	sfd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return err_set(err, errno, "open %s", p->state_dir);
	rel = dir + strlen(p->state_dir);
	if (*rel == '\0')
		return sfd;
	fd = trust_open_beneath(sfd, rel + 1, O_RDONLY | O_DIRECTORY, 0);
	close(sfd);
	return fd < 0 ? err_set(err, errno, "open %s (no links below the state dir)", dir) : fd;
}

/* Installs DATA as the target's config (the previous one kept as .bak)
 * and pins PORTS when they moved. */
static int install(struct sup *s, const char *data, size_t len, const struct port_block *ports,
		   ocr_error *err)
{
	const struct instance *inst = ctl_target(s);
	cleanup_close int cfd = open_config_dir(&inst->profile, err);
	struct atomic_write_opts wo = {
	    .mode = 0600,
	    .uid = inst->pins.has_ids ? inst->pins.uid : (uid_t)-1,
	    .gid = inst->pins.has_ids ? inst->pins.gid : (gid_t)-1,
	    .backup = true,
	    .dir_fd = &cfd,
	};

	if (cfd < 0)
		return -1;
	if (ports->base != inst->pins.ports.base) {
		struct pins np = inst->pins;

		np.ports = *ports;
		if (pins_save(s->o->dirs->records, &inst->profile, &np, err) < 0)
			return -1;
		s->inst.pins = np;
	}
	if (atomic_write_file_opts(inst->profile.config_path, data, len, &wo, err) < 0)
		return -1;
	if (ports->base != s->port)
		sup_move_port(s, ports);
	return 0;
}

cJSON *ctl_config_apply(struct sup *s, const struct rescuer *who, bool apply)
{
	char dir[PATH_MAX], staged[PATH_MAX + 32], buf[SANDBOX_ERROR_MSG_MAX + 64];
	cleanup_free char *data = NULL;
	cleanup_free char *out = malloc(VALIDATE_OUT_MAX);
	struct port_block ports;
	ocr_error err = {0};
	cJSON *cand = NULL, *r;
	size_t len = 0;
	int rc;

	if (!out || grant_dir_of(s, who, dir, sizeof(dir), &err) < 0 ||
	    read_candidate(s, who, &data, &len, &err) < 0)
		return ctl_answer(false, out ? err_text(&err, buf, sizeof(buf)) : "out of memory");
	/* Included files live beside the target's config, out of the
	 * rescuer's reach: such a config is edited on the host. */
	if (strstr(data, "$include"))
		return refuse("the copy uses $include, whose files the rescuer cannot see: edit "
			      "this config on the host");
	if (json5_parse(data, len, RESCUE_CONFIG_DIR "/" CANDIDATE_NAME, &cand, &err) < 0)
		return refuse("does not parse: %s", err_text(&err, buf, sizeof(buf)));
	r = check_ports(s, cand, &ports);
	cJSON_Delete(cand);
	if (r || (ports.base != s->port && (r = check_isolated(s, &ports))))
		return r;
	if (stage(dir, data, len, staged, sizeof(staged), &err) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	rc = upstream_validate(s, staged, out, VALIDATE_OUT_MAX, &err);
	if (rc < 0)
		return refuse("openclaw config validate: %s", err_text(&err, buf, sizeof(buf)));
	if (rc > 0) {
		upstream_issues(out, buf, sizeof(buf));
		return refuse("openclaw config validate refuses it: %s", buf);
	}
	if (!apply) {
		r = ctl_answer(true, NULL);
		cJSON_AddNumberToObject(r, "port", ports.base);
		return r;
	}
	if (install(s, data, len, &ports, &err) < 0)
		return refuse("not installed (the previous config stays): %s",
			      err_text(&err, buf, sizeof(buf)));
	sup_say(s, "a rescuer applied a new config (port %u): restarting the gateway on it",
		ports.base);
	snprintf(s->st->last_restart_reason, sizeof(s->st->last_restart_reason),
		 "config applied by rescuer %s", who->label);
	if (s->sb && s->kind == RUN_GATEWAY && s->stopping == STOP_NONE)
		sup_begin_stop(s, STOP_RESTART);
	else if (!s->sb)
		sup_start_again(s);
	r = ctl_answer(true, NULL);
	cJSON_AddNumberToObject(r, "port", ports.base);
	return r;
}
