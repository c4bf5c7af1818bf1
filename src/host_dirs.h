/* The launcher's own directories: its records (what a person pinned at
 * setup), its cache (compiled seccomp filters) and its logs. None of them is
 * ever shown to a sandbox: `setup` refuses a workspace, state dir or config
 * dir that is, holds or lies in one of them, so nothing the payload writes
 * can reach what the launcher later trusts.
 *
 *   root:     /var/lib/openclaw-run, /var/lib/openclaw-run/cache,
 *             /var/log/openclaw-run
 *   rootless: ~/.config/openclaw-run, ~/.cache/openclaw-run,
 *             ~/.local/state/openclaw-run/logs
 *
 * OPENCLAW_RUN_RECORDS_DIR=DIR puts all three under DIR (DIR, DIR/cache,
 * DIR/logs): for tests, containers (a volume) and unusual layouts. */
#ifndef OCR_HOST_DIRS_H
#define OCR_HOST_DIRS_H

#include <limits.h>
#include <stdbool.h>

#include "error.h"
#include "profile.h"

struct host_dirs {
	char records[PATH_MAX];
	char cache[PATH_MAX];
	char logs[PATH_MAX];
};

/* Pure: where the directories are for this caller (root or not). */
int host_dirs_resolve(const struct env_view *env, struct host_dirs *out, ocr_error *err);

/* mkdir -p DIR with mode 0700 for what it creates, then insists that DIR is
 * a directory owned by the caller that nobody else can write: the launcher
 * trusts what it reads there. */
int host_dir_ensure(const char *dir, ocr_error *err);

/* Notes about the host said once per boot (the cgroup limits that cannot be
 * used here): <records>/NOTE holds the id of the boot it was last said in
 * (/proc/sys/kernel/random/boot_id). The records dir is the launcher's own,
 * never shown to a sandbox. Seen: said since this boot began. */
bool host_boot_note_seen(const struct env_view *env, const char *note);
/* NOTE was said now. Best effort: where it cannot be recorded (a read-only
 * records dir) it is said again next time. */
void host_boot_note_mark(const struct env_view *env, const char *note);

/* The detached supervisor's log of profile P, in the log dir (created):
 * <logs>/<name>-<fnv32 of the state dir>.log. */
int host_log_path(const struct env_view *env, const struct profile *p, char *buf, size_t len,
		  ocr_error *err);

#endif
