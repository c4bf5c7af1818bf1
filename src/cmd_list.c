/* Placeholder until the command lands. */
#include "cli.h"

int cmd_list(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("list: not implemented yet");
	return EXIT_FAIL;
}
