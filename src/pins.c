/* Pins: the launcher's per-profile records. See pins.h. */
#include "pins.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "host_dirs.h"

#define PINS_MAX_BYTES (64 * 1024)

unsigned pins_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int pins_path(const char *records_dir, const struct profile *p, char *buf, size_t len,
	      ocr_error *err)
{
	if (snprintf(buf, len, "%s/profiles/%s-%08x.json", records_dir,
		     p->name[0] ? p->name : "default", pins_hash(p->state_dir)) >= (int)len)
		return err_set(err, ENAMETOOLONG, "records of profile %s", profile_label(p));
	return 0;
}

static int put_path(cJSON *o, const char *key, const char *value)
{
	return cJSON_AddStringToObject(o, key, value) ? 0 : -1;
}

/* Only the limits a person chose: the others stay the defaults of
 * whichever openclaw-run starts the profile. In res_field bit order. */
static const char *const limit_keys[] = {"memory_max", "swap_max", "pids_max", "cpu_weight",
					 "cpu_quota_pct"};
#define N_LIMIT_KEYS (sizeof(limit_keys) / sizeof(limit_keys[0]))

static int put_limits(cJSON *o, const struct resources *r)
{
	const double v[N_LIMIT_KEYS] = {(double)r->memory_max, (double)r->swap_max,
					(double)r->pids_max, r->cpu_weight, r->cpu_quota};
	cJSON *l = cJSON_AddObjectToObject(o, "limits");

	if (!l)
		return -1;
	for (size_t i = 0; i < N_LIMIT_KEYS; i++) {
		if ((r->set & (1u << i)) && !cJSON_AddNumberToObject(l, limit_keys[i], v[i]))
			return -1;
	}
	return 0;
}

static int get_limits(const cJSON *root, struct resources *r, ocr_error *err)
{
	static const double max[N_LIMIT_KEYS] = {0x1p62, 0x1p62, 0x1p22, RES_CPU_WEIGHT_MAX,
						 RES_CPU_QUOTA_MAX};
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "limits");
	double v[N_LIMIT_KEYS] = {0};

	if (!l)
		return 0;
	if (!cJSON_IsObject(l))
		return err_set(err, 0, "\"limits\" is not an object");
	for (size_t i = 0; i < N_LIMIT_KEYS; i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(l, limit_keys[i]);

		if (!item)
			continue;
		if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > max[i] ||
		    item->valuedouble != floor(item->valuedouble) ||
		    (1u << i == RES_CPU_WEIGHT && item->valuedouble < 1))
			return err_set(err, 0, "\"limits.%s\" is not a number in 0..%.0f",
				       limit_keys[i], max[i]);
		v[i] = item->valuedouble;
		r->set |= 1u << i;
	}
	r->memory_max = (uint64_t)v[0];
	r->swap_max = (uint64_t)v[1];
	r->pids_max = (uint64_t)v[2];
	r->cpu_weight = (unsigned)v[3];
	r->cpu_quota = (unsigned)v[4];
	return 0;
}

cJSON *pins_to_json(const struct pins *in)
{
	cJSON *o = cJSON_CreateObject(), *ports, *rescues, *by;

	if (!o || !cJSON_AddNumberToObject(o, "version", PINS_VERSION) ||
	    put_path(o, "state_dir", in->state_dir) < 0 ||
	    put_path(o, "config_path", in->config_path) < 0 ||
	    put_path(o, "workspace", in->workspace) < 0 ||
	    !cJSON_AddNumberToObject(o, "port_base", in->ports.base) ||
	    !(ports = cJSON_AddArrayToObject(o, "explicit_ports")))
		goto fail;
	for (size_t i = 0; i < in->ports.n_explicit; i++) {
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(ports, e) ||
		    !cJSON_AddNumberToObject(e, "port", in->ports.explicit_ports[i].port) ||
		    !cJSON_AddStringToObject(e, "source", in->ports.explicit_ports[i].source))
			goto fail;
	}
	if (in->has_ids && (!cJSON_AddStringToObject(o, "user", in->user) ||
			    !cJSON_AddNumberToObject(o, "uid", in->uid) ||
			    !cJSON_AddNumberToObject(o, "gid", in->gid)))
		goto fail;
	if (in->n_rescues && !(rescues = cJSON_AddArrayToObject(o, "rescues")))
		goto fail;
	for (size_t i = 0; i < in->n_rescues; i++)
		if (!cJSON_AddItemToArray(rescues, grant_to_json(&in->rescues[i])))
			goto fail;
	if (in->n_rescued_by && !(by = cJSON_AddArrayToObject(o, "rescued_by")))
		goto fail;
	for (size_t i = 0; i < in->n_rescued_by; i++)
		if (!cJSON_AddItemToArray(by, grant_to_json(&in->rescued_by[i])))
			goto fail;
	if (in->limits.set && put_limits(o, &in->limits) < 0)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static int get_string(const cJSON *root, const char *key, char *out, size_t len, ocr_error *err)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, key));

	if (!s || !*s || strlen(s) >= len)
		return err_set(err, 0, "\"%s\" is missing or too long", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int get_uint(const cJSON *root, const char *key, double max, unsigned *out, ocr_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != floor(v->valuedouble))
		return err_set(err, 0, "\"%s\" is not a number in 0..%.0f", key, max);
	*out = (unsigned)v->valuedouble;
	return 0;
}

static int get_ports(const cJSON *root, struct port_block *b, ocr_error *err)
{
	const cJSON *e;
	unsigned base = 0;

	if (get_uint(root, "port_base", 65535, &base, err) < 0 ||
	    port_block_init(b, base, PORT_FROM_CONFIG, err) < 0)
		return -1;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "explicit_ports"))
	{
		const char *src =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "source"));
		unsigned port = 0;

		if (get_uint(e, "port", 65535, &port, err) < 0 || port == 0 ||
		    port_block_add_explicit(b, port, src ? src : "pinned", err) < 0)
			return err_prefix(err, "explicit_ports");
	}
	return 0;
}

static int get_grants(const cJSON *root, const char *key, struct grant *list, size_t *n,
		      ocr_error *err)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, key))
	{
		if (*n >= GRANTS_MAX)
			return err_set(err, 0, "\"%s\": more than %d grants", key, GRANTS_MAX);
		if (grant_from_json(e, &list[(*n)++], err) < 0)
			return err_prefix(err, "\"%s\"", key);
	}
	return 0;
}

int pins_from_json(const cJSON *root, struct pins *out, ocr_error *err)
{
	unsigned version = 0, uid = 0, gid = 0;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root))
		return err_set(err, 0, "not an object");
	if (get_uint(root, "version", 1000, &version, err) < 0)
		return -1;
	if (version != PINS_VERSION)
		return err_set(err, 0, "version %u, this openclaw-run reads %d", version,
			       PINS_VERSION);
	if (get_string(root, "state_dir", out->state_dir, sizeof(out->state_dir), err) < 0 ||
	    get_string(root, "config_path", out->config_path, sizeof(out->config_path), err) < 0 ||
	    get_string(root, "workspace", out->workspace, sizeof(out->workspace), err) < 0 ||
	    get_ports(root, &out->ports, err) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(root, "uid")) {
		if (get_uint(root, "uid", 4294967294.0, &uid, err) < 0 ||
		    get_uint(root, "gid", 4294967294.0, &gid, err) < 0 ||
		    get_string(root, "user", out->user, sizeof(out->user), err) < 0)
			return -1;
		out->has_ids = true;
		out->uid = uid;
		out->gid = gid;
	}
	if (get_grants(root, "rescues", out->rescues, &out->n_rescues, err) < 0 ||
	    get_grants(root, "rescued_by", out->rescued_by, &out->n_rescued_by, err) < 0)
		return -1;
	return get_limits(root, &out->limits, err);
}

/* The records are ours alone: a file someone else could have written is not
 * a record, whatever it says. */
static int read_own_file(const char *path, char **text, bool *found, ocr_error *err)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	*found = false;
	if (fd < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || st.st_size > PINS_MAX_BYTES) {
		close(fd);
		return err_set(err, EPERM,
			       "%s is not a record of this launcher (must be a regular file of "
			       "uid %u, at most %d bytes, writable by nobody else)",
			       path, (unsigned)geteuid(), PINS_MAX_BYTES);
	}
	*text = calloc(1, (size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return err_set(err, ENOMEM, "read %s", path);
	}
	n = read(fd, *text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(*text);
		return err_set(err, n < 0 ? errno : EIO, "read %s", path);
	}
	*found = true;
	return 0;
}

int pins_load_file(const char *path, struct pins *out, bool *found, ocr_error *err)
{
	char *text = NULL;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (read_own_file(path, &text, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	root = cJSON_Parse(text);
	free(text);
	if (!root)
		return err_set(err, 0, "%s: not valid JSON", path);
	rc = pins_from_json(root, out, err);
	cJSON_Delete(root);
	return rc < 0 ? err_prefix(err, "%s", path) : 0;
}

int pins_load(const char *records_dir, const struct profile *p, struct pins *out, bool *found,
	      ocr_error *err)
{
	char path[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (pins_path(records_dir, p, path, sizeof(path), err) < 0 ||
	    pins_load_file(path, out, found, err) < 0)
		return -1;
	if (!*found)
		return 0;
	/* One profile name in two places is two instances: a record made for
	 * another state dir (a hash collision) is not this one's. */
	if (strcmp(out->state_dir, p->state_dir) != 0) {
		*found = false;
		memset(out, 0, sizeof(*out));
	}
	return 0;
}

int pins_save(const char *records_dir, const struct profile *p, const struct pins *in,
	      ocr_error *err)
{
	char path[PATH_MAX], dir[PATH_MAX];
	cJSON *root = pins_to_json(in);
	char *text;
	int rc;

	if (!root)
		return err_set(err, ENOMEM, "records of profile %s", profile_label(p));
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return err_set(err, ENOMEM, "records of profile %s", profile_label(p));
	rc = pins_path(records_dir, p, path, sizeof(path), err);
	if (rc == 0 && snprintf(dir, sizeof(dir), "%s/profiles", records_dir) >= (int)sizeof(dir))
		rc = err_set(err, ENAMETOOLONG, "%s/profiles", records_dir);
	if (rc == 0)
		rc = host_dir_ensure(records_dir, err);
	if (rc == 0)
		rc = host_dir_ensure(dir, err);
	if (rc == 0)
		rc = atomic_write_file(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}
