/* openclaw-run [--profile NAME] stop [--timeout S]: graceful stop through
 * the supervisor (SIGTERM to it; it gives the gateway its grace period,
 * then kills the sandbox). Exit 0 once nothing of the profile runs. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "gateway_status.h"
#include "registry.h"

#define STOP_DEFAULT_TIMEOUT_S 60 /* above the supervisor's default grace (30 s) */

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run [--profile NAME] stop [--timeout S]\n"
	      "\n"
	      "Stop the profile's gateway through its supervisor: SIGTERM, the supervisor's\n"
	      "grace period, then SIGKILL of the whole sandbox. Waits until the supervisor\n"
	      "and every process of the sandbox are gone; after --timeout seconds (default\n"
	      "60) it kills them itself.\n"
	      "\n"
	      "Exit codes: 0 nothing of the profile runs any more, 1 something survived.\n",
	      out);
}

/* Nothing left: no supervisor holds the lock and the sandbox's init (as
 * recorded, checked against pid reuse) is gone. */
static bool all_gone(const struct instance *inst, struct gateway_view *v)
{
	ocr_error err = {0};

	if (gateway_view_get(inst, NULL, false, v, &err) < 0)
		return false;
	return !v->running && !v->orphan;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* *SIGNALED non-NULL: SIGTERM whoever holds the lock now, once. The holder
 * can change while we wait: a --detach caller hands the lock to its
 * daemon, which then writes its own pid. */
static bool wait_gone(const struct instance *inst, struct gateway_view *v, long timeout_ms,
		      pid_t *signaled)
{
	int64_t deadline = runtime_now_ms() + timeout_ms;

	while (!all_gone(inst, v)) {
		pid_t sup = gateway_view_supervisor_pid(v);

		if (signaled && sup > 0 && sup != *signaled && kill(sup, SIGTERM) == 0)
			*signaled = sup;
		if (runtime_now_ms() >= deadline)
			return false;
		pause_ms(100);
	}
	return true;
}

int cmd_stop(const struct cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct instance inst = {0};
	struct gateway_view v;
	ocr_error err = {0};
	int timeout_s = STOP_DEFAULT_TIMEOUT_S;
	int opt, rc = EXIT_FAIL;

	while ((opt = getopt_long(argc, argv, "t:h", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (cli_parse_seconds("stop", "--timeout", optarg, &timeout_s) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option("stop", argv);
		}
	}
	if (optind < argc) {
		cli_errorf("stop: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = cli_require_set_up(ctx, "stop")) >= 0)
		return rc;
	rc = EXIT_FAIL;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_USAGE;
	}
	const char *label = profile_label(&inst.profile);
	if (gateway_view_get(&inst, NULL, false, &v, &err) < 0) {
		err_print(&err);
		goto out;
	}
	if (v.orphan && !v.running) {
		/* A sandbox without a supervisor: nobody is left to be graceful. */
		cli_warnf("%s: killing sandbox pid %ld, left without a supervisor", label,
			  (long)v.st.init_pid);
		kill(v.st.init_pid, SIGKILL);
	} else if (!v.running) {
		printf("%s: not running\n", label);
		rc = EXIT_OK;
		goto out;
	} else if (v.foreign_pid_ns) {
		cli_errorf("stop: %s: its supervisor runs in another pid namespace (a "
			   "container?): stop it there",
			   label);
		goto out;
	} else {
		pid_t sup = gateway_view_supervisor_pid(&v);

		if (sup <= 0 || (kill(sup, SIGTERM) < 0 && errno != ESRCH)) {
			cli_errorf("stop: %s: cannot signal supervisor pid %ld: %s", label,
				   (long)sup, strerror(errno));
			goto out;
		}
		if (!wait_gone(&inst, &v, (long)timeout_s * 1000, &sup)) {
			/* The holder as of now: the pid signalled first may be gone
			 * and reused. */
			sup = gateway_view_supervisor_pid(&v);
			cli_warnf("%s: still running after %d s: killing supervisor pid %ld and "
				  "its sandbox",
				  label, timeout_s, (long)sup);
			if (v.st.init_pid > 0 &&
			    runtime_pid_alive(v.st.init_pid, v.st.init_start_ticks))
				kill(v.st.init_pid, SIGKILL);
			if (sup > 0)
				kill(sup, SIGKILL);
		}
	}
	if (!wait_gone(&inst, &v, 10000, NULL)) {
		cli_errorf("stop: %s: processes survived (supervisor %ld, sandbox %ld)", label,
			   (long)v.lock_pid, (long)v.st.init_pid);
		goto out;
	}
	if (v.have_state && v.st.last_exit >= 0)
		printf("%s: stopped (gateway exit %d)\n", label, v.st.last_exit);
	else
		printf("%s: stopped\n", label);
	rc = EXIT_OK;
out:
	instance_release(&inst);
	return rc;
}
