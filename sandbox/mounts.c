/* The filesystem view: a tmpfs new root holding read-only binds of the
 * system directories and the needed /etc files, a fresh /proc, a minimal /dev,
 * a private /tmp and the plan's own mounts, then pivot_root into it.
 *
 * Bind sources. A bind mount needs its source in the caller's own mount
 * namespace, so an O_PATH fd opened by the launcher (another namespace) is
 * refused with EINVAL. A root launcher therefore clones every source as a
 * detached mount tree (open_tree(OPEN_TREE_CLONE)), which the child attaches
 * with move_mount(): the child, already an unprivileged host uid, never has
 * to walk a path such as a 0700 /root. A rootless launcher cannot clone
 * trees, but its child has the very same host uid, so the child opens each
 * source itself (O_PATH, before it mounts anything that could hide one) and
 * binds "/proc/self/fd/N". */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Where the new root is assembled: a tmpfs mounted over the host's /tmp, in
 * our private mount namespace only. Every source is an fd by then. */
#define NEWROOT "/tmp"

/* The system view, always read-only. Top-level entries that are symlinks on
 * the host (/bin -> usr/bin) are recreated as symlinks. */
static const char *const system_dirs[] = {"/usr",   "/bin",   "/sbin",	"/lib",
					  "/lib32", "/lib64", "/libx32"};
static const char *const etc_files[] = {
    "/etc/resolv.conf", "/etc/hosts",	     "/etc/nsswitch.conf", "/etc/passwd",
    "/etc/group",	"/etc/localtime",    "/etc/ssl",	   "/etc/ca-certificates",
    "/etc/ld.so.cache", "/etc/alternatives", "/etc/host.conf",	   "/etc/gai.conf",
    "/etc/gitconfig",
};
static const char *const dev_nodes[] = {"/dev/null",   "/dev/zero",    "/dev/full",
					"/dev/random", "/dev/urandom", "/dev/tty"};

#define N_SYSTEM_DIRS (sizeof(system_dirs) / sizeof(system_dirs[0]))
#define N_ETC_FILES   (sizeof(etc_files) / sizeof(etc_files[0]))
#define N_DEV_NODES   (sizeof(dev_nodes) / sizeof(dev_nodes[0]))
#define N_SYS	      (N_SYSTEM_DIRS + N_ETC_FILES + N_DEV_NODES)

/* The system binds live in a private array next to the plan's mounts. */
struct sb_sys_view {
	struct sb_mount binds[N_SYS];
	char link_target[N_SYSTEM_DIRS][PATH_MAX]; /* "" unless a symlink */
	char localtime_link[PATH_MAX];		   /* "" unless a zoneinfo symlink */
};

#define ZONEINFO "/usr/share/zoneinfo/"

/* /etc/localtime as the host has it: a symlink into zoneinfo (which /usr
 * shows) is made again as that symlink, not bound as the file. ICU, and so
 * every node, learns the zone's name from the link's target; given a plain
 * file it opens and compares every file of zoneinfo (~2,500 opens, ~0.5 s
 * of CPU for each `openclaw` command). Anything else is bound as before. */
static bool localtime_as_link(char target[PATH_MAX])
{
	ssize_t n = readlink("/etc/localtime", target, PATH_MAX - 1);
	const char *zone = NULL;

	if (n > 0) {
		target[n] = '\0';
		if (strncmp(target, ZONEINFO, strlen(ZONEINFO)) == 0)
			zone = target + strlen(ZONEINFO);
		else if (strncmp(target, ".." ZONEINFO, strlen(".." ZONEINFO)) == 0)
			zone = target + strlen(".." ZONEINFO); /* relative to /etc */
	}
	if (zone && *zone && !strstr(zone, ".."))
		return true;
	target[0] = '\0';
	return false;
}

static struct sb_sys_view *sys_view(struct sandbox *sb)
{
	if (!sb->sys_view)
		sb->sys_view = calloc(1, sizeof(struct sb_sys_view));
	return sb->sys_view;
}

/* O_PATH fd of a bind source, following symlinks unless the mount says not. */
static int open_src(const struct sb_mount *m)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = (m->flags & SANDBOX_MOUNT_NOFOLLOW) ? RESOLVE_NO_SYMLINKS : 0,
	};

	return (int)syscall(SYS_openat2, AT_FDCWD, m->src, &how, sizeof(how));
}

static int src_error(const struct sb_mount *m, const char *what, struct sandbox_error *err)
{
	bool link = errno == ELOOP && (m->flags & SANDBOX_MOUNT_NOFOLLOW);

	return sandbox_error_set(err, errno, "sandbox: %s %s%s", what, m->src,
				 link ? " (a symlink in its path is refused)" : "");
}

static int prepare_one(struct sandbox *sb, struct sb_mount *m, struct sandbox_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	m->tree_fd = m->path_fd = -1;
	m->missing = false;
	if (m->kind == SANDBOX_MOUNT_TMPFS) {
		m->is_dir = true;
		return 0;
	}
	fd = open_src(m);
	if (fd < 0) {
		if (errno == ENOENT && (m->flags & SANDBOX_MOUNT_OPTIONAL)) {
			m->missing = true;
			return 0;
		}
		return src_error(m, "bind source", err);
	}
	if (fstat(fd, &st) < 0)
		return sandbox_error_set(err, errno, "sandbox: bind source %s", m->src);
	m->is_dir = S_ISDIR(st.st_mode);
	if (sb->root_launch) {
		m->tree_fd = open_tree(
		    fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
		if (m->tree_fd < 0)
			return sandbox_error_set(err, errno, "sandbox: open_tree %s", m->src);
	}
	return 0;
}

int sb_mounts_prepare(struct sandbox *sb, struct sandbox_error *err)
{
	struct sb_sys_view *v = sys_view(sb);
	size_t k = 0;

	if (!v)
		return sandbox_error_set(err, ENOMEM, "sandbox: mounts");
	for (size_t i = 0; i < N_SYSTEM_DIRS; i++, k++) {
		struct stat st;
		ssize_t n;

		v->binds[k] = (struct sb_mount){.kind = SANDBOX_MOUNT_BIND_RO,
						.src = (char *)system_dirs[i],
						.dst = (char *)system_dirs[i],
						.flags = SANDBOX_MOUNT_OPTIONAL,
						.tree_fd = -1,
						.path_fd = -1};
		v->link_target[i][0] = '\0';
		if (lstat(system_dirs[i], &st) == 0 && S_ISLNK(st.st_mode)) {
			n = readlink(system_dirs[i], v->link_target[i], PATH_MAX - 1);
			if (n < 0)
				return sandbox_error_set(err, errno, "sandbox: readlink %s",
							 system_dirs[i]);
			v->link_target[i][n] = '\0';
			v->binds[k].missing = true; /* the symlink stands in for it */
			continue;
		}
		if (prepare_one(sb, &v->binds[k], err) < 0)
			return -1;
	}
	for (size_t i = 0; i < N_ETC_FILES + N_DEV_NODES; i++, k++) {
		const char *p = i < N_ETC_FILES ? etc_files[i] : dev_nodes[i - N_ETC_FILES];

		v->binds[k] = (struct sb_mount){.kind = i < N_ETC_FILES ? SANDBOX_MOUNT_BIND_RO
									: SANDBOX_MOUNT_BIND_RW,
						.src = (char *)p,
						.dst = (char *)p,
						.flags = SANDBOX_MOUNT_OPTIONAL,
						.tree_fd = -1,
						.path_fd = -1};
		if (strcmp(p, "/etc/localtime") == 0 && localtime_as_link(v->localtime_link)) {
			v->binds[k].missing = true; /* the symlink stands in for it */
			continue;
		}
		if (prepare_one(sb, &v->binds[k], err) < 0)
			return -1;
	}
	for (size_t i = 0; i < sb->n_mounts; i++) {
		if (prepare_one(sb, &sb->mounts[i], err) < 0)
			return -1;
	}
	return 0;
}

static void release_one(struct sb_mount *m)
{
	if (m->tree_fd >= 0)
		close(m->tree_fd);
	if (m->path_fd >= 0)
		close(m->path_fd);
	m->tree_fd = m->path_fd = -1;
}

void sb_mounts_release(struct sandbox *sb)
{
	struct sb_sys_view *v = sb->sys_view;

	for (size_t i = 0; v && i < N_SYS; i++)
		release_one(&v->binds[i]);
	for (size_t i = 0; i < sb->n_mounts; i++)
		release_one(&sb->mounts[i]);
	free(v);
	sb->sys_view = NULL;
}

/* ---- child side ----------------------------------------------------------- */

static int open_source(struct sb_mount *m, struct sandbox_error *err)
{
	if (m->missing || m->kind == SANDBOX_MOUNT_TMPFS || m->tree_fd >= 0)
		return 0;
	m->path_fd = open_src(m);
	if (m->path_fd < 0) {
		if (errno == ENOENT && (m->flags & SANDBOX_MOUNT_OPTIONAL)) {
			m->missing = true;
			return 0;
		}
		return src_error(m, "open", err);
	}
	return 0;
}

/* mkdir -p of PATH's components below the new root, 0755. */
static int make_parents(const char *path, struct sandbox_error *err)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return sandbox_error_set(err, ENAMETOOLONG, "sandbox: mkdir %s", path);
	for (char *p = buf + strlen(NEWROOT) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return sandbox_error_set(err, errno, "sandbox: mkdir %s",
						 buf + strlen(NEWROOT));
		*p = '/';
	}
	return 0;
}

static int make_mountpoint(const char *path, bool is_dir, struct sandbox_error *err)
{
	int fd;

	if (make_parents(path, err) < 0)
		return -1;
	if (is_dir) {
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return sandbox_error_set(err, errno, "sandbox: mkdir %s",
						 path + strlen(NEWROOT));
		return 0;
	}
	/* A file already there (shown by a read-only bind of its directory) is
	 * the mount point as it is: opening it for writing would fail. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno != EEXIST)
		return sandbox_error_set(err, errno, "sandbox: create %s", path + strlen(NEWROOT));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Read-only/nosuid/nodev on the whole bound tree. mount_setattr() changes
 * only the named attributes, so the flags the kernel locked in our user
 * namespace (nodev, noexec, atime...) are kept, where a plain MS_REMOUNT
 * would have to restate them all or fail with EPERM. */
static int restrict_mount(const char *path, bool ro, struct sandbox_error *err)
{
	struct mount_attr attr = {
	    .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0),
	};

	if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return sandbox_error_set(err, errno, "sandbox: remount %s%s",
					 path + strlen(NEWROOT), ro ? " read-only" : "");
	return 0;
}

/* Mount data of a tmpfs the payload can write: the plan's bounds, if any
 * (each such tmpfs has its own; the default would be half of RAM). */
static const char *tmpfs_data(const struct sandbox *sb, const char *mode, char *buf, size_t len)
{
	int n = snprintf(buf, len, "mode=%s", mode);

	if (sb->tmpfs_size)
		n += snprintf(buf + n, len - (size_t)n, ",size=%llu",
			      (unsigned long long)sb->tmpfs_size);
	if (sb->tmpfs_inodes)
		snprintf(buf + n, len - (size_t)n, ",nr_inodes=%llu",
			 (unsigned long long)sb->tmpfs_inodes);
	return buf;
}

/* A file replaced by rename since we opened it (useradd rewriting
 * /etc/passwd on the host) leaves us an unlinked inode, which the kernel
 * will not bind (ENOENT): bind what the path names now, once. */
static int bind_again(const struct sb_mount *m, const char *target)
{
	char fdpath[64];
	cleanup_close int fd = open_src(m);

	if (fd < 0)
		return -1;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	return mount(fdpath, target, NULL, MS_BIND, NULL);
}

static int attach(const struct sandbox *sb, struct sb_mount *m, bool nodev_ok,
		  struct sandbox_error *err)
{
	int rc;

	char target[PATH_MAX], fdpath[64], data[96];

	if (m->missing)
		return 0;
	if (snprintf(target, sizeof(target), NEWROOT "%s", m->dst) >= (int)sizeof(target))
		return sandbox_error_set(err, ENAMETOOLONG, "sandbox: mount %s", m->dst);
	if (make_mountpoint(target, m->is_dir, err) < 0)
		return -1;
	if (m->kind == SANDBOX_MOUNT_TMPFS) {
		if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
			  tmpfs_data(sb, "0755", data, sizeof(data))) < 0)
			return sandbox_error_set(err, errno, "sandbox: mount tmpfs on %s", m->dst);
		return 0;
	}
	if (m->tree_fd >= 0) {
		rc = move_mount(m->tree_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	} else {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", m->path_fd);
		rc = mount(fdpath, target, NULL, MS_BIND | MS_REC, NULL);
	}
	if (rc < 0 && !(errno == ENOENT && !m->is_dir && bind_again(m, target) == 0))
		return sandbox_error_set(err, errno, "sandbox: bind %s", m->dst);
	if (nodev_ok) /* device nodes: nodev would make them useless */
		return 0;
	return restrict_mount(target, m->kind == SANDBOX_MOUNT_BIND_RO, err);
}

static int mount_fs(const char *type, const char *dst, unsigned long flags, const char *data,
		    struct sandbox_error *err)
{
	char target[PATH_MAX];

	snprintf(target, sizeof(target), NEWROOT "%s", dst);
	if (make_mountpoint(target, true, err) < 0)
		return -1;
	if (mount(type, target, type, flags, data) < 0)
		return sandbox_error_set(err, errno, "sandbox: mount %s on %s", type, dst);
	return 0;
}

static int make_symlink(const char *target, const char *path, struct sandbox_error *err)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), NEWROOT "%s", path);
	if (symlink(target, full) < 0)
		return sandbox_error_set(err, errno, "sandbox: symlink %s", path);
	return 0;
}

static int build_dev(const struct sandbox *sb, struct sb_sys_view *v, struct sandbox_error *err)
{
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	char data[96];

	static const char *const links[][2] = {
	    {"pts/ptmx", "/dev/ptmx"},		{"/proc/self/fd", "/dev/fd"},
	    {"/proc/self/fd/0", "/dev/stdin"},	{"/proc/self/fd/1", "/dev/stdout"},
	    {"/proc/self/fd/2", "/dev/stderr"},
	};

	if (mount_fs("tmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755", err) < 0)
		return -1;
	for (size_t i = N_SYSTEM_DIRS + N_ETC_FILES; i < N_SYS; i++) {
		if (attach(sb, &v->binds[i], true, err) < 0)
			return -1;
	}
	if (mount_fs("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620", err) < 0)
		return -1;
	if (mount_fs("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV,
		     tmpfs_data(sb, "1777", data, sizeof(data)), err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (make_symlink(links[i][0], links[i][1], err) < 0)
			return -1;
	}
	/* /dev itself holds only the nodes and mount points above: read-only,
	 * or the payload (its owner, uid 0 inside) would have an unbounded
	 * tmpfs there. The mounts on it keep their own flags. */
	if (mount_setattr(AT_FDCWD, NEWROOT "/dev", 0, &ro, sizeof(ro)) < 0)
		return sandbox_error_set(err, errno, "sandbox: remount /dev read-only");
	return 0;
}

static int pivot(struct sandbox_error *err)
{
	struct mount_attr attr = {.attr_set =
				      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};

	if (chdir(NEWROOT) < 0)
		return sandbox_error_set(err, errno, "sandbox: chdir new root");
	/* pivot_root(".", "."): the old root ends up stacked on the new one and
	 * is detached right away; no directory for it is needed. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sandbox_error_set(err, errno, "sandbox: pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sandbox_error_set(err, errno, "sandbox: detach old root");
	if (chdir("/") < 0)
		return sandbox_error_set(err, errno, "sandbox: chdir /");
	/* The root tmpfs itself: nothing may be created next to the mounts. */
	if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return sandbox_error_set(err, errno, "sandbox: remount / read-only");
	return 0;
}

int sb_child_build_root(struct sandbox *sb, struct sandbox_error *err)
{
	struct sb_sys_view *v = sb->sys_view;
	char data[96];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sandbox_error_set(err, errno, "sandbox: make / private");
	for (size_t i = 0; i < N_SYS; i++) {
		if (open_source(&v->binds[i], err) < 0)
			return -1;
	}
	for (size_t i = 0; i < sb->n_mounts; i++) {
		if (open_source(&sb->mounts[i], err) < 0)
			return -1;
	}
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return sandbox_error_set(err, errno, "sandbox: mount new root tmpfs");
	for (size_t i = 0; i < N_SYSTEM_DIRS; i++) {
		if (v->link_target[i][0]) {
			if (make_symlink(v->link_target[i], system_dirs[i], err) < 0)
				return -1;
		} else if (attach(sb, &v->binds[i], false, err) < 0) {
			return -1;
		}
	}
	for (size_t i = N_SYSTEM_DIRS; i < N_SYSTEM_DIRS + N_ETC_FILES; i++) {
		if (attach(sb, &v->binds[i], false, err) < 0)
			return -1;
	}
	if (v->localtime_link[0] && (make_parents("/etc/localtime", err) < 0 ||
				     make_symlink(v->localtime_link, "/etc/localtime", err) < 0))
		return -1;
	/* proc must be mounted while the host's /proc is still visible here:
	 * the kernel only allows a new proc where a full one is already seen. */
	if (mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	if (build_dev(sb, v, err) < 0)
		return -1;
	if (mount_fs("tmpfs", "/tmp", MS_NOSUID | MS_NODEV,
		     tmpfs_data(sb, "1777", data, sizeof(data)), err) < 0)
		return -1;
	for (size_t i = 0; i < sb->n_mounts; i++) {
		if (attach(sb, &sb->mounts[i], false, err) < 0)
			return -1;
	}
	if (pivot(err) < 0)
		return -1;
	/* The sources are mounted; their fds must not reach the payload. */
	for (size_t i = 0; i < N_SYS; i++)
		release_one(&v->binds[i]);
	for (size_t i = 0; i < sb->n_mounts; i++)
		release_one(&sb->mounts[i]);
	return 0;
}
