/* Upstream's health contract read from the probe answers (see health.h). */
#include "health.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* The body as upstream's JSON object, or NULL (HTML, empty, truncated). */
static cJSON *body_json(const struct health_answer *a)
{
	cJSON *o;

	if (!a || a->status == 0 || !a->body || !a->body[0])
		return NULL;
	o = cJSON_Parse(a->body);
	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int health_live(const struct health_answer *a)
{
	cJSON *o = body_json(a);
	const char *status;
	int live;

	if (!o)
		return 0;
	status = str_item(o, "status");
	live =
	    a->status == 200 && (status ? strcmp(status, "live") == 0
					: cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")));
	cJSON_Delete(o);
	return live;
}

int health_startup(const struct health_answer *a, char *word, size_t len)
{
	cJSON *o = body_json(a);
	const char *status;
	int started;

	if (len)
		word[0] = '\0';
	status = o ? str_item(o, "status") : NULL;
	if (!status) { /* the Control UI's HTML, a 404, or nothing */
		cJSON_Delete(o);
		return -1;
	}
	snprintf(word, len, "%s", status);
	text_defang_line(word, strlen(word));
	started = a->status == 200 && strcmp(status, "started") == 0;
	cJSON_Delete(o);
	return started;
}

int health_ready(const struct health_answer *a, char *failing, size_t len)
{
	cJSON *o = body_json(a);
	const cJSON *ready, *list, *item;
	size_t n = 0;
	int rc;

	if (len)
		failing[0] = '\0';
	ready = o ? cJSON_GetObjectItemCaseSensitive(o, "ready") : NULL;
	if (!cJSON_IsBool(ready)) {
		cJSON_Delete(o);
		return -1;
	}
	list = cJSON_GetObjectItemCaseSensitive(o, "failing");
	if (!cJSON_IsArray(list))
		list = NULL;
	cJSON_ArrayForEach(item, list)
	{
		if (!cJSON_IsString(item) || n + 1 >= len)
			continue;
		int w = snprintf(failing + n, len - n, "%s%s", n ? ", " : "", item->valuestring);
		n = w < 0 ? n : (size_t)w + n >= len ? len - 1 : n + (size_t)w;
	}
	text_defang_line(failing, n);
	rc = cJSON_IsTrue(ready) && a->status == 200;
	cJSON_Delete(o);
	return rc;
}

void health_judge(const struct health_answer *healthz, const struct health_answer *startupz,
		  const struct health_answer *readyz, struct health_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->live = healthz ? health_live(healthz) : -1;
	v->started = -1;
	if (startupz) {
		v->started = health_startup(startupz, v->startup, sizeof(v->startup));
		if (v->started < 0 && v->live >= 0) {
			v->startup_fallback = true;
			v->started = v->live;
		}
	}
	v->ready = readyz ? health_ready(readyz, v->failing, sizeof(v->failing)) : -1;
	/* A dead server is neither started nor ready, whatever was cached. */
	if (v->live == 0) {
		v->started = startupz ? 0 : -1;
		v->ready = readyz ? 0 : -1;
	}
}

const char *health_word(const struct health_verdict *v)
{
	if (v->live < 0)
		return "unknown";
	if (!v->live)
		return "unhealthy";
	if (v->started == 0)
		return "starting";
	if (v->ready == 0)
		return "degraded";
	return "healthy";
}

bool liveness_record(struct liveness *l, bool live)
{
	if (live) {
		l->failures = 0;
		return false;
	}
	l->failures++;
	return l->interval_ms > 0 && l->failures >= l->failures_max;
}

int64_t liveness_check_budget_ms(int timeout_s)
{
	return (int64_t)timeout_s * 3000 + 5000;
}

int64_t liveness_record_max_age_ms(int interval_s, int timeout_s)
{
	if (interval_s <= 0)
		return 0;
	return (int64_t)interval_s * 2000 + liveness_check_budget_ms(timeout_s > 0 ? timeout_s : 0);
}

bool liveness_record_fresh(int64_t age_ms, int interval_s, int timeout_s)
{
	/* A second of slack backwards: the writer's and our clocks are one,
	 * but its stamp is taken before the requests go out. */
	return age_ms >= -1000 && age_ms <= liveness_record_max_age_ms(interval_s, timeout_s) &&
	       interval_s > 0;
}

int64_t liveness_next_check_ms(int interval_s, int live, int ready, int64_t *recheck_ms)
{
	int64_t interval = (int64_t)interval_s * 1000, next;

	if (live != 1 || ready == 1) {
		*recheck_ms = 0;
		return interval;
	}
	next = *recheck_ms ? *recheck_ms : LIVENESS_RECHECK_FIRST_MS;
	if (next >= interval)
		return interval;
	*recheck_ms = next * 2;
	return next;
}
