/* Whole-file replacement that never leaves a half-written file. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int fsync_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, ocr_error *err)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "%s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "create a temporary file next to %s", path);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int saved = errno;

		close(fd);
		unlink(tmp);
		return err_set(err, saved, "write %s", tmp);
	}
	if (close(fd) < 0) {
		int saved = errno;

		unlink(tmp);
		return err_set(err, saved, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return err_set(err, saved, "rename %s to %s", tmp, path);
	}
	/* The rename is durable only once the directory entry is on disk. */
	if (fsync_parent_dir(path) < 0)
		return err_set(err, errno, "fsync the directory of %s", path);
	return 0;
}

int read_whole_file(const char *path, char **data, size_t *len, ocr_error *err)
{
	size_t cap = 4096, used = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "open %s", path);
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return err_set(err, ENOMEM, "read %s", path);
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			char *bigger;

			if (cap > (size_t)64 << 20) {
				free(buf);
				close(fd);
				return err_set(err, EFBIG, "read %s", path);
			}
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				close(fd);
				return err_set(err, ENOMEM, "read %s", path);
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;

			free(buf);
			close(fd);
			return err_set(err, saved, "read %s", path);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*data = buf;
	if (len)
		*len = used;
	return 0;
}
