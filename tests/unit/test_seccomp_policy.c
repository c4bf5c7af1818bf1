/* The seccomp policy parser: the shipped policy compiles, and every bad line
 * is reported as file:line with what is wrong. No kernel filter is loaded. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

static char policy_path[PATH_MAX];

static void write_policy(const char *text)
{
	FILE *f;

	snprintf(policy_path, sizeof(policy_path), "/tmp/ocr-policy-test-%d.policy", (int)getpid());
	f = fopen(policy_path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	if (policy_path[0])
		unlink(policy_path);
}

/* Expects a parse error whose message contains "<file>:<line>:" and WHAT. */
static void expect_error(const char *text, unsigned line, const char *what)
{
	struct sandbox_error err = {0};
	char where[PATH_MAX + 32];

	write_policy(text);
	cr_assert_eq(sandbox_policy_check(policy_path, NULL, &err), -1, "accepted: %s", text);
	snprintf(where, sizeof(where), "%s:%u:", policy_path, line);
	cr_assert(strstr(err.msg, where), "'%s' lacks '%s'", err.msg, where);
	cr_assert(strstr(err.msg, what), "'%s' lacks '%s'", err.msg, what);
}

Test(seccomp_policy, shipped_default_policy_compiles)
{
	struct sandbox_error err = {0};
	char path[PATH_MAX];
	size_t n = 0;
	char *cut;

	/* __FILE__ is absolute in this build: <src>/tests/unit/<this>. */
	snprintf(path, sizeof(path), "%s", __FILE__);
	cut = strstr(path, "/tests/unit/");
	cr_assert_not_null(cut);
	snprintf(cut, sizeof(path) - (size_t)(cut - path), "/sandbox/default.policy");
	cr_assert_eq(sandbox_policy_check(path, &n, &err), 0, "%s", err.msg);
	cr_assert_gt(n, 150, "only %zu rules", n);
}

Test(seccomp_policy, good_file_counts_rules, .fini = cleanup)
{
	struct sandbox_error err = {0};
	size_t n = 0;

	write_policy("# comment only\n"
		     "\n"
		     "allow read\n"
		     "allow write   # trailing comment\n"
		     "errno ENOSYS io_uring_setup  # libuv falls back\n"
		     "errno 38 io_uring_enter  # numeric errno\n"
		     "kill mount  # no mounts\n"
		     "allow clone if arg0 & 0x7e020000 == 0  # no namespaces\n"
		     "allow socket if arg0 != 17  # no packet sockets\n"
		     "errno EPERM name_to_handle_at  # same as the default\n");
	cr_assert_eq(sandbox_policy_check(policy_path, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 8);
}

Test(seccomp_policy, unknown_action, .fini = cleanup)
{
	expect_error("allow read\npermit write\n", 2, "unknown action");
}

Test(seccomp_policy, unknown_syscall, .fini = cleanup)
{
	expect_error("allow read\n\nallow no_such_call\n", 3, "unknown syscall 'no_such_call'");
}

Test(seccomp_policy, deny_without_comment, .fini = cleanup)
{
	expect_error("kill mount\n", 1, "needs a # comment");
}

Test(seccomp_policy, bad_errno, .fini = cleanup)
{
	expect_error("allow read\nerrno EWHAT open  # x\n", 2, "bad errno 'EWHAT'");
}

Test(seccomp_policy, duplicate_syscall, .fini = cleanup)
{
	expect_error("allow read\nallow write\nkill read  # x\n", 3, "already listed on line 1");
}

Test(seccomp_policy, bad_condition, .fini = cleanup)
{
	expect_error("allow clone if arg9 == 1  # x\n", 1, "bad condition");
	expect_error("allow clone if arg0 & zz == 0  # x\n", 1, "bad condition");
}

Test(seccomp_policy, missing_syscall_name, .fini = cleanup)
{
	expect_error("allow read\nerrno ENOSYS  # x\n", 2, "missing syscall name");
}

Test(seccomp_policy, empty_policy_is_an_error, .fini = cleanup)
{
	struct sandbox_error err = {0};

	write_policy("# nothing\n");
	cr_assert_eq(sandbox_policy_check(policy_path, NULL, &err), -1);
	cr_assert(strstr(err.msg, "no rules"), "%s", err.msg);
}

Test(seccomp_policy, missing_file_names_it)
{
	struct sandbox_error err = {0};

	cr_assert_eq(sandbox_policy_check("/nonexistent/x.policy", NULL, &err), -1);
	cr_assert(strstr(err.msg, "/nonexistent/x.policy"), "%s", err.msg);
	cr_assert_eq(err.errnum, ENOENT);
}
