/* openclaw-run [--profile NAME] gateway: start the profile's OpenClaw gateway
 * in its sandbox and supervise it, in the foreground or detached. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gateway_env.h"
#include "host_dirs.h"
#include "plan.h"
#include "registry.h"
#include "runtime.h"
#include "supervisor.h"

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] gateway [OPTIONS] [-- EXTRA_ARGS]\n"
	      "\n"
	      "Start the profile's OpenClaw gateway in its sandbox and keep it running:\n"
	      "restart it when it dies (backoff 1 s doubling to 60 s, reset after 10 min up),\n"
	      "restart it on SIGHUP, stop it on SIGTERM/SIGINT (SIGTERM, then SIGKILL of the\n"
	      "whole sandbox after the grace period; a second SIGINT kills at once).\n"
	      "Exit 78 (config error) is not retried; 5 failures within 2 minutes stop it.\n"
	      "One launcher per profile: a second one is refused, naming the first's pid.\n"
	      "\n"
	      "Options:\n"
	      "  -P, --port N            base port (default: the profile's gateway.port)\n"
	      "  -d, --detach            run in the background, log to openclaw-run's log\n"
	      "                          dir (/var/log/openclaw-run, ~/.local/state/...),\n"
	      "                          return once the gateway is ready\n"
	      "      --grace S           seconds between SIGTERM and SIGKILL (default 30)\n"
	      "      --ready-timeout S   seconds to wait for /readyz (default 120)\n"
	      "  -e, --env KEY=VALUE     add to the gateway's environment (repeatable)\n"
	      "      --gateway-prefix DIR  where scripts/install-openclaw installed node and\n"
	      "                          openclaw (default /opt/openclaw-run as root,\n"
	      "                          ~/.local/share/openclaw-run otherwise)\n"
	      "      --gateway-cmd PATH  run PATH [EXTRA_ARGS] instead of `openclaw gateway run`\n"
	      "      --net host|none     network: the host's (default) or a private loopback\n"
	      "      --user NAME         as root: the host user the gateway runs as\n"
	      "      --strict            missing Landlock network rules or cgroup v2 is an error\n"
	      "  -h, --help              show this help\n"
	      "\n"
	      "EXTRA_ARGS go to the gateway after `gateway run --port BASE --bind loopback`.\n"
	      "\n"
	      "Exit codes:\n"
	      "  0   stopped on request, the gateway ended within the grace period\n"
	      "  1   could not start (already running, check violation, sandbox error)\n"
	      "  2   bad command line\n"
	      "  4   crash loop: 5 failures within 2 minutes, gave up\n"
	      "  5   not ready within --ready-timeout\n"
	      "  6   stopped on request, the gateway had to be killed after the grace period\n"
	      "  78  the gateway reported a configuration or state error (not retried)\n",
	      out);
}

struct gateway_args {
	unsigned port;
	bool detach, strict;
	int grace_s, ready_timeout_s;
	const char *prefix, *cmd, *user;
	enum sandbox_net net;
	char **env;
	size_t n_env;
	char **extra;
	int n_extra;
};

static int parse_args(int argc, char **argv, struct gateway_args *a)
{
	static const struct option options[] = {
	    {"port", required_argument, NULL, 'P'},
	    {"detach", no_argument, NULL, 'd'},
	    {"grace", required_argument, NULL, 'g'},
	    {"ready-timeout", required_argument, NULL, 'r'},
	    {"env", required_argument, NULL, 'e'},
	    {"gateway-prefix", required_argument, NULL, 'x'},
	    {"gateway-cmd", required_argument, NULL, 'c'},
	    {"net", required_argument, NULL, 'n'},
	    {"user", required_argument, NULL, 'u'},
	    {"strict", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	a->grace_s = 30;
	a->ready_timeout_s = 120;
	a->net = SANDBOX_NET_HOST;
	a->env = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->env)
		return EXIT_FAIL;
	while ((opt = getopt_long(argc, argv, "+P:de:h", options, NULL)) != -1) {
		switch (opt) {
		case 'P':
			if (cli_parse_base_port("gateway", optarg, &a->port) < 0)
				return EXIT_USAGE;
			break;
		case 'd':
			a->detach = true;
			break;
		case 'g':
		case 'r':
			if (cli_parse_seconds("gateway", opt == 'g' ? "--grace" : "--ready-timeout",
					      optarg,
					      opt == 'g' ? &a->grace_s : &a->ready_timeout_s) < 0)
				return EXIT_USAGE;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				cli_errorf("gateway: --env wants KEY=VALUE, got '%s'", optarg);
				return EXIT_USAGE;
			}
			a->env[a->n_env++] = optarg;
			break;
		case 'x':
			a->prefix = optarg;
			break;
		case 'c':
			a->cmd = optarg;
			break;
		case 'n':
			if (strcmp(optarg, "host") == 0)
				a->net = SANDBOX_NET_HOST;
			else if (strcmp(optarg, "none") == 0)
				a->net = SANDBOX_NET_NONE;
			else {
				cli_errorf("gateway: --net is host or none, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			a->user = optarg;
			break;
		case 's':
			a->strict = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_bad_option("gateway", argv);
		}
	}
	if (a->ready_timeout_s < 1) {
		cli_errorf("gateway: --ready-timeout must be at least 1 s");
		return EXIT_USAGE;
	}
	a->extra = argv + optind;
	a->n_extra = argc - optind;
	return 0;
}

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

struct launch {
	const struct instance *inst;
	struct plan_options popt;
	struct gateway_cmd cmd;
};

static int build_sandbox(void *ctx, struct sandbox **out, ocr_error *err)
{
	struct launch *l = ctx;

	return plan_build(l->inst, &l->popt, l->cmd.argv, out, err);
}

/* --detach, in the caller: wait for the daemon's report, drawing progress
 * on a terminal; print the log tail when it fails. */
static int wait_for_daemon(int fd, const struct gateway_args *a, const char *label, unsigned port,
			   const char *log_path)
{
	bool tty = isatty(STDERR_FILENO);
	int64_t start = runtime_now_ms();
	int64_t limit = start + ((int64_t)a->ready_timeout_s + a->grace_s + 30) * 1000;
	const char *waiting = "/healthz";
	char buf[512];
	size_t len = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t now = runtime_now_ms();
		int rc;

		if (now >= limit)
			break;
		rc = poll(&p, 1, 1000);
		if (tty) {
			fprintf(stderr,
				"\r\033[Kopenclaw-run: %s: starting the gateway... %llds "
				"(waiting for %s)",
				label, (long long)((runtime_now_ms() - start) / 1000), waiting);
			fflush(stderr);
		}
		if (rc <= 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break; /* the daemon died without a word */
		len += (size_t)n;
		buf[len] = '\0';
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (buf[0] == 'P')
				waiting = strstr(buf, "readyz") ? "/readyz" : "/healthz";
			if (buf[0] == 'R') {
				if (tty)
					fputs("\r\033[K", stderr);
				printf(
				    "openclaw-run: %s: gateway ready on http://127.0.0.1:%u after "
				    "%.1f s (log: %s)\n",
				    label, port, strtod(buf + 2, NULL) / 1000.0, log_path);
				return EXIT_OK;
			}
			if (buf[0] == 'F') {
				int code = atoi(buf + 2);

				if (tty)
					fputs("\r\033[K", stderr);
				cli_errorf(
				    "%s: the gateway did not start (%s); last lines of %s:", label,
				    strchr(buf + 2, ' ') ? strchr(buf + 2, ' ') + 1 : "", log_path);
				supervisor_log_tail(log_path, 20, STDERR_FILENO);
				return code ? code : EXIT_FAIL;
			}
			memmove(buf, nl + 1, strlen(nl + 1) + 1);
			len = strlen(buf);
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	cli_errorf("%s: the supervisor went away before the gateway was ready; last lines of %s:",
		   label, log_path);
	supervisor_log_tail(log_path, 20, STDERR_FILENO);
	return EXIT_FAIL;
}

/* The daemon half of --detach: returns the exit code of the supervisor. */
static int run_detached_child(struct supervisor_opts *so, int lock_fd, int notify_fd)
{
	int out[2], null_fd;
	ocr_error err = {0};

	/* Before anything can signal us: the daemon is a supervisor. */
	if (supervisor_block_signals(&err) < 0 || setsid() < 0)
		_exit(EXIT_FAIL);
	pid_t pid = fork();
	if (pid < 0)
		_exit(EXIT_FAIL);
	if (pid > 0)
		_exit(EXIT_OK); /* the session leader goes: no controlling tty ever */
	runtime_lock_set_pid(lock_fd, getpid(), &err);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* The gateway's stdout/stderr (and ours) go through a pipe that the
	 * supervisor copies into the size-capped log. */
	if (null_fd < 0 || pipe2(out, O_CLOEXEC) < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(out[1], STDOUT_FILENO) < 0 || dup2(out[1], STDERR_FILENO) < 0) {
		dprintf(notify_fd, "F 1 detach: %s\n", strerror(errno));
		_exit(EXIT_FAIL);
	}
	close(out[1]);
	close(null_fd);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (chdir("/") < 0)
		_exit(EXIT_FAIL);
	so->output_fd = out[0];
	so->notify_fd = notify_fd;
	so->progress_tty = false;
	int code = supervisor_run(so);
	supervisor_log_take_stdio(so->log);
	close(out[0]);
	return code;
}

/* Returns the caller's exit code in the caller, and the supervisor's in the
 * daemon (*is_daemon set), so both unwind through cmd_gateway's cleanup. */
static int detach(struct supervisor_opts *so, const struct gateway_args *a, const char *path,
		  int *lock_fd, bool *is_daemon)
{
	int notify[2];
	ocr_error err = {0};
	pid_t pid;

	if (strlen(path) >= sizeof(so->state->log_path)) {
		cli_errorf("gateway --detach: log path %s too long", path);
		return EXIT_FAIL;
	}
	if (supervisor_log_open(path, SUPERVISOR_LOG_MAX_BYTES, &so->log, &err) < 0 ||
	    (pipe2(notify, O_CLOEXEC) < 0 && err_set(&err, errno, "pipe") < 0)) {
		err_prefix(&err, "gateway --detach");
		err_print(&err);
		return EXIT_FAIL;
	}
	memcpy(so->state->log_path, path, strlen(path) + 1);
	supervisor_log_printf(so->log, "%s: starting (detached)", so->label);
	fflush(NULL); /* nothing buffered may be written twice */
	pid = fork();
	if (pid < 0) {
		cli_errorf("gateway --detach: fork: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (pid == 0) {
		close(notify[0]);
		*is_daemon = true;
		return run_detached_child(so, *lock_fd, notify[1]);
	}
	close(notify[1]);
	close(*lock_fd); /* the daemon holds the lock now */
	*lock_fd = -1;
	waitpid(pid, NULL, 0);
	int code = wait_for_daemon(notify[0], a, so->label, so->port, path);
	close(notify[0]);
	return code;
}

int cmd_gateway(const struct cli_context *ctx, int argc, char **argv)
{
	struct gateway_args a = {0};
	struct instance inst = {0};
	struct launch l = {0};
	struct runtime_paths rp;
	struct runtime_state st;
	ocr_error err = {0};
	pid_t holder, stale;
	int rc, lock_fd = -1;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		free(a.env);
		return rc < 0 ? EXIT_OK : rc;
	}
	rc = EXIT_FAIL;
	if (instance_load(ctx->profile, &ctx->env, a.port, &inst, &err) < 0) {
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
	if (cli_check_drift(&inst, "gateway", true) < 0)
		goto out;
	if (cli_refuse_unisolated(ctx, &inst, "gateway") < 0) {
		fprintf(stderr, "Fix the config (see `openclaw-run check`) and start again.\n");
		goto out;
	}
	if (gateway_cmd_build(&inst, a.prefix, a.cmd, a.extra, a.n_extra, &l.cmd, &err) < 0 ||
	    gateway_env_build(&inst, a.env, a.n_env, &l.cmd, &err) < 0) {
		err_print(&err);
		goto out;
	}
	l.inst = &inst;
	l.popt = (struct plan_options){
	    .net = a.net,
	    .strict = a.strict,
	    .user = a.user,
	    .extra_env = l.cmd.env,
	    .n_extra_env = l.cmd.n_env,
	    .ro_binds = (const char *const *)l.cmd.ro_binds,
	    .n_ro_binds = l.cmd.n_ro_binds,
	    .cwd = "/",
	};
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
	runtime_state_init(&st);
	snprintf(st.profile, sizeof(st.profile), "%s", inst.profile.name);
	snprintf(st.state_dir, sizeof(st.state_dir), "%s", inst.profile.state_dir);
	st.port_base = inst.ports.base;
	st.port_last = port_block_last(&inst.ports);

	struct supervisor_opts so = {
	    .build = build_sandbox,
	    .build_ctx = &l,
	    .label = label,
	    .port = inst.ports.base,
	    .grace_s = a.grace_s,
	    .ready_timeout_s = a.ready_timeout_s,
	    .paths = &rp,
	    .state = &st,
	    .progress_tty = isatty(STDERR_FILENO),
	    .output_fd = -1,
	    .notify_fd = -1,
	};
	if (a.detach) {
		bool is_daemon = false;

		/* The caller stays interruptible while it waits for the daemon. */
		char log_path[PATH_MAX];

		/* In the launcher's own log dir: the state dir is the payload's,
		 * which could point a logs/ link anywhere root would write. */
		if (host_log_path(&ctx->env, &inst.profile, log_path, sizeof(log_path), &err) < 0) {
			err_prefix(&err, "gateway --detach");
			err_print(&err);
		} else {
			rc = detach(&so, &a, log_path, &lock_fd, &is_daemon);
		}
	} else if (supervisor_block_signals(&err) < 0) {
		err_print(&err);
	} else {
		rc = supervisor_run(&so);
	}
	supervisor_log_close(so.log);
out:
	runtime_unlock(lock_fd);
	gateway_cmd_release(&l.cmd);
	instance_release(&inst);
	free(a.env);
	return rc;
}
