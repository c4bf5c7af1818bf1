/* sandbox_spawn() and the calls on a running sandbox. The launcher's side of
 * the start: compile the policy, prepare the mount sources, clone, write the
 * id maps, join a cgroup, let the child go, then wait for its report. */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const int blocked_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static int check_plan(struct sandbox *sb, int *landlock_abi, struct sandbox_error *err)
{
	if (!sb->argv)
		return sandbox_error_set(err, EINVAL, "sandbox: no command to run");
	if (sb->init_pid > 0)
		return sandbox_error_set(err, EBUSY, "sandbox: already started");
	sb->root_launch = geteuid() == 0;
	if (sb->root_launch && !sb->have_host_ids)
		return sandbox_error_set(err, EPERM,
					 "sandbox: refusing to run as host root: no "
					 "unprivileged host uid/gid given");
	if (sb->root_launch && (sb->host_uid == 0 || sb->host_gid == 0))
		return sandbox_error_set(err, EPERM,
					 "sandbox: refusing to map the payload to "
					 "host root (uid/gid 0)");
	if (sb->no_namespaces && sb->net == SANDBOX_NET_NONE)
		return sandbox_error_set(err, EINVAL,
					 "sandbox: a private network needs namespaces, which "
					 "are off");
	*landlock_abi = sb_landlock_abi();
	if (sb->n_ports && *landlock_abi < 4) {
		if (sb->strict)
			return sandbox_error_set(err, 0,
						 "sandbox: landlock: TCP bind rules need "
						 "Landlock ABI 4 (this kernel: %d)",
						 *landlock_abi);
		sb_warn(sb, "TCP bind is not restricted: Landlock ABI %d < 4", *landlock_abi);
	}
	return 0;
}

/* Reads the child's reports until it has exec()ed or failed. */
static int await_start(struct sandbox *sb, int fd, struct sandbox_status *status,
		       struct sandbox_error *err)
{
	for (;;) {
		struct sb_msg msg;
		struct iovec iov = {&msg, sizeof(msg)};
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} ctl;
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sandbox_error_set(err, errno, "sandbox: read child status");
		if (n == 0) {
			int st = 0;

			waitpid(sb->init_pid, &st, 0);
			sb->reaped = true;
			return sandbox_error_set(err, 0,
						 "sandbox: init exited (status %d) before "
						 "starting the command",
						 WIFEXITED(st) ? WEXITSTATUS(st)
							       : 128 + WTERMSIG(st));
		}
		if ((size_t)n != sizeof(msg))
			return sandbox_error_set(err, EPROTO, "sandbox: short status message");
		switch (msg.type) {
		case SB_MSG_HELLO:
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				struct ucred cred;

				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
					continue;
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				status->child_pid = cred.pid;
			}
			break;
		case SB_MSG_ERROR:
			msg.text[sizeof(msg.text) - 1] = '\0';
			return sandbox_error_set(err, msg.errnum, "%s", msg.text);
		case SB_MSG_STARTED:
			return 0;
		default:
			return sandbox_error_set(err, EPROTO, "sandbox: bad status message");
		}
	}
}

static void abort_child(struct sandbox *sb)
{
	if (sb->init_pid > 0 && !sb->reaped) {
		kill(sb->init_pid, SIGKILL);
		while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sb_cgroup_cleanup(sb);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	sb->pidfd = -1;
	sb->init_pid = -1;
	sb->reaped = false;
}

int sandbox_spawn(struct sandbox *sb, struct sandbox_status *status, struct sandbox_error *err)
{
	struct sandbox_status local;
	struct sb_bpf bpf = {0};
	struct sb_child_args args = {0};
	struct sandbox_error left_err = {0};
	int sv[2] = {-1, -1}, sync_pipe[2] = {-1, -1}, one = 1, rc = -1, clone_errno, left;
	sigset_t block, saved;
	pid_t pid;

	if (!status)
		status = &local;
	memset(status, 0, sizeof(*status));
	if (check_plan(sb, &args.landlock_abi, err) < 0)
		return -1;
	if (sb->policy_path) {
		if (sb_policy_load(sb->policy_path, sb->filter_cache_dir, &bpf, err) < 0)
			return sandbox_error_prefix(err, "sandbox: seccomp policy");
		args.bpf = &bpf;
	}
	if (!sb->no_namespaces && sb_mounts_prepare(sb, err) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    pipe2(sync_pipe, O_CLOEXEC) < 0) {
		sandbox_error_set(err, errno, "sandbox: status channel");
		goto out;
	}
	args.sync_fd = sync_pipe[0];
	args.status_fd = sv[1];

	/* Blocked from before the clone so that a signal sent to the new pid 1
	 * early is queued for it rather than dropped. */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(blocked_signals) / sizeof(blocked_signals[0]); i++)
		sigaddset(&block, blocked_signals[i]);
	if (sb_cgroup_prepare(sb, err) < 0)
		goto out;
	sigprocmask(SIG_BLOCK, &block, &saved);
	pid = sb_clone(sb);
	if (pid == 0) {
		close(sv[0]);
		close(sync_pipe[1]);
		sb_init_main(sb, &args);
	}
	clone_errno = errno;
	left = sb_cgroup_leave(sb, &left_err);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid < 0) {
		sb_cgroup_forget(sb);
		sandbox_error_set(err, clone_errno, "sandbox: clone (user namespaces %s)",
				  clone_errno == EPERM || clone_errno == ENOSPC
				      ? "disabled or exhausted?"
				      : "unavailable?");
		goto out;
	}
	sb->init_pid = pid;
	sb->reaped = false;
	sb->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close(sv[1]);
	sv[1] = -1;
	close(sync_pipe[0]);
	sync_pipe[0] = -1;
	status->init_pid = pid;
	if (sb->want_ns_ids)
		sb_read_ns_ids(pid, sb, status);

	if (left < 0) {
		*err = left_err;
		goto fail;
	}
	if (sb_write_id_maps(sb, pid, err) < 0 || sb_cgroup_join(sb, pid, err) < 0)
		goto fail;
	if (write(sync_pipe[1], "g", 1) != 1) {
		sandbox_error_set(err, errno, "sandbox: release child");
		goto fail;
	}
	if (await_start(sb, sv[0], status, err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	abort_child(sb);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (sync_pipe[0] >= 0)
		close(sync_pipe[0]);
	if (sync_pipe[1] >= 0)
		close(sync_pipe[1]);
	sb_mounts_release(sb);
	sb_bpf_release(&bpf);
	/* The sandbox holds them now: ours would keep the caller's end of a
	 * pipe or terminal from seeing the end. */
	sb_stdio_release(sb);
	return rc;
}

int sandbox_signal(struct sandbox *sb, int sig, struct sandbox_error *err)
{
	if (sb->init_pid <= 0 || sb->reaped)
		return sandbox_error_set(err, ESRCH, "sandbox: signal: not running");
	/* The pidfd cannot hit a recycled pid. */
	if (sb->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0) < 0)
			return sandbox_error_set(err, errno, "sandbox: signal %d", sig);
		return 0;
	}
	if (kill(sb->init_pid, sig) < 0)
		return sandbox_error_set(err, errno, "sandbox: signal %d", sig);
	return 0;
}

int sandbox_kill(struct sandbox *sb, struct sandbox_error *err)
{
	/* Without a pid namespace the init's death takes nobody along: kill
	 * its process group (its setsid() made it the leader) first. */
	if (sb->no_namespaces && sb->init_pid > 0 && !sb->reaped)
		kill(-sb->init_pid, SIGKILL);
	return sandbox_signal(sb, SIGKILL, err);
}

int sandbox_pidfd(const struct sandbox *sb)
{
	return sb->pidfd;
}

int sandbox_wait(struct sandbox *sb, int flags, int *exit_code, struct sandbox_error *err)
{
	int status;
	pid_t r;

	if (sb->reaped) {
		*exit_code = sb->exit_code;
		return 0;
	}
	if (sb->init_pid <= 0)
		return sandbox_error_set(err, ECHILD, "sandbox: wait: not started");
	r = waitpid(sb->init_pid, &status, flags);
	if (r < 0)
		return sandbox_error_set(err, errno, "sandbox: wait");
	if (r == 0)
		return 1;
	sb->reaped = true;
	sb->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	*exit_code = sb->exit_code;
	sb_cgroup_cleanup(sb);
	return 0;
}
