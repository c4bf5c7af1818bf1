/* Ports held by other programs: see port_probe.h. */
#include "port_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"

/* The lowest port of FIRST..LAST with a TCP listener in one /proc/net
 * table, or 0. Listeners only: a connection's ephemeral port in the range
 * comes and goes and takes nothing from a gateway. */
static unsigned lowest_listener(const char *table, unsigned first, unsigned last)
{
	char line[512];
	unsigned lowest = 0;
	FILE *f = fopen(table, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned state, port;
		char *colon;

		if (sscanf(line, " %*d: %63s %*s %x", local, &state) != 2 || state != 0x0A)
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &port) != 1)
			continue;
		if (port >= first && port <= last && (!lowest || port < lowest))
			lowest = port;
	}
	fclose(f);
	return lowest;
}

unsigned port_probe_busy(unsigned first, unsigned last)
{
	unsigned v4 = lowest_listener("/proc/net/tcp", first, last);
	unsigned v6 = lowest_listener("/proc/net/tcp6", first, last);

	return !v4 ? v6 : !v6 ? v4 : v4 < v6 ? v4 : v6;
}

/* Socket inode of a TCP listener on PORT in one /proc/net table. */
static unsigned long listener_inode(const char *table, unsigned port)
{
	char line[512];
	unsigned long inode = 0;
	FILE *f = fopen(table, "re");

	if (!f)
		return 0;
	while (!inode && fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned state, lport;
		unsigned long ino;
		char *colon;

		if (sscanf(line, " %*d: %63s %*s %x %*s %*s %*s %*d %*d %lu", local, &state,
			   &ino) != 3)
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &lport) != 1)
			continue;
		if (state == 0x0A /* LISTEN */ && lport == port)
			inode = ino;
	}
	fclose(f);
	return inode;
}

static bool has_socket(pid_t pid, const char *want)
{
	char path[128], target[64];
	struct dirent *fe;
	bool found = false;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	fds = opendir(path);
	if (!fds)
		return false;
	while (!found && (fe = readdir(fds)) != NULL) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%.32s", (int)pid, fe->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		found = n > 0 && (target[n] = '\0', strcmp(target, want) == 0);
	}
	closedir(fds);
	return found;
}

/* Appends the children of every thread of PID to LIST. */
static size_t add_children(pid_t pid, pid_t *list, size_t n, size_t max)
{
	char path[128];
	struct dirent *te;
	DIR *tasks;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (!tasks)
		return n;
	while ((te = readdir(tasks)) != NULL && n < max) {
		FILE *f;
		int child;

		if (te->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/children", (int)pid, te->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &child) == 1)
			list[n++] = (pid_t)child;
		fclose(f);
	}
	closedir(tasks);
	return n;
}

pid_t port_listener_in_tree(unsigned port, pid_t root)
{
	unsigned long inode = listener_inode("/proc/net/tcp", port);
	pid_t list[256];
	size_t n = 1;
	char want[64];

	if (!inode)
		inode = listener_inode("/proc/net/tcp6", port);
	if (!inode || root <= 0)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	list[0] = root;
	for (size_t i = 0; i < n; i++) {
		if (has_socket(list[i], want))
			return list[i];
		n = add_children(list[i], list, n, sizeof(list) / sizeof(list[0]));
	}
	return 0;
}

static pid_t owner_of(unsigned long inode, char *comm, size_t len)
{
	char want[64], path[384], target[64];
	DIR *proc = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!found && (de = readdir(proc)) != NULL) {
		DIR *fds;
		struct dirent *fe;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (fe = readdir(fds)) != NULL) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, fe->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0 && (target[n] = '\0', strcmp(target, want) == 0))
				found = pid;
		}
		closedir(fds);
	}
	closedir(proc);
	if (found) {
		int fd;
		ssize_t n = 0;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)found);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, comm, len - 1);
			close(fd);
		}
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		/* Any process may name itself: a sandbox's could with escapes. */
		text_defang(comm, strlen(comm));
	}
	return found;
}

void port_describe_holder(unsigned port, char *buf, size_t len)
{
	unsigned long inode = listener_inode("/proc/net/tcp", port);
	char comm[64] = "";
	pid_t pid = 0;

	if (!inode)
		inode = listener_inode("/proc/net/tcp6", port);
	if (inode)
		pid = owner_of(inode, comm, sizeof(comm));
	if (pid > 0)
		snprintf(buf, len, "pid %d (%s)", (int)pid, comm[0] ? comm : "?");
	else
		snprintf(buf, len, "another program (see `ss -ltnp 'sport = :%u'`)", port);
}
