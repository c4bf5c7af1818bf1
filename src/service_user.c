/* The unprivileged host account of root launches. */
#include "service_user.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	char *end;
	unsigned long numeric;

	errno = 0;
	numeric = strtoul(name, &end, 10);
	if (*name && !*end) {
		pw = getpwuid((uid_t)numeric);
		*uid = (uid_t)numeric;
		*gid = pw ? pw->pw_gid : (gid_t)numeric; /* a bare uid gets the same gid */
		return 0;
	}
	pw = getpwnam(name);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int create_system_user(const char *name, ocr_error *err)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return err_set(err, errno, "create user %s: fork", name);
	if (pid == 0) {
		execlp("useradd", "useradd", "--system", "--user-group", "--no-create-home",
		       "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name,
		       (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_set(err, errno, "create user %s: waitpid", name);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, 0, "create user %s: useradd failed (status %d)", name,
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int service_user_resolve(const char *name, bool create, uid_t *uid, gid_t *gid, ocr_error *err)
{
	if (!name || !*name)
		name = SERVICE_USER_DEFAULT;
	if (lookup(name, uid, gid) == 0) {
		if (*uid == 0)
			return err_set(
			    err, 0, "user %s: is root; the sandbox never runs as host root", name);
		return 0;
	}
	if (!create || strcmp(name, SERVICE_USER_DEFAULT) != 0)
		return err_set(err, ENOENT, "user %s: no such user", name);
	if (create_system_user(name, err) < 0)
		return -1;
	if (lookup(name, uid, gid) < 0)
		return err_set(err, ENOENT, "user %s: still missing after useradd", name);
	return 0;
}
