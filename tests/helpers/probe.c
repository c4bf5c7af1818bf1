/* probe: run inside the sandbox by the integration tests; reports what it
 * sees and what it may do, one fact per line, so tests assert from inside.
 *
 *   probe status          Uid/Gid, Cap*, NoNewPrivs, Seccomp of itself
 *   probe bind PORT       "ok" or "error EACCES" (TCP, 127.0.0.1)
 *   probe syscall NAME    "ret=R errno=E" after calling NAME with zero args
 *                         (or dies of SIGSYS); clone-newuser: clone(CLONE_NEWUSER)
 *   probe write PATH      "ok" or "error ENAME"
 *   probe exists PATH     "yes" or "no"
 *   probe read PATH       the file's contents
 *   probe hostname | pids | id | cwd | env
 *   probe sleep           prints "ready", then waits for a signal
 *   probe socket FAMILY TYPE PROTO   "ok" or "error ENAME"; FAMILY unix, inet,
 *                         inet6, netlink, packet, vsock or a number; TYPE
 *                         stream, dgram, raw; PROTO a number
 *   probe socketpair FAMILY          the same for socketpair(FAMILY, stream)
 *   probe udp-bind PORT   "ok" or "error ENAME" (UDP, 127.0.0.1)
 *   probe ifaddrs         "ok N" (getifaddrs: netlink route) or "error ENAME"
 *   probe fill PATH MIB   writes up to MIB MiB; "full ENAME at N MiB" or "wrote N MiB"
 *   probe statfs PATH     "size=BYTES inodes=N"
 *   probe limits          "nofile SOFT HARD" and "nproc SOFT HARD"
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The probe may be an ASan build; LeakSanitizer ptrace()s at exit, which the
 * sandbox's seccomp policy kills. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static int cmd_status(void)
{
	static const char *const keys[] = {
	    "Uid:",    "Gid:",	  "CapInh:",	 "CapPrm:", "CapEff:",
	    "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:"};
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fputs(line, stdout);
		}
	}
	fclose(f);
	return 0;
}

static int cmd_bind(const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(port)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	printf("ok\n");
	close(fd);
	return 0;
}

static int word_value(const char *w, const char *const names[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(w, names[i][0]) == 0)
			return atoi(names[i][1]);
	}
	return atoi(w);
}

static int socket_arg(const char *w, bool type)
{
	static const char *const families[][2] = {{"unix", "1"},    {"inet", "2"},
						  {"inet6", "10"},  {"netlink", "16"},
						  {"packet", "17"}, {"vsock", "40"}};
	static const char *const types[][2] = {{"stream", "1"}, {"dgram", "2"}, {"raw", "3"}};

	return type ? word_value(w, types, 3) : word_value(w, families, 6);
}

static int report_fd(int fd)
{
	if (fd < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	printf("ok\n");
	close(fd);
	return 0;
}

static int cmd_socket(const char *family, const char *type, const char *proto)
{
	return report_fd(socket(socket_arg(family, false), socket_arg(type, true), atoi(proto)));
}

static int cmd_socketpair(const char *family)
{
	int sv[2];

	if (socketpair(socket_arg(family, false), SOCK_STREAM, 0, sv) < 0)
		return report_fd(-1);
	close(sv[1]);
	return report_fd(sv[0]);
}

static int cmd_udp_bind(const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(port)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		fd = -1;
	}
	return report_fd(fd);
}

static int cmd_ifaddrs(void)
{
	struct ifaddrs *list;
	int n = 0;

	if (getifaddrs(&list) < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	for (struct ifaddrs *i = list; i; i = i->ifa_next)
		n++;
	freeifaddrs(list);
	printf("ok %d\n", n);
	return 0;
}

static int cmd_fill(const char *path, const char *mib)
{
	static char chunk[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), max = atoi(mib), n = 0;

	if (fd < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	memset(chunk, 'x', sizeof(chunk));
	for (; n < max; n++) {
		for (size_t done = 0; done < sizeof(chunk);) {
			ssize_t w = write(fd, chunk + done, sizeof(chunk) - done);

			if (w < 0) {
				printf("full %s at %d MiB\n", ename(errno), n);
				close(fd);
				unlink(path);
				return 0;
			}
			done += (size_t)w;
		}
	}
	close(fd);
	unlink(path);
	printf("wrote %d MiB\n", n);
	return 0;
}

static int cmd_statfs(const char *path)
{
	struct statfs s;

	if (statfs(path, &s) < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	printf("size=%llu inodes=%llu\n",
	       (unsigned long long)s.f_blocks * (unsigned long long)s.f_bsize,
	       (unsigned long long)s.f_files);
	return 0;
}

static int cmd_limits(void)
{
	struct rlimit nofile, nproc;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || getrlimit(RLIMIT_NPROC, &nproc) < 0)
		return 1;
	printf("nofile %llu %llu\nnproc %llu %llu\n", (unsigned long long)nofile.rlim_cur,
	       (unsigned long long)nofile.rlim_max, (unsigned long long)nproc.rlim_cur,
	       (unsigned long long)nproc.rlim_max);
	return 0;
}

static const struct {
	const char *name;
	long nr;
} syscalls[] = {
    {"mount", SYS_mount},
    {"umount2", SYS_umount2},
    {"pivot_root", SYS_pivot_root},
    {"chroot", SYS_chroot},
    {"kexec_load", SYS_kexec_load},
    {"kexec_file_load", SYS_kexec_file_load},
    {"init_module", SYS_init_module},
    {"finit_module", SYS_finit_module},
    {"delete_module", SYS_delete_module},
    {"bpf", SYS_bpf},
    {"perf_event_open", SYS_perf_event_open},
    {"ptrace", SYS_ptrace},
    {"process_vm_readv", SYS_process_vm_readv},
    {"process_vm_writev", SYS_process_vm_writev},
    {"keyctl", SYS_keyctl},
    {"add_key", SYS_add_key},
    {"request_key", SYS_request_key},
    {"reboot", SYS_reboot},
    {"swapon", SYS_swapon},
    {"swapoff", SYS_swapoff},
    {"setns", SYS_setns},
    {"unshare", SYS_unshare},
    {"open_by_handle_at", SYS_open_by_handle_at},
    {"userfaultfd", SYS_userfaultfd},
    {"acct", SYS_acct},
    {"settimeofday", SYS_settimeofday},
    {"clock_settime", SYS_clock_settime},
    {"quotactl", SYS_quotactl},
    {"io_uring_setup", SYS_io_uring_setup},
    {"io_uring_enter", SYS_io_uring_enter},
    {"io_uring_register", SYS_io_uring_register},
    {"clone3", SYS_clone3},
    {"kcmp", SYS_kcmp},
    {"getppid", SYS_getppid},
};

static int cmd_syscall(const char *name)
{
	long ret;

	if (strcmp(name, "clone-newuser") == 0) {
		ret = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (ret == 0)
			_exit(0);
		if (ret > 0)
			waitpid((pid_t)ret, NULL, 0);
		printf("ret=%ld errno=%s\n", ret > 0 ? 0 : ret, ret < 0 ? ename(errno) : "0");
		return 0;
	}
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		if (strcmp(syscalls[i].name, name) != 0)
			continue;
		fflush(stdout);
		errno = 0;
		ret = syscall(syscalls[i].nr, 0, 0, 0, 0, 0, 0);
		printf("ret=%ld errno=%s\n", ret, ret < 0 ? ename(errno) : "0");
		return 0;
	}
	fprintf(stderr, "probe: unknown syscall %s\n", name);
	return 2;
}

static int cmd_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, "probe\n", 6) != 6) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	close(fd);
	printf("ok\n");
	return 0;
}

static int cmd_read(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}

static int cmd_pids(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d) {
		printf("error %s\n", ename(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = '\0';
		printf("%s %s\n", e->d_name, comm);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char buf[4096];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "caps") == 0)
		return cmd_status();
	if (strcmp(cmd, "bind") == 0 && argc > 2)
		return cmd_bind(argv[2]);
	if (strcmp(cmd, "syscall") == 0 && argc > 2)
		return cmd_syscall(argv[2]);
	if (strcmp(cmd, "write") == 0 && argc > 2)
		return cmd_write(argv[2]);
	if (strcmp(cmd, "read") == 0 && argc > 2)
		return cmd_read(argv[2]);
	if (strcmp(cmd, "exists") == 0 && argc > 2) {
		struct stat st;

		printf("%s\n", lstat(argv[2], &st) == 0 ? "yes" : "no");
		return 0;
	}
	if (strcmp(cmd, "hostname") == 0) {
		if (gethostname(buf, sizeof(buf)) < 0)
			return 1;
		printf("%s\n", buf);
		return 0;
	}
	if (strcmp(cmd, "pids") == 0)
		return cmd_pids();
	if (strcmp(cmd, "id") == 0) {
		printf("uid=%u gid=%u\n", (unsigned)getuid(), (unsigned)getgid());
		return 0;
	}
	if (strcmp(cmd, "cwd") == 0) {
		printf("%s\n", getcwd(buf, sizeof(buf)) ? buf : "?");
		return 0;
	}
	if (strcmp(cmd, "env") == 0) {
		for (char **e = environ; *e; e++)
			printf("%s\n", *e);
		return 0;
	}
	if (strcmp(cmd, "socket") == 0 && argc > 4)
		return cmd_socket(argv[2], argv[3], argv[4]);
	if (strcmp(cmd, "socketpair") == 0 && argc > 2)
		return cmd_socketpair(argv[2]);
	if (strcmp(cmd, "udp-bind") == 0 && argc > 2)
		return cmd_udp_bind(argv[2]);
	if (strcmp(cmd, "ifaddrs") == 0)
		return cmd_ifaddrs();
	if (strcmp(cmd, "fill") == 0 && argc > 3)
		return cmd_fill(argv[2], argv[3]);
	if (strcmp(cmd, "statfs") == 0 && argc > 2)
		return cmd_statfs(argv[2]);
	if (strcmp(cmd, "limits") == 0)
		return cmd_limits();
	if (strcmp(cmd, "exit") == 0 && argc > 2)
		return atoi(argv[2]);
	if (strcmp(cmd, "sleep") == 0) {
		printf("ready\n");
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: probe status|bind PORT|syscall NAME|write PATH|exists PATH|"
			"read PATH|hostname|pids|id|cwd|env|exit N|sleep|socket F T P|"
			"socketpair F|udp-bind PORT|ifaddrs|fill PATH MIB|statfs PATH|limits\n");
	return 2;
}
