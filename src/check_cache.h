/* The isolation check's verdict, cached (issue 13). A start of `exec` or
 * `gateway` must refuse a profile that collides with another instance; the
 * full check reads every instance's config and records (~0.4 ms each). A
 * verdict of "no collision" is kept in the launcher's own records
 * (<records>/checks/, host_dirs.h: never a dir a sandbox can write) with
 * what it was derived from, and a later start with the same inputs takes it
 * instead of checking again:
 *
 *  - the key: the launcher binary that judges (its file's identity: another
 *    build may judge otherwise, and two installed launchers keep a verdict
 *    each), the caller's inputs (euid, --profile, the OPENCLAW_* and HOME
 *    environment) and the facts of the starting instance as it was loaded
 *    for this start (check_instance_facts(): its paths, port block and CDP
 *    URLs, so --port and OPENCLAW_GATEWAY_PORT are in it);
 *  - the identity (dev, inode, mode, owner, size, mtime and ctime in ns) of
 *    every file and directory the scan of the other instances read (a
 *    config, the records, the home it lists), stat()ed or lstat()ed the way
 *    the scan did, a missing one as its errno; of a directory it only asked
 *    about (is there a state dir, is it one), where and what it is: dev,
 *    inode, mode and owner, so a running gateway making files in its state
 *    dir does not throw away the others' verdicts (what the scan reads in
 *    there is logged itself).
 *
 * Any difference is a full check. The payload is hostile and may rewrite
 * its config at any time: a content change moves the ctime, which nobody
 * but the kernel sets, and a new file is a new inode or ctime. The one gap
 * is a change inside the same timestamp tick as the state that was read
 * ("racy git"): a verdict is only stored when every ctime it rests on is
 * older than the start of the scan by VERDICT_SETTLE_S, so a later change
 * always gets a later ctime. A config with $include is never cached (its
 * files are resolved through realpath(); the scan does not log them). */
#ifndef OCR_CHECK_CACHE_H
#define OCR_CHECK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "error.h"

#define VERDICT_SETTLE_S 2
#define VERDICT_KEY_MAX	 (64 * 1024)
#define VERDICT_FILE_MAX (512 * 1024)
#define VERDICT_DEPS_MAX 4096
#define VERDICT_MAGIC	 "openclaw-run check verdict 1"
#define VERDICT_KEEP_S	 (7 * 24 * 3600) /* not taken that long: removed */

/* One thing the verdict rests on: a path and what stat said about it. */
struct dep {
	char *path;
	bool follow; /* stat() (true) or lstat() */
	bool place;  /* only dev, ino, mode, owner count (dep_stat_place) */
	int err;     /* 0, or the errno of the failed call (then no identity) */
	unsigned long long dev, ino, size;
	unsigned mode, uid, gid;
	long long mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct dep_log {
	struct dep *items;
	size_t n;
	bool uncacheable; /* something the log cannot vouch for was read */
};

/* A line of a verdict's key appended to *BUF (of *LEN bytes, *CAP
 * allocated): "NAME LEN VALUE\n", or "NAME -\n" for no value, so that no
 * two different inputs read the same. False when out of memory. */
bool key_line(char **buf, size_t *len, size_t *cap, const char *name, const char *value);

/* stat() or lstat() PATH into *ST (may be NULL) and, when LOG is not NULL,
 * record the result. Returns what the call returned (errno kept). */
int dep_stat(struct dep_log *log, const char *path, bool follow, struct stat *st);
/* stat() PATH for whether and what it is: its size and times are not kept. */
int dep_stat_place(struct dep_log *log, const char *path, struct stat *st);
void dep_log_release(struct dep_log *log);

/* Pure halves, for tests. */
void dep_fill(struct dep *d, const struct stat *st, int err);
bool dep_same(const struct dep *a, const struct dep *b);
/* Every ctime in LOG (but places') is older than STARTED - VERDICT_SETTLE_S. */
bool dep_log_settled(const struct dep_log *log, struct timespec started);
/* The verdict file's text for KEY and LOG (caller frees); -1 when it cannot
 * be written faithfully (a path with a newline, too many deps). */
int verdict_format(const char *key, const struct dep_log *log, char **text, size_t *len,
		   ocr_error *err);
/* Parses TEXT; -1 when it is not a verdict or not one for KEY. */
int verdict_parse(const char *text, size_t len, const char *key, struct dep_log *out,
		  ocr_error *err);

/* Whether <records>/checks holds a verdict for KEY whose every dep still
 * stats the same. A file that is not the launcher's (owner, mode, a link)
 * is no verdict. */
bool verdict_still_ok(const char *records_dir, const char *key);
/* Stores the verdict "KEY is clean" resting on LOG, when LOG is cacheable and settled against
 * STARTED; otherwise does nothing. Then removes the verdicts of <records>/checks not written
 * for VERDICT_KEEP_S. Returns -1 only on a write error. */
int verdict_store(const char *records_dir, const char *key, struct dep_log *log,
		  struct timespec started, ocr_error *err);

#endif
