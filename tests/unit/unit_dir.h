/* A throwaway directory for each test of a suite, under /tmp:
 * UNIT_DIR_SUITE(suite, var, "tag") declares `char var[64]`, makes
 * /tmp/ocr-tag-XXXXXX there before each test and removes it after. */
#ifndef OCR_UNIT_DIR_H
#define OCR_UNIT_DIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
