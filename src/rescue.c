/* Rescue grants on the host (see rescue.h). */
#include "rescue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_dirs.h"
#include "registry.h"
#include "runtime.h"
#include "trust.h"

/* Another profile, as setup would find it: the caller's OPENCLAW_* path
 * overrides are its own profile's, not the target's. */
static int load_target(const struct env_view *env, const char *name, struct instance *out,
		       ocr_error *err)
{
	struct env_view plain = *env;

	plain.state_dir = plain.config_path = plain.workspace_dir = plain.gateway_port = NULL;
	if (instance_load(strcmp(name, "default") == 0 ? NULL : name, &plain, 0, out, err) < 0)
		return err_prefix(err, "--rescues %s", name);
	if (!out->pinned) {
		instance_release(out);
		return err_set(err, 0,
			       "--rescues %s: profile %s does not exist here (no records of "
			       "openclaw-run: run `openclaw-run --profile %s setup` first)",
			       name, name, name);
	}
	return 0;
}

static int add_one(const struct env_view *env, const struct instance *self, const char *spec,
		   struct pins *pins, bool *changed, ocr_error *err)
{
	char name[PROFILE_NAME_MAX + 1];
	struct instance target = {0};
	unsigned items;
	int rc;

	if (grant_parse(spec, name, sizeof(name), &items, err) < 0)
		return err_prefix(err, "--rescues");
	if (strcmp(name, profile_label(&self->profile)) == 0)
		return err_set(err, 0, "--rescues %s: a profile cannot rescue itself", name);
	if (load_target(env, name, &target, err) < 0)
		return -1;
	if (strcmp(target.profile.state_dir, self->profile.state_dir) == 0) {
		instance_release(&target);
		return err_set(err, 0, "--rescues %s: that is this profile (state dir %s)", name,
			       self->profile.state_dir);
	}
	rc = grant_list_set(pins->rescues, &pins->n_rescues, name, target.profile.state_dir, items,
			    err);
	/* The workspace as the target's setup pinned (and checked) it. */
	for (size_t i = 0; rc >= 0 && i < pins->n_rescues; i++) {
		struct grant *g = &pins->rescues[i];

		if (strcmp(g->state_dir, target.profile.state_dir) != 0 ||
		    !(g->items & GRANT_WORKSPACE) ||
		    strcmp(g->workspace, target.pins.workspace) == 0)
			continue;
		snprintf(g->workspace, sizeof(g->workspace), "%s", target.pins.workspace);
		rc = 1;
	}
	instance_release(&target);
	if (rc > 0)
		*changed = true;
	return rc < 0 ? err_prefix(err, "--rescues %s", spec) : 0;
}

int rescue_grants_update(const struct env_view *env, const struct instance *self, char *const *add,
			 size_t n_add, char *const *del, size_t n_del, struct pins *pins,
			 bool *changed, ocr_error *err)
{
	*changed = false;
	for (size_t i = 0; i < n_del; i++) {
		/* By name alone: a grant to a profile since removed must go too. */
		for (size_t j = 0; j < pins->n_rescues;) {
			if (strcmp(pins->rescues[j].profile, del[i]) == 0) {
				memmove(&pins->rescues[j], &pins->rescues[j + 1],
					(pins->n_rescues - j - 1) * sizeof(pins->rescues[0]));
				pins->n_rescues--;
				*changed = true;
			} else {
				j++;
			}
		}
	}
	for (size_t i = 0; i < n_add; i++)
		if (add_one(env, self, add[i], pins, changed, err) < 0)
			return -1;
	return 0;
}

/* "<label>-<8 hex>.json" of a record: the label, when the name is one. */
static bool record_label(const char *file, char *label, size_t len)
{
	size_t n = strlen(file);

	if (n < 15 || strcmp(file + n - 5, ".json") != 0 || file[n - 14] != '-' || n - 14 >= len)
		return false;
	memcpy(label, file, n - 14);
	label[n - 14] = '\0';
	return true;
}

static void take_rescuer(const char *label, const struct pins *pin, const struct profile *target,
			 struct rescuer *out, size_t max, size_t *n)
{
	const char *tlabel = profile_label(target);

	for (size_t i = 0; i < pin->n_rescues && *n < max; i++) {
		const struct grant *g = &pin->rescues[i];
		struct rescuer *r = &out[*n];

		if (strcmp(g->profile, tlabel) != 0 || strcmp(g->state_dir, target->state_dir) != 0)
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->label, sizeof(r->label), "%s", label);
		snprintf(r->state_dir, sizeof(r->state_dir), "%s", pin->state_dir);
		r->uid = pin->has_ids ? pin->uid : geteuid();
		r->gid = pin->has_ids ? pin->gid : getegid();
		r->items = g->items;
		(*n)++;
	}
	/* The target's own record: rescuers a person named for its container. */
	if (strcmp(label, tlabel) != 0 || strcmp(pin->state_dir, target->state_dir) != 0)
		return;
	for (size_t i = 0; i < pin->n_rescued_by && *n < max; i++) {
		const struct grant *g = &pin->rescued_by[i];
		struct rescuer *r = &out[*n];

		if (!g->dir[0])
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->label, sizeof(r->label), "%s", g->profile);
		snprintf(r->dir, sizeof(r->dir), "%s", g->dir);
		r->uid = pin->has_ids ? pin->uid : geteuid();
		r->gid = pin->has_ids ? pin->gid : getegid();
		r->items = g->items;
		(*n)++;
	}
}

int rescue_find_rescuers(const char *records_dir, const struct profile *target, struct rescuer *out,
			 size_t max, size_t *n, ocr_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX], label[PROFILE_NAME_MAX + 1];
	struct dirent *de;
	DIR *d;

	*n = 0;
	if (snprintf(dir, sizeof(dir), "%s/profiles", records_dir) >= (int)sizeof(dir))
		return err_set(err, ENAMETOOLONG, "%s/profiles", records_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set(err, errno, "open %s", dir);
	while ((de = readdir(d)) != NULL && *n < max) {
		struct pins pin;
		bool found;
		ocr_error skip = {0};
		char want[PROFILE_NAME_MAX + 32];

		if (!record_label(de->d_name, label, sizeof(label)) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		/* A record that is not ours, or one of another state dir's
		 * profile under this name, grants nothing. */
		if (pins_load_file(path, &pin, &found, &skip) < 0 || !found)
			continue;
		snprintf(want, sizeof(want), "%s-%08x.json", label, pins_hash(pin.state_dir));
		if (strcmp(want, de->d_name) != 0)
			continue;
		take_rescuer(label, &pin, target, out, max, n);
	}
	closedir(d);
	return 0;
}

int rescue_grant_dir(const char *rescuer_label, const char *rescuer_state, const char *target_label,
		     const char *target_state, char *buf, size_t len, ocr_error *err)
{
	struct profile p = {0};
	struct runtime_paths rp;

	/* Only the runtime dir is wanted: it depends on the caller, not on P. */
	snprintf(p.state_dir, sizeof(p.state_dir), "%s", rescuer_state);
	if (runtime_paths_for(&p, &rp, err) < 0)
		return -1;
	if (snprintf(buf, len, "%s/rescue/%s-%08x/%s-%08x", rp.dir, rescuer_label,
		     pins_hash(rescuer_state), target_label, pins_hash(target_state)) >= (int)len)
		return err_set(err, ENAMETOOLONG, "grant dir of %s over %s", rescuer_label,
			       target_label);
	return 0;
}

int rescue_rescuer_dir(const struct rescuer *who, const struct profile *target, char *buf,
		       size_t len, ocr_error *err)
{
	if (!who->dir[0])
		return rescue_grant_dir(who->label, who->state_dir, profile_label(target),
					target->state_dir, buf, len, err);
	if (snprintf(buf, len, "%s", who->dir) >= (int)len)
		return err_set(err, ENAMETOOLONG, "grant dir of %s", who->label);
	return 0;
}

/* DIR exists as a directory of ours that nobody else may write, or is
 * made so. */
static int own_dir(const char *dir, ocr_error *err)
{
	struct stat st;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "create %s", dir);
	if (lstat(dir, &st) < 0)
		return err_set(err, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return err_set(err, EPERM,
			       "%s: not a directory of uid %u that only it may write (a grant "
			       "directory must be the launcher's)",
			       dir, (unsigned)geteuid());
	return 0;
}

int rescue_grant_dir_prepare(const char *dir, ocr_error *err)
{
	char buf[PATH_MAX];
	struct stat st;
	char *cut[2];

	/* <rt>/rescue, <rt>/rescue/<rescuer>, DIR, then DIR/config (only a
	 * place to mount the copy on: the launcher's, empty). */
	snprintf(buf, sizeof(buf), "%s", dir);
	cut[1] = strrchr(buf, '/');
	*cut[1] = '\0';
	cut[0] = strrchr(buf, '/');
	*cut[0] = '\0';
	if (own_dir(buf, err) < 0)
		return -1;
	*cut[0] = '/';
	if (own_dir(buf, err) < 0)
		return -1;
	*cut[1] = '/';
	if (own_dir(buf, err) < 0)
		return -1;
	if (snprintf(buf, sizeof(buf), "%s/" RESCUE_CONFIG_DIR, dir) >= (int)sizeof(buf))
		return err_set(err, ENAMETOOLONG, "%s/" RESCUE_CONFIG_DIR, dir);
	/* Before the copy moved to the rescuer's state dir, config/ was its
	 * sandbox account's: taken back (nothing reaches it under the mount). */
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "create %s", buf);
	if (lstat(buf, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != geteuid() &&
	    (lchown(buf, geteuid(), getegid()) < 0 || chmod(buf, 0755) < 0))
		return err_set(err, errno, "chown %s", buf);
	return own_dir(buf, err);
}

int rescue_copy_dir_open(const char *rescuer_state, const char *target_label,
			 const char *target_state, uid_t uid, gid_t gid, char *path, size_t len,
			 ocr_error *err)
{
	char rel[PROFILE_NAME_MAX + 64];
	int sfd, fd;

	snprintf(rel, sizeof(rel), RESCUE_COPY_DIR "/%s-%08x", target_label,
		 pins_hash(target_state));
	if (snprintf(path, len, "%s/%s", rescuer_state, rel) >= (int)len)
		return err_set(err, ENAMETOOLONG, "%s/%s", rescuer_state, rel);
	sfd = open(rescuer_state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return err_set(err, errno, "open %s", rescuer_state);
	fd = trust_mkdir_beneath(sfd, rel, 0700);
	if (fd < 0) {
		err_set(err, errno, "create %s (no links are followed in a state dir)", path);
	} else if (trust_chown_beneath(sfd, RESCUE_COPY_DIR, uid, gid, err) < 0 ||
		   trust_chown_beneath(sfd, rel, uid, gid, err) < 0) {
		close(fd);
		fd = -1;
	}
	close(sfd);
	return fd;
}

/* A container grant's copy: config/ of the grant directory itself, the
 * rescuer's sandbox account's (0700), opened without following a link. */
static int grant_dir_copy_open(const char *dir, uid_t uid, gid_t gid, char *path, size_t len,
			       ocr_error *err)
{
	struct stat st;
	int dfd, fd;

	if (snprintf(path, len, "%s/" RESCUE_CONFIG_DIR, dir) >= (int)len)
		return err_set(err, ENAMETOOLONG, "%s/" RESCUE_CONFIG_DIR, dir);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return err_set(err, errno, "open %s", dir);
	fd = openat(dfd, RESCUE_CONFIG_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return err_set(err, errno, "open %s (no links)", path);
	if (fstat(fd, &st) < 0 ||
	    ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) ||
	    ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)) {
		err_set(err, errno, "chown %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

int rescue_rescuer_copy_dir_open(const struct rescuer *who, const struct profile *target,
				 char *path, size_t len, ocr_error *err)
{
	if (who->dir[0])
		return grant_dir_copy_open(who->dir, who->uid, who->gid, path, len, err);
	return rescue_copy_dir_open(who->state_dir, profile_label(target), target->state_dir,
				    who->uid, who->gid, path, len, err);
}

static size_t rescuers_of(const struct env_view *env, const struct instance *inst,
			  struct rescuer *out, size_t max)
{
	struct host_dirs dirs;
	ocr_error err = {0};
	size_t n = 0;

	if (host_dirs_resolve(env, &dirs, &err) < 0 ||
	    rescue_find_rescuers(dirs.records, &inst->profile, out, max, &n, &err) < 0)
		return 0;
	return n;
}

void rescue_describe(FILE *out, const struct env_view *env, const struct instance *inst)
{
	struct rescuer r[RESCUERS_MAX];
	size_t n = rescuers_of(env, inst, r, RESCUERS_MAX);
	char items[96];

	for (size_t i = 0; inst->pinned && i < inst->pins.n_rescues; i++) {
		grant_items_text(inst->pins.rescues[i].items, items, sizeof(items));
		fprintf(out, "  rescues  %s (%s)\n", inst->pins.rescues[i].profile, items);
	}
	for (size_t i = 0; i < n; i++) {
		grant_items_text(r[i].items, items, sizeof(items));
		fprintf(out, "  rescuer  %s may rescue it (%s)\n", r[i].label, items);
	}
}

void rescue_describe_json(cJSON *o, const struct env_view *env, const struct instance *inst)
{
	struct rescuer r[RESCUERS_MAX];
	size_t n = rescuers_of(env, inst, r, RESCUERS_MAX);
	cJSON *arr = cJSON_AddArrayToObject(o, "rescues");

	for (size_t i = 0; inst->pinned && i < inst->pins.n_rescues; i++)
		cJSON_AddItemToArray(arr, grant_to_json(&inst->pins.rescues[i]));
	arr = cJSON_AddArrayToObject(o, "rescued_by");
	for (size_t i = 0; i < n; i++) {
		struct grant g = {.items = r[i].items};

		snprintf(g.profile, sizeof(g.profile), "%.*s", (int)sizeof(g.profile) - 1,
			 r[i].label);
		snprintf(g.state_dir, sizeof(g.state_dir), "%s", r[i].state_dir);
		snprintf(g.dir, sizeof(g.dir), "%s", r[i].dir);
		cJSON_AddItemToArray(arr, grant_to_json(&g));
	}
}

/* DIR and A neither hold nor lie in one another. */
static bool apart(const char *dir, const char *a)
{
	return !a[0] || (!path_within(dir, a) && !path_within(a, dir));
}

/* The copy's directory shown at the target's own config dir too, so that
 * upstream's tools work with the target's config path. Only for the usual
 * file name, and only where it hides nothing of the rescuer's own. */
static int add_alias(struct sandbox *sb, const struct instance *self, const struct grant *g,
		     const char *src, const struct env_view *env, ocr_error *err)
{
	const struct profile *me = &self->profile;
	struct profile target = {0};
	struct host_dirs dirs;
	struct pins tp;
	ocr_error ignored = {0};
	char dir[PATH_MAX], own_config_dir[PATH_MAX];
	bool found = false;
	char *slash;

	snprintf(target.name, sizeof(target.name), "%s",
		 strcmp(g->profile, "default") == 0 ? "" : g->profile);
	snprintf(target.state_dir, sizeof(target.state_dir), "%s", g->state_dir);
	if (!env || host_dirs_resolve(env, &dirs, &ignored) < 0 ||
	    pins_load(dirs.records, &target, &tp, &found, &ignored) < 0 || !found)
		return 0;
	snprintf(dir, sizeof(dir), "%s", tp.config_path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir || strcmp(slash + 1, "openclaw.json") != 0)
		return 0;
	*slash = '\0';
	snprintf(own_config_dir, sizeof(own_config_dir), "%s", me->config_path);
	slash = strrchr(own_config_dir, '/');
	if (slash)
		*slash = '\0';
	if (!apart(dir, me->state_dir) || !apart(dir, own_config_dir) ||
	    !apart(dir, me->workspace) || path_within(me->home, dir) || !apart(dir, "/run") ||
	    !apart(dir, "/usr") || !apart(dir, "/etc") || !apart(dir, "/proc") ||
	    !apart(dir, "/dev") || !apart(dir, "/opt"))
		return 0;
	return sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, src, dir, SANDBOX_MOUNT_NOFOLLOW, err);
}

static int add_grant(struct sandbox *sb, const struct instance *self, const struct grant *g,
		     const struct env_view *env, ocr_error *err)
{
	const struct pins *pin = &self->pins;
	char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	int fd;

	/* A container's grant: the directory a person named, on the volume
	 * shared with the target's container, holding the copy too. */
	if (g->dir[0])
		snprintf(dir, sizeof(dir), "%s", g->dir);
	else if (rescue_grant_dir(profile_label(&self->profile), self->profile.state_dir,
				  g->profile, g->state_dir, dir, sizeof(dir), err) < 0)
		return -1;
	if (rescue_grant_dir_prepare(dir, err) < 0)
		return -1;
	fd = g->dir[0]
		 ? grant_dir_copy_open(dir, pin->has_ids ? pin->uid : geteuid(),
				       pin->has_ids ? pin->gid : getegid(), src, sizeof(src), err)
		 : rescue_copy_dir_open(self->profile.state_dir, g->profile, g->state_dir,
					pin->has_ids ? pin->uid : geteuid(),
					pin->has_ids ? pin->gid : getegid(), src, sizeof(src), err);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(dst, sizeof(dst), RESCUE_SANDBOX_DIR "/%s", g->profile);
	if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RO, dir, dst, SANDBOX_MOUNT_NOFOLLOW, err) < 0)
		return -1;
	snprintf(dst, sizeof(dst), RESCUE_SANDBOX_DIR "/%s/" RESCUE_CONFIG_DIR, g->profile);
	if (sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, src, dst, SANDBOX_MOUNT_NOFOLLOW, err) <
		0 ||
	    (!g->dir[0] && add_alias(sb, self, g, src, env, err) < 0))
		return -1;
	if (!(g->items & GRANT_WORKSPACE))
		return 0;
	/* Pinned by the target's setup, checked by the trust guard then. */
	snprintf(dst, sizeof(dst), RESCUE_SANDBOX_DIR "/%s/workspace", g->profile);
	return sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RW, g->workspace, dst,
				 SANDBOX_MOUNT_OPTIONAL | SANDBOX_MOUNT_NOFOLLOW, err);
}

int rescue_add_mounts(struct sandbox *sb, const struct instance *self, const struct env_view *env,
		      ocr_error *err)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (!self->pinned || !self->pins.n_rescues)
		return 0;
	for (size_t i = 0; i < self->pins.n_rescues; i++)
		if (add_grant(sb, self, &self->pins.rescues[i], env, err) < 0)
			return err_prefix(err, "profile %s: grant on %s",
					  profile_label(&self->profile),
					  self->pins.rescues[i].profile);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return err_set(err, errno, "readlink /proc/self/exe");
	exe[n] = '\0';
	return sandbox_add_mount(sb, SANDBOX_MOUNT_BIND_RO, exe, RESCUE_BIN_DIR "/openclaw-run", 0,
				 err);
}
