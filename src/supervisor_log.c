/* The detached supervisor's log: <state>/logs/openclaw-run.log, rotated to
 * .1 and .2 when it would pass the size cap, so a gateway that prints in a
 * loop cannot fill the disk. The supervisor is the only writer: the
 * gateway's output reaches it through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "text.h"
#include "supervisor.h"

struct supervisor_log {
	char path[PATH_MAX];
	int fd;
	long size, max;
};

static int open_log(struct supervisor_log *log)
{
	struct stat st;

	log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (log->fd < 0)
		return -1;
	log->size = fstat(log->fd, &st) == 0 ? (long)st.st_size : 0;
	return 0;
}

int supervisor_log_open(const char *path, long max_bytes, struct supervisor_log **out,
			ocr_error *err)
{
	struct supervisor_log *log = calloc(1, sizeof(*log));

	if (!log)
		return err_set(err, ENOMEM, "log");
	snprintf(log->path, sizeof(log->path), "%s", path);
	log->max = max_bytes;
	if (open_log(log) < 0) {
		int e = errno;

		free(log);
		return err_set(err, e, "open log %s", path);
	}
	*out = log;
	return 0;
}

void supervisor_log_close(struct supervisor_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log);
}

static void rotate(struct supervisor_log *log)
{
	char from[PATH_MAX + 8], to[PATH_MAX + 8];

	for (int i = SUPERVISOR_LOG_KEEP; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", log->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", log->path, i);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", log->path);
	rename(log->path, to);
	close(log->fd);
	if (open_log(log) < 0)
		log->fd = -1; /* keep running without a log rather than die */
}

void supervisor_log_write(struct supervisor_log *log, const char *data, size_t len)
{
	if (!log)
		return;
	if (log->size > 0 && log->size + (long)len > log->max)
		rotate(log);
	while (len > 0 && log->fd >= 0) {
		ssize_t n = write(log->fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		data += n;
		len -= (size_t)n;
		log->size += n;
	}
}

void supervisor_log_printf(struct supervisor_log *log, const char *fmt, ...)
{
	char line[2048];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	va_list ap;

	localtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S openclaw-run: ", &tm);
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
	line[n++] = '\n';
	supervisor_log_write(log, line, n);
}

void supervisor_log_take_stdio(struct supervisor_log *log)
{
	if (!log || log->fd < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	dup2(log->fd, STDOUT_FILENO);
	dup2(log->fd, STDERR_FILENO);
}

void supervisor_log_tail(const char *path, int lines, int fd)
{
	char buf[16384];
	int f = open(path, O_RDONLY | O_CLOEXEC);
	off_t size, start;
	ssize_t n;

	if (f < 0)
		return;
	size = lseek(f, 0, SEEK_END);
	start = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	n = pread(f, buf, sizeof(buf) - 1, start);
	close(f);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Walk back LINES newlines from the end (ignoring a final one). */
	char *p = buf + n;
	if (p > buf && p[-1] == '\n')
		p--;
	for (int seen = 0; p > buf; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	text_defang(p, (size_t)(buf + n - p));
	if (write(fd, p, (size_t)(buf + n - p)) < 0)
		return;
}
