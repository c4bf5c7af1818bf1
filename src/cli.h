/* The command line: main.c parses the global options and dispatches to one
 * cmd_*() per command family; each parses its own options (getopt_long) and
 * returns the process exit code. */
#ifndef OCR_CLI_H
#define OCR_CLI_H

#include <stdbool.h>

#include "error.h"
#include "profile.h"

/* Exit codes shared by the commands. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	 /* the operation failed (or check found violations) */
	EXIT_USAGE = 2,	 /* bad command line or unreadable input */
	EXIT_STOPPED = 3 /* status: not running (LSB) */
};

struct cli_context {
	const char *profile; /* --profile NAME, NULL for the default profile */
	struct env_view env; /* captured once in main.c */
};

int cmd_setup(const struct cli_context *ctx, int argc, char **argv);
int cmd_check(const struct cli_context *ctx, int argc, char **argv);
int cmd_ports(const struct cli_context *ctx, int argc, char **argv);
int cmd_exec(const struct cli_context *ctx, int argc, char **argv);
int cmd_gateway(const struct cli_context *ctx, int argc, char **argv);
int cmd_status(const struct cli_context *ctx, int argc, char **argv);
int cmd_stop(const struct cli_context *ctx, int argc, char **argv);
int cmd_list(const struct cli_context *ctx, int argc, char **argv);

/* "openclaw-run: " + the formatted message, on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
