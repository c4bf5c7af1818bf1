/* The rescuer's end of the control socket protocol (control_proto.h). */
#include "control_proto.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rescue.h"

int control_client_open(const char *dir, const char *target, int *fd, ocr_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int s;

	*fd = -1;
	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/" RESCUE_SOCKET, dir, target) >=
	    (int)sizeof(addr.sun_path))
		return err_set(err, ENAMETOOLONG, "control socket of %s", target);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_set(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		close(s);
		char dir_of[PATH_MAX];

		snprintf(dir_of, sizeof(dir_of), "%s/%s", dir, target);
		if (e == ENOENT && access(dir_of, F_OK) == 0)
			return err_set(err, 0,
				       "profile %s: its supervisor is not running (it was never "
				       "started, or stopped on the host: start it there with "
				       "`openclaw-run --profile %s gateway --detach`)",
				       target, target);
		if (e == ENOENT)
			return err_set(err, 0,
				       "profile %s: no rescue grant reaches this sandbox (%s is "
				       "absent; on the host: openclaw-run --profile <this profile> "
				       "setup --rescues %s)",
				       target, addr.sun_path, target);
		if (e == ECONNREFUSED)
			return err_set(
			    err, 0,
			    "profile %s: its supervisor is not running (it was stopped on "
			    "the host; start it there with `openclaw-run --profile %s "
			    "gateway --detach`)",
			    target, target);
		return err_set(err, e, "connect %s", addr.sun_path);
	}
	*fd = s;
	return 0;
}

int control_client_next(int fd, int timeout_ms, cJSON **resp, ocr_error *err)
{
	struct pollfd p = {fd, POLLIN, 0};
	char *buf;
	ssize_t n;
	int rc;

	*resp = NULL;
	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return err_set(err, errno, "control socket");
	if (rc == 0)
		return err_set(err, ETIMEDOUT, "control socket: no answer within %d s",
			       timeout_ms / 1000);
	buf = malloc(CONTROL_PACKET_MAX + 1);
	if (!buf)
		return err_set(err, ENOMEM, "control socket");
	n = recv(fd, buf, CONTROL_PACKET_MAX, 0);
	if (n < 0) {
		free(buf);
		return err_set(err, errno, "control socket");
	}
	if (n == 0) {
		free(buf);
		return 0;
	}
	buf[n] = '\0';
	*resp = cJSON_Parse(buf);
	free(buf);
	if (!*resp)
		return err_set(err, EPROTO, "control socket: an answer that is not JSON");
	return 0;
}

int control_client_call(int fd, const cJSON *req, int timeout_ms, cJSON **resp, ocr_error *err)
{
	char *text = cJSON_PrintUnformatted(req);
	ssize_t n;

	*resp = NULL;
	if (!text)
		return err_set(err, ENOMEM, "control request");
	n = send(fd, text, strlen(text), MSG_NOSIGNAL);
	free(text);
	if (n < 0)
		return err_set(err, errno, "control socket: send");
	if (control_client_next(fd, timeout_ms, resp, err) < 0)
		return -1;
	if (!*resp)
		return err_set(err, ECONNRESET, "control socket: closed without an answer");
	return 0;
}
