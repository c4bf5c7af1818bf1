/* Attacks on what the kernel enforces for the sandbox (issue 7, attacks 3,
 * 5 and 8): a forged seccomp filter cache, sockets that Landlock's TCP
 * rules do not cover, and unbounded tmpfs and limits. */
#include "attack_fx.h"

#include <linux/filter.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/seccomp.h>
#include <stdint.h>

#define SIGSYS_EXIT (128 + 31)

static void attacker(const struct afx *f, struct run_result *r, const char *net,
		     const char *const *args)
{
	const char *argv[AFX_MAX_ARGS];
	size_t n = 0;

	argv[n++] = "--profile";
	argv[n++] = "a";
	argv[n++] = "exec";
	argv[n++] = "--ro-bind";
	argv[n++] = f->helpers;
	if (net)
		argv[n++] = net;
	argv[n++] = "--";
	argv[n++] = f->attacker;
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(afx_run(f, r, 120, argv), 0);
}

#define ATTACKER(f, r, net, ...) attacker((f), (r), (net), (const char *const[]){__VA_ARGS__, NULL})

/* The one-instruction allow-all program, behind the header of the real
 * file (magic, count, policy digest and MAC kept: only the key makes a
 * valid MAC). Returns how many files were forged. */
static int forge_cache(const char *cache)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	char path[AFX_PATH + 300];
	unsigned char header[80];
	struct dirent *e;
	int forged = 0;
	DIR *d = opendir(cache);

	cr_assert_not_null(d, "no filter cache at %s", cache);
	while ((e = readdir(d))) {
		uint32_t one = 1;
		FILE *fp;

		if (strncmp(e->d_name, "seccomp-", 8) != 0)
			continue;
		afx_fmt(path, "%s/%s", cache, e->d_name);
		fp = fopen(path, "r+");
		cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
		cr_assert_eq(fread(header, 1, sizeof(header), fp), sizeof(header));
		memcpy(header + 8, &one, sizeof(one));
		cr_assert_eq(ftruncate(fileno(fp), 0), 0);
		rewind(fp);
		fwrite(header, 1, sizeof(header), fp);
		fwrite(&allow, 1, sizeof(allow), fp);
		fclose(fp);
		forged++;
	}
	closedir(d);
	return forged;
}

/* Forged files left in the cache (80-byte header + one instruction). */
static int forged_left(const char *cache)
{
	char path[AFX_PATH + 300];
	struct dirent *e;
	struct stat st;
	int left = 0;
	DIR *d = opendir(cache);

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		afx_fmt(path, "%s/%s", cache, e->d_name);
		if (strncmp(e->d_name, "seccomp-", 8) == 0 && stat(path, &st) == 0 &&
		    st.st_size == 88)
			left++;
	}
	closedir(d);
	return left;
}

/* Attack 3: an allow-all BPF where the filter cache lives (the payload can
 * never reach the directory; this stands for any other way of writing it):
 * later sandboxes still may not unshare or mount. */
BOTH_MODES(kernel, forged_filter_cache)
{
	char cache[AFX_PATH + 32];
	struct run_result r;

	if (f->rootless)
		afx_fmt(cache, "%s/.cache/openclaw-run", f->home);
	else
		afx_fmt(cache, "%s/cache", f->records);
	ATTACKER(f, &r, NULL, "unshare"); /* fills the cache */
	cr_expect_eq(r.exit_code, SIGSYS_EXIT, "unshare: %s%s", r.out, r.err);
	run_result_free(&r);
	cr_assert_gt(forge_cache(cache), 0, "nothing cached in %s", cache);
	for (int i = 0; i < 2; i++) {
		ATTACKER(f, &r, NULL, "unshare");
		cr_expect_eq(r.exit_code, SIGSYS_EXIT, "run %d after the forgery: unshare: %s%s", i,
			     r.out, r.err);
		cr_expect_str_neq(r.out, "ok\n", "the forged filter was loaded");
		run_result_free(&r);
	}
	cr_expect_eq(forged_left(cache), 0, "the forged cache file was kept");
	/* Through the payload's own door: the cache is not in its view. */
	afx_payloadf(f, &r, "a", "ls -d %s 2>/dev/null && echo visible; true", cache);
	cr_expect(!strstr(r.out, "visible"), "the cache is visible: %s", r.out);
	run_result_free(&r);
}

/* Attack 5: from profile a, sockets past Landlock's TCP rules onto profile
 * b's base port (MPTCP, v4 and v6), families that reach the host or the
 * hypervisor (AF_VSOCK, also with --net=none; AF_PACKET) and the host's
 * audit and device-event netlink. */
BOTH_MODES(kernel, sockets_past_landlock)
{
	static const struct {
		const char *kind, *want;
		bool port;
	} cases[] = {
	    {"tcp4", "error bind EACCES\n", true},
	    {"tcp6", "error bind EACCES\n", true},
	    {"mptcp4", "error socket EPROTONOSUPPORT\n", true},
	    {"mptcp6", "error socket EPROTONOSUPPORT\n", true},
	    {"vsock", "error socket EAFNOSUPPORT\n", true},
	    {"packet", "error socket EAFNOSUPPORT\n", false},
	    {"uevent", "error socket EPROTONOSUPPORT\n", false},
	    {"audit", "error socket EPROTONOSUPPORT\n", false},
	};
	const char *nets[] = {NULL, "--net=none"};
	char port[16];
	struct run_result r;

	afx_fmt(port, "%u", f->base_b);
	for (size_t n = 0; n < 2; n++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (cases[i].port)
				ATTACKER(f, &r, nets[n], "sock", cases[i].kind, port);
			else
				ATTACKER(f, &r, nets[n], "sock", cases[i].kind);
			cr_expect_str_eq(r.out, cases[i].want, "%s %s: %s%s", cases[i].kind,
					 nets[n] ? nets[n] : "", r.out, r.err);
			run_result_free(&r);
		}
	}
	cr_expect(!host_listens(f->base_b), "profile b's port %u listens", f->base_b);
	/* The profile's own block still works: the policy is not just closed. */
	afx_fmt(port, "%u", f->base_a + 1);
	ATTACKER(f, &r, NULL, "sock", "tcp4", port);
	cr_expect_str_eq(r.out, "ok\n", "own block: %s%s", r.out, r.err);
	run_result_free(&r);
}

/* Attack 8: /tmp and /dev/shm are bounded (and filling /tmp fails inside,
 * not on the host), file and process limits sized for a gateway. */
BOTH_MODES(kernel, bounded_tmpfs_and_limits)
{
	const char *const mounts[] = {"/tmp", "/dev/shm"};
	unsigned long long a, b;
	struct run_result r;

	for (size_t i = 0; i < 2; i++) {
		ATTACKER(f, &r, NULL, "tmpfs", mounts[i]);
		cr_expect_eq(r.exit_code, 0, "%s: %s", mounts[i], r.err);
		cr_expect_leq(strtoull(r.out, NULL, 10), 1ull << 30, "%s is %s bytes", mounts[i],
			      r.out);
		run_result_free(&r);
	}
	afx_payload(f, &r, "a",
		    "dd if=/dev/zero of=/tmp/fill bs=1M count=600 2>/dev/null && echo filled; "
		    "rm -f /tmp/fill");
	cr_expect(!strstr(r.out, "filled"), "600 MB fit in the sandbox's /tmp");
	run_result_free(&r);
	ATTACKER(f, &r, NULL, "rlimits");
	cr_assert_eq(sscanf(r.out, "nofile %llu %llu", &a, &b), 2, "%s%s", r.out, r.err);
	cr_expect(a <= 65536 && b <= 65536, "RLIMIT_NOFILE %llu/%llu", a, b);
	cr_assert_not_null(strstr(r.out, "nproc "));
	cr_assert_eq(sscanf(strstr(r.out, "nproc "), "nproc %llu %llu", &a, &b), 2);
	cr_expect(a <= 4096 && b <= 4096, "RLIMIT_NPROC %llu/%llu", a, b);
	run_result_free(&r);
}

/* Own: abstract UNIX sockets belong to the network namespace. A host
 * process listens on one (as X11, some container shims and session buses
 * do); with --net=none the payload cannot reach it, and on the host network
 * Landlock's abstract-socket scope (ABI >= 6) refuses the connect. */
static bool sb_abi_at_least(int want)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */) >= want;
}

BOTH_MODES(kernel, host_abstract_unix_socket)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char name[64];
	struct run_result r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	afx_fmt(name, "ocr-attack-%d", (int)getpid());
	memcpy(a.sun_path + 1, name, strlen(name));
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
		     0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 8), 0);
	ATTACKER(f, &r, "--net=none", "unix-abstract", name);
	cr_expect_str_eq(r.out, "error connect ECONNREFUSED\n", "--net=none: %s%s", r.out, r.err);
	run_result_free(&r);
	if (sb_abi_at_least(6)) {
		ATTACKER(f, &r, NULL, "unix-abstract", name);
		cr_expect(strncmp(r.out, "error connect E", 15) == 0,
			  "host network: the payload reached a host abstract socket: %s%s", r.out,
			  r.err);
		run_result_free(&r);
	}
	close(fd);
}
