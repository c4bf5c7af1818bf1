/* Upstream's health contract read from probe answers (health.c), the
 * watchdog's count, and the probe child's line protocol (probe.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "probe.h"
#include "text.h"

static struct health_answer ans(int status, const char *body)
{
	return (struct health_answer){status, 1.0, body, ""};
}

Test(health, healthz_needs_the_json)
{
	struct health_answer a = ans(200, "{\"ok\":true,\"status\":\"live\"}");

	cr_assert_eq(health_live(&a), 1);
	a = ans(200, "<!doctype html><html></html>");
	cr_assert_eq(health_live(&a), 0, "the Control UI's HTML is no answer");
	a = ans(0, "");
	cr_assert_eq(health_live(&a), 0);
	a = ans(503, "{\"ok\":false,\"status\":\"draining\"}");
	cr_assert_eq(health_live(&a), 0);
}

Test(health, startupz_started_pending_or_absent)
{
	char word[16];
	struct health_answer a = ans(200, "{\"ok\":true,\"status\":\"started\",\"uptimeMs\":5}");

	cr_assert_eq(health_startup(&a, word, sizeof(word)), 1);
	cr_assert_str_eq(word, "started");
	a = ans(503, "{\"ok\":false,\"status\":\"starting\"}");
	cr_assert_eq(health_startup(&a, word, sizeof(word)), 0);
	cr_assert_str_eq(word, "starting");
	a = ans(503, "{\"ok\":false,\"status\":\"draining\"}");
	cr_assert_eq(health_startup(&a, word, sizeof(word)), 0);
	/* An older gateway: HTML with 200, or a JSON 404 without a status. */
	a = ans(200, "<!doctype html>");
	cr_assert_eq(health_startup(&a, word, sizeof(word)), -1);
	a = ans(404, "{\"error\":\"not found\"}");
	cr_assert_eq(health_startup(&a, word, sizeof(word)), -1);
}

Test(health, readyz_lists_what_fails)
{
	char failing[HEALTH_FAILING_MAX];
	struct health_answer a =
	    ans(503, "{\"ready\":false,\"failing\":[\"telegram\",\"agent-database:main\"]}");

	cr_assert_eq(health_ready(&a, failing, sizeof(failing)), 0);
	cr_assert_str_eq(failing, "telegram, agent-database:main");
	a = ans(200, "{\"ready\":true,\"failing\":[],\"eventLoop\":{\"degraded\":false}}");
	cr_assert_eq(health_ready(&a, failing, sizeof(failing)), 1);
	cr_assert_str_eq(failing, "");
	a = ans(200, "<html>");
	cr_assert_eq(health_ready(&a, failing, sizeof(failing)), -1);
	/* A tiny buffer cuts the list, never overflows. */
	char small[8];
	a = ans(503, "{\"ready\":false,\"failing\":[\"telegram\",\"discord\"]}");
	cr_assert_eq(health_ready(&a, small, sizeof(small)), 0);
	cr_assert_lt(strlen(small), sizeof(small));
}

Test(health, judge_and_word)
{
	struct health_answer hz = ans(200, "{\"ok\":true,\"status\":\"live\"}");
	struct health_answer su = ans(200, "<!doctype html>");
	struct health_answer rz = ans(503, "{\"ready\":false,\"failing\":[\"telegram\"]}");
	struct health_verdict v;

	health_judge(&hz, &su, &rz, &v);
	cr_assert_eq(v.live, 1);
	cr_assert_eq(v.started, 1);
	cr_assert(v.startup_fallback);
	cr_assert_eq(v.ready, 0);
	cr_assert_str_eq(health_word(&v), "degraded");

	su = ans(503, "{\"status\":\"starting\"}");
	health_judge(&hz, &su, &rz, &v);
	cr_assert_str_eq(health_word(&v), "starting");

	hz = ans(0, "");
	health_judge(&hz, NULL, NULL, &v);
	cr_assert_str_eq(health_word(&v), "unhealthy");
	cr_assert_eq(v.ready, -1);
}

Test(health, liveness_restarts_after_n_failures_in_a_row)
{
	struct liveness l = {.interval_ms = 30000, .failures_max = 3};

	cr_assert_not(liveness_record(&l, false));
	cr_assert_not(liveness_record(&l, false));
	cr_assert_not(liveness_record(&l, true), "a success resets the count");
	cr_assert_not(liveness_record(&l, false));
	cr_assert_not(liveness_record(&l, false));
	cr_assert(liveness_record(&l, false));
	struct liveness off = {.interval_ms = 0, .failures_max = 1};
	cr_assert_not(liveness_record(&off, false));
}

/* How long the supervisor's latest check stands for the gateway's health
 * in `status`: two intervals plus one check's budget (three timeouts and
 * the probe's start), never with the watchdog off, never from the future. */
Test(liveness, a_record_is_fresh_for_two_intervals_and_one_check)
{
	cr_assert_eq(liveness_check_budget_ms(10), 35000);
	cr_assert_eq(liveness_record_max_age_ms(30, 10), 60000 + 35000);
	cr_assert_eq(liveness_record_max_age_ms(0, 10), 0);
	cr_assert(liveness_record_fresh(0, 30, 10));
	cr_assert(liveness_record_fresh(95000, 30, 10));
	cr_assert_not(liveness_record_fresh(95001, 30, 10));
	cr_assert(liveness_record_fresh(-1000, 30, 10), "the stamp precedes the requests");
	cr_assert_not(liveness_record_fresh(-60000, 30, 10), "a clock that went back");
	cr_assert_not(liveness_record_fresh(0, 0, 10), "the watchdog is off");
	cr_assert_eq(liveness_record_max_age_ms(1, 1), 2000 + 8000);
}

/* Live but not ready: checked again after 1, 2, 4, ... s up to the
 * interval; a ready or a failed check waits the interval and starts over. */
Test(liveness, a_gateway_not_ready_yet_is_checked_again_sooner)
{
	int64_t r = 0;

	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 1000);
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 2000);
	cr_assert_eq(liveness_next_check_ms(30, 1, -1, &r), 4000, "unreadable /readyz");
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 8000);
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 16000);
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 30000);
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 30000, "stays at the interval");
	cr_assert_eq(liveness_next_check_ms(30, 1, 1, &r), 30000);
	cr_assert_eq(liveness_next_check_ms(30, 1, 0, &r), 1000, "a new outage starts over");
	cr_assert_eq(liveness_next_check_ms(30, 0, -1, &r), 30000, "a failed check");
	cr_assert_eq(r, 0);
	cr_assert_eq(liveness_next_check_ms(1, 1, 0, &r), 1000);
	cr_assert_eq(liveness_next_check_ms(1, 1, 0, &r), 1000);
}

Test(probe, report_round_trip)
{
	struct health_report r = {.at_ms = 1234567890123LL,
				  .healthz = {200, 1.5},
				  .startupz = {200, 0.75},
				  .readyz = {503, 2.25}};
	struct probe_line line;
	char buf[1024];

	r.v = (struct health_verdict){.live = 1, .started = 1, .ready = 0};
	snprintf(r.v.startup, sizeof(r.v.startup), "started");
	snprintf(r.v.failing, sizeof(r.v.failing), "tele|gram\nx, discord");
	snprintf(r.error, sizeof(r.error), "not live");
	probe_format_report(&r, buf, sizeof(buf));
	cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1, "one line: %s", buf);
	*strchr(buf, '\n') = '\0';
	probe_parse_line(buf, &line);
	cr_assert_eq(line.kind, 'C');
	cr_assert_eq(line.report.at_ms, r.at_ms);
	cr_assert_eq(line.report.v.live, 1);
	cr_assert_eq(line.report.v.ready, 0);
	cr_assert_eq(line.report.readyz.status, 503);
	cr_assert_str_eq(line.report.v.startup, "started");
	cr_assert_str_eq(line.report.v.failing, "tele gram x, discord");
	cr_assert_str_eq(line.report.error, "not live");
	probe_parse_line("L", &line);
	cr_assert_eq(line.kind, 'L');
	probe_parse_line("E no libcurl", &line);
	cr_assert_eq(line.kind, 'E');
	cr_assert_str_eq(line.text, "no libcurl");
	probe_parse_line("C garbage", &line);
	cr_assert_eq(line.kind, 0);
}

/* The gateway's words reach a person's terminal: no escape sequence of its
 * own may come with them (a payload could retitle the terminal or overwrite
 * a line with a fake "openclaw-run: ... ok"). */
Test(health, answers_lose_control_characters)
{
	const char *body = "{\"ready\": false, \"failing\": [\"db\\u001b]0;pwned\\u0007\", "
			   "\"x\\r\\u001b[2Kopenclaw-run: all good\", \"c1\\u009b31m\"]}";
	struct health_answer a = {.status = 503, .body = body};
	char failing[256];
	char text[] = "ok\n\x1b[31mred\x7f\tend\xc2\x9b";

	cr_assert_eq(health_ready(&a, failing, sizeof(failing)), 0);
	cr_assert_str_eq(failing, "db?]0;pwned?, x??[2Kopenclaw-run: all good, c1??31m");
	text_defang(text, strlen(text));
	cr_assert_str_eq(text, "ok\n?[31mred?\tend??");
}

/* A word of the payload's is printed inside a line of ours (`list`'s row,
 * `status`'s "(failing: ...)"): it cannot start a line or a column. */
Test(health, answers_stay_on_their_line)
{
	const char *body = "{\"ready\": false, \"failing\": [\"db\\nb  running  healthy\\tx\"]}";
	struct health_answer a = {.status = 503, .body = body};
	char failing[256];
	char text[] = "a\nb\tc\x1b";

	cr_assert_eq(health_ready(&a, failing, sizeof(failing)), 0);
	cr_assert_str_eq(failing, "db?b  running  healthy?x");
	text_defang_line(text, strlen(text));
	cr_assert_str_eq(text, "a?b?c?");
}
