/* `exec` with a terminal, driven from a pseudo-terminal this test holds as
 * "the caller's terminal": the command inside has a controlling terminal of
 * its own (not ours), in the foreground, our size; a resize reaches it as
 * SIGWINCH, a typed Ctrl-C as SIGINT; our terminal's modes come back after
 * a normal exit, a SIGKILL of the command and a SIGTERM of the launcher;
 * TIOCSTI inside pushes into the sandbox's own terminal, never ours. */
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <termios.h>

#include "gateway_util.h"

TestSuite(tty, .fini = gw_fini);

#define TTYPROBE OCR_HELPERS_DIR "/ttyprobe"

struct ptyrun {
	pid_t pid;
	int master;
	char out[65536];
	size_t len;
};

static void pty_start_opt(struct ptyrun *p, struct gw *g, const char *mode, const char *opt)
{
	struct winsize ws = {.ws_row = 30, .ws_col = 100};
	char *envp[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			g->home_env,
			g->runtime_env,
			g->records_env,
			(char *)"ASAN_OPTIONS=detect_leaks=1",
			NULL};
	char *argv[] = {(char *)OCR_BIN,
			(char *)"--profile",
			g->profile,
			(char *)"exec",
			(char *)"--json-status",
			(char *)"--ro-bind",
			(char *)OCR_HELPERS_DIR,
			(char *)(opt ? opt : "--json-status"),
			(char *)"--",
			(char *)TTYPROBE,
			(char *)mode,
			NULL};

	memset(p, 0, sizeof(*p));
	p->pid = forkpty(&p->master, NULL, NULL, &ws);
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	g->launchers[g->n_launchers++] = p->pid;
	gw_sync(g);
}

static void pty_start(struct ptyrun *p, struct gw *g, const char *mode)
{
	pty_start_opt(p, g, mode, NULL);
}

static void pty_read(struct ptyrun *p, int timeout_ms)
{
	struct pollfd pf = {p->master, POLLIN, 0};

	if (poll(&pf, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		ssize_t n = read(p->master, p->out + p->len, sizeof(p->out) - 1 - p->len);

		if (n <= 0)
			break;
		p->len += (size_t)n;
		p->out[p->len] = '\0';
	}
}

static bool pty_wait_for(struct ptyrun *p, const char *what, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;

	while (!strstr(p->out, what) && gw_now_ms() < deadline)
		pty_read(p, 100);
	return strstr(p->out, what) != NULL;
}

/* The launcher's exit code (reading its output meanwhile), or -1. */
static int pty_wait_exit(struct ptyrun *p, struct gw *g, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;
	int status;

	while (gw_now_ms() < deadline) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			pty_read(p, 0);
			g->launchers[g->n_launchers - 1] = 0;
			gw_sync(g);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		pty_read(p, 100);
	}
	return -1;
}

/* A fresh terminal's modes, what ours must be again after each run. */
static void default_modes(struct termios *tio)
{
	int m, s;

	cr_assert_eq(openpty(&m, &s, NULL, NULL, NULL), 0);
	cr_assert_eq(tcgetattr(s, tio), 0);
	close(m);
	close(s);
}

static void assert_modes_restored(struct ptyrun *p, const char *when)
{
	struct termios want, now;

	default_modes(&want);
	/* On a master, the modes read are the terminal's (the slave's). */
	cr_assert_eq(tcgetattr(p->master, &now), 0);
	cr_assert(now.c_lflag == want.c_lflag && now.c_iflag == want.c_iflag &&
		      now.c_oflag == want.c_oflag && now.c_cflag == want.c_cflag,
		  "%s: modes not restored (lflag %#x, want %#x)", when, (unsigned)now.c_lflag,
		  (unsigned)want.c_lflag);
}

/* The launcher goes raw once the sandbox has started, which may be a
 * moment after the command inside printed its first line. */
static bool raw_now(struct ptyrun *p)
{
	long deadline = gw_now_ms() + 30000;
	struct termios now;

	while (gw_now_ms() < deadline) {
		if (tcgetattr(p->master, &now) == 0 && !(now.c_lflag & (ICANON | ECHO | ISIG)))
			return true;
		pty_read(p, 50);
	}
	return false;
}

static pid_t json_pid(struct ptyrun *p, const char *key)
{
	const char *at = strstr(p->out, key);

	return at ? (pid_t)strtol(at + strlen(key), NULL, 10) : -1;
}

Test(tty, controlling_terminal_resize_and_ctrl_c, .timeout = 180)
{
	struct gw g;
	struct ptyrun p;
	struct winsize ws = {.ws_row = 40, .ws_col = 120};
	struct stat caller;
	unsigned long dev0 = 0, ctty = 0;
	const char *info;

	gw_init(&g, "tty");
	pty_start(&p, &g, "info");
	cr_assert(pty_wait_for(&p, "ready", 60), "%s", p.out);
	cr_assert(raw_now(&p), "the caller's terminal is not raw while the command runs");
	info = strstr(p.out, "tty ");
	cr_assert(info && strstr(info, "tty 1 ctty 1 fg 1 size 30x100"), "%s", p.out);
	/* Its terminal is the sandbox's own, not ours. */
	cr_assert_eq(stat(ptsname(p.master), &caller), 0);
	cr_assert_eq(sscanf(strstr(info, "dev0"), "dev0 %lu ctty_nr %lu", &dev0, &ctty), 2);
	cr_assert(dev0 && dev0 == ctty && dev0 != (unsigned long)caller.st_rdev,
		  "dev0 %lu ctty %lu caller %lu", dev0, ctty, (unsigned long)caller.st_rdev);

	cr_assert_eq(ioctl(p.master, TIOCSWINSZ, &ws), 0);
	cr_assert(pty_wait_for(&p, "winch 40x120", 30), "no resize inside: %s", p.out);
	cr_assert_eq(write(p.master, "\x03", 1), 1);
	cr_assert(pty_wait_for(&p, "got SIGINT", 30), "no SIGINT from Ctrl-C: %s", p.out);
	cr_assert_eq(pty_wait_exit(&p, &g, 30), 0, "%s", p.out);
	assert_modes_restored(&p, "after a normal exit");
	close(p.master);
	gw_cleanup(&g);
}

Test(tty, modes_restored_after_sigkill_of_the_command, .timeout = 180)
{
	struct gw g;
	struct ptyrun p;
	pid_t child;

	gw_init(&g, "tty");
	pty_start(&p, &g, "sleep");
	cr_assert(pty_wait_for(&p, "ready", 60), "%s", p.out);
	cr_assert(raw_now(&p));
	child = json_pid(&p, "\"child-pid\": ");
	cr_assert_gt(child, 0, "%s", p.out);
	cr_assert_eq(kill(child, SIGKILL), 0);
	cr_assert_eq(pty_wait_exit(&p, &g, 30), 137, "%s", p.out);
	assert_modes_restored(&p, "after SIGKILL of the command");
	close(p.master);
	gw_cleanup(&g);
}

Test(tty, modes_restored_after_sigterm_of_the_launcher, .timeout = 180)
{
	struct gw g;
	struct ptyrun p;

	gw_init(&g, "tty");
	pty_start(&p, &g, "sleep");
	cr_assert(pty_wait_for(&p, "ready", 60), "%s", p.out);
	cr_assert(raw_now(&p));
	cr_assert_eq(kill(p.pid, SIGTERM), 0);
	/* Forwarded: the command dies of it, the launcher follows. */
	cr_assert_eq(pty_wait_exit(&p, &g, 30), 128 + SIGTERM, "%s", p.out);
	assert_modes_restored(&p, "after SIGTERM of the launcher");
	close(p.master);
	gw_cleanup(&g);
}

Test(tty, tiocsti_inside_never_reaches_the_callers_terminal, .timeout = 180)
{
	struct gw g;
	struct ptyrun p;
	int slave, queued = -1;

	gw_init(&g, "tty");
	pty_start(&p, &g, "tiocsti");
	cr_assert_eq(pty_wait_exit(&p, &g, 60), 0, "%s", p.out);
	cr_assert(strstr(p.out, "tiocsti "), "%s", p.out);
	/* Allowed by this kernel (dev.tty.legacy_tiocsti) or refused: either
	 * way nothing may wait in our terminal's input. When it was allowed,
	 * the bytes went to the sandbox's own terminal. */
	if (strstr(p.out, "tiocsti ok"))
		cr_assert(strstr(p.out, "own-input 11"), "%s", p.out);
	slave = open(ptsname(p.master), O_RDWR | O_NOCTTY | O_NONBLOCK);
	cr_assert_geq(slave, 0);
	cr_assert_eq(ioctl(slave, FIONREAD, &queued), 0);
	cr_assert_eq(queued, 0, "%d bytes were pushed into the caller's terminal", queued);
	close(slave);
	assert_modes_restored(&p, "after TIOCSTI");
	close(p.master);
	gw_cleanup(&g);
}

/* --no-tty on a terminal: pipes, relayed; our terminal is neither handed
 * over nor touched. --tty without one: a terminal all the same. */
Test(tty, no_tty_forces_pipes_and_tty_forces_a_terminal, .timeout = 180)
{
	struct gw g;
	struct run_result r;
	struct ptyrun p;

	gw_init(&g, "tty");
	pty_start_opt(&p, &g, "stdio", "--no-tty");
	cr_assert_eq(pty_wait_exit(&p, &g, 60), 0, "%s", p.out);
	cr_assert(strstr(p.out, "stdio-ttys 0 0 0"), "%s", p.out);
	assert_modes_restored(&p, "after --no-tty");
	close(p.master);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "tty", "exec", "--tty", "--ro-bind",
			    OCR_HELPERS_DIR, "--", "/bin/sh", "-c", "test -t 0 && echo TTY", NULL),
		     0);
	cr_assert_eq(r.exit_code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "TTY"), "--tty without a terminal on stdin: %s", r.out);
	run_result_free(&r);
	cr_assert_eq(gw_ocr(&g, &r, "--profile", "tty", "exec", "--no-tty", "--", "/bin/sh", "-c",
			    "test -t 0 || echo PIPE", NULL),
		     0);
	cr_assert(strstr(r.out, "PIPE"), "%s", r.out);
	run_result_free(&r);
	gw_cleanup(&g);
}
