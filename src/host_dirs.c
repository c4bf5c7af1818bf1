/* The launcher's own directories: see host_dirs.h. */
#include "host_dirs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "pins.h"
#include "registry.h"

static int put(char *buf, const char *fmt, const char *a, const char *b, ocr_error *err)
{
	if (snprintf(buf, PATH_MAX, fmt, a, b) >= PATH_MAX)
		return err_set(err, ENAMETOOLONG, "launcher directory under %s", a);
	return 0;
}

int host_dirs_resolve(const struct env_view *env, struct host_dirs *out, ocr_error *err)
{
	struct env_view clean = {.home = env->home, .openclaw_home = env->openclaw_home};
	char base[PATH_MAX];
	struct profile p;
	const char *home;

	memset(out, 0, sizeof(*out));
	if (env->records_dir && env->records_dir[0]) {
		if (path_clean(env->records_dir, base, sizeof(base), err) < 0)
			return err_prefix(err, "OPENCLAW_RUN_RECORDS_DIR");
		return put(out->records, "%s%s", base, "", err) < 0 ||
			       put(out->cache, "%s%s", base, "/cache", err) < 0 ||
			       put(out->logs, "%s%s", base, "/logs", err) < 0
			   ? -1
			   : 0;
	}
	if (geteuid() == 0) {
		snprintf(out->records, sizeof(out->records), "/var/lib/openclaw-run");
		snprintf(out->cache, sizeof(out->cache), "/var/lib/openclaw-run/cache");
		snprintf(out->logs, sizeof(out->logs), "/var/log/openclaw-run");
		return 0;
	}
	if (profile_resolve(NULL, &clean, &p, err) < 0)
		return -1;
	home = strcmp(p.home, "/") == 0 ? "" : p.home;
	if (put(out->records, "%s%s", home, "/.config/openclaw-run", err) < 0 ||
	    put(out->cache, "%s%s", home, "/.cache/openclaw-run", err) < 0 ||
	    put(out->logs, "%s%s", home, "/.local/state/openclaw-run/logs", err) < 0)
		return -1;
	return 0;
}

int host_dir_ensure(const char *dir, ocr_error *err)
{
	struct stat st;

	if (registry_mkdirs(dir, 0700, err) < 0)
		return -1;
	if (lstat(dir, &st) < 0)
		return err_set(err, errno, "launcher directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "launcher directory %s is not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return err_set(err, EPERM,
			       "launcher directory %s must be owned by uid %u and writable by "
			       "nobody else (it holds what the launcher trusts)",
			       dir, (unsigned)geteuid());
	return 0;
}

int host_log_path(const struct env_view *env, const struct profile *p, char *buf, size_t len,
		  ocr_error *err)
{
	struct host_dirs dirs;

	if (host_dirs_resolve(env, &dirs, err) < 0 || host_dir_ensure(dirs.logs, err) < 0)
		return -1;
	if (snprintf(buf, len, "%s/%s-%08x.log", dirs.logs, profile_label(p),
		     pins_hash(p->state_dir)) >= (int)len)
		return err_set(err, ENAMETOOLONG, "log of profile %s", profile_label(p));
	return 0;
}

/* This boot's id ("" when unknown: then nothing is ever seen). */
static void boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static bool note_path(const struct env_view *env, const char *note, char *buf, size_t len)
{
	struct host_dirs dirs;
	ocr_error ignored = {0};

	return env && host_dirs_resolve(env, &dirs, &ignored) == 0 &&
	       snprintf(buf, len, "%s/%s", dirs.records, note) < (int)len;
}

bool host_boot_note_seen(const struct env_view *env, const char *note)
{
	char path[PATH_MAX], id[64], *text = NULL;
	ocr_error ignored = {0};
	bool seen;

	boot_id(id, sizeof(id));
	if (!id[0] || !note_path(env, note, path, sizeof(path)) ||
	    read_file_capped(path, 128, &text, NULL, &ignored) < 0)
		return false;
	seen =
	    strncmp(text, id, strlen(id)) == 0 && (text[strlen(id)] == '\n' || !text[strlen(id)]);
	free(text);
	return seen;
}

void host_boot_note_mark(const struct env_view *env, const char *note)
{
	char path[PATH_MAX], id[64], line[80];
	struct host_dirs dirs;
	ocr_error ignored = {0};

	boot_id(id, sizeof(id));
	if (!id[0] || !env || host_dirs_resolve(env, &dirs, &ignored) < 0 ||
	    host_dir_ensure(dirs.records, &ignored) < 0 ||
	    !note_path(env, note, path, sizeof(path)))
		return;
	snprintf(line, sizeof(line), "%s\n", id);
	atomic_write_file(path, line, strlen(line), 0600, &ignored);
}
