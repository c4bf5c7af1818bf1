/* Whole-file replacement that never leaves a half-written file: write a temp
 * file next to PATH, fsync it, rename it over PATH, fsync the directory. */
#ifndef OCR_ATOMIC_FILE_H
#define OCR_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, ocr_error *err);

/* Reads a whole file (NUL-terminated); *len may be NULL. Caller frees. */
int read_whole_file(const char *path, char **data, size_t *len, ocr_error *err);

#endif
