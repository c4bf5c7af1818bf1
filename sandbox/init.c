/* The sandbox's pid 1 and the payload's last steps before execve.
 *
 * init: waits for the launcher's uid/gid maps, becomes uid 0 inside, arms
 * PR_SET_PDEATHSIG (a credential change clears it, so only now), builds the
 * root, vforks the payload, then reaps every zombie and forwards the usual
 * termination signals until the payload ends; it exits with the payload's
 * status or 128+signal. When init dies the kernel kills the whole pid
 * namespace, so a dead launcher (pdeathsig) leaves nothing behind.
 *
 * payload: rlimits, no_new_privs, Landlock, capabilities dropped, seccomp last,
 * execve. A failing step is sent to the launcher over the status socket. */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Never SIGUSR1: Node starts its inspector (a debugger listening on
 * 127.0.0.1:9229) on SIGUSR1 when nothing handles it. The launcher blocked
 * it around clone(), so a SIGUSR1 sent to init stays pending, unforwarded. */
static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR2};

__attribute__((noreturn)) static void child_fail(int status_fd, const struct sandbox_error *err)
{
	sb_send_error(status_fd, err);
	_exit(127);
}

static const char *env_path(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	}
	return "/usr/local/bin:/usr/bin:/bin";
}

/* execve, searching argv[0] in the payload's own PATH (not ours) when it has
 * no slash. Returns only on failure, with errno of the most telling attempt. */
static void exec_payload(char *const argv[], char *const envp[], char *tried, size_t len)
{
	static char *const no_env[] = {NULL};
	const char *path = env_path(envp);
	int saved = ENOENT;

	if (!envp)
		envp = no_env;
	snprintf(tried, len, "%s", argv[0]);
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char full[PATH_MAX];

		if (snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? p : ".", argv[0]) <
		    (int)sizeof(full)) {
			execve(full, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR) {
				saved = errno; /* e.g. EACCES: worth reporting over ENOENT */
				snprintf(tried, len, "%s", full);
			}
		}
		p += n;
		if (*p == ':')
			p++;
	}
	errno = saved;
}

__attribute__((noreturn)) static void payload_main(struct sandbox *sb,
						   const struct sb_child_args *a)
{
	struct sandbox_error err = {0};
	char tried[PATH_MAX];
	sigset_t none;

	/* Start clean: no blocked signals, no handlers or ignores from the
	 * launcher (an ignored signal would survive execve). */
	for (int s = 1; s < NSIG; s++) {
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The kernel stamps this message with our pid as the launcher sees it. */
	sb_send_type(a->status_fd, SB_MSG_HELLO);
	/* Its own session, with the sandbox's terminal (init made it our fd 0)
	 * as controlling terminal: the line discipline then sends it Ctrl-C's
	 * SIGINT and the window's SIGWINCH. */
	if (sb->ctty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)) {
		sandbox_error_set(&err, errno, "sandbox: controlling terminal");
		child_fail(a->status_fd, &err);
	}

	if (chdir(sb->cwd ? sb->cwd : "/") < 0) {
		sandbox_error_set(&err, errno, "sandbox: chdir %s", sb->cwd);
		child_fail(a->status_fd, &err);
	}
	if (sb_rlimits_apply(sb, &err) < 0)
		child_fail(a->status_fd, &err);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sandbox_error_set(&err, errno, "sandbox: no_new_privs");
		child_fail(a->status_fd, &err);
	}
	if (sb_landlock_apply(sb, a->landlock_abi, &err) < 0)
		child_fail(a->status_fd, &err);
	if (sb_caps_drop_all(&err) < 0)
		child_fail(a->status_fd, &err);
	/* Last: from here on only the policy's syscalls work. */
	if (a->bpf && sb_seccomp_apply(a->bpf, &err) < 0)
		child_fail(a->status_fd, &err);
	exec_payload(sb->argv, sb->envp, tried, sizeof(tried));
	sandbox_error_set(&err, errno, "sandbox: execve %s", tried);
	child_fail(a->status_fd, &err);
}

static int exit_code_of(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Reap everything; forward signals; exit with the payload's status. */
__attribute__((noreturn)) static void init_loop(pid_t payload)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&set, forwarded_signals[i]);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			_exit(125);
		}
		if (sig != SIGCHLD) {
			kill(payload, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t w = waitpid(-1, &status, WNOHANG);

			if (w <= 0)
				break;
			/* The others die with us: pid 1 leaving kills the namespace. */
			if (w == payload)
				_exit(exit_code_of(status));
		}
	}
}

void sb_init_main(struct sandbox *sb, const struct sb_child_args *a)
{
	struct sandbox_error err = {0};
	struct pollfd pfd = {.fd = a->sync_fd, .events = POLLIN};
	sigset_t set;
	ssize_t n;
	pid_t payload;
	char go;

	/* The launcher blocked these around clone(); keep them blocked: pid 1
	 * only receives signals from outside that it blocks or handles. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&set, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* The launcher's locks on its cgroup slot stay the launcher's: no
	 * directory of the host's cgroupfs is kept open in here. */
	sb_cgroup_close_fds(sb);

	do
		n = read(a->sync_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the launcher gave up or died */
	if (sb_child_identity(sb, &err) < 0)
		child_fail(a->status_fd, &err);
	/* Armed only now: the credential change above would have cleared it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		sandbox_error_set(&err, errno, "sandbox: pdeathsig");
		child_fail(a->status_fd, &err);
	}
	/* The launcher keeps the pipe's write end open until we report: a hang-up
	 * means it died before the pdeathsig was armed. */
	if (poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR)))
		_exit(127);
	prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0);
	/* Leave the launcher's session: keystrokes' signals go to the launcher,
	 * which forwards them once, and the payload gets no controlling tty to
	 * push input into (TIOCSTI). The stdio the caller gave in place of its
	 * own (a terminal of the sandbox's, pipes) is taken here, by init too:
	 * then nothing in the sandbox holds what the caller replaced. */
	setsid();
	for (int i = 0; i < 3; i++) {
		if (sb->stdio[i] >= 0 && dup2(sb->stdio[i], i) < 0) {
			sandbox_error_set(&err, errno, "sandbox: stdio fd %d", i);
			child_fail(a->status_fd, &err);
		}
	}
	/* Whatever the caller leaked to us must not reach the payload. */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

	if (!sb->no_namespaces &&
	    (sb_child_uts_net(sb, &err) < 0 || sb_child_build_root(sb, &err) < 0))
		child_fail(a->status_fd, &err);

	/* vfork: the payload borrows our memory until it execs (or fails and
	 * exits), and we sleep until then, so that moment needs no pipe. A
	 * fork would copy every page either of us touches afterwards (a page
	 * fault costs 13-18 us on the hypervisors we run on), to be thrown away
	 * by the execve a few syscalls later. Safe here because nothing runs
	 * beside the child in this memory (init is one thread, suspended), and
	 * what the child changes is per task, not per address space: its
	 * signal dispositions (no CLONE_SIGHAND), mask, cwd (no CLONE_FS),
	 * rlimits, credentials, no_new_privs, Landlock domain and seccomp
	 * filter; init keeps none of them. What it allocates (libcap) stays
	 * allocated in init, a few bytes. */
	payload = vfork();
	if (payload < 0) {
		sandbox_error_set(&err, errno, "sandbox: vfork payload");
		child_fail(a->status_fd, &err);
	}
	if (payload == 0)
		payload_main(sb, a);
	sb_send_type(a->status_fd, SB_MSG_STARTED);
	close(a->status_fd);
	close(a->sync_fd);
	init_loop(payload);
}
