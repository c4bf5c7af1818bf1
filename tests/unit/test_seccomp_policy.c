/* The seccomp policy parser: the shipped policy compiles, and every bad line
 * is reported as file:line with what is wrong. No kernel filter is loaded. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_internal.h"

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
	/* Several lines only when each has a condition. */
	expect_error("allow socket if arg0 == 1  # x\nallow socket\n", 2, "already listed");
	expect_error("allow socket\nallow socket if arg0 == 1  # x\n", 2, "already listed");
}

Test(seccomp_policy, bad_condition, .fini = cleanup)
{
	expect_error("allow clone if arg9 == 1  # x\n", 1, "bad condition");
	expect_error("allow clone if arg0 & zz == 0  # x\n", 1, "bad condition");
	expect_error("allow clone if arg0 & 1 != 0  # x\n", 1, "bad condition");
	expect_error("allow socket if arg0 == 2 and  # x\n", 1, "bad condition");
	expect_error("allow socket if arg0 == 2 and arg0 == 3  # x\n", 1, "bad condition");
	expect_error("allow socket if arg0 =< 2  # x\n", 1, "bad condition");
	expect_error("allow socket if arg0 == 2 or arg1 == 3  # x\n", 1, "bad condition");
}

Test(seccomp_policy, several_conditions_and_lines, .fini = cleanup)
{
	struct sandbox_error err = {0};
	size_t n = 0;

	write_policy("allow socket if arg0 == 1  # unix\n"
		     "allow socket if arg0 == 2 and arg2 == 6  # inet tcp\n"
		     "allow socket if arg0 == 2 and arg1 & 0xf == 2 and arg2 == 0  # inet dgram\n"
		     "errno EPROTONOSUPPORT socket if arg0 == 2 and arg2 > 17  # mptcp\n"
		     "errno EAFNOSUPPORT socket if arg0 >= 17  # the rest\n"
		     "allow read if arg2 <= 4096  # small reads\n"
		     "allow write if arg2 < 10 and arg0 != 7  # x\n");
	cr_assert_eq(sandbox_policy_check(policy_path, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 7);
}

/* The shipped policy's socket rules, loaded for real in a child (no_new_privs
 * needs no privilege): each case's errno, or success. */
static int socket_errno(long family, long type, long proto)
{
	long fd = syscall(SYS_socket, family, type, proto);

	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

Test(seccomp_policy, shipped_socket_rules)
{
	static const struct {
		long family, type, proto;
		int want;
	} cases[] = {
	    {AF_UNIX, SOCK_STREAM, 0, 0},
	    {AF_INET, SOCK_STREAM, 0, 0},
	    {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP, 0},
	    {AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0},
	    {AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */, 0},
	    {AF_INET, SOCK_STREAM, 262 /* IPPROTO_MPTCP */, EPROTONOSUPPORT},
	    {AF_INET6, SOCK_STREAM, 262, EPROTONOSUPPORT},
	    {AF_INET, SOCK_STREAM, IPPROTO_SCTP, EPROTONOSUPPORT},
	    {AF_NETLINK, SOCK_RAW, 15 /* NETLINK_KOBJECT_UEVENT */, EPROTONOSUPPORT},
	    {AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */, EPROTONOSUPPORT},
	    {AF_PACKET, SOCK_RAW, 0, EAFNOSUPPORT},
	    {40 /* AF_VSOCK */, SOCK_STREAM, 0, EAFNOSUPPORT},
	    {AF_KEY, SOCK_RAW, 2, EPERM},
	    /* The kernel reads ints (it makes an MPTCP socket of these); the
	     * filter compares 64 bits, so high bits match no allow rule. */
	    {0x100000000L | AF_INET, SOCK_STREAM, 262, EAFNOSUPPORT},
	    {AF_INET, SOCK_STREAM, 0x100000000L | 262, EPROTONOSUPPORT},
	    {0x100000000L | AF_INET, SOCK_STREAM, 0, EAFNOSUPPORT},
	};
	struct sandbox_error err = {0};
	struct sb_bpf bpf;
	char path[PATH_MAX], *cut;
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s", __FILE__);
	cut = strstr(path, "/tests/unit/");
	cr_assert_not_null(cut);
	snprintf(cut, sizeof(path) - (size_t)(cut - path), "/sandbox/default.policy");
	cr_assert_eq(sb_policy_compile(path, &bpf, NULL, &err), 0, "%s", err.msg);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sb_seccomp_apply(&bpf, &err) < 0)
			_exit(100);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (socket_errno(cases[i].family, cases[i].type, cases[i].proto) !=
			    cases[i].want)
				_exit((int)i + 1);
		}
		_exit(0);
	}
	sb_bpf_release(&bpf);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status %d", status);
	cr_assert_eq(WEXITSTATUS(status), 0, "case %d failed (100: could not load the filter)",
		     WEXITSTATUS(status) - 1);
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
