/* Rescue grants: parsing and naming (see grant.h). */
#include "grant.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	unsigned bit;
	const char *name;
} item_names[] = {
    {GRANT_CONTROL, "control"},
    {GRANT_LOGS, "logs"},
    {GRANT_CONFIG, "config"},
    {GRANT_WORKSPACE, "workspace"},
};

#define N_ITEMS (sizeof(item_names) / sizeof(item_names[0]))

static unsigned item_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < N_ITEMS; i++)
		if (strlen(item_names[i].name) == len &&
		    strncmp(item_names[i].name, name, len) == 0)
			return item_names[i].bit;
	return 0;
}

int grant_parse(const char *spec, char *name, size_t len, unsigned *items, ocr_error *err)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	*items = GRANT_BASE;
	if (n == 0 || n >= len || n > PROFILE_NAME_MAX)
		return err_set(err, EINVAL, "'%s': expected PROFILE or PROFILE:ITEM[,ITEM]", spec);
	memcpy(name, spec, n);
	name[n] = '\0';
	if (strcmp(name, "default") != 0 && profile_name_check(name, err) < 0)
		return err_prefix(err, "'%s'", spec);
	for (const char *p = colon ? colon + 1 : NULL; p && *p;) {
		size_t l = strcspn(p, ",");
		unsigned bit = item_bit(p, l);

		if (!bit)
			return err_set(
			    err, EINVAL,
			    "'%s': unknown item '%.*s' (grantable: control, logs, config, "
			    "workspace)",
			    spec, (int)l, p);
		*items |= bit;
		p += l + (p[l] == ',');
	}
	return 0;
}

void grant_items_text(unsigned items, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < N_ITEMS; i++) {
		if (!(items & item_names[i].bit))
			continue;
		int n =
		    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item_names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

cJSON *grant_to_json(const struct grant *g)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	if (!o || !cJSON_AddStringToObject(o, "profile", g->profile) ||
	    !cJSON_AddStringToObject(o, "state_dir", g->state_dir) ||
	    !(arr = cJSON_AddArrayToObject(o, "items")))
		goto fail;
	for (size_t i = 0; i < N_ITEMS; i++)
		if ((g->items & item_names[i].bit) &&
		    !cJSON_AddItemToArray(arr, cJSON_CreateString(item_names[i].name)))
			goto fail;
	if ((g->items & GRANT_WORKSPACE) && !cJSON_AddStringToObject(o, "workspace", g->workspace))
		goto fail;
	if (g->dir[0] && !cJSON_AddStringToObject(o, "dir", g->dir))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int grant_from_json(const cJSON *o, struct grant *out, ocr_error *err)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "profile"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "state_dir"));
	const char *gdir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "dir"));
	const cJSON *e;

	memset(out, 0, sizeof(*out));
	if (gdir && (gdir[0] != '/' || strlen(gdir) >= sizeof(out->dir)))
		return err_set(err, 0, "a rescue grant's \"dir\" must be an absolute path");
	if (!name || !*name || strlen(name) > PROFILE_NAME_MAX ||
	    (!gdir && (!dir || dir[0] != '/')) || (dir && strlen(dir) >= sizeof(out->state_dir)))
		return err_set(err, 0, "a rescue grant needs \"profile\" and \"state_dir\"");
	snprintf(out->profile, sizeof(out->profile), "%s", name);
	snprintf(out->state_dir, sizeof(out->state_dir), "%s", dir ? dir : "");
	snprintf(out->dir, sizeof(out->dir), "%s", gdir ? gdir : "");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "items"))
	{
		const char *s = cJSON_GetStringValue(e);
		unsigned bit = s ? item_bit(s, strlen(s)) : 0;

		/* An item this launcher does not know grants nothing. */
		out->items |= bit;
	}
	out->items |= GRANT_CONTROL;
	if (out->items & GRANT_WORKSPACE) {
		const char *ws =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "workspace"));

		/* No workspace recorded, no workspace granted. */
		if (ws && ws[0] == '/' && strlen(ws) < sizeof(out->workspace))
			snprintf(out->workspace, sizeof(out->workspace), "%s", ws);
		else
			out->items &= ~GRANT_WORKSPACE;
	}
	return 0;
}

int grant_list_set(struct grant *list, size_t *n, const char *name, const char *state_dir,
		   unsigned items, ocr_error *err)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(list[i].state_dir, state_dir) != 0 || strcmp(list[i].profile, name) != 0)
			continue;
		if (!items) {
			memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(list[0]));
			(*n)--;
			return 1;
		}
		if (list[i].items == items)
			return 0;
		list[i].items = items;
		return 1;
	}
	if (!items)
		return 0;
	if (*n >= GRANTS_MAX)
		return err_set(err, ENOSPC, "at most %d rescue grants per profile", GRANTS_MAX);
	memset(&list[*n], 0, sizeof(list[0]));
	snprintf(list[*n].profile, sizeof(list[0].profile), "%s", name);
	snprintf(list[*n].state_dir, sizeof(list[0].state_dir), "%s", state_dir);
	list[(*n)++].items = items;
	return 1;
}
