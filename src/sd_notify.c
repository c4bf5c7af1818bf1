/* sd_notify without libsystemd (see sd_notify.h). */
#include "sd_notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sd_notifier {
	int fd;
	struct sockaddr_un addr;
	socklen_t addr_len;
	int64_t watchdog_ms;
};

static int64_t watchdog_from_env(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long long us;

	if (!usec || !*usec)
		return 0;
	/* WATCHDOG_PID names the process systemd expects pings from. */
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	us = strtoll(usec, NULL, 10);
	return us > 0 ? us / 2000 : 0;
}

int sd_notifier_open(struct sd_notifier **out, ocr_error *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sd_notifier *n;
	size_t len;

	*out = NULL;
	if (!path || !*path)
		goto done;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->addr.sun_path))
		return err_set(err, EINVAL, "NOTIFY_SOCKET=%s: not a socket path", path);
	n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(err, ENOMEM, "sd_notify");
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@') /* abstract namespace: a leading NUL, no terminator */
		n->addr.sun_path[0] = '\0';
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		free(n);
		return err_set(err, errno, "sd_notify socket");
	}
	n->watchdog_ms = watchdog_from_env();
	*out = n;
done:
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return 0;
}

void sd_notifier_close(struct sd_notifier *n)
{
	if (!n)
		return;
	close(n->fd);
	free(n);
}

void sd_notifyf(struct sd_notifier *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int len;

	if (!n)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;
	if (sendto(n->fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&n->addr,
		   n->addr_len) < 0) {
		/* systemd went away or never listened: nothing to tell anyone. */
	}
}

int64_t sd_watchdog_interval_ms(const struct sd_notifier *n)
{
	return n ? n->watchdog_ms : 0;
}
