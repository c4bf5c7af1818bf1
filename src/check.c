/* The isolation checklist: see check.h. Paths were normalised by profile.c,
 * so sharing and nesting are string comparisons. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_cache.h"
#include "config.h"

__attribute__((format(printf, 7, 8))) static int add(struct violation_list *list,
						     enum violation_kind kind, size_t a, size_t b,
						     unsigned port, ocr_error *err, const char *fmt,
						     ...)
{
	struct violation *bigger = realloc(list->items, (list->n + 1) * sizeof(*bigger));
	struct violation *v;
	va_list ap;

	if (!bigger)
		return err_set(err, ENOMEM, "violation list");
	list->items = bigger;
	v = &list->items[list->n++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->a = a;
	v->b = b;
	v->port = port;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return 0;
}

/* "profile \"rescue\" (state dir /home/u/.openclaw-rescue)": two instances of
 * the default profile differ only by their paths. */
static const char *who(const struct instance *inst, char *buf, size_t len)
{
	snprintf(buf, len, "profile \"%s\" (state dir %s)", profile_label(&inst->profile),
		 inst->profile.state_dir);
	return buf;
}

static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return strcmp(path, "/") != 0;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int check_one(const struct instance *inst, size_t i, struct violation_list *out,
		     ocr_error *err)
{
	ocr_error why = {0};
	char w[PATH_MAX + 128];

	if (port_block_validate(&inst->ports, &why) == 0)
		return 0;
	return add(out, VIOLATION_BAD_PORT, i, i, inst->ports.base, err, "%s: %s (from %s)",
		   who(inst, w, sizeof(w)), why.msg, port_base_origin_label(inst->ports.origin));
}

static int check_shared(const struct instance *inst, size_t i, size_t j, struct violation_list *out,
			bool *shared, ocr_error *err)
{
	const struct profile *a = &inst[i].profile, *b = &inst[j].profile;
	char wa[PATH_MAX + 128], wb[PATH_MAX + 128];
	const struct {
		enum violation_kind kind;
		const char *pa, *pb, *what;
	} pairs[] = {
	    {VIOLATION_SHARED_CONFIG, a->config_path, b->config_path, "config file"},
	    {VIOLATION_SHARED_STATE_DIR, a->state_dir, b->state_dir, "state dir"},
	    {VIOLATION_SHARED_WORKSPACE, a->workspace, b->workspace, "workspace"},
	};

	*shared = false;
	for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		if (strcmp(pairs[k].pa, pairs[k].pb) != 0)
			continue;
		*shared = true;
		if (add(out, pairs[k].kind, i, j, 0, err, "%s and %s share the %s %s",
			who(&inst[i], wa, sizeof(wa)), who(&inst[j], wb, sizeof(wb)), pairs[k].what,
			pairs[k].pa) < 0)
			return -1;
	}
	return 0;
}

static int check_ports(const struct instance *inst, size_t i, size_t j, struct violation_list *out,
		       ocr_error *err)
{
	const struct port_block *a = &inst[i].ports, *b = &inst[j].ports;
	char wa[PATH_MAX + 128], wb[PATH_MAX + 128];
	unsigned port;

	if (port_block_validate(a, NULL) < 0 || port_block_validate(b, NULL) < 0)
		return 0;
	port = port_blocks_first_collision(a, b);
	if (!port)
		return 0;
	return add(out, VIOLATION_PORT_OVERLAP, i, j, port, err,
		   "%s and %s overlap: ports %u..%u and %u..%u, first shared port %u (%s "
		   "of %s, %s of %s)",
		   who(&inst[i], wa, sizeof(wa)), who(&inst[j], wb, sizeof(wb)), a->base,
		   port_block_last(a), b->base, port_block_last(b), port, port_role_of(a, port),
		   profile_label(&inst[i].profile), port_role_of(b, port),
		   profile_label(&inst[j].profile));
}

/* Every CDP URL an instance's config names, with its key. */
static size_t cdp_urls(const cJSON *cfg, const char *urls[], const char *keys[], size_t max)
{
	const cJSON *prof;
	size_t n = 0;

	if (config_get_string(cfg, "browser.cdpUrl")) {
		urls[n] = config_get_string(cfg, "browser.cdpUrl");
		keys[n++] = "cdpUrl";
	}
	cJSON_ArrayForEach(prof, config_get(cfg, "browser.profiles"))
	{
		const char *u =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(prof, "cdpUrl"));

		if (u && n < max && prof->string) {
			urls[n] = u;
			keys[n++] = prof->string;
		}
	}
	return n;
}

static bool same_url(const char *x, const char *y)
{
	size_t nx = strlen(x), ny = strlen(y);

	/* "http://h:9222/" and "http://h:9222" reach the same browser. */
	while (nx > 0 && x[nx - 1] == '/')
		nx--;
	while (ny > 0 && y[ny - 1] == '/')
		ny--;
	return nx == ny && strncasecmp(x, y, nx) == 0;
}

static int check_cdp(const struct instance *inst, size_t i, size_t j, struct violation_list *out,
		     ocr_error *err)
{
	const char *ua[PORT_EXPLICIT_MAX], *ub[PORT_EXPLICIT_MAX];
	const char *ka[PORT_EXPLICIT_MAX], *kb[PORT_EXPLICIT_MAX];
	size_t na = cdp_urls(inst[i].config, ua, ka, PORT_EXPLICIT_MAX);
	size_t nb = cdp_urls(inst[j].config, ub, kb, PORT_EXPLICIT_MAX);
	char wa[PATH_MAX + 128], wb[PATH_MAX + 128];

	for (size_t x = 0; x < na; x++) {
		for (size_t y = 0; y < nb; y++) {
			if (!same_url(ua[x], ub[y]))
				continue;
			if (add(out, VIOLATION_SHARED_CDP_URL, i, j, 0, err,
				"%s and %s use the same CDP URL %s (browser %s%s / browser %s%s)",
				who(&inst[i], wa, sizeof(wa)), who(&inst[j], wb, sizeof(wb)), ua[x],
				strcmp(ka[x], "cdpUrl") ? "profile " : "", ka[x],
				strcmp(kb[y], "cdpUrl") ? "profile " : "", kb[y]) < 0)
				return -1;
		}
	}
	return 0;
}

/* A's paths inside B's state dir or workspace: B's gateway can read them. */
static int check_nested(const struct instance *inst, size_t a, size_t b, struct violation_list *out,
			ocr_error *err)
{
	const struct profile *pa = &inst[a].profile, *pb = &inst[b].profile;
	const char *mine[][2] = {{pa->config_path, "config file"},
				 {pa->state_dir, "state dir"},
				 {pa->workspace, "workspace"}};
	const char *theirs[][2] = {{pb->state_dir, "state dir"}, {pb->workspace, "workspace"}};
	char wa[PATH_MAX + 128], wb[PATH_MAX + 128];

	for (size_t m = 0; m < 3; m++) {
		for (size_t t = 0; t < 2; t++) {
			if (!inside(mine[m][0], theirs[t][0]))
				continue;
			if (add(out, VIOLATION_NESTED, a, b, 0, err,
				"the %s %s of %s lies inside the %s %s of %s, whose gateway "
				"can read it",
				mine[m][1], mine[m][0], who(&inst[a], wa, sizeof(wa)), theirs[t][1],
				theirs[t][0], who(&inst[b], wb, sizeof(wb))) < 0)
				return -1;
			break; /* once per path: a workspace often lies in its state dir */
		}
	}
	return 0;
}

int check_instances(const struct instance *inst, size_t n, struct violation_list *out,
		    ocr_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (check_one(&inst[i], i, out, err) < 0)
			goto fail;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			bool shared;

			if (check_shared(inst, i, j, out, &shared, err) < 0 ||
			    check_ports(inst, i, j, out, err) < 0 ||
			    check_cdp(inst, i, j, out, err) < 0)
				goto fail;
			/* Sharing already says it all; nesting would repeat it. */
			if (!shared && (check_nested(inst, i, j, out, err) < 0 ||
					check_nested(inst, j, i, out, err) < 0))
				goto fail;
		}
	}
	return 0;
fail:
	violation_list_release(out);
	return -1;
}

char *check_instance_facts(const struct instance *inst)
{
	const struct profile *p = &inst->profile;
	const char *urls[PORT_EXPLICIT_MAX], *keys[PORT_EXPLICIT_MAX];
	size_t n_urls = cdp_urls(inst->config, urls, keys, PORT_EXPLICIT_MAX);
	size_t len = 0, cap = 0;
	char *buf = NULL, num[64];
	bool ok;

	snprintf(num, sizeof(num), "%u %d %zu", inst->ports.base, (int)inst->ports.origin,
		 inst->ports.n_explicit);
	ok = key_line(&buf, &len, &cap, "name", p->name) &&
	     key_line(&buf, &len, &cap, "state_dir", p->state_dir) &&
	     key_line(&buf, &len, &cap, "config_path", p->config_path) &&
	     key_line(&buf, &len, &cap, "workspace", p->workspace) &&
	     key_line(&buf, &len, &cap, "ports", num);
	for (size_t i = 0; ok && i < inst->ports.n_explicit && i < PORT_EXPLICIT_MAX; i++) {
		snprintf(num, sizeof(num), "%u", inst->ports.explicit_ports[i].port);
		ok = key_line(&buf, &len, &cap, "port", num);
	}
	for (size_t i = 0; ok && i < n_urls; i++)
		ok = key_line(&buf, &len, &cap, "cdp_key", keys[i]) &&
		     key_line(&buf, &len, &cap, "cdp_url", urls[i]);
	if (!ok)
		free(buf);
	return ok ? buf : NULL;
}

bool violation_involves(const struct violation *v, size_t index)
{
	return v->a == index || v->b == index;
}

const char *violation_kind_name(enum violation_kind kind)
{
	switch (kind) {
	case VIOLATION_SHARED_CONFIG:
		return "shared-config";
	case VIOLATION_SHARED_STATE_DIR:
		return "shared-state-dir";
	case VIOLATION_SHARED_WORKSPACE:
		return "shared-workspace";
	case VIOLATION_PORT_OVERLAP:
		return "port-overlap";
	case VIOLATION_SHARED_CDP_URL:
		return "shared-cdp-url";
	case VIOLATION_NESTED:
		return "nested";
	case VIOLATION_BAD_PORT:
		return "bad-port";
	}
	return "unknown";
}

void violation_list_release(struct violation_list *list)
{
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
