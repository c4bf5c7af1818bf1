/* Scope-bound release for the launcher (sandbox/ has its own, to stay
 * free of src/): a variable declared with one of these is released on
 * every way out of its block, which keeps error paths short and leak-free
 * without goto ladders. */
#ifndef OCR_CLEANUP_H
#define OCR_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void ocr_freep(void *p)
{
	free(*(void **)p);
}

static inline void ocr_closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void ocr_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_free   __attribute__((cleanup(ocr_freep)))
#define cleanup_close  __attribute__((cleanup(ocr_closep)))
#define cleanup_fclose __attribute__((cleanup(ocr_fclosep)))

#endif
