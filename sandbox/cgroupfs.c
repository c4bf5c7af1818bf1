/* cgroupfs: small reads and writes of its files, and where a process's
 * groups of memory, pids and cpu are (the v1 hierarchy of each controller,
 * or v2's). */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- small file I/O on cgroupfs -------------------------------------------- */

int sb_cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	cleanup_close int fd = -1;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int sb_cg_write(const char *dir, const char *file, const char *fmt, ...)
{
	char path[PATH_MAX + 64], text[64];
	cleanup_close int fd = -1;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	return write(fd, text, (size_t)n) == n ? 0 : -1;
}

bool sb_cg_has_file(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* WORD is an item of LIST, separated by any of SEPS. */
bool sb_cg_has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || strchr(seps, p[-1])) && (!p[n] || strchr(seps, p[n])))
			return true;
	}
	return false;
}

/* ---- where a process's groups are ------------------------------------------ */

const char *const sb_cg_names[SB_CG_N] = {"memory", "pids", "cpu"};

/* The cgroup and cgroup2 lines of our mountinfo, read once per locate
 * (caller frees; NULL when unreadable). */
static char *cg_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *all = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;

	if (!f)
		return NULL;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *grown;

		if (!strstr(line, " - cgroup"))
			continue;
		grown = realloc(all, len + (size_t)n + 1);
		if (!grown)
			break;
		all = grown;
		memcpy(all + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	free(line);
	fclose(f);
	return all;
}

/* Of MOUNTS (cg_mounts()), the v1 hierarchy of CONTROLLER (or v2 when
 * NULL) whose root holds PATH; DIR gets the directory of PATH in it. */
static bool cg_mount_dir(const char *mounts, const char *controller, const char *path, char *dir,
			 size_t len)
{
	for (const char *l = mounts, *end; l && *l; l = *end ? end + 1 : end) {
		char line[8192], root[PATH_MAX], point[PATH_MAX], type[32], opts[512];
		const char *sep;
		size_t rlen, n;

		end = strchrnul(l, '\n');
		n = (size_t)(end - l);
		if (n >= sizeof(line))
			continue;
		memcpy(line, l, n);
		line[n] = '\0';
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
		    sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2)
			continue;
		if (controller
			? strcmp(type, "cgroup") != 0 || !sb_cg_has_word(opts, controller, ",")
			: strcmp(type, "cgroup2") != 0)
			continue;
		/* A hierarchy mounted from below its root (a container's view)
		 * shows only what lies under that root. */
		rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(path, root, rlen) != 0 || (path[rlen] && path[rlen] != '/'))
			continue;
		return snprintf(dir, len, "%s%s", point,
				strcmp(path + rlen, "/") == 0 ? "" : path + rlen) < (int)len;
	}
	return false;
}

void sb_cg_locate(pid_t pid, struct sb_cg_place out[SB_CG_N])
{
	char file[64], *line = NULL, v2_path[PATH_MAX] = "";
	cleanup_free char *mounts = NULL;
	size_t cap = 0;
	FILE *f;

	memset(out, 0, SB_CG_N * sizeof(*out));
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid ? (int)pid : (int)getpid());
	f = fopen(file, "re");
	if (!f)
		return;
	mounts = cg_mounts();
	while (getline(&line, &cap, f) > 0) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*path++ = '\0';
		ctrls++;
		path[strcspn(path, "\n")] = '\0';
		if (!*ctrls) {
			snprintf(v2_path, sizeof(v2_path), "%s", path);
			continue;
		}
		for (int i = 0; i < SB_CG_N; i++) {
			if (sb_cg_has_word(ctrls, sb_cg_names[i], ",") &&
			    cg_mount_dir(mounts, sb_cg_names[i], path, out[i].dir,
					 sizeof(out[i].dir)))
				out[i].version = 1;
		}
	}
	free(line);
	fclose(f);
	/* Controllers no v1 hierarchy has are v2's, if it offers them here. */
	for (int i = 0; i < SB_CG_N; i++) {
		char avail[256];

		if (out[i].version || !v2_path[0] ||
		    !cg_mount_dir(mounts, NULL, v2_path, out[i].dir, sizeof(out[i].dir)))
			continue;
		if (sb_cg_read(out[i].dir, "cgroup.controllers", avail, sizeof(avail)) == 0 &&
		    sb_cg_has_word(avail, sb_cg_names[i], " \n"))
			out[i].version = 2;
	}
}
