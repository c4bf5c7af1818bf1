/* Test harness: see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	char *bigger = realloc(*buf, *len + n + 1);

	cr_assert_not_null(bigger);
	memcpy(bigger + *len, data, n);
	*len += n;
	bigger[*len] = '\0';
	*buf = bigger;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int run_argv(struct run_result *r, char *const envp[], char *const argv[], int timeout_s)
{
	static char *const minimal_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
					    NULL};
	int out_pipe[2], err_pipe[2], status;
	size_t out_len = 0, err_len = 0;
	long deadline = now_ms() + (long)timeout_s * 1000L;
	bool killed = false;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		execve(argv[0], argv, envp ? envp : minimal_env);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds > 0) {
		long left = deadline - now_ms();
		char chunk[4096];

		if (left <= 0 && !killed) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(fds, 2, left > 0 ? (int)left : 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0)
				append(&r->out, &out_len, chunk, (size_t)n);
			else
				append(&r->err, &err_len, chunk, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (killed)
		cr_log_warn("%s: killed after %d s", argv[0], timeout_s);
	return 0;
}

static int run_ocr_va(struct run_result *r, const char *home, char *const extra_env[], va_list ap)
{
	char *argv[64], *envp[64];
	char home_var[PATH_MAX + 8], records_var[PATH_MAX + 48];
	size_t argc = 0, envc = 0;
	const char *arg;

	argv[argc++] = (char *)OCR_BIN;
	while ((arg = va_arg(ap, const char *)) != NULL && argc < 63)
		argv[argc++] = (char *)arg;
	argv[argc] = NULL;

	envp[envc++] = (char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	snprintf(home_var, sizeof(home_var), "HOME=%s", home);
	envp[envc++] = home_var;
	/* Root's records default to /var/lib/openclaw-run: tests keep theirs. */
	snprintf(records_var, sizeof(records_var), "OPENCLAW_RUN_RECORDS_DIR=%s/ocr-records", home);
	envp[envc++] = records_var;
	envc = add_sanitizer_env(envp, envc, 48);
	for (size_t i = 0; extra_env && extra_env[i] && envc < 63; i++)
		envp[envc++] = extra_env[i];
	envp[envc] = NULL;
	return run_argv(r, envp, argv, 120);
}

int run_ocr(struct run_result *r, const char *home, ...)
{
	va_list ap;
	int rc;

	va_start(ap, home);
	rc = run_ocr_va(r, home, NULL, ap);
	va_end(ap);
	return rc;
}

int run_ocr_env(struct run_result *r, const char *home, char *const extra_env[], ...)
{
	va_list ap;
	int rc;

	va_start(ap, extra_env);
	rc = run_ocr_va(r, home, extra_env, ap);
	va_end(ap);
	return rc;
}

size_t add_sanitizer_env(char **envp, size_t n, size_t max)
{
	for (char **e = environ; *e && n < max; e++) {
		if (strncmp(*e, "ASAN_OPTIONS=", 13) == 0 || strncmp(*e, "UBSAN_OPTIONS=", 14) == 0)
			envp[n++] = *e;
	}
	return n;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *tmpdir_make(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;

	if (!base || !*base)
		base = "/tmp";
	cr_assert(asprintf(&path, "%s/ocr-test-%s-XXXXXX", base, tag) > 0);
	cr_assert_not_null(mkdtemp(path), "mkdtemp %s: %s", path, strerror(errno));
	chmod(path, 0755);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void tmpdir_remove(const char *path)
{
	const char *base = getenv("TMPDIR");

	if (!path)
		return;
	if (strncmp(path, "/tmp/", 5) != 0 &&
	    !(base && *base && strncmp(path, base, strlen(base)) == 0))
		return;
	nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void write_text_file(const char *path, const char *text)
{
	char dir[PATH_MAX];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	for (;;) {
		char chunk[4096];
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n == 0)
			break;
		append(&buf, &len, chunk, n);
	}
	fclose(f);
	return buf ? buf : calloc(1, 1);
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool port_free(unsigned port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return ok;
}

/* Each test binary run as root gets a network namespace of its own, with
 * only loopback: the ports of other runs (parallel ctest jobs, other
 * checkouts on the machine, a real gateway on 18789) and their abstract
 * sockets never meet ours, and setup's choice of ports depends on nothing
 * outside the run. Before Criterion's main, so every test worker and
 * everything it starts shares it. Without root (or where unshare is
 * refused) the tests use the host's network as they are. */
static bool own_network;

__attribute__((constructor)) static void isolate_network(void)
{
	struct ifreq ifr = {0};
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
		fprintf(stderr, "harness: cannot bring up lo in the test's network: %s\n",
			strerror(errno));
		abort();
	}
	close(fd);
	own_network = true;
}

/* The grid bases (18789 + k*120) from 61029 on: above every block upstream
 * derives from a profile name (20000 + hash % 40000, so at most 60109: a
 * test's profile that is not set up, or has no port, can never overlap the
 * random one) and above the kernel's ephemeral ports (32768..60999), which
 * loopback clients of the test's own gateways take. 35 bases; base + 240
 * (a test's third profile) still ends below 65535. */
#define PORT_GRID_FIRST 61029u
#define PORT_GRID_N	35u

unsigned free_port_base(void)
{
	/* In its own network the first free base is as good as any, and the
	 * same every run; on the host's, spread by pid so parallel runs start
	 * apart. */
	unsigned start = own_network ? 0 : (unsigned)getpid() * 2654435761u % PORT_GRID_N;

	for (unsigned i = 0; i < PORT_GRID_N; i++) {
		unsigned base = PORT_GRID_FIRST + (start + i) % PORT_GRID_N * 120;

		if (port_free(base) && port_free(base + 1) && port_free(base + 2))
			return base;
	}
	cr_assert_fail("no free port base found");
	return 0;
}
