/* Placeholder until the command lands. */
#include "cli.h"

int cmd_check(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("check: not implemented yet");
	return EXIT_FAIL;
}
