/* Which commands `exec` recognises as upstream's own `openclaw gateway
 * restart` (gateway_env.h): the spellings upstream's CLI accepts for it,
 * and nothing else. */
#include <criterion/criterion.h>

#include "gateway_env.h"

#define ARGV(...) ((char *const[]){__VA_ARGS__, NULL})

Test(upstream_restart, the_spellings_upstream_accepts)
{
	cr_assert(gateway_argv_is_upstream_restart(ARGV("openclaw", "gateway", "restart")));
	cr_assert(gateway_argv_is_upstream_restart(ARGV("openclaw", "daemon", "restart")));
	cr_assert(gateway_argv_is_upstream_restart(
	    ARGV("/opt/openclaw-run/node_modules/.bin/openclaw", "gateway", "restart", "--json")));
	cr_assert(gateway_argv_is_upstream_restart(
	    ARGV("node", "--no-warnings", "/x/openclaw.mjs", "gateway", "restart", "--force")));
	cr_assert(gateway_argv_is_upstream_restart(ARGV("openclaw", "--profile", "main", "--dev",
							"gateway", "--log-level", "debug",
							"restart", "--safe")));
	cr_assert(gateway_argv_is_upstream_restart(
	    ARGV("openclaw", "--profile=main", "gateway", "restart", "--wait", "30s")));
	cr_assert(gateway_argv_is_upstream_restart(ARGV("openclaw", "--", "gateway", "restart")));
}

Test(upstream_restart, everything_else_runs)
{
	cr_assert_not(gateway_argv_is_upstream_restart(ARGV("openclaw", "gateway", "health")));
	cr_assert_not(gateway_argv_is_upstream_restart(ARGV("openclaw", "gateway", "stop")));
	cr_assert_not(gateway_argv_is_upstream_restart(ARGV("openclaw", "gateway")));
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("openclaw", "gateway", "restart", "--help")));
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("openclaw", "-h", "gateway", "restart")));
	/* "gateway" is the profile's name here, "restart" the command. */
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("openclaw", "--profile", "gateway", "restart")));
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("openclaw", "agent", "gateway", "restart")));
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("sh", "-c", "openclaw gateway restart")));
	cr_assert_not(gateway_argv_is_upstream_restart(ARGV("echo", "gateway", "restart")));
	cr_assert_not(
	    gateway_argv_is_upstream_restart(ARGV("node", "app.js", "gateway", "restart")));
	cr_assert_not(gateway_argv_is_upstream_restart(ARGV("openclaw-run", "gateway", "restart")));
}
