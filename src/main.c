/* openclaw-run: run several isolated OpenClaw gateways on one host.
 * main() only captures the environment, parses the global options and
 * dispatches; every command lives in its own cmd_*.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*run)(const struct cli_context *ctx, int argc, char **argv);
	const char *summary;
} commands[] = {
    {"setup", cmd_setup, "create the profile's directories and config, pick a free port block"},
    {"check", cmd_check, "check every instance on the host against the isolation checklist"},
    {"ports", cmd_ports, "print the profile's port block and the role of each port"},
    {"exec", cmd_exec, "run a command in the profile's sandbox"},
    {"gateway", cmd_gateway, "run the profile's OpenClaw gateway in its sandbox, supervised"},
    {"status", cmd_status, "show whether the profile's gateway runs and is healthy"},
    {"stop", cmd_stop, "stop the profile's gateway"},
    {"restart", cmd_restart, "restart the profile's gateway through its running supervisor"},
    {"serve", cmd_serve, "run the gateway in the foreground for a service manager (the unit's)"},
    {"install", cmd_install, "install a systemd unit for the profile's gateway"},
    {"uninstall", cmd_uninstall, "remove the profile's systemd unit"},
    {"list", cmd_list, "list every known profile with its port and state"},
    {"logs", cmd_logs, "print (-f: follow) the supervisor's log of the profile"},
    {"start", cmd_start, "start a gateway whose supervisor waits (stopped by a rescuer)"},
    {"config", cmd_config, "a rescuer's copy of another profile's config: pull|validate|apply"},
    {"entrypoint", cmd_entrypoint,
     "a container's pid 1: set up on a fresh volume, run the gateway"},
    {NULL, NULL, NULL},
};

static const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Inside a sandbox these go to another profile's supervisor (cmd_rescue.c). */
static bool is_remote(const char *name)
{
	static const char *const remote[] = {"status", "logs",	  "stop",
					     "start",  "restart", "config"};

	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (strcmp(name, remote[i]) == 0)
			return true;
	return false;
}

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] COMMAND [OPTIONS]\n"
	      "\n"
	      "Run several OpenClaw gateways on one host, each in its own sandbox with its\n"
	      "own config, state dir, workspace and port block.\n"
	      "\n"
	      "Global options:\n"
	      "  -p, --profile NAME  the instance to act on (default: OPENCLAW_PROFILE, else\n"
	      "                      the default profile)\n"
	      "  -h, --help          show this help (COMMAND --help: the command's help)\n"
	      "  -V, --version       print the version\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\nExit codes: 0 success, 1 failure (check: violations found), 2 usage or\n"
	      "unreadable input, 3 not running (status), 78 gateway config error,\n"
	      "128+N killed by signal N.\n",
	      out);
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"profile", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli_context ctx = {
	    .env =
		{
		    .home = getenv("HOME"),
		    .openclaw_home = getenv("OPENCLAW_HOME"),
		    .state_dir = getenv("OPENCLAW_STATE_DIR"),
		    .config_path = getenv("OPENCLAW_CONFIG_PATH"),
		    .workspace_dir = getenv("OPENCLAW_WORKSPACE_DIR"),
		    .gateway_port = getenv("OPENCLAW_GATEWAY_PORT"),
		    .records_dir = getenv("OPENCLAW_RUN_RECORDS_DIR"),
		    .dir_exists = dir_exists,
		},
	    .sandbox_profile = getenv("OPENCLAW_RUN_SANDBOX"),
	    .rescue_dir = getenv("OPENCLAW_RUN_RESCUE_DIR"),
	};
	int opt;

	opterr = 0; /* bad options are reported in our own words: cli_bad_option() */
	/* "+": stop at the command name; its options are its own. */
	/* Upstream's own CLI takes the profile from OPENCLAW_PROFILE too (a
	 * container sets it once for every command); --profile wins. */
	if (getenv("OPENCLAW_PROFILE") && *getenv("OPENCLAW_PROFILE"))
		ctx.profile = getenv("OPENCLAW_PROFILE");
	while ((opt = getopt_long(argc, argv, "+p:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			ctx.profile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("openclaw-run %s\n", OCR_VERSION);
			return EXIT_OK;
		default:
			return cli_bad_option(NULL, argv);
		}
	}
	if (optind >= argc) {
		if (ctx.profile && find_command(ctx.profile)) {
			cli_errorf(
			    "--profile needs a name before the command: '%s' is a command (e.g. "
			    "openclaw-run --profile NAME %s)",
			    ctx.profile, ctx.profile);
			return EXIT_USAGE;
		}
		usage(stderr);
		return EXIT_USAGE;
	}
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, argv[optind]) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0; /* reset getopt for the command's own parsing */
			if (ctx.sandbox_profile && is_remote(c->name))
				return cli_rescue_run(&ctx, c->name, sub_argc, sub_argv);
			return c->run(&ctx, sub_argc, sub_argv);
		}
	}
	const char *names[sizeof(commands) / sizeof(commands[0])];
	size_t n = 0;

	for (const struct command *c = commands; c->name; c++)
		names[n++] = c->name;
	const char *hint = cli_closest(argv[optind], names, n);
	if (hint)
		cli_errorf("unknown command '%s'; did you mean '%s'? (see openclaw-run --help)",
			   argv[optind], hint);
	else
		cli_errorf("unknown command '%s' (see openclaw-run --help)", argv[optind]);
	return EXIT_USAGE;
}
