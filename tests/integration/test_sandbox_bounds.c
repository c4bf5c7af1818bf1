/* What seccomp adds where Landlock stops, the filter cache that must not be
 * forged, and the bounds (tmpfs sizes, rlimits), proved from inside with the
 * probe, launched by root and by an unprivileged user (see sandbox_fx.h). */
#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox_fx.h"

#define PROBE_EXPECT(f, want, ...)                                                                 \
	do {                                                                                       \
		struct run_result r_;                                                              \
		PROBE_RUN(f, &r_, __VA_ARGS__);                                                    \
		cr_expect_str_eq(r_.out, want, "probe %s: stderr %s", #__VA_ARGS__, r_.err);       \
		run_result_free(&r_);                                                              \
	} while (0)

static void check_socket_families(struct fx *f)
{
	const char *const net_none[] = {"--net=none", NULL};
	char port[16];
	struct run_result r;

	/* Landlock's TCP rules do not see MPTCP: refused outright. */
	PROBE_EXPECT(f, "error EPROTONOSUPPORT\n", "socket", "inet", "stream", "262");
	PROBE_EXPECT(f, "error EPROTONOSUPPORT\n", "socket", "inet6", "stream", "262");
	PROBE_EXPECT(f, "error EAFNOSUPPORT\n", "socket", "vsock", "stream", "0");
	PROBE_EXPECT(f, "error EAFNOSUPPORT\n", "socket", "packet", "raw", "0");
	PROBE_EXPECT(f, "error EPROTONOSUPPORT\n", "socket", "netlink", "raw", "15");
	PROBE_EXPECT(f, "error EPROTONOSUPPORT\n", "socket", "netlink", "raw", "9");
	PROBE_EXPECT(f, "error EPERM\n", "socketpair", "inet");
	/* What the gateway uses still works. */
	PROBE_EXPECT(f, "ok\n", "socket", "netlink", "raw", "0");
	PROBE_EXPECT(f, "ok\n", "socket", "inet", "stream", "0");
	PROBE_EXPECT(f, "ok\n", "socket", "inet", "stream", "6");
	PROBE_EXPECT(f, "ok\n", "socket", "inet", "dgram", "0");
	PROBE_EXPECT(f, "ok\n", "socket", "inet", "dgram", "17");
	PROBE_EXPECT(f, "ok\n", "socket", "unix", "stream", "0");
	PROBE_EXPECT(f, "ok\n", "socketpair", "unix");
	snprintf(port, sizeof(port), "%u", f->base + 3);
	PROBE_EXPECT(f, "ok\n", "udp-bind", port);
	snprintf(port, sizeof(port), "%u", f->base + 4);
	PROBE_EXPECT(f, "ok\n", "bind", port);
	PROBE_RUN(f, &r, "ifaddrs");
	cr_expect(strncmp(r.out, "ok ", 3) == 0, "getifaddrs: %s%s", r.out, r.err);
	run_result_free(&r);
	/* vsock reaches the host even from a private network namespace. */
	cr_assert_eq(
	    run_probe_opts(f, &r, "a", net_none,
			   (const char *const[]){f->probe, "socket", "vsock", "stream", "0", NULL}),
	    0);
	cr_expect_str_eq(r.out, "error EAFNOSUPPORT\n", "%s", r.err);
	run_result_free(&r);
	/* io_uring's own socket/bind/connect ops would bypass the rules. */
	PROBE_EXPECT(f, "ret=-1 errno=ENOSYS\n", "syscall", "io_uring_setup");
	PROBE_EXPECT(f, "ret=-1 errno=ENOSYS\n", "syscall", "io_uring_enter");
	PROBE_EXPECT(f, "ret=-1 errno=ENOSYS\n", "syscall", "io_uring_register");
}

/* ---- the filter cache ------------------------------------------------------ */

/* The launcher's cache dir (host_dirs.h): the fixture points root's
 * records into its temp dir; rootless, they are under the temp HOME. */
static void cache_dir(const struct fx *f, char *out, size_t len)
{
	if (f->unpriv)
		snprintf(out, len, "%s/.cache/openclaw-run", f->home);
	else
		snprintf(out, len, "%s/records/cache", f->tmp);
}

/* Path of the one compiled filter in the launcher's cache dir. */
static void cache_file(const struct fx *f, char *out, size_t len)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;

	cache_dir(f, dir, sizeof(dir));
	d = opendir(dir);
	cr_assert_not_null(d, "no cache dir %s", dir);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "seccomp-", 8) == 0 && !strstr(e->d_name, ".tmp")) {
			snprintf(out, len, "%s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	cr_assert_eq(n, 1, "%d compiled filters in %s", n, dir);
}

/* What a payload that could write the cache would leave: a file of the
 * launcher's uid, mode 0600, so only the MAC can tell. */
static void plant(const struct fx *f, const char *path, const void *data, size_t len)
{
	uid_t owner = f->unpriv ? NOBODY : 0;
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	cr_assert_eq(chown(path, owner, owner), 0);
}

static void expect_filter_holds(struct fx *f, const char *what)
{
	struct run_result r;

	PROBE_RUN(f, &r, "syscall", "unshare");
	cr_assert_eq(r.exit_code, SIGSYS_RC, "%s: unshare was not killed: exit %d, %s", what,
		     r.exit_code, r.out);
	run_result_free(&r);
	PROBE_RUN(f, &r, "syscall", "mount");
	cr_assert_eq(r.exit_code, SIGSYS_RC, "%s: mount was not killed", what);
	run_result_free(&r);
}

static void check_forged_filter_cache(struct fx *f)
{
	static const struct sock_filter allow_all[] = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
	char path[PATH_MAX + 300], key[PATH_MAX + 32];
	unsigned char header[80], forged[80 + sizeof(allow_all)];
	struct run_result r;
	struct stat st;
	char *text;
	int fd;

	PROBE_RUN(f, &r, "id");
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	run_result_free(&r);
	cache_file(f, path, sizeof(path));
	cache_dir(f, key, sizeof(key) - 16);
	strcat(key, "/filter.key");
	cr_assert_eq(stat(key, &st), 0, "no key %s", key);
	cr_assert_eq(st.st_mode & 0777, 0600);
	fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, header, sizeof(header)), (ssize_t)sizeof(header));
	close(fd);

	/* A bare allow-all program where the cache file was. */
	plant(f, path, allow_all, sizeof(allow_all));
	expect_filter_holds(f, "bare allow-all");
	/* The real header (magic, policy digest) over one allow instruction,
	 * with a MAC made without the key. */
	memcpy(forged, header, sizeof(header));
	memset(forged + 8, 0, 4);
	forged[8] = 1;
	memset(forged + 48, 0xa5, 32);
	memcpy(forged + 80, allow_all, sizeof(allow_all));
	plant(f, path, forged, sizeof(forged));
	expect_filter_holds(f, "allow-all with a plausible header");
	/* Each time, the launcher compiled again and put back a real filter. */
	text = read_text_file(path);
	cr_assert_not_null(text);
	cr_assert(strncmp(text, "OCRBPF2\n", 8) == 0, "the forged file was left in place");
	free(text);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 80 + 100 * 8, "the forged file was left in place");
}

/* ---- bounds ---------------------------------------------------------------- */

static void check_tmpfs_bounds(struct fx *f)
{
	const char *const small[] = {"--tmp-size", "8M", NULL};
	const char *const places[] = {"/tmp/fill", "/dev/shm/fill"};
	struct run_result r;

	/* The default: 256 MiB, one inode per 4 KiB. */
	PROBE_EXPECT(f, "size=268435456 inodes=65536\n", "statfs", "/tmp");
	PROBE_EXPECT(f, "size=268435456 inodes=65536\n", "statfs", "/dev/shm");
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(
		    run_probe_opts(f, &r, "a", small,
				   (const char *const[]){f->probe, "fill", places[i], "64", NULL}),
		    0);
		cr_expect(strncmp(r.out, "full ENOSPC at ", 15) == 0 && atoi(r.out + 15) <= 8,
			  "%s: %s%s", places[i], r.out, r.err);
		run_result_free(&r);
	}
	/* /dev itself is read-only: no unbounded tmpfs left there. */
	PROBE_EXPECT(f, "error EROFS\n", "write", "/dev/fill");
	cr_assert_eq(run_probe_opts(f, &r, "a", (const char *const[]){"--tmp-size", "12", NULL},
				    (const char *const[]){f->probe, "id", NULL}),
		     0);
	cr_expect_eq(r.exit_code, 2, "--tmp-size 12 accepted: %s", r.err);
	run_result_free(&r);
}

static void check_limits(struct fx *f)
{
	/* plan.c says how these were measured; nproc is the default pids
	 * limit (512) plus 16, so that pids.max is met first. */
	PROBE_EXPECT(f, "nofile 1024 1024\nnproc 528 528\n", "limits");
}

BOTH_MODES(socket_families)
BOTH_MODES(forged_filter_cache)
BOTH_MODES(tmpfs_bounds)
BOTH_MODES(limits)
