/* `openclaw-run [--profile NAME] exec [OPTIONS] -- CMD [ARGS...]`: run any
 * command in the profile's sandbox; the launcher stays as the parent,
 * forwards termination signals and exits with the command's status (128+N
 * when it was killed by signal N). With a terminal on stdin, the command
 * gets a pseudo-terminal of its own (exec_tty.h). Keeps to libc + sandbox/:
 * no libcurl on this path, start-up time is the product here. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exec_io.h"
#include "gateway_env.h"
#include "plan.h"
#include "resources.h"
#include "registry.h"

#define MAX_LIST 64

/* SIGUSR1 is taken (so it cannot kill us) but never passed on: it would open
 * Node's inspector in a node command. */
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void usage(FILE *out)
{
	fputs(
	    "Usage: openclaw-run [--profile NAME] exec [OPTIONS] -- CMD [ARGS...]\n"
	    "\n"
	    "Run CMD in the profile's sandbox: its own namespaces, only this profile's\n"
	    "state dir, config dir and workspace writable, no capabilities, seccomp,\n"
	    "TCP bind limited to the profile's port block.\n"
	    "\n"
	    "Options:\n"
	    "  --net=none|host        private network with loopback only (default: host)\n"
	    "  --user USER            root only: the host user to run as (default: openclaw-run)\n"
	    "  --ro-bind PATH         also show PATH, read-only (repeatable)\n"
	    "  --env KEY=VALUE        add to the command's environment (repeatable)\n"
	    "  --cwd DIR              working directory (default: the workspace, or /)\n"
	    "  --gateway-prefix DIR   the openclaw install to show, read-only, with `openclaw`\n"
	    "                         in PATH (default: the one scripts/install-openclaw made)\n"
	    "  --port N               the port block's base (as for gateway)\n"
	    "  --seccomp-policy FILE  another seccomp policy file\n"
	    "  --tmp-size SIZE        size of /tmp and of /dev/shm each (default 256M)\n"
	    "  --strict               a missing kernel feature (Landlock net, a cgroup\n"
	    "                         controller for the limits) is an error\n"
	    "  --json-status          JSON status lines on stderr (child pid, namespaces, exit)\n"
	    "  --json-status-fd N     the same on file descriptor N\n"
	    "  --tty                  give CMD a terminal of its own even when stdin is none\n"
	    "  --no-tty               no terminal even when stdin is one: pipes instead\n"
	    "\n"
	    "When stdin is a terminal, CMD gets a pseudo-terminal of its own as its\n"
	    "controlling terminal (Ctrl-C, Ctrl-Z, arrow keys and window sizes work as\n"
	    "in `podman exec -it`); ours is put in raw mode and restored at the end.\n"
	    "Our terminal is never handed to the sandbox: without a pseudo-terminal,\n"
	    "each of stdin, stdout and stderr that is one is relayed through a pipe.\n"
	    "\n"
	    "Exit status: the command's, 128+N if it was killed by signal N, 1 if the\n"
	    "sandbox could not be set up, 2 on bad usage.\n",
	    out);
}

struct exec_args {
	struct plan_options opt;
	const char *ro[MAX_LIST + 1];
	char *env[MAX_LIST * 2];
	const char *gateway_prefix;
	unsigned port;
	int json_fd; /* -1: none */
	int tty;     /* 1 --tty, 0 --no-tty, -1 when stdin is a terminal */
};

static int parse(int argc, char **argv, struct exec_args *a)
{
	static const struct option options[] = {
	    {"net", required_argument, NULL, 'n'},
	    {"user", required_argument, NULL, 'u'},
	    {"ro-bind", required_argument, NULL, 'r'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'c'},
	    {"gateway-prefix", required_argument, NULL, 'g'},
	    {"port", required_argument, NULL, 'P'},
	    {"seccomp-policy", required_argument, NULL, 's'},
	    {"tmp-size", required_argument, NULL, 'T'},
	    {"strict", no_argument, NULL, 'S'},
	    {"json-status", no_argument, NULL, 'j'},
	    {"json-status-fd", required_argument, NULL, 'J'},
	    {"tty", no_argument, NULL, 'Y'},
	    {"no-tty", no_argument, NULL, 'y'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	long v;

	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (strcmp(optarg, "none") == 0)
				a->opt.net = SANDBOX_NET_NONE;
			else if (strcmp(optarg, "host") == 0)
				a->opt.net = SANDBOX_NET_HOST;
			else
				return cli_errorf("exec: --net=%s: expected none or host", optarg),
				       -1;
			break;
		case 'u':
			a->opt.user = optarg;
			break;
		case 'r':
			if (optarg[0] != '/')
				return cli_errorf("exec: --ro-bind %s: not an absolute path",
						  optarg),
				       -1;
			if (a->opt.n_ro_binds == MAX_LIST)
				return cli_errorf("exec: too many --ro-bind"), -1;
			a->ro[a->opt.n_ro_binds++] = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cli_errorf("exec: --env %s: expected KEY=VALUE", optarg), -1;
			if (a->opt.n_extra_env == MAX_LIST)
				return cli_errorf("exec: too many --env"), -1;
			a->env[a->opt.n_extra_env++] = optarg;
			break;
		case 'c':
			a->opt.cwd = optarg;
			break;
		case 'g':
			a->gateway_prefix = optarg;
			break;
		case 'P':
			if (cli_parse_base_port("exec", optarg, &a->port) < 0)
				return -1;
			break;
		case 's':
			a->opt.seccomp_policy = optarg;
			break;
		case 'T':
			if (cli_parse_size("exec", "--tmp-size", optarg, &a->opt.tmp_size) < 0)
				return -1;
			break;
		case 'S':
			a->opt.strict = true;
			break;
		case 'j':
			a->json_fd = 2;
			break;
		case 'Y':
		case 'y':
			a->tty = c == 'Y';
			break;
		case 'J':
			v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 1 << 20)
				return cli_errorf("exec: --json-status-fd %s: not a descriptor",
						  optarg),
				       -1;
			a->json_fd = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			cli_bad_option("exec", argv);
			return -1;
		}
	}
	a->opt.ro_binds = a->ro;
	a->opt.extra_env = a->env;
	return 0;
}

/* The installed gateway goes in first so the user's --env still wins. */
static void add_gateway_tools(struct exec_args *a, const struct gateway_cmd *tools)
{
	size_t n_user = a->opt.n_extra_env;

	if (!tools->n_ro_binds)
		return;
	a->ro[a->opt.n_ro_binds++] = tools->ro_binds[0];
	memmove(a->env + tools->n_env, a->env, n_user * sizeof(a->env[0]));
	memcpy(a->env, tools->env, tools->n_env * sizeof(a->env[0]));
	a->opt.n_extra_env += tools->n_env;
}

static void json_start(int fd, const struct sandbox_status *st)
{
	char ns[512] = "";
	size_t n = 0;
	const struct {
		const char *key;
		uint64_t v;
	} ids[] = {
	    {"cgroup-namespace", st->ns_cgroup}, {"ipc-namespace", st->ns_ipc},
	    {"mnt-namespace", st->ns_mnt},	 {"net-namespace", st->ns_net},
	    {"pid-namespace", st->ns_pid},	 {"uts-namespace", st->ns_uts},
	    {"user-namespace", st->ns_user},
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ids[i].v)
			n += (size_t)snprintf(ns + n, sizeof(ns) - n, ", \"%s\": %llu", ids[i].key,
					      (unsigned long long)ids[i].v);
	}
	dprintf(fd, "{\"child-pid\": %d, \"init-pid\": %d%s}\n", (int)st->child_pid,
		(int)st->init_pid, ns);
}

/* Waits for the sandbox, forwarding the launcher's signals to its init. */
static int supervise(struct sandbox *sb, const sigset_t *set)
{
	ocr_error err = {0};
	int code;

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si), rc;

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			cli_errorf("exec: sigwaitinfo: %s", strerror(errno));
			sandbox_kill(sb, &err);
			sig = SIGCHLD;
		}
		if (sig == SIGUSR1)
			continue;
		if (sig != SIGCHLD) {
			if (sandbox_signal(sb, sig, &err) < 0 && err.errnum != ESRCH)
				err_print(&err);
			continue;
		}
		rc = sandbox_wait(sb, WNOHANG, &code, &err);
		if (rc < 0) {
			err_print(&err);
			return EXIT_FAIL;
		}
		if (rc == 0)
			return code;
	}
}

/* Relays the command's stdio (exec_io.h) until it ends. */
static int run_relayed(struct exec_io *io, struct sandbox *sb, const sigset_t *set)
{
	ocr_error err = {0};
	int code;

	/* A caller that stops reading our stdout must not kill us raw. */
	signal(SIGPIPE, SIG_IGN);
	code = exec_io_relay(io, sb, set, &err);
	if (code < 0) {
		ocr_error ignored = {0};

		err_print(&err);
		sandbox_kill(sb, &ignored);
		sandbox_wait(sb, 0, &code, &ignored);
		return EXIT_FAIL;
	}
	return code;
}

/* A command that ended badly is told why when its cgroups' counters know:
 * an OOM kill or forks refused at the profile's limits. */
static void explain_exit(const struct sandbox *sb, int code)
{
	struct sandbox_usage u;
	char why[256];

	sandbox_usage_get(sb, &u);
	if (code != 0 && resources_explain(&u, why, sizeof(why)))
		cli_warnf("exec: the command %s: %s (setup --memory/--pids change the limits)",
			  code > 128 ? "was killed" : "failed", why);
}

int cmd_exec(const struct cli_context *ctx, int argc, char **argv)
{
	struct exec_args a = {.json_fd = -1, .tty = -1};
	__attribute__((cleanup(exec_io_close))) struct exec_io io = EXEC_IO_INIT;
	struct gateway_cmd tools = {0};
	struct instance inst;
	struct sandbox *sb = NULL;
	struct sandbox_status st;
	ocr_error err = {0};
	sigset_t set, saved;
	int rc;

	rc = parse(argc, argv, &a);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (optind >= argc) {
		cli_errorf("exec: no command given (openclaw-run exec [OPTIONS] -- CMD [ARGS...])");
		return EXIT_USAGE;
	}
	if (instance_load(ctx->profile, &ctx->env, a.port, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if (gateway_argv_is_upstream_restart(argv + optind)) {
		const char *label = profile_label(&inst.profile);

		cli_errorf("exec: `openclaw gateway restart` cannot restart %s's gateway from "
			   "exec's sandbox (its own pid namespace: upstream cannot verify or "
			   "signal the gateway's process); run `openclaw-run --profile %s "
			   "restart`, a graceful restart through its supervisor",
			   label, label);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	if (plan_check_state_dir(&inst.profile, &err) < 0) {
		err_print(&err);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	/* A person must never be locked out of the profile they need to
	 * repair: drift is said, and the sandbox gets the pinned values. */
	cli_check_drift(&inst, "exec", false);
	if (cli_refuse_unisolated(ctx, &inst, "exec") < 0) {
		instance_release(&inst);
		return EXIT_FAIL;
	}
	if (gateway_tools_build(&inst, a.gateway_prefix, &tools, &err) < 0) {
		err_print(&err);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	if (a.gateway_prefix && !tools.n_ro_binds)
		cli_errorf("exec: --gateway-prefix %s: no openclaw installed there",
			   a.gateway_prefix);
	if ((a.gateway_prefix && !tools.n_ro_binds) || tools.n_env > MAX_LIST) {
		gateway_cmd_release(&tools);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	add_gateway_tools(&a, &tools);
	a.opt.env = &ctx->env;
	rc = plan_build(&inst, &a.opt, argv + optind, &sb, &err);
	gateway_cmd_release(&tools);
	instance_release(&inst);
	if (rc < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	if (a.tty < 0)
		a.tty = isatty(STDIN_FILENO);
	if (exec_io_open(&io, a.tty, sb, &err) < 0) {
		err_print(&err);
		sandbox_free(sb);
		return EXIT_FAIL;
	}
	/* Blocked before the start, so none is lost: they are taken one at a
	 * time by sigwaitinfo() and forwarded, SIGCHLD means the end. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (a.tty)
		sigaddset(&set, SIGWINCH);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &saved);
	sandbox_want_namespace_ids(sb, a.json_fd >= 0);
	if (sandbox_spawn(sb, &st, &err) < 0) {
		err_print(&err);
		sandbox_free(sb);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return EXIT_FAIL;
	}
	plan_spawned(sb, &a.opt);
	if (a.json_fd >= 0)
		json_start(a.json_fd, &st);
	rc = exec_io_relays(&io) ? run_relayed(&io, sb, &set) : supervise(sb, &set);
	explain_exit(sb, rc);
	if (a.json_fd >= 0)
		dprintf(a.json_fd, "{\"exit-code\": %d}\n", rc);
	sandbox_free(sb);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return rc;
}
