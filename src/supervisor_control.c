/* The supervisor's control socket for the profiles that may rescue it
 * (control_proto.h says the protocol, rescue.h the grant directory). It is
 * part of the supervisor's one poll() loop: listeners and connected
 * rescuers are more descriptors, a rescan of the grants and `logs -f` are
 * more deadlines. Nothing a peer says decides who it is: SO_PEERCRED and
 * the socket's place do. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "gateway_status.h"
#include "supervisor_internal.h"
#include "text.h"
#include "trust.h"

#define AUDIT_NAME	"openclaw-run-rescue.log" /* in the target's state dir */
#define AUDIT_MAX_BYTES (4L * 1024 * 1024)

const struct instance *ctl_target(const struct sup *s)
{
	return &s->inst;
}

/* ---- the audit log ------------------------------------------------------- */

static void audit_append(int fd, const char *line)
{
	struct stat st;

	if (fd < 0)
		return;
	/* Regular, one name, bounded: the state dir's copy is the payload's
	 * to tamper with, never a way to make us write elsewhere. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_size < AUDIT_MAX_BYTES && write(fd, line, strlen(line)) < 0)
		return;
}

/* One line per request, in the launcher's log dir (out of every sandbox's
 * reach) and in the target's state dir (where its people look). */
static void audit(struct sup *s, pid_t pid, uid_t uid, const char *who, const char *op,
		  const char *result)
{
	const struct instance *inst = ctl_target(s);
	char line[1024], path[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	bool created;
	int fd, dir;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof(line) - 1, "%s peer pid %ld uid %u (%s) %s: %s", stamp, (long)pid,
		 (unsigned)uid, who, op, result);
	/* The op, and the refusals that quote the config, are the peer's
	 * words: one line each, whatever they hold, and no escapes for the
	 * terminal of whoever reads the log. */
	text_defang_line(line, strlen(line));
	strcat(line, "\n");
	if (snprintf(path, sizeof(path), "%s/%s-%08x.audit.log", s->o->dirs->logs,
		     profile_label(&inst->profile),
		     pins_hash(inst->profile.state_dir)) < (int)sizeof(path) &&
	    host_dir_ensure(s->o->dirs->logs, &(ocr_error){0}) == 0) {
		struct stat st;
		char old[PATH_MAX + 8];

		/* Full: it becomes .1 (replacing the one before). A rescuer
		 * that fills the log must not act unaudited after: the latest
		 * 4 to 8 MiB of requests are always kept, a flood shows as
		 * one. */
		if (stat(path, &st) == 0 && st.st_size >= AUDIT_MAX_BYTES &&
		    snprintf(old, sizeof(old), "%s.1", path) < (int)sizeof(old))
			rename(path, old);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			  0600);
		audit_append(fd, line);
		if (fd >= 0)
			close(fd);
	}
	dir = open(inst->profile.state_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return;
	fd = trust_open_beneath(dir, AUDIT_NAME,
				O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NONBLOCK, 0600);
	created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = trust_open_beneath(dir, AUDIT_NAME, O_WRONLY | O_APPEND | O_NONBLOCK, 0);
	close(dir);
	if (fd < 0)
		return;
	/* Only a file of one name that is a file: a hard link planted by the
	 * payload must never get our write, let alone our chown. Nor one of
	 * another account's that the payload renamed to this name (root's,
	 * from its workspace): only the file root makes here is given away. */
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (inst->pins.has_ids && !created && st.st_uid != inst->pins.uid)) {
		close(fd);
		return;
	}
	/* Root made it: it must be the sandbox's, or `gateway` finds a
	 * foreign file in the state dir. */
	if (geteuid() == 0 && inst->pins.has_ids && st.st_uid != inst->pins.uid)
		if (fchown(fd, inst->pins.uid, inst->pins.gid) < 0)
			sup_say(s, "warning: chown %s/" AUDIT_NAME ": %s", inst->profile.state_dir,
				strerror(errno));
	audit_append(fd, line);
	close(fd);
}

/* ---- answers --------------------------------------------------------------- */

/* Says why and hangs up without losing the answer: a close with the
 * peer's request still unread would reset the connection, and the peer
 * would read ECONNRESET instead. */
static void refuse_and_close(int fd, cJSON *o);

static void send_json(int fd, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	if (text && strlen(text) <= CONTROL_PACKET_MAX &&
	    send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		errno = 0; /* the peer's loss; its next poll says so */
	free(text);
	cJSON_Delete(o);
}

cJSON *ctl_answer(bool ok, const char *error)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "ok", ok);
	if (error)
		cJSON_AddStringToObject(o, "error", error);
	return o;
}

/* The last LINES lines of the supervisor's log, at most MAX bytes. */
static char *log_tail(const char *path, int lines, size_t max)
{
	char *buf = malloc(max + 1), *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	off_t size;
	ssize_t n;

	if (!buf || fd < 0) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, max, size > (off_t)max ? size - (off_t)max : 0);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		p--;
	for (int seen = 0; p > buf; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	memmove(buf, p, strlen(p) + 1);
	return buf;
}

static void refuse_and_close(int fd, cJSON *o)
{
	char buf[4096];

	send_json(fd, o);
	shutdown(fd, SHUT_RDWR);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static bool failed_phase(enum runtime_phase ph)
{
	return ph == PHASE_CONFIG_ERROR || ph == PHASE_CRASH_LOOP || ph == PHASE_FAILED ||
	       ph == PHASE_BACKOFF;
}

static cJSON *op_status(struct sup *s)
{
	struct gateway_view v;
	ocr_error err = {0};
	char *text = NULL, buf[SANDBOX_ERROR_MSG_MAX + 64];
	size_t len = 0;
	FILE *mem;
	cJSON *o;

	if (gateway_view_get(ctl_target(s), NULL, GATEWAY_PROBE_NONE, &v, &err) < 0)
		return ctl_answer(false, err_text(&err, buf, sizeof(buf)));
	/* The supervisor does not load libcurl: its watchdog's latest check
	 * stands for the probes `status` asks on the host. */
	if (v.running && !s->st->held && s->st->health.at_ms)
		gateway_view_use_record(&v, s->st);
	o = ctl_answer(true, NULL);
	mem = open_memstream(&text, &len);
	if (mem) {
		gateway_view_print(mem, ctl_target(s), &v);
		fclose(mem);
		cJSON_AddStringToObject(o, "text", text ? text : "");
		free(text);
	}
	cJSON_AddItemToObject(o, "view", gateway_view_json(ctl_target(s), &v));
	cJSON_AddBoolToObject(o, "held", s->st->held);
	if (failed_phase(s->st->phase) && s->st->log_path[0]) {
		char *why = log_tail(s->st->log_path, 15, 8192);

		if (why)
			cJSON_AddStringToObject(o, "why", why);
		free(why);
	}
	return o;
}

static cJSON *op_logs(struct sup *s, struct ctl_client *c, const cJSON *req)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "lines");
	int lines = cJSON_IsNumber(n) ? (int)n->valuedouble : 50;
	struct stat st;
	cJSON *o;
	char *data;

	if (!s->st->log_path[0])
		return ctl_answer(false,
				  "the gateway runs in the foreground: its output goes to the "
				  "terminal that started it, not to a log");
	if (lines < 0 || lines > CONTROL_LOG_LINES_MAX)
		lines = CONTROL_LOG_LINES_MAX;
	data = log_tail(s->st->log_path, lines, CONTROL_PACKET_MAX - 1024);
	o = ctl_answer(true, NULL);
	cJSON_AddStringToObject(o, "data", data ? data : "");
	free(data);
	c->follow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "follow"));
	if (!c->follow)
		cJSON_AddBoolToObject(o, "end", true);
	c->offset = stat(s->st->log_path, &st) == 0 ? (long long)st.st_size : 0;
	return o;
}

static cJSON *op_start(struct sup *s, bool restart)
{
	if (s->sb && s->kind == RUN_GATEWAY && s->stopping == STOP_NONE && restart) {
		snprintf(s->st->last_restart_reason, sizeof(s->st->last_restart_reason),
			 "restart requested by a rescuer");
		sup_say(s, "a rescuer asked for a restart: restarting the gateway");
		sup_begin_stop(s, STOP_RESTART);
		return ctl_answer(true, NULL);
	}
	if (s->sb)
		return ctl_answer(false, restart ? "the gateway is starting or stopping: try again"
						 : "the gateway already runs");
	sup_say(s, "a rescuer asked for a start: starting the gateway");
	sup_start_again(s);
	return s->done ? ctl_answer(false, "the gateway could not be started: see its logs")
		       : ctl_answer(true, NULL);
}

static cJSON *op_stop(struct sup *s)
{
	if (!s->sb && s->done)
		return ctl_answer(true, NULL); /* already stopped */
	sup_say(s, "a rescuer asked for a stop: stopping the gateway (the supervisor stays)");
	if (!s->sb) {
		s->backoff_deadline = 0;
		sup_finish(s, SUPERVISOR_EXIT_STOPPED, PHASE_STOPPED);
	} else {
		sup_begin_stop(s, STOP_REQUEST);
	}
	return ctl_answer(true, NULL);
}

static cJSON *dispatch(struct sup *s, struct ctl_client *c, const cJSON *req, const char *op)
{
	bool config = (c->who.items & GRANT_CONFIG) != 0;

	if (strcmp(op, "status") == 0)
		return op_status(s);
	if (strcmp(op, "logs") == 0)
		return c->who.items & GRANT_LOGS
			   ? op_logs(s, c, req)
			   : ctl_answer(false, "the grant does not include logs");
	if (strcmp(op, "restart") == 0 || strcmp(op, "start") == 0)
		return op_start(s, op[0] == 'r');
	if (strcmp(op, "stop") == 0)
		return op_stop(s);
	if (!config && strncmp(op, "config-", 7) == 0)
		return ctl_answer(false, "the grant does not include the config");
	if (strcmp(op, "config-read") == 0)
		return ctl_config_read(s, &c->who);
	if (strcmp(op, "config-validate") == 0)
		return ctl_config_apply(s, &c->who, false);
	if (strcmp(op, "config-apply") == 0)
		return ctl_config_apply(s, &c->who, true);
	return ctl_answer(false, "unknown request (see control_proto.h)");
}

static void drop_client(struct sup *s, size_t i)
{
	close(s->ctl.c[i].fd);
	s->ctl.c[i] = s->ctl.c[--s->ctl.n_c];
}

static void on_request(struct sup *s, size_t i)
{
	struct ctl_client *c = &s->ctl.c[i];
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	cJSON *req, *resp;
	const char *op;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(s, i);
		return;
	}
	buf[n] = '\0';
	req = cJSON_Parse(buf);
	op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
	resp = op ? dispatch(s, c, req, op) : ctl_answer(false, "a request is {\"op\": ...}");
	{
		const char *e =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "error"));
		char result[600];

		snprintf(result, sizeof(result), "%s%s", e ? "refused: " : "ok", e ? e : "");
		audit(s, c->pid, c->uid, c->who.label, op ? op : "(no op)", result);
	}
	cJSON_Delete(req);
	send_json(c->fd, resp);
}

static void on_connect(struct sup *s, const struct ctl_listener *l)
{
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);
	int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	char why[256];

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != l->who.uid) {
		snprintf(why, sizeof(why),
			 "refused: uid %u is not the account of %s's sandbox (uid %u)",
			 (unsigned)cred.uid, l->who.label, (unsigned)l->who.uid);
		audit(s, cred.pid, cred.uid, "no grant", "connect", why);
		refuse_and_close(fd, ctl_answer(false, why));
		return;
	}
	if (s->ctl.n_c >= CTL_CLIENTS_MAX) {
		audit(s, cred.pid, cred.uid, l->who.label, "connect", "refused: too many clients");
		refuse_and_close(fd, ctl_answer(false, "too many rescuers connected: try again"));
		return;
	}
	s->ctl.c[s->ctl.n_c++] =
	    (struct ctl_client){.fd = fd, .who = l->who, .pid = cred.pid, .uid = cred.uid};
}

/* ---- listeners: one per rescuer, following the records ------------------- */

static int listen_in(const char *dir, const struct rescuer *who, ocr_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int dfd, fd = -1;

	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return err_set(err, errno, "open %s", dir);
	/* Through the descriptor: short whatever the dir's length, and the
	 * socket lands in the directory checked, not in one renamed there. */
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/" RESCUE_SOCKET, dfd);
	if (unlinkat(dfd, RESCUE_SOCKET, 0) < 0 && errno != ENOENT)
		err_set(err, errno, "remove the old %s/" RESCUE_SOCKET, dir);
	else if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		err_set(err, errno, "socket");
	else if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		err_set(err, errno, "bind %s/" RESCUE_SOCKET, dir);
	else if (fchmodat(dfd, RESCUE_SOCKET, 0600, 0) < 0 ||
		 fchownat(dfd, RESCUE_SOCKET, who->uid, who->gid, AT_SYMLINK_NOFOLLOW) < 0)
		err_set(err, errno, "chown %s/" RESCUE_SOCKET, dir);
	else if (listen(fd, 8) < 0)
		err_set(err, errno, "listen %s/" RESCUE_SOCKET, dir);
	else {
		close(dfd);
		return fd;
	}
	if (fd >= 0)
		close(fd);
	close(dfd);
	return -1;
}

static void close_listener(struct sup *s, size_t i)
{
	struct ctl_listener *l = &s->ctl.l[i];
	int dfd = open(l->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd >= 0) {
		unlinkat(dfd, RESCUE_SOCKET, 0);
		close(dfd);
	}
	close(l->fd);
	*l = s->ctl.l[--s->ctl.n_l];
}

static bool same_rescuer(const struct rescuer *a, const struct rescuer *b)
{
	return strcmp(a->label, b->label) == 0 && strcmp(a->state_dir, b->state_dir) == 0 &&
	       strcmp(a->dir, b->dir) == 0 && a->uid == b->uid && a->gid == b->gid;
}

static void open_listener(struct sup *s, const struct rescuer *who)
{
	const struct instance *inst = ctl_target(s);
	struct ctl_listener *l = &s->ctl.l[s->ctl.n_l];
	char buf[SANDBOX_ERROR_MSG_MAX + 64];
	ocr_error err = {0};

	if (rescue_rescuer_dir(who, &inst->profile, l->dir, sizeof(l->dir), &err) < 0 ||
	    rescue_grant_dir_prepare(l->dir, &err) < 0 ||
	    (l->fd = listen_in(l->dir, who, &err)) < 0) {
		sup_say(s, "warning: control socket for %s: %s", who->label,
			err_text(&err, buf, sizeof(buf)));
		return;
	}
	l->who = *who;
	s->ctl.n_l++;
	sup_say(s, "profile %s may rescue this one: control socket %s/" RESCUE_SOCKET, who->label,
		l->dir);
}

void ctl_rescan(struct sup *s)
{
	struct rescuer found[RESCUERS_MAX];
	size_t n = 0;
	ocr_error err = {0};

	s->ctl.rescan_at = runtime_now_ms() + CTL_RESCAN_MS;
	if (!s->o->dirs || rescue_find_rescuers(s->o->dirs->records, &ctl_target(s)->profile, found,
						RESCUERS_MAX, &n, &err) < 0)
		return;
	/* Revoked (or changed): the socket goes, and the rescuer's clients. */
	for (size_t i = 0; i < s->ctl.n_l;) {
		struct ctl_listener *l = &s->ctl.l[i];
		bool keep = false;

		for (size_t j = 0; j < n && !keep; j++)
			if (same_rescuer(&l->who, &found[j])) {
				keep = true;
				l->who.items = found[j].items;
			}
		if (keep) {
			i++;
			continue;
		}
		sup_say(s, "the grant of %s was revoked: its control socket is closed",
			l->who.label);
		for (size_t c = 0; c < s->ctl.n_c;)
			if (same_rescuer(&s->ctl.c[c].who, &l->who))
				drop_client(s, c);
			else
				c++;
		close_listener(s, i);
	}
	for (size_t j = 0; j < n; j++) {
		bool have = false;

		for (size_t i = 0; i < s->ctl.n_l && !have; i++)
			have = same_rescuer(&s->ctl.l[i].who, &found[j]);
		if (!have && s->ctl.n_l < RESCUERS_MAX)
			open_listener(s, &found[j]);
	}
	for (size_t c = 0; c < s->ctl.n_c; c++) /* narrowed grants apply at once */
		for (size_t i = 0; i < s->ctl.n_l; i++)
			if (same_rescuer(&s->ctl.c[c].who, &s->ctl.l[i].who))
				s->ctl.c[c].who.items = s->ctl.l[i].who.items;
}

size_t ctl_pollfds(const struct sup *s, struct pollfd *fds)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ctl.n_l; i++)
		fds[n++] = (struct pollfd){s->ctl.l[i].fd, POLLIN, 0};
	for (size_t i = 0; i < s->ctl.n_c; i++)
		fds[n++] = (struct pollfd){s->ctl.c[i].fd, POLLIN, 0};
	return n;
}

void ctl_on_poll(struct sup *s, const struct pollfd *fds, size_t n)
{
	size_t n_l = s->ctl.n_l, n_c = s->ctl.n_c;
	int clients[CTL_CLIENTS_MAX];

	/* Clients first, by fd: accepting or dropping reorders the array. */
	for (size_t i = 0; i < n_c && n_l + i < n; i++)
		clients[i] = fds[n_l + i].revents ? fds[n_l + i].fd : -1;
	for (size_t i = 0; i < n_c && n_l + i < n; i++) {
		for (size_t j = 0; clients[i] >= 0 && j < s->ctl.n_c; j++)
			if (s->ctl.c[j].fd == clients[i]) {
				on_request(s, j);
				break;
			}
	}
	for (size_t i = 0; i < n_l && i < n && i < s->ctl.n_l; i++)
		if (fds[i].revents & POLLIN)
			on_connect(s, &s->ctl.l[i]);
}

int64_t ctl_deadline(const struct sup *s)
{
	bool following = false;

	for (size_t i = 0; i < s->ctl.n_c; i++)
		following |= s->ctl.c[i].follow;
	if (!s->o->dirs)
		return 0;
	if (following && s->ctl.follow_at && s->ctl.follow_at < s->ctl.rescan_at)
		return s->ctl.follow_at;
	return s->ctl.rescan_at;
}

/* `logs -f`: what the log gained since the last look. */
static void follow(struct sup *s, struct ctl_client *c)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if (!c->follow || !s->st->log_path[0] || stat(s->st->log_path, &st) < 0)
		return;
	if (st.st_size < c->offset) /* rotated */
		c->offset = 0;
	if (st.st_size == c->offset)
		return;
	fd = open(s->st->log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	buf = malloc(CONTROL_PACKET_MAX / 2 + 1);
	n = fd >= 0 && buf ? pread(fd, buf, CONTROL_PACKET_MAX / 2, c->offset) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		cJSON *o = ctl_answer(true, NULL);

		buf[n] = '\0';
		cJSON_AddStringToObject(o, "data", buf);
		send_json(c->fd, o);
		c->offset += n;
	}
	free(buf);
}

void ctl_on_timeouts(struct sup *s, int64_t now)
{
	if (s->o->dirs && now >= s->ctl.rescan_at)
		ctl_rescan(s);
	if (now >= s->ctl.follow_at) {
		for (size_t i = 0; i < s->ctl.n_c; i++)
			follow(s, &s->ctl.c[i]);
		s->ctl.follow_at = now + CTL_FOLLOW_MS;
	}
	/* Nothing runs and a rescuer may start it: say so to readers. */
	if (s->done && !s->st->held && s->ctl.n_l && !s->exit_requested) {
		s->st->held = true;
		sup_save_state(s);
		sup_say(s,
			"the gateway does not run; the supervisor stays for a rescuer's start "
			"(`openclaw-run --profile %s stop` on the host ends it)",
			s->o->label);
	}
}

void ctl_close(struct sup *s)
{
	while (s->ctl.n_c)
		drop_client(s, 0);
	while (s->ctl.n_l)
		close_listener(s, 0);
}
