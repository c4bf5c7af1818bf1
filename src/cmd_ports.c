/* Placeholder until the command lands. */
#include "cli.h"

int cmd_ports(const struct cli_context *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	cli_errorf("ports: not implemented yet");
	return EXIT_FAIL;
}
