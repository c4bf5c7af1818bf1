/* Whole-file I/O for files in directories another party can write (an
 * instance's state dir belongs to its sandbox): reads that follow no link in
 * the last component, take regular files only, never block and are
 * size-capped; and replacement that never leaves a half-written file or a
 * temp file behind, with owner and mode set before the file appears. */
#ifndef OCR_ATOMIC_FILE_H
#define OCR_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* What read_whole_file reads at most (the config cap). */
#define READ_FILE_MAX ((size_t)1 << 20)

struct atomic_write_opts {
	mode_t mode;
	/* Owner of the new file; (uid_t)-1 / (gid_t)-1 leave the creator's. */
	uid_t uid;
	gid_t gid;
	/* Keep the file being replaced as PATH.bak, shifting older copies to
	 * PATH.bak.1 .. PATH.bak.4 (the gateway's own ring). */
	bool backup;
	/* The directory to write in, opened by the caller (e.g. beneath a
	 * state dir without following links); NULL: PATH's parent by name. */
	const int *dir_fd;
};

/* Writes DATA to a temp file next to PATH (O_TMPFILE where the filesystem
 * has it), sets owner and mode, fsyncs, renames it over PATH and fsyncs the
 * directory. PATH's last component must not be a symlink (errno ELOOP). */
int atomic_write_file_opts(const char *path, const void *data, size_t len,
			   const struct atomic_write_opts *opts, ocr_error *err);
/* The same with MODE, the creator as owner, no backup. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, ocr_error *err);

/* Reads a regular file of at most MAX bytes (NUL-terminated; *len may be
 * NULL; caller frees). The last component is opened relative to its
 * directory without following a link (errno ELOOP, "... is a symlink") and
 * without blocking; a FIFO, device or directory is an error (EINVAL), so is
 * a file over MAX bytes (EFBIG). A missing file keeps errno ENOENT. */
int read_file_capped(const char *path, size_t max, char **data, size_t *len, ocr_error *err);
/* read_file_capped of BASE in the directory DIR (opened by the caller, who
 * has checked where it is); PATH names it in messages. */
int read_file_capped_at(int dir, const char *base, const char *path, size_t max, char **data,
			size_t *len, ocr_error *err);
/* read_file_capped with READ_FILE_MAX. */
int read_whole_file(const char *path, char **data, size_t *len, ocr_error *err);

#endif
