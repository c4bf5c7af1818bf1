/* The supervisor loop (see supervisor.h). Everything that happens arrives
 * through one poll(): signals (signalfd), the sandbox's end (pidfd), the
 * readiness probe's reports (a pipe), the detached gateway's output (a
 * pipe); deadlines (ready timeout, backoff, grace) become poll timeouts. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_probe.h"

/* ---- the loop -------------------------------------------------------------- */

enum stop_reason { STOP_NONE, STOP_REQUEST, STOP_RESTART, STOP_NOT_READY, STOP_PROBE_FAILED };

struct sup {
	const struct supervisor_opts *o;
	struct runtime_state *st;
	struct restart_policy policy;
	int sigfd;
	struct sandbox *sb; /* NULL while no gateway runs */
	int pidfd;
	pid_t probe_pid;
	int probe_fd;
	enum stop_reason stopping;
	bool killed;
	int64_t launch_ms, run_start_ms;
	int64_t ready_deadline, backoff_deadline, grace_deadline, tick; /* 0: none */
	bool ever_ready, progress_drawn;
	int notify_fd;
	bool done;
	int result;
};

static void clear_progress(struct sup *s)
{
	if (s->progress_drawn) {
		fputs("\r\033[K", stderr);
		s->progress_drawn = false;
	}
}

static void say(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct sup *s, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->o->log) {
		supervisor_log_printf(s->o->log, "%s: %s", s->o->label, msg);
		return;
	}
	clear_progress(s);
	fprintf(stderr, "openclaw-run: %s: %s\n", s->o->label, msg);
}

static void notify(struct sup *s, bool final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notify(struct sup *s, bool final, const char *fmt, ...)
{
	va_list ap;

	if (s->notify_fd < 0)
		return;
	va_start(ap, fmt);
	vdprintf(s->notify_fd, fmt, ap);
	va_end(ap);
	if (final) {
		close(s->notify_fd);
		s->notify_fd = -1;
	}
}

static void save_state(struct sup *s)
{
	ocr_error err = {0};

	if (runtime_state_write(s->o->paths, s->st, &err) < 0) {
		char buf[SANDBOX_ERROR_MSG_MAX + 128];

		say(s, "warning: %s", err_text(&err, buf, sizeof(buf)));
	}
}

static void finish(struct sup *s, int code, enum runtime_phase phase)
{
	s->done = true;
	s->result = code;
	s->st->phase = phase;
	s->st->init_pid = s->st->child_pid = 0;
	s->st->init_start_ticks = 0;
	save_state(s);
	notify(s, true, "F %d %s\n", code, runtime_phase_name(phase));
}

static void describe_exit(int code, char *buf, size_t len)
{
	if (code > 128 && code < 128 + 65)
		snprintf(buf, len, "was killed by signal %d (%s)", code - 128,
			 strsignal(code - 128));
	else
		snprintf(buf, len, "exited with status %d", code);
}

/* The probe child: load libcurl, poll /healthz then /readyz, report each
 * step on FD, exit. It never returns. */
static void probe_child(unsigned port, int fd)
{
	struct http_probe *hp;
	struct http_result res;
	ocr_error err = {0};
	const char *path = "/healthz";
	const struct timespec pause = {0, 250 * 1000 * 1000};

	if (http_probe_open(&hp, &err) < 0) {
		char buf[SANDBOX_ERROR_MSG_MAX + 128];

		dprintf(fd, "E %s\n", err_text(&err, buf, sizeof(buf)));
		_exit(1);
	}
	for (;;) {
		if (http_probe_get(hp, port, path, 2000, &res, &err) == 0 && res.status == 200) {
			if (strcmp(path, "/healthz") == 0) {
				dprintf(fd, "H\n");
				path = "/readyz";
				continue;
			}
			dprintf(fd, "R\n");
			_exit(0);
		}
		nanosleep(&pause, NULL);
	}
}

static void stop_probe(struct sup *s)
{
	if (s->probe_pid > 0) {
		kill(s->probe_pid, SIGKILL);
		waitpid(s->probe_pid, NULL, 0);
		s->probe_pid = 0;
	}
	if (s->probe_fd >= 0) {
		close(s->probe_fd);
		s->probe_fd = -1;
	}
}

static int start_probe(struct sup *s)
{
	int fds[2];
	pid_t parent = getpid(), pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/* Dies with the supervisor, even on SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* It never execs, so O_CLOEXEC does not help: drop the lock (a
		 * launcher SIGKILLed now would block its successor until we
		 * die), the signalfd, the pidfd and the pipes. */
		if (dup2(fds[1], 3) < 0)
			_exit(1);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		probe_child(s->o->port, 3);
	}
	close(fds[1]);
	s->probe_pid = pid;
	s->probe_fd = fds[0];
	return 0;
}

static int start_gateway(struct sup *s)
{
	struct sandbox_status status = {0};
	ocr_error err = {0};
	char buf[SANDBOX_ERROR_MSG_MAX + 128];
	int64_t now;
	int rc;

	rc = s->o->build(s->o->build_ctx, &s->sb, &err);

	/* The host does not change between restarts: its warnings (limits
	 * off, no Landlock network rules) were said at the first start. */
	if (rc == 0 && s->st->restarts > 0)
		sandbox_set_warning_fd(s->sb, -1);
	if (rc < 0 || sandbox_spawn(s->sb, &status, &err) < 0) {
		sandbox_free(s->sb);
		s->sb = NULL;
		say(s, "cannot start the gateway: %s", err_text(&err, buf, sizeof(buf)));
		finish(s, SUPERVISOR_EXIT_FAILED, PHASE_FAILED);
		return -1;
	}
	now = runtime_now_ms();
	s->pidfd = sandbox_pidfd(s->sb);
	s->run_start_ms = now;
	s->stopping = STOP_NONE;
	s->killed = false;
	s->st->init_pid = status.init_pid;
	s->st->child_pid = status.child_pid;
	s->st->init_start_ticks = runtime_proc_start_ticks(status.init_pid);
	s->st->started_at = runtime_now_unix();
	s->st->ready_at = 0;
	s->st->phase = PHASE_STARTING;
	save_state(s);
	say(s,
	    "gateway started (sandbox pid %ld, gateway pid %ld), waiting for "
	    "http://127.0.0.1:%u/healthz",
	    (long)status.init_pid, (long)status.child_pid, s->o->port);
	notify(s, false, "P healthz\n");
	/* Until the first success the timeout counts from the launch, so a
	 * gateway that keeps crashing while starting cannot hold a --detach
	 * caller forever. */
	s->ready_deadline = (s->ever_ready ? now : s->launch_ms) + s->o->ready_timeout_s * 1000LL;
	s->tick = now + 1000;
	if (start_probe(s) < 0) {
		say(s, "cannot start the readiness probe: %s", strerror(errno));
		return 0; /* the gateway runs; the ready timeout will tell */
	}
	return 0;
}

static void begin_stop(struct sup *s, enum stop_reason why)
{
	ocr_error err = {0};

	stop_probe(s);
	s->ready_deadline = 0;
	if (s->stopping != STOP_NONE) {
		if (why == STOP_REQUEST)
			s->stopping = why; /* a stop request beats a restart */
		return;
	}
	s->stopping = why;
	s->st->phase = PHASE_STOPPING;
	save_state(s);
	/* ESRCH: it is already gone; the pidfd reports it right away. */
	sandbox_signal(s->sb, SIGTERM, &err);
	s->grace_deadline = runtime_now_ms() + s->o->grace_s * 1000LL;
}

static void gateway_ended(struct sup *s, int code)
{
	int64_t now = runtime_now_ms(), uptime = now - s->run_start_ms, delay;
	enum stop_reason why = s->stopping;
	char what[96];

	sandbox_free(s->sb);
	s->sb = NULL;
	s->pidfd = -1;
	s->grace_deadline = 0;
	s->ready_deadline = 0;
	stop_probe(s);
	clear_progress(s);
	s->st->last_exit = code;
	s->st->init_pid = s->st->child_pid = 0;
	describe_exit(code, what, sizeof(what));
	switch (why) {
	case STOP_REQUEST:
		say(s, "gateway stopped (%s%s)", what, s->killed ? ", after SIGKILL" : "");
		finish(s, s->killed ? SUPERVISOR_EXIT_KILLED : SUPERVISOR_EXIT_STOPPED,
		       PHASE_STOPPED);
		return;
	case STOP_NOT_READY:
		finish(s, SUPERVISOR_EXIT_NOT_READY, PHASE_FAILED);
		return;
	case STOP_PROBE_FAILED:
		finish(s, SUPERVISOR_EXIT_FAILED, PHASE_FAILED);
		return;
	case STOP_RESTART:
		s->st->restarts++;
		say(s, "gateway %s; restarting it (SIGHUP)", what);
		start_gateway(s);
		return;
	case STOP_NONE:
		break;
	}
	switch (restart_policy_on_exit(&s->policy, now, uptime, code, &delay)) {
	case RESTART_GIVE_UP_CONFIG:
		say(s,
		    "gateway exited with status 78 (configuration or state error): not "
		    "restarting it. Read its output above, fix the config, check with "
		    "`openclaw-run --profile %s check`, and start it again",
		    s->o->label);
		finish(s, SUPERVISOR_EXIT_CONFIG, PHASE_CONFIG_ERROR);
		return;
	case RESTART_GIVE_UP_CRASH_LOOP:
		say(s, "gateway %s; it failed %d times within %d s: crash loop, giving up", what,
		    CRASH_LOOP_FAILURES, CRASH_LOOP_WINDOW_MS / 1000);
		finish(s, SUPERVISOR_EXIT_CRASH_LOOP, PHASE_CRASH_LOOP);
		return;
	case RESTART_AFTER_DELAY:
		break;
	}
	if (!s->ever_ready && now + delay >= s->launch_ms + s->o->ready_timeout_s * 1000LL) {
		say(s, "gateway %s and was not ready within %d s: giving up", what,
		    s->o->ready_timeout_s);
		finish(s, SUPERVISOR_EXIT_NOT_READY, PHASE_FAILED);
		return;
	}
	say(s, "gateway %s after %.1f s; restarting in %.0f s", what, (double)uptime / 1000.0,
	    (double)delay / 1000.0);
	s->st->phase = PHASE_BACKOFF;
	save_state(s);
	s->backoff_deadline = now + delay;
}

static void check_gateway(struct sup *s)
{
	ocr_error err = {0};
	int code = 0, rc;

	if (!s->sb)
		return;
	rc = sandbox_wait(s->sb, WNOHANG, &code, &err);
	if (rc == 0)
		gateway_ended(s, code);
	else if (rc < 0 && err.errnum != EINTR) {
		char buf[SANDBOX_ERROR_MSG_MAX + 128];

		say(s, "waiting for the sandbox: %s", err_text(&err, buf, sizeof(buf)));
		gateway_ended(s, 1);
	}
}

/* Reaps every child that has ended, not only ours: as a container's pid 1
 * we inherit its orphans, which would otherwise stay zombies. WNOWAIT
 * peeks first, so the sandbox's init is reaped by sandbox_wait(), which
 * needs its status (and may start the next run), and the probe's pid is
 * forgotten once reaped. */
static void reap_children(struct sup *s)
{
	for (;;) {
		siginfo_t si = {0};

		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			return;
		if (s->sb && si.si_pid == s->st->init_pid) {
			check_gateway(s);
			if (s->sb && si.si_pid == s->st->init_pid)
				return; /* not reaped (EINTR): the pidfd or the next SIGCHLD */
			continue;
		}
		if (waitpid(si.si_pid, NULL, WNOHANG) == si.si_pid && si.si_pid == s->probe_pid)
			s->probe_pid = 0;
	}
}

static void on_signal(struct sup *s, int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (!s->sb) { /* between runs: nothing to stop */
			say(s, "stopped by %s while waiting to restart", strsignal(sig));
			finish(s, SUPERVISOR_EXIT_STOPPED, PHASE_STOPPED);
		} else if (s->stopping == STOP_REQUEST && sig == SIGINT && !s->killed) {
			ocr_error err = {0};

			say(s, "second interrupt: killing the sandbox now");
			sandbox_kill(s->sb, &err);
			s->killed = true;
		} else {
			say(s, "%s: stopping the gateway (grace %d s)", strsignal(sig),
			    s->o->grace_s);
			begin_stop(s, STOP_REQUEST);
		}
		break;
	case SIGHUP:
		if (s->sb && s->stopping == STOP_NONE) {
			say(s, "SIGHUP: restarting the gateway");
			begin_stop(s, STOP_RESTART);
		} else if (!s->sb) {
			s->backoff_deadline = 0;
			s->st->restarts++;
			start_gateway(s);
		}
		break;
	case SIGCHLD:
		reap_children(s);
		break;
	}
}

static void on_probe_report(struct sup *s)
{
	char buf[1024];
	ssize_t n = read(s->probe_fd, buf, sizeof(buf) - 1);
	int64_t now = runtime_now_ms();

	if (n <= 0) { /* the probe ended; a missing "R" is caught by the deadline */
		close(s->probe_fd);
		s->probe_fd = -1;
		return;
	}
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == 'H') {
			s->st->phase = PHASE_WAIT_READY;
			save_state(s);
			if (!s->o->progress_tty)
				say(s, "/healthz answered after %.1f s, waiting for /readyz",
				    (double)(now - s->run_start_ms) / 1000.0);
			notify(s, false, "P readyz\n");
		} else if (line[0] == 'R') {
			s->ever_ready = true;
			s->ready_deadline = 0;
			s->st->phase = PHASE_READY;
			s->st->ready_at = runtime_now_unix();
			save_state(s);
			say(s,
			    "gateway ready on http://127.0.0.1:%u after %.1f s (gateway pid %ld)",
			    s->o->port, (double)(now - s->run_start_ms) / 1000.0,
			    (long)s->st->child_pid);
			notify(s, true, "R %lld\n", (long long)(now - s->run_start_ms));
		} else if (line[0] == 'E') {
			say(s, "readiness probe: %s", line + 2);
			begin_stop(s, STOP_PROBE_FAILED);
			return;
		}
	}
}

static void draw_progress(struct sup *s, int64_t now)
{
	if (!s->o->progress_tty || !s->sb || s->stopping != STOP_NONE || s->ever_ready ||
	    s->st->phase == PHASE_READY)
		return;
	fprintf(stderr, "\r\033[Kopenclaw-run: %s: starting the gateway... %llds (waiting for %s)",
		s->o->label, (long long)((now - s->run_start_ms) / 1000),
		s->st->phase == PHASE_WAIT_READY ? "/readyz" : "/healthz");
	fflush(stderr);
	s->progress_drawn = true;
}

/* At most MAX_READS reads: a gateway printing in a tight loop must not keep
 * the loop from its signals and deadlines (poll comes back at once). */
static void pump_output(struct sup *s, int max_reads)
{
	char buf[65536];
	ssize_t n;

	while (max_reads-- > 0 && (n = read(s->o->output_fd, buf, sizeof(buf))) > 0)
		supervisor_log_write(s->o->log, buf, (size_t)n);
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static void on_timeouts(struct sup *s, int64_t now)
{
	if (s->grace_deadline && now >= s->grace_deadline && s->sb) {
		ocr_error err = {0};

		say(s, "gateway did not stop within %d s: killing the sandbox", s->o->grace_s);
		sandbox_kill(s->sb, &err);
		s->killed = true;
		s->grace_deadline = 0;
	}
	if (s->ready_deadline && now >= s->ready_deadline && s->sb) {
		say(s, "gateway not ready within %d s (still waiting for %s): stopping it",
		    s->o->ready_timeout_s,
		    s->st->phase == PHASE_WAIT_READY ? "/readyz" : "/healthz");
		begin_stop(s, STOP_NOT_READY);
	}
	if (s->backoff_deadline && now >= s->backoff_deadline && !s->sb) {
		s->backoff_deadline = 0;
		s->st->restarts++;
		start_gateway(s);
	}
	if (s->tick && now >= s->tick) {
		draw_progress(s, now);
		s->tick = now + 1000;
	}
}

int supervisor_block_signals(ocr_error *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	/* A vanished --detach caller must not kill us through its pipe. */
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_set(err, errno, "sigprocmask");
	return 0;
}

int supervisor_run(const struct supervisor_opts *o)
{
	struct sup s = {
	    .o = o, .st = o->state, .pidfd = -1, .probe_fd = -1, .notify_fd = o->notify_fd};
	sigset_t set;

	restart_policy_init(&s.policy);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sigfd < 0) {
		say(&s, "signalfd: %s", strerror(errno));
		notify(&s, true, "F 1 signalfd\n");
		return SUPERVISOR_EXIT_FAILED;
	}
	s.launch_ms = runtime_now_ms();
	s.st->supervisor_pid = getpid();
	s.st->supervisor_started_at = runtime_now_unix();
	s.st->last_exit = -1;
	start_gateway(&s);
	while (!s.done) {
		struct pollfd fds[4];
		int nfds = 0, i_sig, i_pid = -1, i_probe = -1, i_out = -1;
		int64_t now = runtime_now_ms(), next;
		int timeout;

		fds[i_sig = nfds++] = (struct pollfd){s.sigfd, POLLIN, 0};
		if (s.pidfd >= 0)
			fds[i_pid = nfds++] = (struct pollfd){s.pidfd, POLLIN, 0};
		if (s.probe_fd >= 0)
			fds[i_probe = nfds++] = (struct pollfd){s.probe_fd, POLLIN, 0};
		if (o->output_fd >= 0)
			fds[i_out = nfds++] = (struct pollfd){o->output_fd, POLLIN, 0};
		next = earliest(
		    earliest(s.ready_deadline, s.backoff_deadline),
		    earliest(s.grace_deadline, s.o->progress_tty && !s.ever_ready ? s.tick : 0));
		timeout = next ? (next > now ? (int)(next - now) : 0) : -1;
		if (poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
			say(&s, "poll: %s", strerror(errno));
			break;
		}
		if (i_out >= 0 && fds[i_out].revents)
			pump_output(&s, 16);
		if (fds[i_sig].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(s.sigfd, &si, sizeof(si)) == sizeof(si) && !s.done)
				on_signal(&s, (int)si.ssi_signo);
		}
		if (!s.done && i_probe >= 0 && s.probe_fd >= 0 && fds[i_probe].revents)
			on_probe_report(&s);
		if (!s.done && i_pid >= 0 && s.pidfd >= 0 && fds[i_pid].revents)
			check_gateway(&s);
		if (!s.done)
			on_timeouts(&s, runtime_now_ms());
	}
	if (s.sb) { /* only after a failed poll: never leave the sandbox behind */
		ocr_error err = {0};
		int code;

		sandbox_kill(s.sb, &err);
		sandbox_wait(s.sb, 0, &code, &err);
		sandbox_free(s.sb);
		s.result = SUPERVISOR_EXIT_FAILED;
	}
	if (o->output_fd >= 0) /* the gateway is gone: what is left is finite */
		pump_output(&s, INT_MAX);
	stop_probe(&s);
	close(s.sigfd);
	if (s.notify_fd >= 0)
		close(s.notify_fd);
	return s.result;
}
