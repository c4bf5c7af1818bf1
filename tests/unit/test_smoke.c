/* The error convention every module relies on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "error.h"

Test(error, prefix_adds_context_and_keeps_errno)
{
	ocr_error err = {0};
	char buf[256];

	cr_assert_eq(err_set(&err, EACCES, "open %s", "/x"), -1);
	cr_assert_eq(err_prefix(&err, "profile %s", "rescue"), -1);
	cr_assert_str_eq(err.msg, "profile rescue: open /x");
	cr_assert_eq(err.errnum, EACCES);
	cr_assert_str_eq(err_text(&err, buf, sizeof(buf)),
			 "profile rescue: open /x: Permission denied");
}

Test(error, prefix_truncates_without_overflow)
{
	ocr_error err = {0};
	char big[2000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&err, 0, "%s", big);
	err_prefix(&err, "ctx");
	cr_assert_eq(strlen(err.msg), sizeof(err.msg) - 1);
	cr_assert(strncmp(err.msg, "ctx: aaa", 8) == 0);
}
