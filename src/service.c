/* systemd units for install/uninstall (see service.h). */
#include "service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "supervisor.h"

#define ENV_SUFFIX ".env"

static int join(char *buf, size_t len, const char *a, const char *b, ocr_error *err)
{
	if (snprintf(buf, len, "%s/%s", a, b) >= (int)len)
		return err_set(err, ENAMETOOLONG, "%s/%s", a, b);
	return 0;
}

int service_paths_resolve(enum service_scope scope, const char *unit_dir, const char *home,
			  const char *xdg_config_home, const char *profile_name,
			  struct service_paths *out, ocr_error *err)
{
	char config[PATH_MAX], name[PROFILE_NAME_MAX + 16];

	memset(out, 0, sizeof(*out));
	out->scope = scope;
	snprintf(out->instance, sizeof(out->instance), "%s",
		 profile_name && *profile_name ? profile_name : "default");
	if (scope == SERVICE_USER) {
		if (xdg_config_home && xdg_config_home[0] == '/')
			snprintf(config, sizeof(config), "%s", xdg_config_home);
		else if (home && home[0] == '/')
			snprintf(config, sizeof(config), "%s/.config", home);
		else
			return err_set(err, 0, "install --user: no HOME to find ~/.config in");
	}
	if (unit_dir) {
		if (unit_dir[0] != '/')
			return err_set(err, EINVAL, "--unit-dir %s: not an absolute path",
				       unit_dir);
		snprintf(out->unit_dir, sizeof(out->unit_dir), "%s", unit_dir);
		if (join(out->env_dir, sizeof(out->env_dir), unit_dir, "openclaw-run.env.d", err) <
		    0)
			return -1;
	} else if (scope == SERVICE_SYSTEM) {
		snprintf(out->unit_dir, sizeof(out->unit_dir), "/etc/systemd/system");
		snprintf(out->env_dir, sizeof(out->env_dir), "/etc/openclaw-run");
	} else if (join(out->unit_dir, sizeof(out->unit_dir), config, "systemd/user", err) < 0 ||
		   join(out->env_dir, sizeof(out->env_dir), config, "openclaw-run/services", err) <
		       0) {
		return -1;
	}
	snprintf(name, sizeof(name), "%s" ENV_SUFFIX, out->instance);
	if (join(out->unit, sizeof(out->unit), out->unit_dir, SERVICE_TEMPLATE, err) < 0 ||
	    join(out->env, sizeof(out->env), out->env_dir, name, err) < 0)
		return -1;
	return 0;
}

/* systemd's quoting: a value with anything unusual goes in double quotes
 * with \ and " escaped; % is a specifier in unit files, doubled. */
static bool plain(const char *s)
{
	return strspn(s,
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:@+,=-") ==
	       strlen(s);
}

static void quoted(FILE *f, const char *s, bool unit_file)
{
	if (plain(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '%' && unit_file)
			fputc('%', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A path setting (EnvironmentFile=) takes the value as it stands: only
 * systemd's specifiers need escaping. */
static void path_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '%')
			fputc('%', f);
		fputc(*s, f);
	}
}

char *service_render_unit(const struct service_paths *p, const char *bin)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"# %s: an OpenClaw gateway per instance (%%i = the openclaw-run profile),\n"
		"# sandboxed and supervised by openclaw-run. Written by `openclaw-run\n"
		"# --profile NAME install`; each profile's settings (and any secret) live in\n"
		"# its EnvironmentFile, mode 0600, never in this file.\n"
		"[Unit]\n"
		"Description=OpenClaw gateway %%i (sandboxed by openclaw-run)\n"
		"After=network-online.target\n"
		"Wants=network-online.target\n"
		"StartLimitBurst=10\n"
		"StartLimitIntervalSec=300\n"
		"\n"
		"[Service]\n"
		"Type=notify\n"
		"NotifyAccess=main\n"
		"EnvironmentFile=",
		SERVICE_TEMPLATE);
	path_value(f, p->env_dir);
	fputs("/%i" ENV_SUFFIX "\nExecStart=", f);
	quoted(f, bin, true);
	fprintf(f,
		" --profile %%i serve\n"
		"# A graceful restart of the gateway through the supervisor.\n"
		"ExecReload=/bin/kill -HUP $MAINPID\n"
		"Restart=always\n"
		"RestartSec=5\n"
		"RestartPreventExitStatus=78\n"
		"# READY=1 comes once /startupz says started: allow the start grace.\n"
		"TimeoutStartSec=%d\n"
		"# The supervisor stops the gateway itself: SIGTERM, its grace, SIGKILL.\n"
		"TimeoutStopSec=%d\n"
		"# WATCHDOG=1 proves the supervisor's loop runs (it pings at half this).\n"
		"WatchdogSec=120\n"
		"SuccessExitStatus=0 143\n"
		"OOMPolicy=continue\n"
		"KillMode=mixed\n"
		"\n"
		"[Install]\n"
		"WantedBy=%s\n",
		SUPERVISOR_START_GRACE_S + 30, SUPERVISOR_GRACE_S * 2,
		p->scope == SERVICE_SYSTEM ? "multi-user.target" : "default.target");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *service_render_env(const struct service_paths *p, char *const *env)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"# The environment of openclaw-run@%s.service (mode 0600: secrets may go\n"
		"# here, never in the unit): what resolves profile '%s' as `install` saw it.\n",
		p->instance, p->instance);
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		if (!eq)
			continue;
		fprintf(f, "%.*s=", (int)(eq - env[i]), env[i]);
		quoted(f, eq + 1, false);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int mkdir_p(const char *dir, mode_t mode, ocr_error *err)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return err_set(err, errno, "create %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return err_set(err, errno, "create %s", buf);
	return 0;
}

/* 1 when PATH holds exactly TEXT, 0 when missing, -1 when it differs. */
static int compare(const char *path, const char *text, ocr_error *err)
{
	char *old = NULL;
	int rc;

	if (access(path, F_OK) < 0)
		return 0;
	if (read_whole_file(path, &old, NULL, err) < 0)
		return -2;
	rc = strcmp(old, text) == 0 ? 1 : -1;
	free(old);
	return rc;
}

static int put(const char *path, const char *dir, const char *text, mode_t mode, bool force,
	       bool *written, ocr_error *err)
{
	int same = compare(path, text, err);

	*written = false;
	if (same == -2)
		return -1;
	if (same == 1)
		return chmod(path, mode) < 0 ? err_set(err, errno, "chmod %s", path) : 0;
	if (same == -1 && !force)
		return err_set(err, EEXIST,
			       "%s exists and differs from what install would write (--force "
			       "overwrites it)",
			       path);
	if (mkdir_p(dir, mode == 0600 ? 0700 : 0755, err) < 0 ||
	    atomic_write_file(path, text, strlen(text), mode, err) < 0)
		return -1;
	*written = true;
	return 0;
}

int service_install(const struct service_paths *p, const char *unit_text, const char *env_text,
		    bool force, struct service_change *c, ocr_error *err)
{
	ocr_error check = {0};

	memset(c, 0, sizeof(*c));
	/* Refuse before writing anything: never half an install. */
	if (!force &&
	    (compare(p->unit, unit_text, &check) == -1 || compare(p->env, env_text, &check) == -1))
		return err_set(err, EEXIST,
			       "%s exists and differs from what install would write (--force "
			       "overwrites it)",
			       compare(p->unit, unit_text, &check) == -1 ? p->unit : p->env);
	if (put(p->env, p->env_dir, env_text, 0600, force, &c->env_written, err) < 0 ||
	    put(p->unit, p->unit_dir, unit_text, 0644, force, &c->unit_written, err) < 0)
		return -1;
	return 0;
}

/* Another profile's env file in DIR. */
static bool others_left(const struct service_paths *p)
{
	DIR *d = opendir(p->env_dir);
	struct dirent *e;
	bool found = false;
	size_t n = strlen(ENV_SUFFIX);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		found = len > n && strcmp(e->d_name + len - n, ENV_SUFFIX) == 0;
	}
	closedir(d);
	return found;
}

int service_uninstall(const struct service_paths *p, bool *removed, bool *template_removed,
		      ocr_error *err)
{
	*removed = *template_removed = false;
	if (unlink(p->env) == 0)
		*removed = true;
	else if (errno != ENOENT)
		return err_set(err, errno, "remove %s", p->env);
	if (others_left(p))
		return 0;
	if (unlink(p->unit) == 0)
		*template_removed = true;
	else if (errno != ENOENT)
		return err_set(err, errno, "remove %s", p->unit);
	rmdir(p->env_dir); /* only when empty; ours */
	return 0;
}

bool service_systemd_running(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int service_systemctl(enum service_scope scope, const char *const *args, ocr_error *err)
{
	const char *argv[16], *what = args[0];
	size_t n = 0;
	int status;
	pid_t pid;

	argv[n++] = "systemctl";
	if (scope == SERVICE_USER)
		argv[n++] = "--user";
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return err_set(err, errno, "fork");
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(err, errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, 0, "systemctl%s %s failed (status %d)",
			       scope == SERVICE_USER ? " --user" : "", what,
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
