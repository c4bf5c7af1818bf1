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
#include <sys/syscall.h>

pid_t sb_clone(const struct sandbox *sb)
{
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			      CLONE_NEWUTS | CLONE_NEWCGROUP;

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
