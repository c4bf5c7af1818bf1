/* The command line: main.c parses the global options and dispatches to one
 * cmd_*() per command family; each parses its own options (getopt_long) and
 * returns the process exit code. */
#ifndef OCR_CLI_H
#define OCR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "profile.h"

/* Exit codes shared by the commands. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	     /* the operation failed (or check found violations) */
	EXIT_USAGE = 2,	     /* bad command line or unreadable input */
	EXIT_STOPPED = 3,    /* status: not running (LSB) */
	EXIT_NOT_SET_UP = 4, /* status, stop: no such profile here (LSB: unknown) */
};

struct cli_context {
	const char *profile; /* --profile NAME, NULL for the default profile */
	struct env_view env; /* captured once in main.c */
	/* Inside a sandbox (rescue.h): its profile, and where its grants are
	 * (NULL: it may rescue nothing). NULL on the host. */
	const char *sandbox_profile;
	const char *rescue_dir;
};

int cmd_setup(const struct cli_context *ctx, int argc, char **argv);
int cmd_check(const struct cli_context *ctx, int argc, char **argv);
int cmd_ports(const struct cli_context *ctx, int argc, char **argv);
int cmd_exec(const struct cli_context *ctx, int argc, char **argv);
int cmd_gateway(const struct cli_context *ctx, int argc, char **argv);
int cmd_status(const struct cli_context *ctx, int argc, char **argv);
int cmd_stop(const struct cli_context *ctx, int argc, char **argv);
int cmd_restart(const struct cli_context *ctx, int argc, char **argv);
/* `gateway` in the foreground, for a service manager: what the systemd
 * unit runs (cmd_gateway.c). */
int cmd_serve(const struct cli_context *ctx, int argc, char **argv);
int cmd_install(const struct cli_context *ctx, int argc, char **argv);
int cmd_uninstall(const struct cli_context *ctx, int argc, char **argv);
int cmd_list(const struct cli_context *ctx, int argc, char **argv);
int cmd_logs(const struct cli_context *ctx, int argc, char **argv);
int cmd_start(const struct cli_context *ctx, int argc, char **argv);
int cmd_config(const struct cli_context *ctx, int argc, char **argv);
/* Inside a sandbox: CMD (status, logs, stop, start, restart, config) on
 * the profile of CTX through its control socket. (cmd_rescue.c) */
int cli_rescue_run(const struct cli_context *ctx, const char *cmd, int argc, char **argv);
int cmd_entrypoint(const struct cli_context *ctx, int argc, char **argv);

/* The options of the commands that only report (check, ports, status, list):
 * --json, --help and no operand. Returns -1 to go on, or the exit code to
 * return at once (help printed, or bad usage reported). */
/* --port N of setup, gateway and exec: a base whose whole block fits
 * (1024..65425). On error prints "CMD: --port: why" and returns -1. */
int cli_parse_base_port(const char *cmd, const char *text, unsigned *base);
/* A number of seconds, 0..86400. On error prints "CMD: OPTION 'text': ..."
 * and returns -1. */
int cli_parse_seconds(const char *cmd, const char *option, const char *text, int *seconds);

/* A size in bytes, with an optional K, M or G suffix (powers of 1024),
 * 1M..1024G. On error prints "CMD: OPTION 'text': ..." and returns -1. */
int cli_parse_size(const char *cmd, const char *option, const char *text, uint64_t *bytes);

int cli_parse_json_help(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
			bool *json);
/* --timeout S, --help and no operand (stop, restart): -1 to go on, or the
 * exit code to return at once. (cmd_stop.c) */
int cli_parse_timeout(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
		      int *timeout_s);

struct instance;
/* Refuses SELF when `check` finds a violation involving it against every
 * other instance of the user: prints each one ("CMD: refusing ...") and
 * returns -1; 0 when SELF is clean. (cmd_check.c) */
int cli_refuse_unisolated(const struct cli_context *ctx, const struct instance *self,
			  const char *cmd);

struct instance_set;
/* "openclaw-run: warning: CMD: ..." for each instance the scan could not read. */
void cli_warn_scan_problems(const struct instance_set *set, const char *cmd);

/* The config against the pins (trust.h), and a config that does not parse.
 * REFUSE (gateway): print why and return -1. Otherwise (exec): warn and
 * return 0, the sandbox runs on the pins. */
int cli_check_drift(const struct instance *inst, const char *cmd, bool refuse);

/* getopt's '?' in CMD (NULL: the global options): "CMD: bad option '--x'
 * (...); see openclaw-run CMD --help". Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv);
/* The candidate within a small edit distance of WORD, or NULL. */
const char *cli_closest(const char *word, const char *const *candidates, size_t n);
/* -1 when the profile of CTX is set up (state dir, config or records
 * exist); otherwise prints "profile 'x' is not set up; did you mean ...?"
 * and returns EXIT_NOT_SET_UP (or EXIT_USAGE for a bad name). */
int cli_require_set_up(const struct cli_context *ctx, const char *cmd);

/* Files in the instance's state dir that its sandbox's account does not
 * own (ownership.h). REFUSE: an error, returns -1; else a warning, returns
 * 1. 0 when there are none. */
int cli_check_ownership(const struct instance *inst, const char *cmd, bool refuse);
struct ownership_report;
/* The same scan, quiet: the number of foreign entries (R says the first). */
size_t cli_foreign_files(const struct instance *inst, struct ownership_report *r);
/* Says what R found, with the fix: an error when REFUSE, else a warning. */
void cli_report_foreign(const struct instance *inst, const struct ownership_report *r,
			const char *cmd, bool refuse);

/* "openclaw-run: " + the formatted message, on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
