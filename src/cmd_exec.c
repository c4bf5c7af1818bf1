/* Placeholder until the command lands. */
#include "cli.h"

int cmd_exec(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("exec: not implemented yet");
	return EXIT_FAIL;
}
