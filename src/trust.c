/* The trust boundary: see trust.h. */
#include "trust.h"

#include "mount_names.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum guard_kind {
	GUARD_SYSTEM,	/* a system tree: nothing in it */
	GUARD_EXACT,	/* a shared top-level dir (/tmp, /home): not itself */
	GUARD_HOME,	/* a HOME: not itself, nothing holding it, none of its dot dirs */
	GUARD_LAUNCHER, /* our own records, cache, logs, runtime dir */
	GUARD_INSTANCE, /* another instance's state dir, config dir or workspace */
};

struct guard_entry {
	enum guard_kind kind;
	char path[PATH_MAX];
	char label[PATH_MAX + 64]; /* "the system tree /etc", "profile rescue's state dir" */
	bool have_id;
	dev_t dev;
	ino_t ino;
	bool own; /* GUARD_HOME: the caller's own HOME, where its instances live */
};

struct trust_guard {
	struct guard_entry *items;
	size_t n, cap;
};

static const char *const system_trees[] = {
    "/etc", "/usr",  "/proc", "/sys",	"/dev",	  "/run",    "/var",  "/boot",	     "/opt",
    "/bin", "/sbin", "/lib",  "/lib32", "/lib64", "/libx32", "/snap", "/lost+found", NULL,
};
static const char *const shared_tops[] = {"/tmp", "/home", "/mnt", "/media", "/srv", NULL};

static int guard_add(struct trust_guard *g, enum guard_kind kind, const char *path,
		     const char *label, ocr_error *err)
{
	struct guard_entry *e;
	struct stat st;

	if (!path || path[0] != '/')
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct guard_entry *bigger = realloc(g->items, cap * sizeof(*bigger));

		if (!bigger)
			return err_set(err, ENOMEM, "trust guard");
		g->items = bigger;
		g->cap = cap;
	}
	e = &g->items[g->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	if (path_clean(path, e->path, sizeof(e->path), NULL) < 0)
		snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->label, sizeof(e->label), "%s %s", label, e->path);
	if (stat(e->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		e->have_id = true;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
	}
	return 0;
}

/* Marks the last entry as the caller's own HOME when it is SELF's (by name
 * or by identity): only there are .openclaw* dirs judged as instances. */
static void mark_own_home(struct trust_guard *g, const struct guard_entry *self_home)
{
	struct guard_entry *e = &g->items[g->n - 1];

	e->own = strcmp(e->path, self_home->path) == 0 ||
		 (e->have_id && self_home->have_id && e->dev == self_home->dev &&
		  e->ino == self_home->ino);
}

static int add_homes(struct trust_guard *g, const struct profile *self, ocr_error *err)
{
	struct guard_entry self_home = {0};
	size_t before = g->n;
	struct passwd *pw;

	if (guard_add(g, GUARD_HOME, self->home, "the home", err) < 0)
		return -1;
	if (g->n > before) { /* not added: no absolute HOME of our own */
		g->items[g->n - 1].own = true;
		self_home = g->items[g->n - 1];
	}
	setpwent();
	while ((pw = getpwent()) != NULL) {
		struct stat st;

		/* System accounts' homes are under the system trees or absent. */
		if (!pw->pw_dir || strcmp(pw->pw_dir, "/") == 0 || stat(pw->pw_dir, &st) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (guard_add(g, GUARD_HOME, pw->pw_dir, "the home", err) < 0) {
			endpwent();
			return -1;
		}
		mark_own_home(g, &self_home);
	}
	endpwent();
	return 0;
}

static int add_instance(struct trust_guard *g, const struct instance *o, ocr_error *err)
{
	char label[PROFILE_NAME_MAX + 64];
	const char *name = profile_label(&o->profile);

	snprintf(label, sizeof(label), "profile %s's state dir", name);
	if (guard_add(g, GUARD_INSTANCE, o->profile.state_dir, label, err) < 0)
		return -1;
	/* Only a pinned workspace: another profile's config is its payload's to
	 * write, and must not decide what this profile may pin. */
	snprintf(label, sizeof(label), "profile %s's workspace", name);
	if (o->pinned && o->profile.workspace[0] &&
	    guard_add(g, GUARD_INSTANCE, o->profile.workspace, label, err) < 0)
		return -1;
	/* A config dir that only holds configs (the seed's ~/.openclaw/NAME.json
	 * layout) may be shared: plan.c shows a shared one read-only with only
	 * the profile's own file writable; check compares the files. */
	return 0;
}

int trust_guard_build(const struct profile *self, const struct instance_set *others,
		      const struct host_dirs *dirs, struct trust_guard **out, ocr_error *err)
{
	struct trust_guard *g = calloc(1, sizeof(*g));
	char runtime[PATH_MAX];
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int rc = 0;

	*out = NULL;
	if (!g)
		return err_set(err, ENOMEM, "trust guard");
	for (size_t i = 0; rc == 0 && system_trees[i]; i++)
		rc = guard_add(g, GUARD_SYSTEM, system_trees[i], "the system tree", err);
	for (size_t i = 0; rc == 0 && shared_tops[i]; i++)
		rc = guard_add(g, GUARD_EXACT, shared_tops[i], "the shared directory", err);
	if (rc == 0)
		rc = add_homes(g, self, err);
	if (xdg && xdg[0] == '/')
		snprintf(runtime, sizeof(runtime), "%s", xdg);
	else if (geteuid() == 0)
		snprintf(runtime, sizeof(runtime), "/run/openclaw-run");
	else
		snprintf(runtime, sizeof(runtime), "/tmp/openclaw-run-%u", (unsigned)geteuid());
	if (rc == 0 &&
	    (guard_add(g, GUARD_LAUNCHER, dirs->records, "openclaw-run's records", err) < 0 ||
	     guard_add(g, GUARD_LAUNCHER, dirs->cache, "openclaw-run's cache", err) < 0 ||
	     guard_add(g, GUARD_LAUNCHER, dirs->logs, "openclaw-run's logs", err) < 0 ||
	     guard_add(g, GUARD_LAUNCHER, runtime, "the runtime dir", err) < 0))
		rc = -1;
	for (size_t i = 0; rc == 0 && others && i < others->n; i++)
		rc = add_instance(g, &others->items[i], err);
	if (rc < 0) {
		trust_guard_free(g);
		return -1;
	}
	*out = g;
	return 0;
}

void trust_guard_free(struct trust_guard *g)
{
	if (!g)
		return;
	free(g->items);
	free(g);
}

/* ---- the check ------------------------------------------------------------ */

struct dir_identity {
	dev_t dev;
	ino_t ino;
};

#define MAX_DEPTH 256

/* Opens DIR component by component without following any link. Returns
 * the O_PATH fd of the deepest existing component (*complete: all of DIR
 * exists), or -1 with the reason in ERR. */
static int open_no_links(const char *what, const char *dir, bool *complete, ocr_error *err)
{
	char buf[PATH_MAX], *save = NULL, *comp;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	size_t done = 0;

	*complete = false;
	if (fd < 0)
		return err_set(err, errno, "open /");
	snprintf(buf, sizeof(buf), "%s", dir);
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		struct stat st;
		int next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);

		if (next < 0) {
			if (errno == ENOENT)
				return fd;
			close(fd);
			return err_set(err, errno, "%s %s", what, dir);
		}
		close(fd);
		fd = next;
		done = (size_t)(comp - buf) + strlen(comp);
		if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
			bool link = S_ISLNK(st.st_mode);

			close(fd);
			return err_set(err, 0, "%s %s: %.*s is %s; name the real directory", what,
				       dir, (int)done, dir, link ? "a symlink" : "not a directory");
		}
	}
	*complete = true;
	return fd;
}

/* The identities of FD and of every directory above it, up to the root. */
static size_t ancestors(int fd, struct dir_identity *out, size_t max)
{
	size_t n = 0;
	int cur = dup(fd);

	while (cur >= 0 && n < max) {
		struct stat st;
		int up;

		if (fstat(cur, &st) < 0)
			break;
		if (n > 0 && out[n - 1].dev == st.st_dev && out[n - 1].ino == st.st_ino)
			break; /* ".." of the root is the root */
		out[n++] = (struct dir_identity){st.st_dev, st.st_ino};
		up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = up;
	}
	if (cur >= 0)
		close(cur);
	return n;
}

/* Does the directory at PATH lie below (or at) the one identified by ID? */
static bool path_has_ancestor(const char *path, struct dir_identity id)
{
	struct dir_identity up[MAX_DEPTH];
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	size_t n;

	if (fd < 0)
		return false;
	n = ancestors(fd, up, MAX_DEPTH);
	close(fd);
	for (size_t i = 0; i < n; i++)
		if (up[i].dev == id.dev && up[i].ino == id.ino)
			return true;
	return false;
}

/* ~/.ssh, ~/.config, ~/.local...: where credentials and settings live.
 * OpenClaw's own ~/.openclaw* dirs in the caller's HOME are judged as
 * instances instead; in any other HOME they are another account's instances,
 * which the caller's registry does not know: refused like the rest. */
static bool hidden_in_home(const char *dir, const char *home, bool own)
{
	size_t n = strcmp(home, "/") == 0 ? 0 : strlen(home);

	return path_within(dir, home) && dir[n] == '/' && dir[n + 1] == '.' &&
	       (!own || strncmp(dir + n + 1, ".openclaw", 9) != 0);
}

static int by_name(const struct guard_entry *e, const char *what, const char *dir, ocr_error *err)
{
	bool same = strcmp(dir, e->path) == 0;

	switch (e->kind) {
	case GUARD_SYSTEM:
		if (path_within(dir, e->path))
			return err_set(err, 0, "%s %s: lies in %s", what, dir, e->label);
		return 0;
	case GUARD_EXACT:
		return same ? err_set(err, 0, "%s %s: is %s", what, dir, e->label) : 0;
	case GUARD_HOME:
		if (path_within(e->path, dir))
			return err_set(err, 0, "%s %s: %s %s", what, dir, same ? "is" : "holds",
				       e->label);
		if (hidden_in_home(dir, e->path, e->own))
			return err_set(err, 0,
				       "%s %s: lies in a hidden directory of %s (where "
				       "credentials and settings live)",
				       what, dir, e->label);
		return 0;
	case GUARD_LAUNCHER:
	case GUARD_INSTANCE:
		if (path_within(dir, e->path))
			return err_set(err, 0, "%s %s: %s %s", what, dir, same ? "is" : "lies in",
				       e->label);
		if (path_within(e->path, dir))
			return err_set(err, 0, "%s %s: holds %s", what, dir, e->label);
		return 0;
	}
	return 0;
}

/* The same rules by device and inode: a bind mount or a second name of a
 * guarded directory is that directory. */
static int by_identity(const struct guard_entry *e, const char *what, const char *dir,
		       const struct dir_identity *up, size_t n_up, bool complete, ocr_error *err)
{
	struct dir_identity self = up[0], id = {e->dev, e->ino};
	bool is = complete && self.dev == id.dev && self.ino == id.ino, below = false;

	if (!e->have_id)
		return 0;
	for (size_t i = 0; i < n_up; i++)
		below |= up[i].dev == id.dev && up[i].ino == id.ino;
	switch (e->kind) {
	case GUARD_EXACT:
		below = is;
		break;
	case GUARD_HOME:
		below = is || (complete && path_has_ancestor(e->path, self));
		break;
	case GUARD_SYSTEM:
		break;
	case GUARD_LAUNCHER:
	case GUARD_INSTANCE:
		below = below || (complete && path_has_ancestor(e->path, self));
		break;
	}
	if (below)
		return err_set(err, 0,
			       "%s %s: is, holds or lies in %s (the same directory "
			       "under another name)",
			       what, dir, e->label);
	return 0;
}

/* Trees where services keep their data; a person may put a state dir below
 * them, never one of them itself. */
static bool service_tree_below(const struct guard_entry *e, const char *dir)
{
	static const char *const trees[] = {"/var", "/opt", "/run", NULL};

	for (size_t i = 0; trees[i]; i++)
		if (strcmp(e->path, trees[i]) == 0)
			return strcmp(dir, e->path) != 0 && strncmp(dir, "/var/tmp", 8) != 0;
	return false;
}

static int check_by_names(const struct trust_guard *g, const char *what, const char *dir,
			  unsigned flags, ocr_error *err)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct guard_entry *e = &g->items[i];

		if ((flags & TRUST_ALLOW_SERVICE_TREES) && e->kind == GUARD_SYSTEM &&
		    service_tree_below(e, dir))
			continue;
		if (by_name(e, what, dir, err) < 0)
			return -1;
	}
	return 0;
}

/* DIR judged by the names bind mounts give it (or its deepest existing
 * ancestor, with the rest appended): /srv/x showing ~/.ssh is ~/.ssh. */
static int check_other_names(const struct trust_guard *g, const char *what, const char *dir,
			     unsigned flags, ocr_error *err)
{
	char existing[PATH_MAX], names[MOUNT_NAMES_MAX][PATH_MAX], full[PATH_MAX];
	struct stat st;
	size_t n, len;

	snprintf(existing, sizeof(existing), "%s", dir);
	while (lstat(existing, &st) < 0 && strrchr(existing, '/') != existing)
		*strrchr(existing, '/') = '\0';
	len = strlen(existing);
	n = mount_other_names(existing, names, MOUNT_NAMES_MAX);
	for (size_t i = 0; i < n; i++) {
		if (snprintf(full, sizeof(full), "%s%s", strcmp(names[i], "/") ? names[i] : "",
			     dir + (strcmp(existing, "/") ? len : 0)) >= (int)sizeof(full))
			continue;
		if (check_by_names(g, what, full, flags, err) < 0)
			return err_prefix(err, "%s %s is %s under another name (a bind mount)",
					  what, dir, full);
	}
	return 0;
}

int trust_guard_check(const struct trust_guard *g, const char *what, const char *dir,
		      unsigned flags, ocr_error *err)
{
	struct dir_identity up[MAX_DEPTH];
	bool complete;
	size_t n_up;
	int fd;

	if (dir[0] != '/')
		return err_set(err, EINVAL, "%s %s: not an absolute path", what, dir);
	if (strcmp(dir, "/") == 0)
		return err_set(err, 0, "%s /: the whole host", what);
	if (check_by_names(g, what, dir, flags, err) < 0)
		return -1;
	fd = open_no_links(what, dir, &complete, err);
	if (fd < 0)
		return -1;
	n_up = ancestors(fd, up, MAX_DEPTH);
	close(fd);
	if (n_up == 0)
		return err_set(err, EIO, "%s %s: cannot tell where it lies", what, dir);
	if (complete && n_up == 1)
		return err_set(err, 0, "%s %s: is the root of the host", what, dir);
	for (size_t i = 0; i < g->n; i++) {
		const struct guard_entry *e = &g->items[i];

		if ((flags & TRUST_ALLOW_SERVICE_TREES) && e->kind == GUARD_SYSTEM &&
		    service_tree_below(e, dir))
			continue;
		if (by_identity(e, what, dir, up, n_up, complete, err) < 0)
			return -1;
	}
	return check_other_names(g, what, dir, flags, err);
}

/* DIR lies strictly below TOP. */
static bool strictly_below(const char *dir, const char *top)
{
	return path_within(dir, top) && strcmp(dir, top) != 0;
}

int trust_check_own_dirs(const char *state_dir, const char *config_dir, const char *workspace,
			 ocr_error *err)
{
	bool ws_outside = workspace[0] && !path_within(workspace, state_dir);
	bool cfg_outside = !path_within(config_dir, state_dir);

	if (ws_outside && cfg_outside && strictly_below(config_dir, workspace))
		return err_set(err, 0,
			       "config dir %s lies in the workspace %s, which the sandbox writes: "
			       "the gateway could swap it for a link before the config is written "
			       "there; keep the config in the state dir or outside the workspace",
			       config_dir, workspace);
	if (ws_outside && strictly_below(state_dir, workspace))
		return err_set(err, 0,
			       "state dir %s lies in the workspace %s, which the sandbox writes: "
			       "the gateway could swap a directory on its path for a link",
			       state_dir, workspace);
	if (cfg_outside && strictly_below(state_dir, config_dir))
		return err_set(err, 0,
			       "state dir %s lies in the config dir %s, which the sandbox writes: "
			       "the gateway could swap a directory on its path for a link",
			       state_dir, config_dir);
	return 0;
}

/* ---- drift ------------------------------------------------------------------ */

static size_t drift_add(struct trust_drift *out, size_t max, size_t n, const char *key,
			const char *config_value, const char *pinned_value, const char *fix)
{
	if (n < max) {
		snprintf(out[n].key, sizeof(out[n].key), "%s", key);
		snprintf(out[n].config_value, sizeof(out[n].config_value), "%s", config_value);
		snprintf(out[n].pinned_value, sizeof(out[n].pinned_value), "%s", pinned_value);
		snprintf(out[n].fix, sizeof(out[n].fix), "%s", fix);
		/* The key (browser.profiles.NAME...) and the value are the
		 * payload's words, printed on a person's terminal. */
		text_defang_line(out[n].key, strlen(out[n].key));
		text_defang_line(out[n].config_value, strlen(out[n].config_value));
		text_defang_line(out[n].fix, strlen(out[n].fix));
	}
	return n + 1;
}

size_t trust_drift_find(const struct instance *inst, struct trust_drift *out, size_t max)
{
	const struct pins *pin = &inst->pins;
	const struct port_block *cfg = &inst->config_ports;
	const char *name = inst->profile.name[0] ? inst->profile.name : "default";
	char a[32], b[32], fix[PATH_MAX + 160];
	size_t n = 0;

	if (!inst->pinned || !inst->config)
		return 0;
	if (cfg->origin == PORT_FROM_CONFIG && cfg->base != pin->ports.base) {
		snprintf(a, sizeof(a), "%u", cfg->base);
		snprintf(b, sizeof(b), "%u", pin->ports.base);
		snprintf(fix, sizeof(fix), "openclaw-run --profile %s setup --port %u", name,
			 cfg->base);
		n = drift_add(out, max, n, "gateway.port", a, b, fix);
	}
	if (inst->config_workspace[0] && strcmp(inst->config_workspace, pin->workspace) != 0) {
		char word[PATH_MAX];

		/* A command a person may paste: the payload's path is one word. */
		text_shell_quote(inst->config_workspace, word, sizeof(word));
		snprintf(fix, sizeof(fix), "openclaw-run --profile %s setup --workspace %s", name,
			 word);
		n = drift_add(out, max, n, "agents.defaults.workspace", inst->config_workspace,
			      pin->workspace, fix);
	}
	for (size_t i = 0; i < cfg->n_explicit; i++) {
		const struct port_explicit *e = &cfg->explicit_ports[i];

		if (port_block_owns(&pin->ports, e->port))
			continue;
		snprintf(a, sizeof(a), "%u", e->port);
		snprintf(fix, sizeof(fix), "openclaw-run --profile %s setup --accept-config", name);
		n = drift_add(out, max, n, e->source, a, "not pinned", fix);
	}
	return n;
}

void trust_drift_print(FILE *out, const struct trust_drift *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s: the config says %s, setup pinned %s; to accept it: %s\n",
			d[i].key, d[i].config_value, d[i].pinned_value, d[i].fix);
}

/* ---- inside a payload-writable tree ------------------------------------------ */

int trust_open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

int trust_mkdir_beneath(int dirfd, const char *rel, mode_t mode)
{
	char buf[PATH_MAX], *save = NULL, *comp;
	int fd = dup(dirfd);

	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		if (fd >= 0)
			close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	/* One component at a time, each opened beneath the last without links:
	 * a link the payload planted anywhere on the way stops the walk. */
	for (comp = strtok_r(buf, "/", &save); comp && fd >= 0; comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (mkdirat(fd, comp, mode) < 0 && errno != EEXIST) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		next = trust_open_beneath(fd, comp, O_RDONLY | O_DIRECTORY, 0);
		int saved = errno;
		close(fd);
		errno = saved;
		fd = next;
	}
	return fd;
}

int trust_chown_beneath(int dirfd, const char *rel, uid_t uid, gid_t gid, ocr_error *err)
{
	struct stat st;
	int fd = rel[0] ? trust_open_beneath(dirfd, rel, O_PATH, 0) : dup(dirfd);
	int rc = 0;

	if (fd < 0)
		return err_set(err, errno, "chown %s: refusing to follow a link as root", rel);
	if (fstat(fd, &st) < 0)
		rc = err_set(err, errno, "chown %s", rel);
	else if (S_ISLNK(st.st_mode) || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
		rc = err_set(err, EPERM, "chown %s: not a regular file or directory", rel);
	else if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		rc = err_set(err, EPERM,
			     "chown %s: it has %lu hard links (another file's name?); refusing",
			     rel, (unsigned long)st.st_nlink);
	else if ((st.st_uid != uid || st.st_gid != gid) &&
		 fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		rc = err_set(err, errno, "chown %s to uid %u", rel, (unsigned)uid);
	close(fd);
	return rc;
}
