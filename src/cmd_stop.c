/* Placeholder until the command lands. */
#include "cli.h"

int cmd_stop(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("stop: not implemented yet");
	return EXIT_FAIL;
}
