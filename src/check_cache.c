/* The isolation check's cached verdict: see check_cache.h. */
#include "check_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "host_dirs.h"

bool key_line(char **buf, size_t *len, size_t *cap, const char *name, const char *value)
{
	size_t need = strlen(name) + (value ? strlen(value) : 0) + 32;

	if (*len + need > *cap) {
		size_t bigger_cap = (*cap + need) * 2;
		char *bigger = realloc(*buf, bigger_cap);

		if (!bigger)
			return false;
		*buf = bigger;
		*cap = bigger_cap;
	}
	*len += (size_t)(value ? snprintf(*buf + *len, *cap - *len, "%s %zu %s\n", name,
					  strlen(value), value)
			       : snprintf(*buf + *len, *cap - *len, "%s -\n", name));
	return true;
}

void dep_fill(struct dep *d, const struct stat *st, int err)
{
	d->err = err;
	if (err || !st) {
		d->dev = d->ino = d->size = 0;
		d->mode = d->uid = d->gid = 0;
		d->mtime_s = d->mtime_ns = d->ctime_s = d->ctime_ns = 0;
		return;
	}
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->size = (unsigned long long)st->st_size;
	d->mode = st->st_mode;
	d->uid = st->st_uid;
	d->gid = st->st_gid;
	d->mtime_s = st->st_mtim.tv_sec;
	d->mtime_ns = st->st_mtim.tv_nsec;
	d->ctime_s = st->st_ctim.tv_sec;
	d->ctime_ns = st->st_ctim.tv_nsec;
}

bool dep_same(const struct dep *a, const struct dep *b)
{
	if (strcmp(a->path, b->path) != 0 || a->follow != b->follow || a->place != b->place ||
	    a->err != b->err || a->dev != b->dev || a->ino != b->ino || a->mode != b->mode ||
	    a->uid != b->uid || a->gid != b->gid)
		return false;
	return a->place ||
	       (a->size == b->size && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
		a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns);
}

static int log_push(struct dep_log *log, const char *path, bool follow, bool place,
		    const struct stat *st, int err)
{
	struct dep *d;

	if (log->n >= VERDICT_DEPS_MAX || strchr(path, '\n'))
		return -1;
	if ((log->n & (log->n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to double */
		struct dep *bigger =
		    realloc(log->items, (log->n ? log->n * 2 : 16) * sizeof(*bigger));

		if (!bigger)
			return -1;
		log->items = bigger;
	}
	d = &log->items[log->n];
	d->path = strdup(path);
	if (!d->path)
		return -1;
	d->follow = follow;
	d->place = place;
	dep_fill(d, st, err);
	if (place) /* where and what it is, not what it holds */
		d->size = 0, d->mtime_s = d->mtime_ns = d->ctime_s = d->ctime_ns = 0;
	log->n++;
	return 0;
}

static int logged_stat(struct dep_log *log, const char *path, bool follow, bool place,
		       struct stat *st)
{
	struct stat local, *s = st ? st : &local;
	int rc = follow ? stat(path, s) : lstat(path, s);
	int saved = errno;

	if (log && !log->uncacheable &&
	    log_push(log, path, follow, place, rc == 0 ? s : NULL, rc == 0 ? 0 : saved) < 0)
		log->uncacheable = true;
	errno = saved;
	return rc;
}

int dep_stat(struct dep_log *log, const char *path, bool follow, struct stat *st)
{
	return logged_stat(log, path, follow, false, st);
}

int dep_stat_place(struct dep_log *log, const char *path, struct stat *st)
{
	return logged_stat(log, path, true, true, st);
}

void dep_log_release(struct dep_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		free(log->items[i].path);
	free(log->items);
	memset(log, 0, sizeof(*log));
}

bool dep_log_settled(const struct dep_log *log, struct timespec started)
{
	long long limit = (long long)started.tv_sec - VERDICT_SETTLE_S;

	for (size_t i = 0; i < log->n; i++) {
		const struct dep *d = &log->items[i];

		if (d->err == 0 && !d->place &&
		    (d->ctime_s > limit || (d->ctime_s == limit && d->ctime_ns >= started.tv_nsec)))
			return false;
	}
	return true;
}

/* The format is ours alone: a magic line, the key as "key LEN\n" and its
 * bytes, one line per dep with the path last, and "end". */
int verdict_format(const char *key, const struct dep_log *log, char **text, size_t *len,
		   ocr_error *err)
{
	size_t klen = strlen(key), cap = klen + 128, n;
	char *buf;

	for (size_t i = 0; i < log->n; i++)
		cap += strlen(log->items[i].path) + 200;
	if (log->uncacheable || klen > VERDICT_KEY_MAX || cap > VERDICT_FILE_MAX)
		return err_set(err, EFBIG, "check verdict: too large to keep");
	buf = malloc(cap);
	if (!buf)
		return err_set(err, ENOMEM, "check verdict");
	n = (size_t)snprintf(buf, cap, "%s\nkey %zu\n", VERDICT_MAGIC, klen);
	memcpy(buf + n, key, klen);
	n += klen;
	buf[n++] = '\n';
	for (size_t i = 0; i < log->n; i++) {
		const struct dep *d = &log->items[i];

		if (strchr(d->path, '\n')) {
			free(buf);
			return err_set(err, EINVAL, "check verdict: a path holds a newline");
		}
		n += (size_t)snprintf(buf + n, cap - n,
				      "%c %d %llu %llu %o %u %u %llu %lld %lld %lld %lld %s\n",
				      d->place	  ? 'p'
				      : d->follow ? 's'
						  : 'l',
				      d->err, d->dev, d->ino, d->mode, d->uid, d->gid, d->size,
				      d->mtime_s, d->mtime_ns, d->ctime_s, d->ctime_ns, d->path);
	}
	n += (size_t)snprintf(buf + n, cap - n, "end\n");
	*text = buf;
	*len = n;
	return 0;
}

static int parse_dep(const char *line, size_t len, struct dep_log *out)
{
	char kind, path[PATH_MAX];
	struct dep d = {0};
	int at = -1;

	if (len >= sizeof(path) + 256)
		return -1;
	if (sscanf(line, "%c %d %llu %llu %o %u %u %llu %lld %lld %lld %lld %n", &kind, &d.err,
		   &d.dev, &d.ino, &d.mode, &d.uid, &d.gid, &d.size, &d.mtime_s, &d.mtime_ns,
		   &d.ctime_s, &d.ctime_ns, &at) != 12 ||
	    at < 0 || (size_t)at >= len || (kind != 's' && kind != 'l' && kind != 'p') ||
	    len - (size_t)at >= sizeof(path))
		return -1;
	memcpy(path, line + at, len - (size_t)at);
	path[len - (size_t)at] = '\0';
	if (log_push(out, path, kind != 'l', kind == 'p', NULL, 0) < 0)
		return -1;
	d.path = out->items[out->n - 1].path;
	d.follow = kind != 'l';
	d.place = kind == 'p';
	out->items[out->n - 1] = d;
	return 0;
}

int verdict_parse(const char *text, size_t len, const char *key, struct dep_log *out,
		  ocr_error *err)
{
	size_t magic = strlen(VERDICT_MAGIC), klen = strlen(key), stored;
	const char *s = text, *end = text + len;
	int at = -1;

	memset(out, 0, sizeof(*out));
	if (len < magic + 1 || memcmp(s, VERDICT_MAGIC "\n", magic + 1) != 0)
		return err_set(err, 0, "check verdict: not one");
	s += magic + 1;
	if (sscanf(s, "key %zu\n%n", &stored, &at) != 1 || at < 0 || stored != klen ||
	    (size_t)(end - s) < (size_t)at + klen + 1 || memcmp(s + at, key, klen) != 0 ||
	    s[at + (int)klen] != '\n')
		return err_set(err, 0, "check verdict: for other inputs");
	s += (size_t)at + klen + 1;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		if (!nl)
			break;
		if (nl - s == 3 && memcmp(s, "end", 3) == 0 && nl + 1 == end)
			return out->n ? 0 : err_set(err, 0, "check verdict: rests on nothing");
		if (parse_dep(s, (size_t)(nl - s), out) < 0)
			break;
		s = nl + 1;
	}
	dep_log_release(out);
	return err_set(err, 0, "check verdict: damaged");
}

static int verdict_path(const char *records_dir, const char *key, char *buf, size_t len)
{
	unsigned long long h = 14695981039346656037ull;

	/* Names the file only: the key itself is inside and compared whole. */
	for (const char *s = key; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return snprintf(buf, len, "%s/checks/%016llx", records_dir, h) < (int)len ? 0 : -1;
}

/* A file of the launcher's own records: regular, ours, writable by nobody
 * else, not a link, capped. */
static char *read_own(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & 022) && st.st_size > 0 && st.st_size <= VERDICT_FILE_MAX &&
	    (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t n = read(fd, buf, (size_t)st.st_size);

		if (n != st.st_size) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

bool verdict_still_ok(const char *records_dir, const char *key)
{
	char path[PATH_MAX], *text;
	struct dep_log log;
	size_t len = 0;
	bool ok;

	if (verdict_path(records_dir, key, path, sizeof(path)) < 0 ||
	    !(text = read_own(path, &len)))
		return false;
	ok = verdict_parse(text, len, key, &log, NULL) == 0;
	free(text);
	for (size_t i = 0; ok && i < log.n; i++) {
		const struct dep *was = &log.items[i];
		struct dep now = {.path = was->path, .follow = was->follow, .place = was->place};
		struct stat st;
		int rc = was->follow ? stat(was->path, &st) : lstat(was->path, &st);

		dep_fill(&now, rc == 0 ? &st : NULL, rc == 0 ? 0 : errno);
		ok = dep_same(was, &now);
	}
	dep_log_release(&log);
	return ok;
}

/* Verdicts nobody took for VERDICT_KEEP_S go: each launcher binary keeps its
 * own (its identity is in the key), so upgrades and rebuilds would leave
 * theirs behind for ever. A taken verdict is never rewritten, so a profile
 * untouched that long pays one full check, then has a fresh one. */
static void prune(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strlen(de->d_name) != 16 || strspn(de->d_name, "0123456789abcdef") != 16 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > now - VERDICT_KEEP_S)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int verdict_store(const char *records_dir, const char *key, struct dep_log *log,
		  struct timespec started, ocr_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX + 8], *text;
	size_t len;
	int rc;

	if (log->uncacheable || !dep_log_settled(log, started) ||
	    verdict_path(records_dir, key, path, sizeof(path)) < 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/checks", records_dir);
	if (host_dir_ensure(dir, err) < 0 || verdict_format(key, log, &text, &len, err) < 0)
		return -1;
	rc = atomic_write_file(path, text, len, 0600, err);
	free(text);
	if (rc == 0)
		prune(dir, time(NULL));
	return rc;
}
