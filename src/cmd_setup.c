/* Placeholder until the command lands. */
#include "cli.h"

int cmd_setup(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("setup: not implemented yet");
	return EXIT_FAIL;
}
