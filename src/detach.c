/* --detach: the daemon and the caller that waits for it (see detach.h). */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "supervisor.h"

void detach_say_progress(int fd, const char *what)
{
	if (fd >= 0)
		dprintf(fd, "P %s\n", what);
}

void detach_say_started(int fd, int64_t ms)
{
	if (fd >= 0)
		dprintf(fd, "R %lld\n", (long long)ms);
}

void detach_say_failed(int fd, int code, const char *why)
{
	if (fd >= 0)
		dprintf(fd, "F %d %s\n", code, why);
}

struct waiter {
	const char *label, *log_path;
	unsigned port;
	bool tty;
	int64_t start;
	char waiting[32];
};

/* One line from the daemon: 1 when it ended the wait (*CODE set). */
static int on_line(struct waiter *w, char *line, int *code)
{
	if (line[0] == 'P') {
		snprintf(w->waiting, sizeof(w->waiting), "%s",
			 strstr(line, "doctor") ? "running openclaw doctor --fix"
						: "waiting for /startupz");
		return 0;
	}
	if (w->tty && (line[0] == 'R' || line[0] == 'F'))
		fputs("\r\033[K", stderr);
	if (line[0] == 'R') {
		printf(
		    "openclaw-run: %s: gateway started on http://127.0.0.1:%u after %.1f s (log: "
		    "%s)\n",
		    w->label, w->port, strtod(line + 2, NULL) / 1000.0, w->log_path);
		*code = EXIT_OK;
		return 1;
	}
	if (line[0] == 'F') {
		const char *why = strchr(line + 2, ' ');

		*code = atoi(line + 2);
		if (!*code)
			*code = EXIT_FAIL;
		cli_errorf("%s: the gateway did not start (%s); last lines of %s:", w->label,
			   why ? why + 1 : "", w->log_path);
		supervisor_log_tail(w->log_path, 20, STDERR_FILENO);
		return 1;
	}
	return 0;
}

/* The caller's end: wait for the daemon's report, drawing progress on a
 * terminal; print the log tail when it fails. */
static int wait_for_daemon(int fd, struct waiter *w, int wait_s)
{
	int64_t limit = w->start + (int64_t)wait_s * 1000;
	char buf[512];
	size_t len = 0;
	int code;

	while (runtime_now_ms() < limit) {
		struct pollfd p = {fd, POLLIN, 0};
		int rc = poll(&p, 1, 1000);
		char *nl;

		if (w->tty) {
			fprintf(stderr,
				"\r\033[Kopenclaw-run: %s: starting the gateway... %llds (%s)",
				w->label, (long long)((runtime_now_ms() - w->start) / 1000),
				w->waiting);
			fflush(stderr);
		}
		if (rc <= 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break; /* the daemon died without a word */
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (on_line(w, buf, &code))
				return code;
			memmove(buf, nl + 1, strlen(nl + 1) + 1);
			len = strlen(buf);
		}
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	if (w->tty)
		fputs("\r\033[K", stderr);
	cli_errorf("%s: the supervisor went away before the gateway started; last lines of %s:",
		   w->label, w->log_path);
	supervisor_log_tail(w->log_path, 20, STDERR_FILENO);
	return EXIT_FAIL;
}

/* The daemon: returns the exit code of the supervisor. */
static int run_daemon(struct supervisor_opts *so, int lock_fd, int notify_fd)
{
	int out[2], null_fd;
	ocr_error err = {0};

	/* Before anything can signal us: the daemon is a supervisor. */
	if (supervisor_block_signals(&err) < 0 || setsid() < 0)
		_exit(EXIT_FAIL);
	pid_t pid = fork();
	if (pid < 0)
		_exit(EXIT_FAIL);
	if (pid > 0)
		_exit(EXIT_OK); /* the session leader goes: no controlling tty ever */
	runtime_lock_set_pid(lock_fd, getpid(), &err);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* The gateway's stdout/stderr (and ours) go through a pipe that the
	 * supervisor copies into the size-capped log. */
	if (null_fd < 0 || pipe2(out, O_CLOEXEC) < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(out[1], STDOUT_FILENO) < 0 || dup2(out[1], STDERR_FILENO) < 0) {
		dprintf(notify_fd, "F 1 detach: %s\n", strerror(errno));
		_exit(EXIT_FAIL);
	}
	close(out[1]);
	close(null_fd);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (chdir("/") < 0)
		_exit(EXIT_FAIL);
	so->output_fd = out[0];
	so->notify_fd = notify_fd;
	so->progress_tty = false;
	so->sd = NULL; /* systemd watches a foreground supervisor only */
	int code = supervisor_run(so);
	supervisor_log_take_stdio(so->log);
	close(out[0]);
	return code;
}

int detach_run(struct supervisor_opts *so, const char *log_path, int wait_s, int *lock_fd,
	       bool *is_daemon)
{
	struct waiter w = {.label = so->label,
			   .log_path = log_path,
			   .port = so->port,
			   .tty = isatty(STDERR_FILENO),
			   .waiting = "waiting for /startupz"};
	ocr_error err = {0};
	int notify[2], code;
	pid_t pid;

	if (strlen(log_path) >= sizeof(so->state->log_path)) {
		cli_errorf("gateway --detach: log path %s too long", log_path);
		return EXIT_FAIL;
	}
	if (supervisor_log_open(log_path, SUPERVISOR_LOG_MAX_BYTES, &so->log, &err) < 0 ||
	    (pipe2(notify, O_CLOEXEC) < 0 && err_set(&err, errno, "pipe") < 0)) {
		err_prefix(&err, "gateway --detach");
		err_print(&err);
		return EXIT_FAIL;
	}
	snprintf(so->state->log_path, sizeof(so->state->log_path), "%s", log_path);
	supervisor_log_printf(so->log, "%s: starting (detached)", so->label);
	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0) {
		cli_errorf("gateway --detach: fork: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (pid == 0) {
		close(notify[0]);
		*is_daemon = true;
		return run_daemon(so, *lock_fd, notify[1]);
	}
	close(notify[1]);
	close(*lock_fd); /* the daemon holds the lock now */
	*lock_fd = -1;
	waitpid(pid, NULL, 0);
	w.start = runtime_now_ms();
	code = wait_for_daemon(notify[0], &w, wait_s);
	close(notify[0]);
	return code;
}
