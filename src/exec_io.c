/* `exec`'s stdio (see exec_io.h). */
#include "exec_io.h"

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_pty(struct exec_io *io, ocr_error *err)
{
	struct winsize ws = {0};
	struct termios tio;
	bool have_tio = io->in_tty && tcgetattr(0, &tio) == 0;

	if ((ioctl(0, TIOCGWINSZ, &ws) < 0 && ioctl(1, TIOCGWINSZ, &ws) < 0) || !ws.ws_row ||
	    !ws.ws_col)
		ws = (struct winsize){.ws_row = 24, .ws_col = 80};
	if (openpty(&io->ours[0], &io->theirs[0], NULL, have_tio ? &tio : NULL, &ws) < 0)
		return err_set(err, errno, "exec: a pseudo-terminal for the sandbox");
	io->theirs[1] = io->theirs[2] = io->theirs[0];
	return 0;
}

/* A pipe in place of each of our stdio fds that is a terminal. */
static int open_pipes(struct exec_io *io, ocr_error *err)
{
	for (int i = 0; i < 3; i++) {
		int p[2];

		if (!isatty(i))
			continue;
		if (pipe2(p, O_CLOEXEC) < 0)
			return err_set(err, errno, "exec: a pipe for fd %d", i);
		io->ours[i] = i == 0 ? p[1] : p[0];
		io->theirs[i] = i == 0 ? p[0] : p[1];
	}
	return 0;
}

int exec_io_open(struct exec_io *io, bool tty, struct sandbox *sb, ocr_error *err)
{
	int rc;

	*io = (struct exec_io)EXEC_IO_INIT;
	io->tty = tty;
	io->in_tty = isatty(0);
	rc = tty ? open_pty(io, err) : open_pipes(io, err);
	for (int i = 0; rc == 0 && i < 3; i++) {
		if (io->ours[i] >= 0 && (fcntl(io->ours[i], F_SETFD, FD_CLOEXEC) < 0 ||
					 fcntl(io->ours[i], F_SETFL, O_NONBLOCK) < 0))
			rc = err_set(err, errno, "exec: stdio");
	}
	if (rc == 0 && exec_io_relays(io) && sandbox_set_stdio(sb, io->theirs, tty, err) < 0)
		rc = -1;
	/* The sandbox holds its own copies now. */
	for (int i = 0; i < 3; i++) {
		if (io->theirs[i] >= 0 && (i == 0 || io->theirs[i] != io->theirs[0]))
			close(io->theirs[i]);
		io->theirs[i] = -1;
	}
	if (rc < 0)
		exec_io_close(io);
	return rc;
}

bool exec_io_relays(const struct exec_io *io)
{
	return io->tty || io->ours[0] >= 0 || io->ours[1] >= 0 || io->ours[2] >= 0;
}

/* tcsetattr from a background process group would stop us (SIGTTOU) with
 * the terminal still raw: it is blocked around it. */
static int set_modes(const struct termios *tio)
{
	sigset_t ttou, saved;
	int rc;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &saved);
	do
		rc = tcsetattr(0, TCSADRAIN, tio);
	while (rc < 0 && errno == EINTR);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return rc;
}

static int go_raw(struct exec_io *io, ocr_error *err)
{
	struct termios raw;

	if (!io->tty || !io->in_tty)
		return 0;
	if (tcgetattr(0, &io->saved) < 0)
		return err_set(err, errno, "exec: the terminal's modes");
	raw = io->saved;
	cfmakeraw(&raw);
	if (set_modes(&raw) < 0)
		return err_set(err, errno, "exec: raw mode");
	io->raw = true;
	return 0;
}

void exec_io_close(struct exec_io *io)
{
	if (io->raw)
		set_modes(&io->saved);
	io->raw = false;
	for (int i = 0; i < 3; i++) {
		if (io->ours[i] >= 0)
			close(io->ours[i]);
		io->ours[i] = -1;
	}
}

/* ---- the relay --------------------------------------------------------------- */

/* One direction: SRC (nonblocking) into DST. */
struct chan {
	int src, dst;
	bool open;
	char buf[16384];
	size_t len;
};

struct relay {
	struct exec_io *io;
	struct sandbox *sb;
	struct chan in, out, err; /* caller -> sandbox, sandbox -> caller */
	bool ended;
	int code;
};

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* The sandbox's output to the caller; closes the channel at its end (EOF
 * of a pipe, EIO of a master whose slave every holder has closed). */
static void pump_out(struct chan *c)
{
	for (int i = 0; i < 8 && c->open; i++) {
		ssize_t n = read(c->src, c->buf, sizeof(c->buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			c->open = false;
		else if (c->dst >= 0 && !write_all(c->dst, c->buf, (size_t)n))
			c->dst = -1; /* nobody reads our stdout any more: drop it */
	}
}

static void pump_in(struct relay *r)
{
	struct chan *c = &r->in;
	ssize_t n = read(c->src, c->buf, sizeof(c->buf));
	struct termios tio;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		c->len = (size_t)n;
		return;
	}
	c->open = false;
	if (n < 0)
		return; /* a hung-up terminal: it just stops */
	/* End of input: the terminal's end-of-file character, as a person
	 * would type it, or the pipe's end. */
	if (r->io->tty && tcgetattr(c->dst, &tio) == 0) {
		c->buf[0] = (char)tio.c_cc[VEOF];
		c->len = 1;
	} else if (!r->io->tty) {
		close(r->io->ours[0]);
		r->io->ours[0] = -1;
	}
}

static void push_in(struct chan *c)
{
	ssize_t n = write(c->dst, c->buf, c->len);

	if (n > 0) {
		memmove(c->buf, c->buf + n, c->len - (size_t)n);
		c->len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		c->len = 0;
	}
}

static int check_end(struct relay *r, ocr_error *err)
{
	int rc = sandbox_wait(r->sb, WNOHANG, &r->code, err);

	if (rc < 0 && err->errnum != EINTR)
		return -1;
	r->ended = rc == 0;
	return 0;
}

static int on_signals(struct relay *r, int sigfd, ocr_error *err)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		struct winsize ws;
		ocr_error ignored = {0};

		if (sig == SIGCHLD) {
			if (check_end(r, err) < 0)
				return -1;
		} else if (sig == SIGWINCH) {
			/* The kernel tells the sandbox's foreground group. */
			if (r->io->tty &&
			    (ioctl(0, TIOCGWINSZ, &ws) == 0 || ioctl(1, TIOCGWINSZ, &ws) == 0))
				ioctl(r->io->ours[0], TIOCSWINSZ, &ws);
		} else {
			sandbox_signal(r->sb, sig, &ignored);
		}
	}
	return 0;
}

static void init_chans(struct relay *r)
{
	struct exec_io *io = r->io;

	r->in = (struct chan){.src = 0, .dst = io->ours[0], .open = io->ours[0] >= 0};
	r->out = (struct chan){.src = io->tty ? io->ours[0] : io->ours[1], .dst = 1};
	r->out.open = r->out.src >= 0;
	r->err = (struct chan){.src = io->tty ? -1 : io->ours[2], .dst = 2};
	r->err.open = r->err.src >= 0;
}

static int relay_loop(struct relay *r, int sigfd, ocr_error *err)
{
	int pidfd = sandbox_pidfd(r->sb);

	while (!r->ended) {
		struct pollfd p[6];
		int n = 0, i_pid = -1, i_in = -1, i_push = -1, i_out = -1, i_err = -1;

		p[n++] = (struct pollfd){sigfd, POLLIN, 0};
		if (pidfd >= 0)
			p[i_pid = n++] = (struct pollfd){pidfd, POLLIN, 0};
		if (r->in.open && !r->in.len)
			p[i_in = n++] = (struct pollfd){r->in.src, POLLIN, 0};
		if (r->in.len && r->in.dst >= 0)
			p[i_push = n++] = (struct pollfd){r->in.dst, POLLOUT, 0};
		if (r->out.open)
			p[i_out = n++] = (struct pollfd){r->out.src, POLLIN, 0};
		if (r->err.open)
			p[i_err = n++] = (struct pollfd){r->err.src, POLLIN, 0};
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			return err_set(err, errno, "exec: poll");
		if ((p[0].revents & POLLIN) && on_signals(r, sigfd, err) < 0)
			return -1;
		if (i_pid >= 0 && p[i_pid].revents && check_end(r, err) < 0)
			return -1;
		if (i_in >= 0 && p[i_in].revents)
			pump_in(r);
		if (i_push >= 0 && p[i_push].revents)
			push_in(&r->in);
		if (i_out >= 0 && p[i_out].revents)
			pump_out(&r->out);
		if (i_err >= 0 && p[i_err].revents)
			pump_out(&r->err);
	}
	return 0;
}

int exec_io_relay(struct exec_io *io, struct sandbox *sb, const sigset_t *set, ocr_error *err)
{
	struct relay *r = calloc(1, sizeof(*r));
	int sigfd, rc;

	if (!r)
		return err_set(err, ENOMEM, "exec: relay");
	r->io = io;
	r->sb = sb;
	init_chans(r);
	sigfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		free(r);
		return err_set(err, errno, "exec: signalfd");
	}
	if (go_raw(io, err) < 0) {
		/* Bytes still flow, cooked: say it and go on. */
		err_print(err);
		err_clear(err);
	}
	rc = relay_loop(r, sigfd, err);
	/* What the payload wrote last is still in the master or the pipes:
	 * every writer is gone with the sandbox, so this ends. */
	for (int i = 0; rc == 0 && i < 64 && (r->out.open || r->err.open); i++) {
		if (r->out.open)
			pump_out(&r->out);
		if (r->err.open)
			pump_out(&r->err);
	}
	close(sigfd);
	exec_io_close(io);
	rc = rc < 0 ? -1 : r->code;
	free(r);
	return rc;
}
