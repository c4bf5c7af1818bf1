/* The supervisor's restart policy (see supervisor.h): pure, so the unit
 * tests can drive it with made-up clocks. */
#include <string.h>

#include "supervisor.h"

void restart_policy_init(struct restart_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->next_delay_ms = BACKOFF_INITIAL_MS;
}

enum restart_action restart_policy_on_exit(struct restart_policy *p, int64_t now_ms,
					   int64_t uptime_ms, int exit_code, int64_t *delay_ms)
{
	unsigned recent = 0;

	*delay_ms = 0;
	/* A gateway that ran for a long time before dying is not in a loop:
	 * forget the old failures and start backing off from scratch. */
	if (uptime_ms >= BACKOFF_RESET_UPTIME_MS)
		restart_policy_init(p);
	if (exit_code == GATEWAY_EXIT_CONFIG_ERROR)
		return RESTART_GIVE_UP_CONFIG;
	p->failures[p->head] = now_ms;
	p->head = (p->head + 1) % CRASH_LOOP_FAILURES;
	if (p->n_failures < CRASH_LOOP_FAILURES)
		p->n_failures++;
	for (unsigned i = 0; i < p->n_failures; i++)
		if (now_ms - p->failures[i] < CRASH_LOOP_WINDOW_MS)
			recent++;
	if (recent >= CRASH_LOOP_FAILURES)
		return RESTART_GIVE_UP_CRASH_LOOP;
	*delay_ms = p->next_delay_ms;
	p->next_delay_ms =
	    p->next_delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->next_delay_ms * 2;
	return RESTART_AFTER_DELAY;
}
