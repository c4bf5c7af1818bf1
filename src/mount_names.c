/* Other names through bind mounts: see mount_names.h. */
#include "mount_names.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct mount_line {
	unsigned long long id;
	unsigned major, minor;
	char root[PATH_MAX]; /* the directory of the file system it shows */
	char point[PATH_MAX];
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static bool parse(const char *line, struct mount_line *m)
{
	if (sscanf(line, "%llu %*u %u:%u %4095s %4095s", &m->id, &m->major, &m->minor, m->root,
		   m->point) != 5)
		return false;
	unescape(m->root);
	unescape(m->point);
	return true;
}

/* PATH below DIR: the rest ("" for DIR itself, "/x/y" otherwise); NULL when
 * PATH is not DIR or below it. */
static const char *rest_below(const char *path, const char *dir)
{
	size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);

	if (strncmp(path, dir, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return NULL;
	return path + n;
}

/* The mount PATH lies on: the longest mount point above it with PATH's
 * device (the last one listed wins: it is mounted over the others). */
static bool find_own_mount(FILE *mi, const char *path, dev_t dev, struct mount_line *own)
{
	struct mount_line m;
	char line[2 * PATH_MAX + 256];
	size_t best = 0;
	bool found = false;

	while (fgets(line, sizeof(line), mi)) {
		if (!parse(line, &m) || makedev(m.major, m.minor) != dev ||
		    !rest_below(path, m.point) || strlen(m.point) < best)
			continue;
		best = strlen(m.point);
		*own = m;
		found = true;
	}
	return found;
}

size_t mount_other_names(const char *path, char (*out)[PATH_MAX], size_t max)
{
	struct mount_line own, m;
	struct stat st, other;
	char line[2 * PATH_MAX + 256], fs_path[PATH_MAX];
	const char *rest;
	size_t n = 0;
	FILE *mi;

	if (stat(path, &st) < 0 || !(mi = fopen("/proc/self/mountinfo", "re")))
		return 0;
	if (!find_own_mount(mi, path, st.st_dev, &own) || !(rest = rest_below(path, own.point)) ||
	    snprintf(fs_path, sizeof(fs_path), "%s%s", strcmp(own.root, "/") ? own.root : "",
		     rest) >= (int)sizeof(fs_path)) {
		fclose(mi);
		return 0;
	}
	if (!fs_path[0])
		snprintf(fs_path, sizeof(fs_path), "/");
	rewind(mi);
	/* Every mount of the same file system that shows FS_PATH. */
	while (n < max && fgets(line, sizeof(line), mi)) {
		const char *below;

		if (!parse(line, &m) || makedev(m.major, m.minor) != st.st_dev ||
		    !(below = rest_below(fs_path, m.root)))
			continue;
		if (snprintf(out[n], PATH_MAX, "%s%s", strcmp(m.point, "/") ? m.point : "",
			     below) >= PATH_MAX)
			continue;
		if (!out[n][0])
			snprintf(out[n], PATH_MAX, "/");
		if (strcmp(out[n], path) == 0 || stat(out[n], &other) < 0 ||
		    other.st_dev != st.st_dev || other.st_ino != st.st_ino)
			continue;
		n++;
	}
	fclose(mi);
	return n;
}
