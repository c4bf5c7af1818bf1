/* The supervisor loop (see supervisor.h). Everything that happens arrives
 * through one poll(): signals (signalfd), the sandbox's end (pidfd), the
 * probe's reports (a pipe), the detached gateway's output (a pipe);
 * deadlines (start grace, liveness checks, backoff, grace, systemd's
 * watchdog) become poll timeouts. */
#include "supervisor_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detach.h"
#include "probe.h"
#include "sd_notify.h"

void sup_say(struct sup *s, const char *fmt, ...)
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
	sup_clear_progress(s);
	fprintf(stderr, "openclaw-run: %s: %s\n", s->o->label, msg);
}

void sup_clear_progress(struct sup *s)
{
	if (s->progress_drawn) {
		fputs("\r\033[K", stderr);
		s->progress_drawn = false;
	}
}

void sup_save_state(struct sup *s)
{
	ocr_error err = {0};

	if (runtime_state_write(s->o->paths, s->st, &err) < 0) {
		char buf[SANDBOX_ERROR_MSG_MAX + 128];

		sup_say(s, "warning: %s", err_text(&err, buf, sizeof(buf)));
	}
}

void sup_close_notify(struct sup *s)
{
	if (s->notify_fd >= 0)
		close(s->notify_fd);
	s->notify_fd = -1;
}

void sup_finish(struct sup *s, int code, enum runtime_phase phase)
{
	s->done = true;
	s->result = code;
	s->st->phase = phase;
	s->st->init_pid = s->st->child_pid = 0;
	s->st->init_start_ticks = 0;
	sup_save_state(s);
	detach_say_failed(s->notify_fd, code, runtime_phase_name(phase));
	sup_close_notify(s);
	sd_notifyf(s->o->sd, "STOPPING=1\nSTATUS=gateway %s (exit %d)", runtime_phase_name(phase),
		   code);
}

void sup_describe_exit(int code, char *buf, size_t len)
{
	if (code > 128 && code < 128 + 65)
		snprintf(buf, len, "was killed by signal %d (%s)", code - 128,
			 strsignal(code - 128));
	else
		snprintf(buf, len, "exited with status %d", code);
}

void sup_stop_probe(struct sup *s)
{
	probe_end(&s->probe_pid, &s->probe_fd);
	s->probe_len = 0;
	s->check_deadline = 0;
}

void sup_start_probe(struct sup *s, enum probe_mode mode)
{
	sup_stop_probe(s);
	if (probe_spawn(s->port, mode, s->o->liveness_timeout_s * 1000L, &s->probe_pid,
			&s->probe_fd) < 0)
		sup_say(s, "cannot start the health probe: %s", strerror(errno));
	else if (mode == PROBE_ONCE)
		/* Three requests at most, each bounded by curl's timeout. */
		s->check_deadline =
		    runtime_now_ms() + liveness_check_budget_ms(s->o->liveness_timeout_s);
}

static void check_gateway(struct sup *s)
{
	ocr_error err = {0};
	int code = 0, rc;

	if (!s->sb)
		return;
	rc = sandbox_wait(s->sb, WNOHANG, &code, &err);
	if (rc == 0)
		sup_run_ended(s, code);
	else if (rc < 0 && err.errnum != EINTR) {
		char buf[SANDBOX_ERROR_MSG_MAX + 128];

		sup_say(s, "waiting for the sandbox: %s", err_text(&err, buf, sizeof(buf)));
		sup_run_ended(s, 1);
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

/* Passes SIG on to the gateway (through the sandbox's init, which forwards
 * it); between runs there is nobody to tell. */
static void forward(struct sup *s, int sig)
{
	ocr_error err = {0};

	if (s->sb && sandbox_signal(s->sb, sig, &err) == 0)
		sup_say(s, "%s: passed on to the gateway", strsignal(sig));
}

static void on_signal(struct sup *s, int sig, int code)
{
	/* The kernel's SIGHUP is the controlling terminal hanging up (a closed
	 * terminal window), not a restart request (`restart` and kill send it
	 * from a process): stop cleanly instead of restarting into a dead tty. */
	if (sig == SIGHUP && code == SI_KERNEL) {
		sup_say(s, "the terminal hung up: stopping the gateway (grace %d s)",
			s->o->grace_s);
		sig = SIGTERM;
	}
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		s->exit_requested = true;
		if (!s->sb && s->done) { /* held for a rescuer: now it ends */
			s->st->held = false;
			sup_save_state(s);
		} else if (!s->sb) { /* between runs: nothing to stop */
			sup_say(s, "stopped by %s while waiting to restart", strsignal(sig));
			sup_finish(s, SUPERVISOR_EXIT_STOPPED, PHASE_STOPPED);
		} else if (s->stopping == STOP_REQUEST && sig == SIGINT && !s->killed) {
			ocr_error err = {0};

			sup_say(s, "second interrupt: killing the sandbox now");
			sandbox_kill(s->sb, &err);
			s->killed = true;
		} else {
			sup_say(s, "%s: stopping the gateway (grace %d s)", strsignal(sig),
				s->o->grace_s);
			sup_begin_stop_with(s, STOP_REQUEST, sig);
		}
		break;
	case SIGHUP:
		if (s->o->forward_hup) {
			forward(s, sig);
			break;
		}
		snprintf(s->st->last_restart_reason, sizeof(s->st->last_restart_reason),
			 "restart requested (SIGHUP)");
		if (s->sb && s->kind == RUN_GATEWAY && s->stopping == STOP_NONE) {
			sup_say(s, "SIGHUP: restarting the gateway");
			sup_begin_stop(s, STOP_RESTART);
		} else if (!s->sb) {
			sup_start_again(s);
		}
		break;
	case SIGUSR2:
		/* Upstream's own restart signal: the gateway restarts in-process
		 * (OPENCLAW_NO_RESPAWN=1 keeps it in our pid), if its config
		 * allows (commands.restart). */
		if (s->sb && s->kind == RUN_GATEWAY && s->stopping == STOP_NONE) {
			ocr_error err = {0};

			sup_say(s, "SIGUSR2: passed to the gateway (its in-process restart)");
			sandbox_signal(s->sb, SIGUSR2, &err);
		}
		break;
	case SIGUSR1:
		/* Never passed on: Node opens its inspector on SIGUSR1. */
		sup_say(s, "SIGUSR1 ignored: it would open Node's debugger in the gateway; "
			   "`openclaw-run restart` (SIGHUP) or SIGUSR2 restart it");
		break;
	case SIGQUIT: /* node's default: exit; the gateway's to act on */
		forward(s, sig);
		break;
	case SIGCHLD:
		reap_children(s);
		break;
	}
}

static void on_probe_line(struct sup *s, const char *text)
{
	struct probe_line line;

	probe_parse_line(text, &line);
	if (line.kind == 'L' && s->st->phase == PHASE_STARTING) {
		s->st->phase = PHASE_LIVE;
		sup_save_state(s);
		if (!s->o->progress_tty)
			sup_say(s,
				"the gateway answers after %.1f s, waiting for /startupz to say "
				"started",
				(double)(runtime_now_ms() - s->run_start_ms) / 1000.0);
	} else if (line.kind == 'C' && s->st->phase != PHASE_STARTED) {
		sup_on_started(s, &line.report);
	} else if (line.kind == 'C') {
		s->check_deadline = 0;
		sup_on_check(s, &line.report, NULL);
	} else if (line.kind == 'E') {
		sup_say(s, "health probe: %s", line.text);
		sup_begin_stop(s, STOP_PROBE_FAILED);
	}
}

static void on_probe_report(struct sup *s)
{
	ssize_t n =
	    read(s->probe_fd, s->probe_buf + s->probe_len, sizeof(s->probe_buf) - 1 - s->probe_len);
	char *nl;

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) { /* the probe ended: a check without a report failed */
		bool checking = s->check_deadline != 0;

		sup_stop_probe(s);
		if (checking && s->stopping == STOP_NONE)
			sup_on_check(s, NULL, "the probe ended without an answer");
		return;
	}
	s->probe_len += (size_t)n;
	s->probe_buf[s->probe_len] = '\0';
	while (s->probe_fd >= 0 && (nl = strchr(s->probe_buf, '\n'))) {
		*nl = '\0';
		on_probe_line(s, s->probe_buf);
		if (s->probe_fd < 0)
			break;
		s->probe_len -= (size_t)(nl + 1 - s->probe_buf);
		memmove(s->probe_buf, nl + 1, s->probe_len + 1);
	}
	if (s->probe_len == sizeof(s->probe_buf) - 1)
		s->probe_len = 0; /* a line that long is not ours */
}

static void draw_progress(struct sup *s, int64_t now)
{
	if (!s->o->progress_tty || !s->sb || s->stopping != STOP_NONE || s->ever_started ||
	    s->st->phase == PHASE_STARTED)
		return;
	/* Whole lines, now and then: in the foreground the gateway writes to
	 * the same terminal, and a redrawn line would run into its own. */
	if (now < s->progress_at || now - s->run_start_ms < 5000)
		return;
	s->progress_at = now + 15000;
	fprintf(stderr, "openclaw-run: %s: starting the gateway... %llds (%s)\n", s->o->label,
		(long long)((now - s->run_start_ms) / 1000),
		s->kind == RUN_DOCTOR ? "running openclaw doctor --fix" : "waiting for /startupz");
	fflush(stderr);
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

		sup_say(s, "gateway did not stop within %d s: killing the sandbox", s->o->grace_s);
		sandbox_kill(s->sb, &err);
		s->killed = true;
		s->grace_deadline = 0;
	}
	if (s->start_deadline && now >= s->start_deadline && s->sb) {
		if (s->kind == RUN_DOCTOR)
			sup_say(s,
				"`openclaw doctor --fix` did not finish within %d s: stopping it",
				s->o->start_grace_s);
		else
			sup_say(s, "gateway did not start within %d s (%s): stopping it",
				s->o->start_grace_s,
				s->st->phase == PHASE_LIVE ? "/startupz never said started"
							   : "nothing answered");
		snprintf(s->st->last_restart_reason, sizeof(s->st->last_restart_reason),
			 "did not start within %d s", s->o->start_grace_s);
		sup_begin_stop(s, STOP_NOT_STARTED);
	}
	if (s->check_deadline && now >= s->check_deadline) {
		sup_stop_probe(s); /* a hung probe is a failed check */
		sup_on_check(s, NULL, "no answer in time");
	}
	if (s->check_at && now >= s->check_at && s->sb && s->probe_fd < 0) {
		s->check_at = 0;
		sup_start_probe(s, PROBE_ONCE);
	}
	if (s->backoff_deadline && now >= s->backoff_deadline && !s->sb) {
		s->backoff_deadline = 0;
		s->st->restarts++;
		sup_start_gateway(s);
	}
	if (s->watchdog_at && now >= s->watchdog_at) {
		/* systemd's watchdog proves that this loop runs; the gateway's
		 * own liveness is the checks' business. */
		sd_notifyf(s->o->sd, "WATCHDOG=1");
		s->watchdog_at = now + sd_watchdog_interval_ms(s->o->sd);
	}
	if (s->tick && now >= s->tick) {
		draw_progress(s, now);
		s->tick = now + 1000;
	}
}

/* What the loop reads from its signalfd. */
static void handled_signals(sigset_t *set)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2};

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
}

int supervisor_block_signals(ocr_error *err)
{
	sigset_t set;

	handled_signals(&set);
	/* A vanished --detach caller must not kill us through its pipe. */
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return err_set(err, errno, "sigprocmask");
	return 0;
}

bool sup_finished(const struct sup *s)
{
	return s->done && (s->exit_requested || s->ctl.n_l == 0);
}

int sup_target_init(struct sup *s)
{
	const struct supervisor_launch *l = &s->o->launch;
	size_t n = 0;

	s->inst = *l->inst; /* shares its config tree, which it never frees */
	s->port = s->o->port;
	while (l->argv[n])
		n++;
	s->argv = calloc(n + 1, sizeof(*s->argv));
	if (!s->argv)
		return -1;
	memcpy(s->argv, l->argv, n * sizeof(*s->argv));
	return 0;
}

void sup_move_port(struct sup *s, const struct port_block *ports)
{
	s->inst.ports = *ports;
	s->inst.pins.ports = *ports;
	s->port = ports->base;
	s->st->port_base = ports->base;
	s->st->port_last = port_block_last(ports);
	snprintf(s->port_arg, sizeof(s->port_arg), "%u", ports->base);
	for (size_t i = 0; s->argv[i] && s->argv[i + 1]; i++)
		if (strcmp(s->argv[i], "--port") == 0)
			s->argv[i + 1] = s->port_arg;
}

void sup_start_again(struct sup *s)
{
	s->done = false;
	s->st->held = false;
	s->result = 0;
	s->backoff_deadline = 0;
	s->doctor_ran = false;
	restart_policy_init(&s->policy);
	s->launch_ms = runtime_now_ms(); /* a fresh start grace */
	s->st->restarts++;
	sup_start_gateway(s);
}

static int poll_timeout(const struct sup *s, int64_t now)
{
	int64_t next = earliest(earliest(s->start_deadline, s->backoff_deadline),
				earliest(s->grace_deadline, s->check_deadline));

	next = earliest(next, ctl_deadline(s));

	next = earliest(next, earliest(s->check_at, s->watchdog_at));
	next = earliest(next, s->o->progress_tty && !s->ever_started ? s->tick : 0);
	return next ? (next > now ? (int)(next - now) : 0) : -1;
}

static void loop(struct sup *s)
{
	while (!sup_finished(s)) {
		struct pollfd fds[4 + CTL_POLLFDS];
		int nfds = 0, i_sig, i_pid = -1, i_probe = -1, i_out = -1, i_ctl;
		size_t n_ctl;

		fds[i_sig = nfds++] = (struct pollfd){s->sigfd, POLLIN, 0};
		if (s->pidfd >= 0)
			fds[i_pid = nfds++] = (struct pollfd){s->pidfd, POLLIN, 0};
		if (s->probe_fd >= 0)
			fds[i_probe = nfds++] = (struct pollfd){s->probe_fd, POLLIN, 0};
		if (s->o->output_fd >= 0)
			fds[i_out = nfds++] = (struct pollfd){s->o->output_fd, POLLIN, 0};
		i_ctl = nfds;
		n_ctl = ctl_pollfds(s, fds + i_ctl);
		nfds += (int)n_ctl;
		if (poll(fds, (nfds_t)nfds, poll_timeout(s, runtime_now_ms())) < 0 &&
		    errno != EINTR) {
			sup_say(s, "poll: %s", strerror(errno));
			break;
		}
		if (i_out >= 0 && fds[i_out].revents)
			pump_output(s, 16);
		if (fds[i_sig].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(s->sigfd, &si, sizeof(si)) == sizeof(si) && !sup_finished(s))
				on_signal(s, (int)si.ssi_signo, si.ssi_code);
		}
		if (!sup_finished(s))
			ctl_on_poll(s, fds + i_ctl, n_ctl);
		if (!s->done && i_probe >= 0 && s->probe_fd >= 0 && fds[i_probe].revents)
			on_probe_report(s);
		if (!s->done && i_pid >= 0 && s->pidfd >= 0 && fds[i_pid].revents)
			check_gateway(s);
		if (!s->done)
			on_timeouts(s, runtime_now_ms());
		if (!sup_finished(s))
			ctl_on_timeouts(s, runtime_now_ms());
	}
}

int supervisor_run(const struct supervisor_opts *o)
{
	struct sup s = {
	    .o = o, .st = o->state, .pidfd = -1, .probe_fd = -1, .notify_fd = o->notify_fd};
	sigset_t set;

	restart_policy_init(&s.policy);
	if (sup_target_init(&s) < 0) {
		sup_say(&s, "out of memory");
		detach_say_failed(s.notify_fd, SUPERVISOR_EXIT_FAILED, "memory");
		sup_close_notify(&s);
		return SUPERVISOR_EXIT_FAILED;
	}
	s.live = (struct liveness){o->liveness_interval_s * 1000, o->liveness_failures, 0};
	handled_signals(&set);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sigfd < 0) {
		sup_say(&s, "signalfd: %s", strerror(errno));
		detach_say_failed(s.notify_fd, SUPERVISOR_EXIT_FAILED, "signalfd");
		sup_close_notify(&s);
		return SUPERVISOR_EXIT_FAILED;
	}
	s.launch_ms = runtime_now_ms();
	s.st->supervisor_pid = getpid();
	s.st->supervisor_start_ticks = runtime_proc_start_ticks(s.st->supervisor_pid);
	s.st->supervisor_started_at = runtime_now_unix();
	s.st->last_exit = -1;
	s.st->liveness_interval_s = o->liveness_interval_s;
	s.st->liveness_failures_max = o->liveness_failures;
	s.st->liveness_timeout_s = o->liveness_timeout_s;
	if (sd_watchdog_interval_ms(o->sd) > 0)
		s.watchdog_at = s.launch_ms;
	ctl_rescan(&s);
	sup_start_gateway(&s);
	loop(&s);
	ctl_close(&s);
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
	sup_stop_probe(&s);
	close(s.sigfd);
	sup_close_notify(&s);
	free(s.argv);
	return s.result;
}
