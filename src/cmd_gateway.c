/* Placeholder until the command lands. */
#include "cli.h"

int cmd_gateway(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("gateway: not implemented yet");
	return EXIT_FAIL;
}
