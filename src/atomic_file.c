/* See atomic_file.h. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* Opens PATH's directory and points *base at the last component. */
static int open_parent(const char *path, const char **base, ocr_error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	*base = slash ? slash + 1 : path;
	if (!**base)
		return err_set(err, EISDIR, "%s: names a directory, not a file", path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return err_set(err, ENAMETOOLONG, "%s", path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* fsync needs more than O_PATH */
	if (fd < 0)
		return err_set(err, errno, "open the directory of %s", path);
	return fd;
}

static const char *kind(mode_t m)
{
	return S_ISFIFO(m)   ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

int read_file_capped_at(int dir, const char *base, const char *path, size_t max, char **data,
			size_t *len, ocr_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	size_t used = 0;
	struct stat st;

	/* O_NONBLOCK: a FIFO planted at PATH must not hang the caller. */
	fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return err_set(err, ELOOP,
			       "%s is a symlink; openclaw-run does not follow links where the "
			       "sandbox can write",
			       path);
	if (fd < 0)
		return err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return err_set(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s is %s, not a regular file", path, kind(st.st_mode));
	if ((size_t)st.st_size > max)
		return err_set(err, EFBIG, "%s is %lld bytes; openclaw-run reads at most %zu", path,
			       (long long)st.st_size, max);
	/* The size fstat saw plus one byte, grown only when the file grew since:
	 * a buffer of the cap (1 MiB for a config) cost every read an mmap, a
	 * munmap and their page faults (issue 13). */
	size_t room = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;

	buf = malloc(room + 1);
	if (!buf)
		return err_set(err, ENOMEM, "read %s", path);
	/* Read one byte past the cap: the file may have grown since fstat. */
	while (used <= max) {
		if (used == room) {
			size_t more = room > (max + 1) / 2 ? max + 1 : room * 2;
			char *bigger = realloc(buf, more + 1);

			if (!bigger)
				return err_set(err, ENOMEM, "read %s", path);
			buf = bigger;
			room = more;
		}
		ssize_t n = read(fd, buf + used, room - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, errno, "read %s", path);
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max)
		return err_set(err, EFBIG, "%s is over %zu bytes; openclaw-run reads at most that",
			       path, max);
	buf[used] = '\0';
	*data = buf;
	buf = NULL;
	if (len)
		*len = used;
	return 0;
}

int read_file_capped(const char *path, size_t max, char **data, size_t *len, ocr_error *err)
{
	const char *base;
	cleanup_close int dir = open_parent(path, &base, err);

	if (dir < 0)
		return -1;
	return read_file_capped_at(dir, base, path, max, data, len, err);
}

int read_whole_file(const char *path, char **data, size_t *len, ocr_error *err)
{
	return read_file_capped(path, READ_FILE_MAX, data, len, err);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The .bak ring: .bak.3 -> .bak.4, ..., .bak -> .bak.1, then the current
 * file (a second link to it) becomes .bak. Best effort, as upstream's:
 * renames never follow links, so whatever the sandbox planted there only
 * moves. */
static void rotate_backups(int dir, const char *base)
{
	char from[NAME_MAX + 16], to[NAME_MAX + 16];

	for (int i = 3; i >= 0; i--) {
		if (i == 0)
			snprintf(from, sizeof(from), "%s.bak", base);
		else
			snprintf(from, sizeof(from), "%s.bak.%d", base, i);
		snprintf(to, sizeof(to), "%s.bak.%d", base, i + 1);
		renameat(dir, from, dir, to);
	}
	snprintf(to, sizeof(to), "%s.bak", base);
	if (linkat(dir, base, dir, to, 0) < 0 && errno == EEXIST && unlinkat(dir, to, 0) == 0)
		linkat(dir, base, dir, to, 0);
}

/* A temp file in DIR: unnamed (O_TMPFILE) when possible, so that nothing is
 * left if we die before the rename; else named TMP, created exclusively. */
static int open_temp(int dir, char *tmp, mode_t mode, bool *named)
{
	int fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);

	*named = fd < 0;
	if (fd >= 0)
		return fd;
	return openat(dir, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
}

/* Gives the unnamed temp file FD the name TMP in DIR. */
static int name_temp(int fd, int dir, const char *tmp)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dir, tmp, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	return linkat(fd, "", dir, tmp, AT_EMPTY_PATH); /* no /proc: needs root */
}

static int write_temp(int fd, const void *data, size_t len, const struct atomic_write_opts *o)
{
	if ((o->uid != (uid_t)-1 || o->gid != (gid_t)-1) && fchown(fd, o->uid, o->gid) < 0)
		return -1;
	if (fchmod(fd, o->mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

int atomic_write_file_opts(const char *path, const void *data, size_t len,
			   const struct atomic_write_opts *o, ocr_error *err)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	cleanup_close int dir = o->dir_fd ? dup(*o->dir_fd) : open_parent(path, &base, err);
	cleanup_close int fd = -1;
	char tmp[NAME_MAX + 1];
	unsigned char rnd[6];
	sigset_t stop, saved;
	struct stat st;
	bool named;
	int rc = -1;

	if (dir < 0)
		return o->dir_fd ? err_set(err, errno, "write %s", path) : -1;
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return err_set(err, ELOOP,
			       "%s is a symlink; openclaw-run does not replace links where the "
			       "sandbox can write",
			       path);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return err_set(err, errno, "getrandom");
	if (snprintf(tmp, sizeof(tmp), "%.200s.tmp.%02x%02x%02x%02x%02x%02x", base, rnd[0], rnd[1],
		     rnd[2], rnd[3], rnd[4], rnd[5]) >= (int)sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "%s", path);
	/* Ctrl-C or a TERM between creating and renaming the temp file would
	 * leave it behind: hold them until it is gone one way or the other. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &saved);
	fd = open_temp(dir, tmp, o->mode & 0777, &named);
	if (fd < 0) {
		err_set(err, errno, "create a temporary file next to %s", path);
	} else if (write_temp(fd, data, len, o) < 0) {
		err_set(err, errno, "write %s/%s", path, named ? tmp : "(unnamed temp file)");
	} else if (!named && name_temp(fd, dir, tmp) < 0) {
		err_set(err, errno, "link the temporary file for %s", path);
	} else {
		named = true;
		if (o->backup)
			rotate_backups(dir, base);
		if (renameat(dir, tmp, dir, base) < 0)
			err_set(err, errno, "rename %s to %s", tmp, path);
		else
			rc = 0;
	}
	if (rc < 0 && fd >= 0 && named)
		unlinkat(dir, tmp, 0);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	/* The rename is durable only once the directory entry is on disk. */
	if (rc == 0 && fsync(dir) < 0)
		return err_set(err, errno, "fsync the directory of %s", path);
	return rc;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, ocr_error *err)
{
	struct atomic_write_opts o = {.mode = mode, .uid = (uid_t)-1, .gid = (gid_t)-1};

	return atomic_write_file_opts(path, data, len, &o, err);
}
