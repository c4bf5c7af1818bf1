/* attacker: the hostile payload of tests/attack, run inside the sandbox.
 * One attempt per run, one line of result, so the tests assert from inside.
 *
 *   attacker sock KIND [PORT]  KIND: tcp4 tcp6 mptcp4 mptcp6 udp4 udp6 vsock
 *                              packet uevent audit; socket(), then with PORT
 *                              bind to loopback:PORT (and listen for
 *                              streams). "ok" or "error socket|bind ENAME".
 *   attacker unix-abstract NAME  connect to the abstract UNIX socket @NAME:
 *                              "ok" or "error connect ENAME"
 *   attacker hold PORT NAME    rename itself NAME (comm), listen on
 *                              127.0.0.1:PORT, print "ok" and wait
 *   attacker unshare           unshare(CLONE_NEWUSER|CLONE_NEWNS), then
 *                              mount a tmpfs: "ok" or "error ENAME" (a
 *                              seccomp kill shows as exit 128+SIGSYS)
 *   attacker tmpfs PATH        total bytes of the file system at PATH
 *   attacker rlimits           "nofile SOFT HARD" and "nproc SOFT HARD"
 *   attacker flip LINK A B     make LINK a symlink to A, then to B, again
 *                              and again (each swap one rename) until killed
 *   attacker flood SOCK N REQ  send REQ N times on the SOCK_SEQPACKET socket
 *                              SOCK, each after the answer to the last: "ok"
 *                              or "error STEP ENAME"
 */
#include <errno.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* Built with the tree's sanitizers, but run under seccomp, which kills
 * ptrace: LeakSanitizer's exit-time scan would use it. */
const char *__asan_default_options(void) __attribute__((used, visibility("default")));
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int fail(const char *step)
{
	const char *name = strerrorname_np(errno);

	printf("error %s %s\n", step, name ? name : "E?");
	return 1;
}

struct kind {
	const char *name;
	int family, type, protocol;
};

static const struct kind kinds[] = {
    {"tcp4", AF_INET, SOCK_STREAM, 0},
    {"tcp6", AF_INET6, SOCK_STREAM, 0},
    {"mptcp4", AF_INET, SOCK_STREAM, IPPROTO_MPTCP},
    {"mptcp6", AF_INET6, SOCK_STREAM, IPPROTO_MPTCP},
    {"udp4", AF_INET, SOCK_DGRAM, 0},
    {"udp6", AF_INET6, SOCK_DGRAM, 0},
    {"vsock", AF_VSOCK, SOCK_STREAM, 0},
    {"packet", AF_PACKET, SOCK_RAW, 0},
    {"uevent", AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT},
    {"audit", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT},
};

static int do_bind(int fd, const struct kind *k, unsigned port)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_vm vm = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_groups = 1};
	int rc;

	switch (k->family) {
	case AF_INET:
		rc = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
		break;
	case AF_INET6:
		rc = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
		break;
	case AF_VSOCK:
		rc = bind(fd, (struct sockaddr *)&vm, sizeof(vm));
		break;
	case AF_NETLINK:
		rc = bind(fd, (struct sockaddr *)&nl, sizeof(nl));
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (rc == 0 && k->type == SOCK_STREAM)
		rc = listen(fd, 1);
	return rc;
}

static int cmd_sock(const char *name, const char *port)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const struct kind *k = &kinds[i];
		int fd;

		if (strcmp(k->name, name) != 0)
			continue;
		fd = socket(k->family, k->type, k->protocol);
		if (fd < 0)
			return fail("socket");
		if (port && do_bind(fd, k, (unsigned)strtoul(port, NULL, 10)) < 0)
			return fail("bind");
		printf("ok\n");
		close(fd);
		return 0;
	}
	fprintf(stderr, "attacker: unknown socket kind %s\n", name);
	return 2;
}

static int cmd_unix_abstract(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return fail("socket");
	if (len + 1 > sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return fail("connect");
	}
	memcpy(a.sun_path + 1, name, len); /* sun_path[0] == 0: abstract */
	if (connect(fd, (struct sockaddr *)&a,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0)
		return fail("connect");
	printf("ok\n");
	close(fd);
	return 0;
}

static int cmd_hold(const char *port, const char *name)
{
	const struct kind *tcp = &kinds[0];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (prctl(PR_SET_NAME, name, 0, 0, 0) < 0)
		return fail("prctl");
	if (fd < 0)
		return fail("socket");
	if (do_bind(fd, tcp, (unsigned)strtoul(port, NULL, 10)) < 0)
		return fail("bind");
	printf("ok\n");
	pause();
	return 0;
}

static int cmd_unshare(void)
{
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return fail("unshare");
	if (mount("none", "/tmp", "tmpfs", 0, NULL) < 0)
		return fail("mount");
	printf("ok\n");
	return 0;
}

static int cmd_tmpfs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return fail("statfs");
	printf("%llu\n", (unsigned long long)st.f_blocks * (unsigned long long)st.f_bsize);
	return 0;
}

static int cmd_rlimits(void)
{
	struct rlimit nofile, nproc;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || getrlimit(RLIMIT_NPROC, &nproc) < 0)
		return fail("getrlimit");
	printf("nofile %llu %llu\nnproc %llu %llu\n", (unsigned long long)nofile.rlim_cur,
	       (unsigned long long)nofile.rlim_max, (unsigned long long)nproc.rlim_cur,
	       (unsigned long long)nproc.rlim_max);
	return 0;
}

static int cmd_flip(const char *link, const char *a, const char *b)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.flip", link);
	for (unsigned long i = 0;; i++) {
		unlink(tmp);
		if (symlink(i % 2 ? b : a, tmp) < 0 || rename(tmp, link) < 0)
			return fail("flip");
	}
}

static int cmd_flood(const char *path, const char *count, const char *req)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	long n = strtol(count, NULL, 10);
	char buf[65536];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0)
		return fail("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return fail("connect");
	for (long i = 0; i < n; i++)
		if (send(fd, req, strlen(req), 0) < 0 || recv(fd, buf, sizeof(buf), 0) <= 0)
			return fail("request");
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 3 && strcmp(argv[1], "sock") == 0)
		return cmd_sock(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "unix-abstract") == 0)
		return cmd_unix_abstract(argv[2]);
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return cmd_hold(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "unshare") == 0)
		return cmd_unshare();
	if (argc == 3 && strcmp(argv[1], "tmpfs") == 0)
		return cmd_tmpfs(argv[2]);
	if (argc == 2 && strcmp(argv[1], "rlimits") == 0)
		return cmd_rlimits();
	if (argc == 5 && strcmp(argv[1], "flip") == 0)
		return cmd_flip(argv[2], argv[3], argv[4]);
	if (argc == 5 && strcmp(argv[1], "flood") == 0)
		return cmd_flood(argv[2], argv[3], argv[4]);
	fprintf(stderr,
		"usage: attacker sock KIND [PORT] | unix-abstract NAME | unshare | tmpfs PATH | "
		"rlimits | flip LINK A B | flood SOCK N REQ\n");
	return 2;
}
