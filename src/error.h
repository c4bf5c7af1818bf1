/* The launcher uses the sandbox library's error convention unchanged: a
 * function returns 0 or -1 and fills a struct ocr_error with the message and
 * the errno of the root cause; callers add context with err_prefix(). */
#ifndef OCR_ERROR_H
#define OCR_ERROR_H

#include "sandbox.h"

typedef struct sandbox_error ocr_error;

#define err_set	   sandbox_error_set
#define err_prefix sandbox_error_prefix
#define err_text   sandbox_error_text
#define err_clear  sandbox_error_clear

/* Prints "openclaw-run: <msg>: <strerror>" on stderr. */
void err_print(const ocr_error *err);

#endif
