/* openclaw-run [--profile NAME] gateway|serve: parse the command line, then
 * launch (launch.h) the profile's OpenClaw gateway in its sandbox under the
 * supervisor, in the foreground or detached. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "launch.h"
#include "supervisor.h"

static void usage(FILE *out)
{
	fputs(
	    "Usage: openclaw-run [--profile NAME] gateway [OPTIONS] [-- EXTRA_ARGS]\n"
	    "\n"
	    "Start the profile's OpenClaw gateway in its sandbox and keep it running. A run\n"
	    "counts as started once upstream's /startupz says \"started\" (/healthz for a\n"
	    "gateway without /startupz); /readyz is reported, never waited for: a broken\n"
	    "channel account must not fail a start. Then /healthz is checked on an interval;\n"
	    "a gateway that fails N checks in a row (a hung event loop answers nothing) is\n"
	    "restarted. A gateway that dies is restarted (backoff 1 s doubling to 60 s, reset\n"
	    "after 10 min up); 5 failures within 2 minutes stop it. Exit 78 (config error):\n"
	    "`openclaw doctor --fix --yes --non-interactive` runs once in the sandbox, the\n"
	    "gateway is retried once, then the launcher stops with 78. SIGHUP restarts the\n"
	    "gateway, SIGTERM/SIGINT stop it (SIGTERM, then SIGKILL of the whole sandbox after\n"
	    "the grace period; a second SIGINT kills at once). One launcher per profile.\n"
	    "\n"
	    "Options:\n"
	    "  -P, --port N              base port (default: the profile's gateway.port)\n"
	    "  -d, --detach              run in the background, log to openclaw-run's log\n"
	    "                            dir (/var/log/openclaw-run, ~/.local/state/...),\n"
	    "                            return once the gateway started\n"
	    "      --grace S             seconds between SIGTERM and SIGKILL (default 30)\n"
	    "      --start-grace S       seconds a run may take to say started (default 300;\n"
	    "                            --ready-timeout is an old name for it)\n"
	    "      --liveness-interval S seconds between /healthz checks (default 30; 0: off)\n"
	    "      --liveness-failures N failed checks in a row before a restart (default 4)\n"
	    "      --liveness-timeout S  seconds each check may take (default 10)\n"
	    "      --no-doctor           on exit 78 stop at once, without the doctor pass\n"
	    "      --bonjour             let the gateway advertise itself on the LAN (off:\n"
	    "                            OPENCLAW_DISABLE_BONJOUR=1)\n"
	    "  -e, --env KEY=VALUE       add to the gateway's environment (repeatable)\n"
	    "      --gateway-prefix DIR  where scripts/install-openclaw installed node and\n"
	    "                            openclaw (default /opt/openclaw-run as root,\n"
	    "                            ~/.local/share/openclaw-run otherwise)\n"
	    "      --gateway-cmd PATH    run PATH [EXTRA_ARGS] instead of `openclaw gateway run`\n"
	    "                            (and `PATH doctor --fix ...` for the doctor pass)\n"
	    "      --net host|none       network: the host's (default) or a private loopback\n"
	    "      --user NAME           as root: the host user the gateway runs as\n"
	    "      --strict              missing Landlock network rules or cgroup v2 is an error\n"
	    "      --tmp-size SIZE       size of /tmp and of /dev/shm each (default 256M)\n"
	    "      --forward-signals     pass SIGHUP on to the gateway instead of restarting it\n"
	    "                            (a container's pid 1: `openclaw-run entrypoint`)\n"
	    "      --no-namespaces       where the host refuses them (a container engine's\n"
	    "                            defaults): no namespaces, no private root; keeps no\n"
	    "                            capabilities, no_new_privs, seccomp, Landlock\n"
	    "  -h, --help                show this help\n"
	    "\n"
	    "EXTRA_ARGS go to the gateway after `gateway run --port BASE --bind loopback`.\n"
	    "Under systemd (NOTIFY_SOCKET set) it speaks sd_notify: READY=1 once started,\n"
	    "STATUS=, STOPPING=1, and WATCHDOG=1 when the unit sets WatchdogSec=.\n"
	    "\n"
	    "Exit codes:\n"
	    "  0   stopped on request, the gateway ended within the grace period\n"
	    "  1   could not start (already running, check violation, sandbox error)\n"
	    "  2   bad command line\n"
	    "  4   crash loop: 5 failures within 2 minutes, gave up\n"
	    "  5   never started within --start-grace\n"
	    "  6   stopped on request, the gateway had to be killed after the grace period\n"
	    "  78  the gateway reported a configuration or state error (after the doctor\n"
	    "      pass and one retry; not retried further)\n",
	    out);
}

static int parse_count(const char *text, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (!*text || *end || v < 1 || v > 1000) {
		cli_errorf("gateway: --liveness-failures '%s': expected 1..1000", text);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_option(int opt, struct gateway_launch *a)
{
	switch (opt) {
	case 'P':
		return cli_parse_base_port("gateway", optarg, &a->port);
	case 'd':
		a->detach = true;
		return 0;
	case 'g':
		return cli_parse_seconds("gateway", "--grace", optarg, &a->grace_s);
	case 'r':
		return cli_parse_seconds("gateway", "--start-grace", optarg, &a->start_grace_s);
	case 'i':
		return cli_parse_seconds("gateway", "--liveness-interval", optarg,
					 &a->liveness_interval_s);
	case 'f':
		return parse_count(optarg, &a->liveness_failures);
	case 't':
		return cli_parse_seconds("gateway", "--liveness-timeout", optarg,
					 &a->liveness_timeout_s);
	case 'D':
		a->no_doctor = true;
		return 0;
	case 'B':
		a->bonjour = true;
		return 0;
	case 'e':
		if (!strchr(optarg, '=') || optarg[0] == '=') {
			cli_errorf("gateway: --env wants KEY=VALUE, got '%s'", optarg);
			return -1;
		}
		a->env[a->n_env++] = optarg;
		return 0;
	case 'x':
		a->prefix = optarg;
		return 0;
	case 'c':
		a->cmd = optarg;
		return 0;
	case 'n':
		if (strcmp(optarg, "host") == 0)
			a->net = SANDBOX_NET_HOST;
		else if (strcmp(optarg, "none") == 0)
			a->net = SANDBOX_NET_NONE;
		else
			return cli_errorf("gateway: --net is host or none, not '%s'", optarg), -1;
		return 0;
	case 'u':
		a->user = optarg;
		return 0;
	case 's':
		a->strict = true;
		return 0;
	case 'T':
		return cli_parse_size("gateway", "--tmp-size", optarg, &a->tmp_size);
	case 'F':
		a->forward_signals = true;
		return 0;
	case 'N':
		a->no_namespaces = true;
		return 0;
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct gateway_launch *a)
{
	static const struct option options[] = {
	    {"port", required_argument, NULL, 'P'},
	    {"detach", no_argument, NULL, 'd'},
	    {"grace", required_argument, NULL, 'g'},
	    {"start-grace", required_argument, NULL, 'r'},
	    {"ready-timeout", required_argument, NULL, 'r'},
	    {"liveness-interval", required_argument, NULL, 'i'},
	    {"liveness-failures", required_argument, NULL, 'f'},
	    {"liveness-timeout", required_argument, NULL, 't'},
	    {"no-doctor", no_argument, NULL, 'D'},
	    {"bonjour", no_argument, NULL, 'B'},
	    {"env", required_argument, NULL, 'e'},
	    {"gateway-prefix", required_argument, NULL, 'x'},
	    {"gateway-cmd", required_argument, NULL, 'c'},
	    {"net", required_argument, NULL, 'n'},
	    {"user", required_argument, NULL, 'u'},
	    {"strict", no_argument, NULL, 's'},
	    {"tmp-size", required_argument, NULL, 'T'},
	    {"forward-signals", no_argument, NULL, 'F'},
	    {"no-namespaces", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	a->grace_s = SUPERVISOR_GRACE_S;
	a->start_grace_s = SUPERVISOR_START_GRACE_S;
	a->liveness_interval_s = SUPERVISOR_LIVENESS_INTERVAL_S;
	a->liveness_failures = SUPERVISOR_LIVENESS_FAILURES;
	a->liveness_timeout_s = SUPERVISOR_LIVENESS_TIMEOUT_S;
	a->net = SANDBOX_NET_HOST;
	a->env = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->env)
		return EXIT_FAIL;
	while ((opt = getopt_long(argc, argv, "+P:de:h", options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return -1;
		}
		if (opt == '?')
			return cli_bad_option("gateway", argv);
		if (parse_option(opt, a) < 0)
			return EXIT_USAGE;
	}
	if (a->start_grace_s < 1 || a->liveness_timeout_s < 1) {
		cli_errorf("gateway: --start-grace and --liveness-timeout must be at least 1 s");
		return EXIT_USAGE;
	}
	a->extra = argv + optind;
	a->n_extra = argc - optind;
	return 0;
}

/* Parse, launch (launch.c), return its exit code. */
static int run(const struct cli_context *ctx, int argc, char **argv, bool serve)
{
	struct gateway_launch a = {0};
	int rc = parse_args(argc, argv, &a);

	if (rc == 0 && serve && a.detach) {
		cli_errorf("serve: runs in the foreground for a service manager: no --detach");
		rc = EXIT_USAGE;
	}
	if (rc == 0)
		rc = gateway_launch(ctx, &a);
	else if (rc < 0)
		rc = EXIT_OK; /* --help */
	free(a.env);
	return rc;
}

int cmd_gateway(const struct cli_context *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, false);
}

/* What the systemd unit runs: `gateway` in the foreground under another
 * name, because upstream's inspector flags a unit whose command line holds
 * "openclaw" and a "gateway" word as a stray extra gateway (service.h). */
int cmd_serve(const struct cli_context *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, true);
}
