/* Health checks and the supervisor's probe child (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

#define PROBE_POLL_MS 250

static struct health_answer answer_of(const struct http_result *h)
{
	return (struct health_answer){h->status, h->latency_ms, h->body, h->error};
}

int health_check(struct http_probe *hp, unsigned port, long timeout_ms, struct health_report *r,
		 ocr_error *err)
{
	struct http_result *h = calloc(3, sizeof(*h));
	struct health_answer a[3];
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!h)
		return err_set(err, ENOMEM, "health check");
	r->at_ms = runtime_now_unix_ms();
	if (http_probe_get(hp, port, "/healthz", timeout_ms, &h[0], err) < 0)
		goto out;
	if (h[0].status && (http_probe_get(hp, port, "/startupz", timeout_ms, &h[1], err) < 0 ||
			    http_probe_get(hp, port, "/readyz", timeout_ms, &h[2], err) < 0))
		goto out;
	for (int i = 0; i < 3; i++)
		a[i] = answer_of(&h[i]);
	health_judge(&a[0], h[0].status ? &a[1] : NULL, h[0].status ? &a[2] : NULL, &r->v);
	r->healthz = (struct probe_result){h[0].status, h[0].latency_ms};
	r->startupz = (struct probe_result){h[1].status, h[1].latency_ms};
	r->readyz = (struct probe_result){h[2].status, h[2].latency_ms};
	snprintf(r->error, sizeof(r->error), "%s",
		 h[0].status ? (h[0].status == 200 ? "not upstream's JSON" : "not live")
			     : h[0].error);
	rc = 0;
out:
	free(h);
	return rc;
}

/* No '|' (the field separator), no line breaks. */
static void clean(char *s)
{
	for (; *s; s++)
		if (*s == '|' || (unsigned char)*s < 0x20)
			*s = ' ';
}

int probe_format_report(const struct health_report *r, char *buf, size_t len)
{
	char word[sizeof(r->v.startup)], failing[sizeof(r->v.failing)], error[sizeof(r->error)];

	snprintf(word, sizeof(word), "%s", r->v.startup);
	snprintf(failing, sizeof(failing), "%s", r->v.failing);
	snprintf(error, sizeof(error), "%s", r->error);
	clean(word);
	clean(failing);
	clean(error);
	return snprintf(buf, len, "C %lld %d %d %d %d %d %.2f %d %.2f %d %.2f |%s|%s|%s\n",
			(long long)r->at_ms, r->v.live, r->v.started, r->v.ready,
			r->v.startup_fallback, r->healthz.status, r->healthz.latency_ms,
			r->startupz.status, r->startupz.latency_ms, r->readyz.status,
			r->readyz.latency_ms, word, failing, error);
}

static void copy_field(char *dst, size_t len, const char *from, const char *to)
{
	size_t n = to ? (size_t)(to - from) : strlen(from);

	if (n >= len)
		n = len - 1;
	memcpy(dst, from, n);
	dst[n] = '\0';
}

void probe_parse_line(const char *line, struct probe_line *out)
{
	struct health_report *r = &out->report;
	long long at;
	int fallback;
	const char *f1, *f2, *f3;

	memset(out, 0, sizeof(*out));
	if (line[0] == 'L' || line[0] == 'E') {
		out->kind = line[0];
		snprintf(out->text, sizeof(out->text), "%s", line[1] ? line + 2 : "");
		return;
	}
	if (line[0] != 'C' ||
	    sscanf(line, "C %lld %d %d %d %d %d %lf %d %lf %d %lf", &at, &r->v.live, &r->v.started,
		   &r->v.ready, &fallback, &r->healthz.status, &r->healthz.latency_ms,
		   &r->startupz.status, &r->startupz.latency_ms, &r->readyz.status,
		   &r->readyz.latency_ms) != 11 ||
	    !(f1 = strchr(line, '|')) || !(f2 = strchr(f1 + 1, '|')) || !(f3 = strchr(f2 + 1, '|')))
		return;
	r->at_ms = at;
	r->v.startup_fallback = fallback != 0;
	copy_field(r->v.startup, sizeof(r->v.startup), f1 + 1, f2);
	copy_field(r->v.failing, sizeof(r->v.failing), f2 + 1, f3);
	copy_field(r->error, sizeof(r->error), f3 + 1, NULL);
	out->kind = 'C';
}

static void report(int fd, const struct health_report *r)
{
	char line[1024];

	probe_format_report(r, line, sizeof(line));
	if (write(fd, line, strlen(line)) < 0)
		_exit(1);
}

/* Until /startupz says started (or, without /startupz, /healthz says
 * live), then one full check. */
static void until_started(struct http_probe *hp, unsigned port, long timeout_ms, int fd)
{
	const struct timespec pause = {0, PROBE_POLL_MS * 1000L * 1000L};
	bool said_live = false;
	struct http_result *h = calloc(1, sizeof(*h));
	ocr_error err = {0};
	char word[16];

	if (!h)
		_exit(1);
	for (;; nanosleep(&pause, NULL)) {
		struct health_answer a;
		int started;

		if (http_probe_get(hp, port, "/startupz", timeout_ms, h, &err) < 0 || !h->status)
			continue;
		if (!said_live) {
			dprintf(fd, "L\n");
			said_live = true;
		}
		a = answer_of(h);
		started = health_startup(&a, word, sizeof(word));
		if (started < 0) { /* no /startupz on this gateway: live is all we get */
			if (http_probe_get(hp, port, "/healthz", timeout_ms, h, &err) < 0)
				continue;
			a = answer_of(h);
			started = health_live(&a);
		}
		if (started == 1)
			break;
	}
	free(h);
	struct health_report r;
	if (health_check(hp, port, timeout_ms, &r, &err) == 0)
		report(fd, &r);
}

__attribute__((noreturn)) static void probe_child(unsigned port, enum probe_mode mode,
						  long timeout_ms, int fd)
{
	struct http_probe *hp;
	struct health_report r;
	ocr_error err = {0};
	char buf[SANDBOX_ERROR_MSG_MAX + 128];

	if (http_probe_open(&hp, &err) < 0) {
		dprintf(fd, "E %s\n", err_text(&err, buf, sizeof(buf)));
		_exit(1);
	}
	if (mode == PROBE_UNTIL_STARTED)
		until_started(hp, port, timeout_ms, fd);
	else if (health_check(hp, port, timeout_ms, &r, &err) == 0)
		report(fd, &r);
	else
		dprintf(fd, "E %s\n", err_text(&err, buf, sizeof(buf)));
	_exit(0);
}

int probe_spawn(unsigned port, enum probe_mode mode, long timeout_ms, pid_t *pid_out, int *fd_out)
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
		 * die), the signalfd, the pidfd, the notify socket and the
		 * pipes. */
		if (dup2(fds[1], 3) < 0)
			_exit(1);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		probe_child(port, mode, timeout_ms, 3);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	*pid_out = pid;
	*fd_out = fds[0];
	return 0;
}

void probe_end(pid_t *pid, int *fd)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}
