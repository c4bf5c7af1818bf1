/* setup on disk: directories and ownership, see setup.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ownership.h"
#include "service_user.h"
#include "setup.h"
#include "trust.h"

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The part of PATH below DIR ("" for DIR itself); NULL when outside. */
static const char *path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!path_within(path, dir))
		return NULL;
	return path[n] == '/' ? path + n + 1 : path + n;
}

/* State dir (a person's path: mkdir -p), then logs and an inner workspace
 * beneath it without following links. A workspace outside the state dir is
 * created only for a rootless caller: root never creates anything outside
 * the state dir. Returns an O_DIRECTORY fd of the state dir. */
int setup_make_dirs(const struct profile *p, bool root, ocr_error *err)
{
	char parent[PATH_MAX];
	const char *ws_rel = path_below(p->workspace, p->state_dir);
	int state_fd, fd;

	snprintf(parent, sizeof(parent), "%s", p->config_path);
	*strrchr(parent, '/') = '\0';
	/* A config dir outside the state dir stays root's: the sandbox's account
	 * only needs to pass through it to its own config (0711). */
	if (registry_mkdirs(p->state_dir, 0700, err) < 0 ||
	    (parent[0] && !path_below(parent, p->state_dir) &&
	     registry_mkdirs(parent, root ? 0711 : 0700, err) < 0))
		return -1;
	state_fd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (state_fd < 0)
		return err_set(err, errno, "open state dir %s", p->state_dir);
	const char *inner[] = {"logs", ws_rel && *ws_rel ? ws_rel : NULL,
			       path_below(parent, p->state_dir)};
	for (size_t i = 0; i < sizeof(inner) / sizeof(inner[0]); i++) {
		if (!inner[i] || !*inner[i])
			continue;
		fd = trust_mkdir_beneath(state_fd, inner[i], 0700);
		if (fd < 0) {
			err_set(err, errno, "create %s/%s (no links are followed in a state dir)",
				p->state_dir, inner[i]);
			close(state_fd);
			return -1;
		}
		close(fd);
	}
	if (!ws_rel && !root && registry_mkdirs(p->workspace, 0700, err) < 0) {
		close(state_fd);
		return -1;
	}
	if (!ws_rel && root && !is_dir(p->workspace)) {
		close(state_fd);
		return err_set(err, ENOENT,
			       "workspace %s does not exist; root creates nothing outside the "
			       "state dir: create it for the sandbox's account first (e.g. install "
			       "-d -o " SERVICE_USER_DEFAULT " -m 0700 %s)",
			       p->workspace, p->workspace);
	}
	return state_fd;
}

/* As root: the state dir, its logs dir, an inner workspace and the config
 * go to the sandbox's account, through descriptors, never following a
 * link, never outside the state dir but for the config file itself. */
int setup_give_to_user(int state_fd, const struct profile *p, uid_t uid, gid_t gid, ocr_error *err)
{
	const char *ws_rel = path_below(p->workspace, p->state_dir);
	const char *cfg_rel = path_below(p->config_path, p->state_dir);
	char dir[PATH_MAX];
	int rc, dir_fd;

	if (trust_chown_beneath(state_fd, "", uid, gid, err) < 0 ||
	    trust_chown_beneath(state_fd, "logs", uid, gid, err) < 0 ||
	    (ws_rel && *ws_rel && trust_chown_beneath(state_fd, ws_rel, uid, gid, err) < 0))
		return err_prefix(err, "state dir %s", p->state_dir);
	if (cfg_rel)
		return trust_chown_beneath(state_fd, cfg_rel, uid, gid, err) < 0
			   ? err_prefix(err, "state dir %s", p->state_dir)
			   : 0;
	snprintf(dir, sizeof(dir), "%s", p->config_path);
	*strrchr(dir, '/') = '\0';
	dir_fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return err_set(err, errno, "open config dir %s", dir);
	rc = trust_chown_beneath(dir_fd, strrchr(p->config_path, '/') + 1, uid, gid, err);
	close(dir_fd);
	return rc < 0 ? err_prefix(err, "config dir %s", dir) : 0;
}

/* Upstream's CLI run as root on the host leaves root-owned files in the
 * state dir; the gateway cannot use them. Give them back, beneath the
 * state dir's descriptor, never following a link or leaving its
 * filesystem. */
void setup_repair_ownership(int state_fd, const struct profile *p, uid_t uid, gid_t gid)
{
	size_t fixed = 0, skipped = 0, n = strlen(p->state_dir);
	const char *skip =
	    path_within(p->workspace, p->state_dir) && p->workspace[n] ? p->workspace + n + 1 : "";
	ocr_error err = {0};

	if (ownership_repair(state_fd, skip, uid, gid, &fixed, &skipped, &err) < 0) {
		err_print(&err);
		return;
	}
	if (fixed)
		printf("setup: gave %zu file%s in %s back to uid %u\n", fixed,
		       fixed == 1 ? "" : "s", p->state_dir, (unsigned)uid);
	if (skipped)
		cli_warnf("setup: profile %s: %zu file%s in %s left alone (a second hard link, or "
			  "chown refused); check them by hand",
			  profile_label(p), skipped, skipped == 1 ? "" : "s", p->state_dir);
}
