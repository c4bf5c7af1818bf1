/* The runtime dir: per-instance lock and state file (see runtime.h). */
#include "runtime.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"

static int mkdir_owned(const char *path, mode_t mode, bool must_be_private, ocr_error *err)
{
	struct stat st;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_set(err, errno, "create runtime dir %s", path);
	if (lstat(path, &st) < 0)
		return err_set(err, errno, "runtime dir %s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "runtime dir %s", path);
	/* Under a world-writable parent (/tmp) someone else could have made it
	 * first and would then control our lock and state files. */
	if (must_be_private && (st.st_uid != geteuid() || (st.st_mode & 077)))
		return err_set(err, EPERM, "runtime dir %s is not owned by us with mode 0700",
			       path);
	return 0;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int runtime_paths_for(const struct profile *p, struct runtime_paths *out, ocr_error *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	bool private_dir = false;
	int n;

	memset(out, 0, sizeof(*out));
	if (xdg && xdg[0] == '/') {
		if (mkdir_owned(xdg, 0700, false, err) < 0)
			return -1;
		n = snprintf(out->dir, sizeof(out->dir), "%s/openclaw-run", xdg);
	} else if (geteuid() == 0) {
		n = snprintf(out->dir, sizeof(out->dir), "/run/openclaw-run");
	} else {
		n = snprintf(out->dir, sizeof(out->dir), "/tmp/openclaw-run-%u",
			     (unsigned)geteuid());
		private_dir = true;
	}
	if (n < 0 || (size_t)n >= sizeof(out->dir))
		return err_set(err, ENAMETOOLONG, "runtime dir");
	if (mkdir_owned(out->dir, private_dir ? 0700 : 0755, private_dir, err) < 0)
		return -1;
	uint32_t h = fnv1a(p->state_dir);
	const char *label = p->name[0] ? p->name : "default";
	n = snprintf(out->lock, sizeof(out->lock), "%s/%s-%08x.lock", out->dir, label, h);
	if (n < 0 || (size_t)n >= sizeof(out->lock))
		return err_set(err, ENAMETOOLONG, "runtime lock path");
	n = snprintf(out->state, sizeof(out->state), "%s/%s-%08x.json", out->dir, label, h);
	if (n < 0 || (size_t)n >= sizeof(out->state))
		return err_set(err, ENAMETOOLONG, "runtime state path");
	return 0;
}

/* The pid namespace a pid is meaningful in. A launcher that is pid 1 of a
 * container records "1"; read from the host, that is the host's init. */
static unsigned long long own_pid_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* The recorded pid, 0 if none, -1 if it was recorded in another pid
 * namespace (so it names some other process here). */
static pid_t read_pid_fd(int fd)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned long long ns = 0;
	long pid = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %llu", &pid, &ns) < 1 || pid <= 0)
		return 0;
	if (ns && ns != own_pid_ns())
		return -1;
	return (pid_t)pid;
}

int runtime_lock_set_pid(int fd, pid_t pid, ocr_error *err)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%ld %llu\n", (long)pid, own_pid_ns());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return err_set(err, errno, "write lock file");
	return 0;
}

void runtime_unlock(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) < 0) {
		/* Harmless: the next launcher only mentions a stale pid. */
	}
	close(fd);
}

int runtime_lock(const struct runtime_paths *rp, int *fd_out, pid_t *holder, pid_t *stale_pid,
		 ocr_error *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(rp->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

	*holder = 0;
	*stale_pid = 0;
	if (fd < 0)
		return err_set(err, errno, "open lock %s", rp->lock);
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int e = errno;

		*holder = read_pid_fd(fd);
		close(fd);
		if (e == EAGAIN || e == EACCES) {
			if (*holder < 0) {
				*holder = 0;
				return err_set(err, 0,
					       "already running in another pid namespace (a "
					       "container?) (%s is locked)",
					       rp->lock);
			}
			if (*holder)
				return err_set(err, 0, "already running (pid %ld holds %s)",
					       (long)*holder, rp->lock);
			return err_set(err, 0, "already running (%s is locked)", rp->lock);
		}
		return err_set(err, e, "lock %s", rp->lock);
	}
	/* We hold it: a pid still in the file belongs to a launcher that died
	 * without cleaning up (SIGKILL, power loss). */
	pid_t old = read_pid_fd(fd);
	if (old > 0 && old != getpid())
		*stale_pid = old;
	if (runtime_lock_set_pid(fd, getpid(), err) < 0) {
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

int runtime_lock_held(const struct runtime_paths *rp, pid_t *pid, ocr_error *err)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(rp->lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*pid = 0;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, errno, "open lock %s", rp->lock);
	}
	/* F_OFD_GETLK only asks: it never takes the lock, so a launcher
	 * starting at this moment cannot be refused because of us. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
		int e = errno;

		close(fd);
		return err_set(err, e, "query lock %s", rp->lock);
	}
	*pid = read_pid_fd(fd);
	close(fd);
	return fl.l_type != F_UNLCK;
}

static const char *const phase_names[] = {
    [PHASE_STARTING] = "starting",     [PHASE_LIVE] = "live",
    [PHASE_STARTED] = "started",       [PHASE_DOCTOR] = "doctor",
    [PHASE_BACKOFF] = "backoff",       [PHASE_STOPPING] = "stopping",
    [PHASE_STOPPED] = "stopped",       [PHASE_CONFIG_ERROR] = "config-error",
    [PHASE_CRASH_LOOP] = "crash-loop", [PHASE_FAILED] = "failed",
};

const char *runtime_phase_name(enum runtime_phase phase)
{
	if ((size_t)phase < sizeof(phase_names) / sizeof(phase_names[0]) && phase_names[phase])
		return phase_names[phase];
	return "unknown";
}

static enum runtime_phase phase_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (name && phase_names[i] && strcmp(name, phase_names[i]) == 0)
			return (enum runtime_phase)i;
	return PHASE_FAILED;
}

void runtime_state_init(struct runtime_state *st)
{
	memset(st, 0, sizeof(*st));
	st->last_exit = -1;
	st->phase = PHASE_STARTING;
}

static void add_tristate(cJSON *o, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, v);
}

static void add_probe(cJSON *o, const char *key, const struct probe_result *p)
{
	cJSON *e = cJSON_AddObjectToObject(o, key);

	cJSON_AddNumberToObject(e, "status", p->status);
	cJSON_AddNumberToObject(e, "latency_ms", (double)(long)(p->latency_ms * 100) / 100.0);
}

/* "health": the supervisor's latest check with its time, so `status` (or a
 * script) can tell how fresh it is. */
static void add_health(cJSON *o, const struct runtime_state *st)
{
	const struct health_report *r = &st->health;
	cJSON *h = cJSON_AddObjectToObject(o, "health");

	cJSON_AddNumberToObject(h, "checked_at_ms", (double)r->at_ms);
	add_tristate(h, "live", r->at_ms ? r->v.live : -1);
	add_tristate(h, "started", r->at_ms ? r->v.started : -1);
	add_tristate(h, "ready", r->at_ms ? r->v.ready : -1);
	cJSON_AddBoolToObject(h, "startup_fallback", r->v.startup_fallback);
	cJSON_AddStringToObject(h, "startup", r->v.startup);
	cJSON_AddStringToObject(h, "failing", r->v.failing);
	cJSON_AddStringToObject(h, "error", r->error);
	add_probe(h, "healthz", &r->healthz);
	add_probe(h, "startupz", &r->startupz);
	add_probe(h, "readyz", &r->readyz);
	cJSON_AddNumberToObject(h, "liveness_failures", st->liveness_failures);
	cJSON_AddNumberToObject(h, "liveness_interval_s", st->liveness_interval_s);
	cJSON_AddNumberToObject(h, "liveness_failures_max", st->liveness_failures_max);
	cJSON_AddNumberToObject(h, "liveness_timeout_s", st->liveness_timeout_s);
}

static int tristate(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

static double num(const cJSON *o, const char *key);
static void str(const cJSON *o, const char *key, char *buf, size_t len);

static void read_probe(const cJSON *h, const char *key, struct probe_result *p)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(h, key);

	p->status = (int)num(e, "status");
	p->latency_ms = num(e, "latency_ms");
}

static void read_health(const cJSON *o, struct runtime_state *st)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "health");
	struct health_report *r = &st->health;

	if (!cJSON_IsObject(h))
		return;
	r->at_ms = (int64_t)num(h, "checked_at_ms");
	r->v.live = tristate(h, "live");
	r->v.started = tristate(h, "started");
	r->v.ready = tristate(h, "ready");
	r->v.startup_fallback =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "startup_fallback"));
	str(h, "startup", r->v.startup, sizeof(r->v.startup));
	str(h, "failing", r->v.failing, sizeof(r->v.failing));
	str(h, "error", r->error, sizeof(r->error));
	read_probe(h, "healthz", &r->healthz);
	read_probe(h, "startupz", &r->startupz);
	read_probe(h, "readyz", &r->readyz);
	st->liveness_failures = (unsigned)num(h, "liveness_failures");
	st->liveness_interval_s = (int)num(h, "liveness_interval_s");
	st->liveness_failures_max = (int)num(h, "liveness_failures_max");
	st->liveness_timeout_s = (int)num(h, "liveness_timeout_s");
}

int runtime_state_write(const struct runtime_paths *rp, const struct runtime_state *st,
			ocr_error *err)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	int rc;

	if (!o)
		return err_set(err, ENOMEM, "state file");
	cJSON_AddStringToObject(o, "profile", st->profile[0] ? st->profile : "default");
	cJSON_AddStringToObject(o, "state_dir", st->state_dir);
	cJSON_AddStringToObject(o, "phase", runtime_phase_name(st->phase));
	cJSON_AddNumberToObject(o, "supervisor_pid", st->supervisor_pid);
	cJSON_AddNumberToObject(o, "supervisor_start_ticks", (double)st->supervisor_start_ticks);
	cJSON_AddNumberToObject(o, "init_pid", st->init_pid);
	cJSON_AddNumberToObject(o, "child_pid", st->child_pid);
	cJSON_AddNumberToObject(o, "init_start_ticks", (double)st->init_start_ticks);
	cJSON_AddNumberToObject(o, "port_base", st->port_base);
	cJSON_AddNumberToObject(o, "port_last", st->port_last);
	cJSON_AddNumberToObject(o, "supervisor_started_at", (double)st->supervisor_started_at);
	cJSON_AddNumberToObject(o, "started_at", (double)st->started_at);
	cJSON_AddNumberToObject(o, "ready_at", (double)st->ready_at);
	cJSON_AddNumberToObject(o, "restarts", st->restarts);
	if (st->last_exit >= 0)
		cJSON_AddNumberToObject(o, "last_exit", st->last_exit);
	else
		cJSON_AddNullToObject(o, "last_exit");
	cJSON_AddStringToObject(o, "last_exit_why", st->last_exit_why);
	cJSON_AddStringToObject(o, "log", st->log_path);
	cJSON_AddStringToObject(o, "last_restart_reason", st->last_restart_reason);
	cJSON_AddBoolToObject(o, "held", st->held);
	add_health(o, st);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (!text)
		return err_set(err, ENOMEM, "state file");
	rc = atomic_write_file(rp->state, text, strlen(text), 0644, err);
	free(text);
	if (rc < 0)
		return err_prefix(err, "state file");
	return 0;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void str(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	snprintf(buf, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int runtime_state_read(const struct runtime_paths *rp, struct runtime_state *st, bool *found,
		       ocr_error *err)
{
	char *text = NULL;
	cJSON *o;

	runtime_state_init(st);
	*found = false;
	if (access(rp->state, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (read_whole_file(rp->state, &text, NULL, err) < 0) {
		if (err->errnum == ENOENT) /* removed in between */
			return 0;
		return -1;
	}
	o = cJSON_Parse(text);
	free(text);
	if (!o)
		return err_set(err, 0, "state file %s: not JSON", rp->state);
	str(o, "profile", st->profile, sizeof(st->profile));
	str(o, "state_dir", st->state_dir, sizeof(st->state_dir));
	str(o, "log", st->log_path, sizeof(st->log_path));
	st->held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "held"));
	const cJSON *ph = cJSON_GetObjectItemCaseSensitive(o, "phase");
	st->phase = phase_from_name(cJSON_IsString(ph) ? ph->valuestring : NULL);
	st->supervisor_pid = (pid_t)num(o, "supervisor_pid");
	st->supervisor_start_ticks = (unsigned long long)num(o, "supervisor_start_ticks");
	st->init_pid = (pid_t)num(o, "init_pid");
	st->child_pid = (pid_t)num(o, "child_pid");
	st->init_start_ticks = (unsigned long long)num(o, "init_start_ticks");
	st->port_base = (unsigned)num(o, "port_base");
	st->port_last = (unsigned)num(o, "port_last");
	st->supervisor_started_at = (int64_t)num(o, "supervisor_started_at");
	st->started_at = (int64_t)num(o, "started_at");
	st->ready_at = (int64_t)num(o, "ready_at");
	st->restarts = (unsigned)num(o, "restarts");
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(o, "last_exit");
	st->last_exit = cJSON_IsNumber(le) ? le->valueint : -1;
	str(o, "last_restart_reason", st->last_restart_reason, sizeof(st->last_restart_reason));
	read_health(o, st);
	str(o, "last_exit_why", st->last_exit_why, sizeof(st->last_exit_why));
	cJSON_Delete(o);
	*found = true;
	return 0;
}

unsigned long long runtime_proc_start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		/* comm may hold spaces and parentheses: fields start after the
		 * last ')'. starttime is field 22, the 20th after it. */
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ') {
			char state = p[2];
			p += 2;
			for (int field = 3; field < 22 && p; field++) {
				p = strchr(p, ' ');
				if (p)
					p++;
			}
			if (p && state != 'Z' && state != 'X')
				start = strtoull(p, NULL, 10);
		}
	}
	fclose(f);
	return start;
}

bool runtime_pid_alive(pid_t pid, unsigned long long start)
{
	unsigned long long now;

	if (pid <= 0)
		return false;
	now = runtime_proc_start_ticks(pid);
	if (now == 0)
		return false;
	return start == 0 || now == start;
}

int64_t runtime_now_unix(void)
{
	return (int64_t)time(NULL);
}

int64_t runtime_now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t runtime_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void runtime_format_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}
