/* Launching a profile's gateway under the supervisor (see launch.h). */
#include "launch.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "detach.h"
#include "gateway_env.h"
#include "host_dirs.h"
#include "plan.h"
#include "registry.h"
#include "runtime.h"
#include "sd_notify.h"
#include "supervisor.h"

/* Upstream exits 1 on EADDRINUSE, which would only show up as a crash
 * loop; the port of a gateway we do not know about deserves its own
 * message. */
static int check_port_free(unsigned port, ocr_error *err)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (fd < 0)
		return 0; /* cannot tell: let the gateway find out */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno == EADDRINUSE)
		rc = err_set(err, 0,
			     "gateway: port %u is already in use by another process (see `ss "
			     "-ltnp 'sport = :%u'`)",
			     port, port);
	close(fd);
	return rc;
}

/* Runs the supervisor in the foreground (speaking sd_notify when systemd
 * asked) or detached; returns its exit code, or the --detach caller's. */
static int supervise(struct supervisor_opts *so, const struct gateway_launch *a,
		     const struct cli_context *ctx, const struct instance *inst, int *lock_fd)
{
	char log_path[PATH_MAX];
	ocr_error err = {0};
	bool is_daemon = false;
	int rc = EXIT_FAIL;

	if (a->detach) {
		/* In the launcher's own log dir: the state dir is the payload's,
		 * which could point a logs/ link anywhere root would write. */
		if (host_log_path(&ctx->env, &inst->profile, log_path, sizeof(log_path), &err) <
		    0) {
			err_prefix(&err, "gateway --detach");
			err_print(&err);
			return EXIT_FAIL;
		}
		/* The caller waits for the start, a doctor pass, and a retry. */
		rc = detach_run(so, log_path, 2 * a->start_grace_s + a->grace_s + 30, lock_fd,
				&is_daemon);
	} else if (sd_notifier_open(&so->sd, &err) < 0 || supervisor_block_signals(&err) < 0) {
		err_print(&err);
	} else {
		rc = supervisor_run(so);
	}
	sd_notifier_close(so->sd);
	supervisor_log_close(so->log);
	return rc;
}

int gateway_launch(const struct cli_context *ctx, const struct gateway_launch *a)
{
	struct instance inst = {0};
	struct gateway_cmd cmd = {0};
	struct runtime_paths rp;
	struct runtime_state st;
	ocr_error err = {0};
	pid_t holder, stale;
	int rc, lock_fd = -1;

	rc = EXIT_FAIL;
	if (instance_load(ctx->profile, &ctx->env, a->port, &inst, &err) < 0) {
		err_print(&err);
		goto out;
	}
	const char *label = profile_label(&inst.profile);
	if (gateway_require_setup(&inst, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (inst.config_error[0] && cli_check_drift(&inst, "gateway", true) < 0) {
		rc = 78; /* EX_CONFIG, as the gateway itself says it */
		goto out;
	}
	if (cli_check_drift(&inst, "gateway", true) < 0 ||
	    cli_check_ownership(&inst, "gateway", true) < 0)
		goto out;
	if (cli_refuse_unisolated(ctx, &inst, "gateway") < 0) {
		fprintf(stderr, "Fix the config (see `openclaw-run check`) and start again.\n");
		goto out;
	}
	if (gateway_cmd_build(&inst, a->prefix, a->cmd, a->extra, a->n_extra, &cmd, &err) < 0 ||
	    gateway_env_build(&inst, a->env, a->n_env, a->bonjour, &cmd, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (runtime_paths_for(&inst.profile, &rp, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (runtime_lock(&rp, &lock_fd, &holder, &stale, &err) < 0) {
		err_prefix(&err, "gateway '%s'", label);
		err_print(&err);
		goto out;
	}
	if (check_port_free(inst.ports.base, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (stale && !runtime_pid_alive(stale, 0))
		cli_warnf("%s: taking over the lock of launcher pid %ld, which is gone", label,
			  (long)stale);
	struct host_dirs dirs;
	if (host_dirs_resolve(&ctx->env, &dirs, &err) < 0) {
		err_print(&err);
		goto out;
	}
	runtime_state_init(&st);
	snprintf(st.profile, sizeof(st.profile), "%s", inst.profile.name);
	snprintf(st.state_dir, sizeof(st.state_dir), "%s", inst.profile.state_dir);
	st.port_base = inst.ports.base;
	st.port_last = port_block_last(&inst.ports);

	struct supervisor_opts so = {
	    .launch =
		{
		    .inst = &inst,
		    .popt =
			{
			    .net = a->net,
			    .strict = a->strict,
			    .no_namespaces = a->no_namespaces,
			    .user = a->user,
			    .extra_env = cmd.env,
			    .n_extra_env = cmd.n_env,
			    .ro_binds = (const char *const *)cmd.ro_binds,
			    .n_ro_binds = cmd.n_ro_binds,
			    .cwd = "/",
			    .env = &ctx->env,
			    .tmp_size = a->tmp_size,
			},
		    .argv = cmd.argv,
		    .doctor_argv = a->no_doctor ? NULL : cmd.doctor_argv,
		    .tool_argv = cmd.doctor_argv,
		},
	    .label = label,
	    .port = inst.ports.base,
	    .grace_s = a->grace_s,
	    .start_grace_s = a->start_grace_s,
	    .liveness_interval_s = a->liveness_interval_s,
	    .liveness_failures = a->liveness_failures,
	    .liveness_timeout_s = a->liveness_timeout_s,
	    .paths = &rp,
	    .state = &st,
	    .progress_tty = isatty(STDERR_FILENO),
	    .forward_hup = a->forward_signals,
	    .output_fd = -1,
	    .notify_fd = -1,
	    .dirs = &dirs,
	    .env = &ctx->env,
	};
	rc = supervise(&so, a, ctx, &inst, &lock_fd);
out:
	runtime_unlock(lock_fd);
	gateway_cmd_release(&cmd);
	instance_release(&inst);
	return rc;
}
