/* Namespaces and identity: the clone into fresh namespaces, the uid/gid maps
 * written by the launcher, and the first steps of the child (become 0 inside,
 * hostname, loopback). */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

pid_t sb_clone(const struct sandbox *sb)
{
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			      CLONE_NEWUTS | CLONE_NEWCGROUP;

	if (sb->no_namespaces)
		return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);

	if (sb->net == SANDBOX_NET_NONE)
		flags |= CLONE_NEWNET;
	/* Raw clone without CLONE_VM behaves like fork() (copy-on-write, no
	 * shared stack), which glibc's clone() wrapper cannot do without a
	 * stack; it also keeps ASan happy. CLONE_VM would spare the copy-on-write
	 * faults (issue 13) but is not safe here: init runs beside the launcher
	 * for the sandbox's whole life, and the two would share one TLS (errno,
	 * glibc's per-thread state) and one malloc arena with no lock between
	 * them, since a raw clone cannot give init a TLS of its own. The payload
	 * is vfork()ed instead (init.c), where the parent sleeps. */
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static int write_proc_file(pid_t pid, const char *name, const char *text, struct sandbox_error *err)
{
	char path[64];
	cleanup_close int fd = -1;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sandbox_error_set(err, errno, "sandbox: open %s", path);
	if (write(fd, text, len) != (ssize_t)len)
		return sandbox_error_set(err, errno, "sandbox: write %s (\"%s\")", path, text);
	return 0;
}

int sb_write_id_maps(const struct sandbox *sb, pid_t pid, struct sandbox_error *err)
{
	char line[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (sb->no_namespaces)
		return 0; /* no user namespace to map */
	if (uid == 0) {
		/* Root maps the payload to an unprivileged host account and keeps
		 * setgroups allowed so the child can drop root's groups. */
		uid = sb->host_uid;
		gid = sb->host_gid;
	} else if (write_proc_file(pid, "setgroups", "deny", err) < 0) {
		/* Unprivileged gid_map writes require setgroups denied. */
		return -1;
	}
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)uid);
	if (write_proc_file(pid, "uid_map", line, err) < 0)
		return -1;
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)gid);
	return write_proc_file(pid, "gid_map", line, err);
}

void sb_read_ns_ids(pid_t pid, const struct sandbox *sb, struct sandbox_status *st)
{
	static const struct {
		const char *name;
		size_t offset;
	} ns[] = {
	    {"user", offsetof(struct sandbox_status, ns_user)},
	    {"mnt", offsetof(struct sandbox_status, ns_mnt)},
	    {"pid_for_children", offsetof(struct sandbox_status, ns_pid)},
	    {"ipc", offsetof(struct sandbox_status, ns_ipc)},
	    {"uts", offsetof(struct sandbox_status, ns_uts)},
	    {"cgroup", offsetof(struct sandbox_status, ns_cgroup)},
	    {"net", offsetof(struct sandbox_status, ns_net)},
	};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64];
		struct stat s;
		uint64_t *slot = (uint64_t *)((char *)st + ns[i].offset);

		if (strcmp(ns[i].name, "net") == 0 && sb->net != SANDBOX_NET_NONE)
			continue; /* shared with the host: not created */
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i].name);
		*slot = stat(path, &s) == 0 ? (uint64_t)s.st_ino : 0;
	}
}

int sb_child_identity(const struct sandbox *sb, struct sandbox_error *err)
{
	/* Until this point the kernel credentials are still the launcher's
	 * (host root for a root launcher): nothing may touch a file before. */
	if (sb->no_namespaces) {
		/* No user namespace: a root launcher drops to the host ids itself;
		 * anyone else stays who they are. */
		if (sb->root_launch && (setgroups(0, NULL) < 0 ||
					setresgid(sb->host_gid, sb->host_gid, sb->host_gid) < 0 ||
					setresuid(sb->host_uid, sb->host_uid, sb->host_uid) < 0))
			return sandbox_error_set(err, errno, "sandbox: drop to uid %u",
						 (unsigned)sb->host_uid);
		return 0;
	}
	if (setresgid(0, 0, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: setresgid");
	/* Root launcher: setgroups is allowed; drop host root's supplementary
	 * groups. Rootless: setgroups is denied and the groups stay unmapped. */
	if (sb->root_launch && setgroups(0, NULL) < 0)
		return sandbox_error_set(err, errno, "sandbox: setgroups");
	if (setresuid(0, 0, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: setresuid");
	return 0;
}

static int loopback_up(struct sandbox_error *err)
{
	struct ifreq ifr = {0};
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return sandbox_error_set(err, errno, "sandbox: loopback: socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return sandbox_error_set(err, errno, "sandbox: loopback: SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return sandbox_error_set(err, errno, "sandbox: loopback: SIOCSIFFLAGS");
	return 0;
}

int sb_child_uts_net(const struct sandbox *sb, struct sandbox_error *err)
{
	if (sb->hostname && sethostname(sb->hostname, strlen(sb->hostname)) < 0)
		return sandbox_error_set(err, errno, "sandbox: sethostname %s", sb->hostname);
	if (sb->net == SANDBOX_NET_NONE && loopback_up(err) < 0)
		return -1;
	return 0;
}

/* ---- the probe ------------------------------------------------------------- */

struct probe_result {
	int errnum; /* 0: every step worked */
	char step[96];
};

__attribute__((noreturn)) static void probe_report(int fd, int errnum, const char *step)
{
	struct probe_result r = {.errnum = errnum};

	snprintf(r.step, sizeof(r.step), "%s", step);
	if (write(fd, &r, sizeof(r)) < 0)
		_exit(2);
	_exit(0);
}

static int write_self(const char *name, const char *text)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

/* The steps of sb_clone() and the root the init builds, in a throwaway
 * child: new namespaces, an identity and a hostname there, then, as pid 1,
 * a fresh /proc, a tmpfs and a bind mount on it. */
__attribute__((noreturn)) static void probe_child(int fd)
{
	char map[32];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid;
	int status;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
		    CLONE_NEWCGROUP) < 0)
		probe_report(fd, errno, "user, mount, pid, ipc, uts and cgroup namespaces");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	/* From inside, even root may map only itself, and only with
	 * setgroups denied (the launcher writes the real maps from outside). */
	if (write_self("setgroups", "deny") < 0 || write_self("uid_map", map) < 0)
		probe_report(fd, errno, "a uid map for the user namespace");
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_self("gid_map", map) < 0)
		probe_report(fd, errno, "a gid map for the user namespace");
	if (sethostname("probe", 5) < 0)
		probe_report(fd, errno, "sethostname in a uts namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		probe_report(fd, errno, "a private mount tree");
	pid = fork();
	if (pid < 0)
		probe_report(fd, errno, "fork into the new pid namespace");
	if (pid == 0) {
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			probe_report(fd, errno,
				     "a fresh /proc (the host masks parts of its /proc)");
		if (mount("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") < 0)
			probe_report(fd, errno, "a tmpfs root");
		if (mkdir("/proc/usr", 0755) < 0 ||
		    mount("/usr", "/proc/usr", NULL, MS_BIND | MS_REC, NULL) < 0)
			probe_report(fd, errno, "a bind mount");
		probe_report(fd, 0, "");
	}
	_exit(waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 2);
}

int sandbox_probe_namespaces(struct sandbox_error *err)
{
	struct probe_result r = {.errnum = -1};
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return sandbox_error_set(err, errno, "sandbox: probe: pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return sandbox_error_set(err, errno, "sandbox: probe: fork");
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(fds[1]);
	}
	close(fds[1]);
	do
		n = read(fds[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r))
		return sandbox_error_set(err, 0, "sandbox: probe: the probe died without a word");
	if (r.errnum)
		return sandbox_error_set(err, r.errnum, "%s", r.step);
	return 0;
}
