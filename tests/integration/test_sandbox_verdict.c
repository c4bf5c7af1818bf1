/* The isolation check's cached verdict (check_cache.h) through the built
 * binary: a start answered from it still refuses a profile whose config was
 * edited into a collision since, whoever edited it (the other instance's
 * payload, or this one's). Launched by root and by an unprivileged user
 * (see sandbox_fx.h). */
#include <dirent.h>
#include <sys/stat.h>

#include "sandbox_fx.h"

/* Both URLs have the same length: an edit from one to the other keeps the
 * file's size, so only the timestamps and the inode can tell. */
#define URL_A "http://127.0.0.1:9401"
#define URL_B "http://127.0.0.1:9402"

static void write_config(const char *state, unsigned port, const char *url)
{
	char path[PATH_MAX + 32], text[256];
	int fd;

	snprintf(text, sizeof(text),
		 "{\"gateway\": {\"port\": %u}, \"browser\": {\"cdpUrl\": \"%s\"}}\n", port, url);
	snprintf(path, sizeof(path), "%s/openclaw.json", state);
	/* In place, as a payload's editor may: same inode, same size. */
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static unsigned port_b(const struct fx *f)
{
	return f->base + 120 <= 65000 ? f->base + 120 : f->base - 120;
}

/* The one verdict file, or "" when there is none. */
static void verdict_file(const struct fx *f, char *out, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (f->unpriv)
		snprintf(dir, sizeof(dir), "%s/.config/openclaw-run/checks", f->home);
	else
		snprintf(dir, sizeof(dir), "%s/records/checks", f->tmp);
	out[0] = '\0';
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			snprintf(out, len, "%s/%s", dir, de->d_name);
	closedir(d);
}

static void run_a(const struct fx *f, struct run_result *r)
{
	cr_assert_eq(
	    run_probe_opts(f, r, "a", NULL, (const char *const[]){f->probe, "exit", "0", NULL}), 0);
}

static void check_cached_verdict_sees_edits(struct fx *f)
{
	char file[PATH_MAX];
	struct run_result r;
	struct stat first, again;

	write_config(f->state, f->base, URL_A);
	write_config(f->other, port_b(f), URL_B);
	/* A verdict is kept only once what it rests on is older than the
	 * settle time (check_cache.h). */
	sleep(3);
	run_a(f, &r);
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	run_result_free(&r);
	verdict_file(f, file, sizeof(file));
	cr_assert(file[0], "a clean start keeps its verdict");
	cr_assert_eq(stat(file, &first), 0);
	run_a(f, &r);
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	run_result_free(&r);
	cr_assert_eq(stat(file, &again), 0);
	cr_assert_eq(first.st_ino, again.st_ino, "the second start took the kept verdict");

	/* b's payload edits b's config onto a's CDP URL: a is refused now. */
	write_config(f->other, port_b(f), URL_A);
	run_a(f, &r);
	cr_assert_eq(r.exit_code, 1, "a colliding start ran: %s", r.err);
	cr_assert(strstr(r.err, "shared-cdp-url"), "%s", r.err);
	run_result_free(&r);

	/* Back, then a's own config onto b's URL. */
	write_config(f->other, port_b(f), URL_B);
	run_a(f, &r);
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	run_result_free(&r);
	write_config(f->state, f->base, URL_B);
	run_a(f, &r);
	cr_assert_eq(r.exit_code, 1, "a colliding start ran: %s", r.err);
	cr_assert(strstr(r.err, "shared-cdp-url"), "%s", r.err);
	run_result_free(&r);
}

BOTH_MODES(cached_verdict_sees_edits)
