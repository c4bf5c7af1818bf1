/* Foreign files in a state dir: see ownership.h. */
#include "ownership.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

#define OWNERSHIP_MAX_ENTRIES 200000
#define OWNERSHIP_MAX_DEPTH   64

struct walk {
	const char *skip_rel;
	uid_t uid;
	gid_t gid;
	bool repair;
	dev_t dev;
	size_t seen, foreign, fixed, skipped;
	struct ownership_report *report;
	char rel[PATH_MAX];
};

static void note_foreign(struct walk *w, const struct stat *st)
{
	if (w->foreign++ == 0 && w->report) {
		snprintf(w->report->first, sizeof(w->report->first), "%s", w->rel);
		/* The payload names the directories on the way: printed. */
		text_defang_line(w->report->first, strlen(w->report->first));
		w->report->first_uid = st->st_uid;
	}
}

static void fix(struct walk *w, int dir_fd, const char *name, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		w->skipped++; /* another file's name, maybe planted: not ours to give */
		return;
	}
	if (fchownat(dir_fd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) == 0)
		w->fixed++;
	else
		w->skipped++;
}

static int walk_dir(struct walk *w, int dir_fd, size_t rel_len, int depth);

static int visit(struct walk *w, int dir_fd, const char *name, size_t rel_len, int depth)
{
	struct stat st;
	size_t len = rel_len;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode))
		return 0;
	len += (size_t)snprintf(w->rel + rel_len, sizeof(w->rel) - rel_len, "%s%s",
				rel_len ? "/" : "", name);
	if (len >= sizeof(w->rel))
		return 0;
	if (w->skip_rel[0] && strcmp(w->rel, w->skip_rel) == 0)
		return 0;
	if (st.st_uid != w->uid) {
		note_foreign(w, &st);
		if (w->repair)
			fix(w, dir_fd, name, &st);
	}
	if (!S_ISDIR(st.st_mode) || st.st_dev != w->dev || depth >= OWNERSHIP_MAX_DEPTH)
		return 0;
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* unreadable to us: nothing below to judge */
	int rc = walk_dir(w, fd, len, depth + 1);
	close(fd);
	return rc;
}

/* Takes ownership of DIR_FD's duplicate; DIR_FD stays the caller's. */
static int walk_dir(struct walk *w, int dir_fd, size_t rel_len, int depth)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++w->seen > OWNERSHIP_MAX_ENTRIES) {
			if (w->report)
				w->report->truncated = true;
			break;
		}
		visit(w, dirfd(d), de->d_name, rel_len, depth);
		w->rel[rel_len] = '\0';
	}
	closedir(d);
	return 0;
}

static int run(struct walk *w, int state_fd, ocr_error *err)
{
	struct stat st;

	if (fstat(state_fd, &st) < 0)
		return err_set(err, errno, "state dir");
	w->dev = st.st_dev;
	w->rel[0] = '\0';
	if (st.st_uid != w->uid) {
		w->rel[0] = '.';
		w->rel[1] = '\0';
		note_foreign(w, &st);
		if (w->repair && fchown(state_fd, w->uid, w->gid) == 0)
			w->fixed++;
		w->rel[0] = '\0';
	}
	return walk_dir(w, state_fd, 0, 0);
}

int ownership_scan(int state_fd, const char *skip_rel, uid_t uid, struct ownership_report *out,
		   ocr_error *err)
{
	struct walk w = {.skip_rel = skip_rel ? skip_rel : "", .uid = uid, .report = out};

	memset(out, 0, sizeof(*out));
	if (run(&w, state_fd, err) < 0)
		return -1;
	out->foreign = w.foreign;
	return 0;
}

int ownership_repair(int state_fd, const char *skip_rel, uid_t uid, gid_t gid, size_t *fixed,
		     size_t *skipped, ocr_error *err)
{
	struct walk w = {
	    .skip_rel = skip_rel ? skip_rel : "", .uid = uid, .gid = gid, .repair = true};

	if (run(&w, state_fd, err) < 0)
		return -1;
	*fixed = w.fixed;
	*skipped = w.skipped;
	return 0;
}
