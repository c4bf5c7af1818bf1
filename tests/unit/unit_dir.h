/* A throwaway directory for each test of a suite, under /tmp:
 * UNIT_DIR_SUITE(suite, var, "tag") declares `char var[64]`, makes
 * /tmp/ocr-tag-XXXXXX there before each test and removes it after. */
#ifndef OCR_UNIT_DIR_H
#define OCR_UNIT_DIR_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

#define UNIT_DIR_SUITE(suite, var, tag)                                                            \
	static char var[64];                                                                       \
	static void suite##_make_dir(void)                                                         \
	{                                                                                          \
		snprintf(var, sizeof(var), "/tmp/ocr-" tag "-XXXXXX");                             \
		cr_assert_not_null(mkdtemp(var));                                                  \
	}                                                                                          \
	static void suite##_remove_dir(void)                                                       \
	{                                                                                          \
		char cmd[128];                                                                     \
                                                                                                   \
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", var);                                    \
		cr_assert_eq(system(cmd), 0);                                                      \
	}                                                                                          \
	TestSuite(suite, .init = suite##_make_dir, .fini = suite##_remove_dir)

/* Writes TEXT to DIR/REL, making REL's directories (0700) first. */
static inline void unit_dir_put(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], parent[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	cr_assert_eq(registry_mkdirs(parent, 0700, NULL), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

#endif
