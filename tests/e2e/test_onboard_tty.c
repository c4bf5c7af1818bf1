/* The real gateway's interactive wizard through `exec`'s terminal: `exec --
 * openclaw onboard` under a pseudo-terminal this test holds as the
 * caller's. Enter accepts the first question, the down arrow moves the
 * next one's selection, Ctrl-C cancels the wizard, which says so and exits
 * on its own (no signal death), and the caller's terminal modes come back.
 * Bounded: node needs up to a minute on a loaded 2-core box to draw the
 * first question. */
#include <poll.h>
#include <pty.h>
#include <termios.h>

#include "gateway_util.h"

TestSuite(onboard_tty, .fini = gw_fini);

struct wiz {
	pid_t pid;
	int master;
	char out[1 << 18];
	size_t len;
};

static bool installed(char *prefix, size_t len)
{
	const char *env = getenv("OPENCLAW_RUN_PREFIX");
	char mjs[PATH_MAX + 64];

	snprintf(prefix, len, "%s", env && *env ? env : "/opt/openclaw-run");
	snprintf(mjs, sizeof(mjs), "%s/node_modules/openclaw/openclaw.mjs", prefix);
	return geteuid() == 0 && path_exists(mjs);
}

static void wiz_read(struct wiz *w, int timeout_ms)
{
	struct pollfd p = {w->master, POLLIN, 0};

	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		ssize_t n = read(w->master, w->out + w->len, sizeof(w->out) - 1 - w->len);

		if (n <= 0)
			break;
		w->len += (size_t)n;
		w->out[w->len] = '\0';
	}
}

/* WHAT shows up in the output after offset FROM within TIMEOUT_S. */
static bool wiz_wait(struct wiz *w, size_t from, const char *what, int timeout_s)
{
	long deadline = gw_now_ms() + timeout_s * 1000L;

	while (!strstr(w->out + from, what) && gw_now_ms() < deadline)
		wiz_read(w, 200);
	return strstr(w->out + from, what) != NULL;
}

Test(onboard_tty, wizard_steps_and_ctrl_c, .timeout = 600)
{
	char prefix[PATH_MAX];
	struct gw g;
	struct wiz *w = calloc(1, sizeof(*w));
	struct winsize ws = {.ws_row = 40, .ws_col = 120};
	struct termios before, after;
	size_t mark;
	int status = 0;

	if (!installed(prefix, sizeof(prefix)))
		cr_skip_test("needs root and the gateway from scripts/install-openclaw");
	gw_init(&g, "wizard");
	char *envp[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
			g.home_env,
			g.runtime_env,
			g.records_env,
			(char *)"TERM=xterm",
			(char *)"ASAN_OPTIONS=detect_leaks=0",
			NULL};
	char *argv[] = {(char *)OCR_BIN,
			(char *)"--profile",
			(char *)"wizard",
			(char *)"exec",
			(char *)"--gateway-prefix",
			prefix,
			(char *)"--",
			(char *)"openclaw",
			(char *)"onboard",
			NULL};

	w->pid = forkpty(&w->master, NULL, NULL, &ws);
	cr_assert_geq(w->pid, 0);
	if (w->pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	g.launchers[g.n_launchers++] = w->pid;
	gw_sync(&g);
	fcntl(w->master, F_SETFL, O_NONBLOCK);
	/* What the caller's terminal must be again: a fresh one's modes (ours
	 * may already be raw by now). */
	{
		int m, s;

		cr_assert_eq(openpty(&m, &s, NULL, NULL, NULL), 0);
		cr_assert_eq(tcgetattr(s, &before), 0);
		close(m);
		close(s);
	}

	cr_assert(wiz_wait(w, 0, "Continue?", 300), "no first question: %s", w->out);
	mark = w->len;
	cr_assert_eq(write(w->master, "\r", 1), 1); /* Enter: "Yes" */
	cr_assert(wiz_wait(w, mark, "Help make OpenClaw better?", 120), "%s", w->out + mark);
	cr_assert(wiz_wait(w, mark, "\xe2\x97\x8f No thanks", 30), "%s", w->out + mark);
	mark = w->len;
	cr_assert_eq(write(w->master, "\x1b[B", 3), 3); /* the down arrow */
	cr_assert(wiz_wait(w, mark, "\xe2\x97\x8f Yes, share feature stats", 30), "%s",
		  w->out + mark);
	mark = w->len;
	cr_assert_eq(write(w->master, "\x03", 1), 1); /* Ctrl-C */
	cr_assert(wiz_wait(w, mark, "Setup cancelled.", 60), "%s", w->out + mark);

	long deadline = gw_now_ms() + 60000;
	pid_t r = 0;

	while ((r = waitpid(w->pid, &status, WNOHANG)) == 0 && gw_now_ms() < deadline)
		wiz_read(w, 200);
	cr_assert_eq(r, w->pid, "the wizard did not exit after Ctrl-C");
	g.launchers[0] = 0;
	gw_sync(&g);
	/* Upstream's cancel is its own exit (1), not a death by signal. */
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) < 128, "status %#x", status);
	cr_assert_eq(tcgetattr(w->master, &after), 0);
	cr_assert(after.c_lflag == before.c_lflag && after.c_iflag == before.c_iflag &&
		      after.c_oflag == before.c_oflag,
		  "the caller's terminal modes were not restored");
	close(w->master);
	free(w);
	gw_cleanup(&g);
}
