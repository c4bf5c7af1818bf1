/* What the CLI says when a person mistypes: one line naming the bad option,
 * and "did you mean" for commands and profiles. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "host_dirs.h"
#include "pins.h"
#include "registry.h"

int cli_bad_option(const char *cmd, char **argv)
{
	const char *bad = optind > 0 ? argv[optind - 1] : "";
	char shown[8];

	if (strncmp(bad, "--", 2) != 0 && optopt > 0 && optopt < 128) {
		snprintf(shown, sizeof(shown), "-%c", optopt);
		bad = shown;
	}
	if (cmd && *cmd)
		cli_errorf("%s: bad option '%s' (unknown, or missing its value); see openclaw-run "
			   "%s --help",
			   cmd, bad, cmd);
	else
		cli_errorf(
		    "bad option '%s' (unknown, or missing its value); see openclaw-run --help",
		    bad);
	return EXIT_USAGE;
}

/* Edit distance with transpositions ("mian" is one step from "main"),
 * bounded by the short words compared here. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[72][72];

	if (la > 70 || lb > 70)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1, best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *cli_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = 99, limit = strlen(word) <= 4 ? 1 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, candidates[i]);

		if (d < best_d && d <= limit && strcasecmp(word, candidates[i]) != 0) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Set up means: its state dir exists, or the launcher has records of it. */
static bool profile_set_up(const struct cli_context *ctx, const struct profile *p)
{
	struct host_dirs dirs;
	char path[PATH_MAX];

	if (exists(p->state_dir) || exists(p->config_path))
		return true;
	return host_dirs_resolve(&ctx->env, &dirs, NULL) == 0 &&
	       pins_path(dirs.records, p, path, sizeof(path), NULL) == 0 && exists(path);
}

int cli_require_set_up(const struct cli_context *ctx, const char *cmd)
{
	const char *names[64];
	struct instance_set set;
	struct profile p;
	ocr_error err = {0};
	size_t n = 0;
	char list[512] = "";

	if (profile_resolve(ctx->profile, &ctx->env, &p, &err) < 0) {
		err_prefix(&err, "%s", cmd);
		err_print(&err);
		return EXIT_USAGE;
	}
	if (profile_set_up(ctx, &p))
		return -1;
	if (registry_scan(&ctx->env, &set, &err) == 0) {
		for (size_t i = 0; i < set.n && n < 64; i++)
			names[n++] = profile_label(&set.items[i].profile);
	} else {
		memset(&set, 0, sizeof(set));
	}
	const char *hint = cli_closest(profile_label(&p), names, n);
	for (size_t i = 0, used = 0; i < n && used + 70 < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 names[i]);
	if (hint)
		cli_errorf("%s: profile '%s' is not set up (no state dir %s); did you mean '%s'?",
			   cmd, profile_label(&p), p.state_dir, hint);
	else if (n)
		cli_errorf("%s: profile '%s' is not set up (no state dir %s); profiles here: %s",
			   cmd, profile_label(&p), p.state_dir, list);
	else
		cli_errorf("%s: profile '%s' is not set up (no state dir %s): run `openclaw-run "
			   "--profile %s setup`",
			   cmd, profile_label(&p), p.state_dir, profile_label(&p));
	instance_set_release(&set);
	return EXIT_NOT_SET_UP;
}
