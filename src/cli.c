/* Messages to the user, in one format: "openclaw-run: <what>: <why>". */
#include "cli.h"

#include "ownership.h"
#include "registry.h"
#include "trust.h"
#include "ports.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>

void err_print(const ocr_error *err)
{
	char buf[SANDBOX_ERROR_MSG_MAX + 128];

	fprintf(stderr, "openclaw-run: %s\n", err_text(err, buf, sizeof(buf)));
}

void cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("openclaw-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warnf(const char *fmt, ...)
{
	va_list ap;

	fputs("openclaw-run: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_parse_json_help(int argc, char **argv, const char *cmd, void (*usage)(FILE *out),
			bool *json)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	*json = false;
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			*json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	if (optind < argc) {
		cli_errorf("%s: unexpected argument '%s'", cmd, argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

int cli_parse_base_port(const char *cmd, const char *text, unsigned *base)
{
	ocr_error err = {0};
	struct port_block block = {0};

	if (port_parse(text, &block.base, &err) < 0 || port_block_validate(&block, &err) < 0) {
		err_prefix(&err, "%s: --port", cmd);
		err_print(&err);
		return -1;
	}
	*base = block.base;
	return 0;
}

int cli_parse_size(const char *cmd, const char *option, const char *text, uint64_t *bytes)
{
	static const char units[] = "KMG";
	char *end;
	unsigned long long v;
	const char *u;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (text[0] >= '0' && text[0] <= '9' && errno == 0 && end != text) {
		unsigned shift = 0;

		if (*end && !end[1] && (u = strchr(units, *end)) != NULL)
			shift = 10 * (unsigned)(1 + (u - units));
		else if (*end)
			v = 0;
		v = v <= (1ull << 40) >> shift ? v << shift : 0;
		if (v >= (1ull << 20) && v <= (1ull << 40)) {
			*bytes = v;
			return 0;
		}
	}
	cli_errorf("%s: %s '%s': expected a size such as 256M (1M..1024G)", cmd, option, text);
	return -1;
}

int cli_parse_seconds(const char *cmd, const char *option, const char *text, int *seconds)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (!*text || *end || v < 0 || v > 86400) {
		cli_errorf("%s: %s '%s': expected a number of seconds, 0..86400", cmd, option,
			   text);
		return -1;
	}
	*seconds = (int)v;
	return 0;
}

void cli_warn_scan_problems(const struct instance_set *set, const char *cmd)
{
	for (size_t i = 0; i < set->n_problems; i++)
		cli_warnf("%s: skipping an instance that cannot be read: %s", cmd,
			  set->problems[i]);
}

int cli_check_drift(const struct instance *inst, const char *cmd, bool refuse)
{
	struct trust_drift d[TRUST_DRIFT_MAX];
	size_t n = trust_drift_find(inst, d, TRUST_DRIFT_MAX);
	const char *label = profile_label(&inst->profile);

	if (inst->config_error[0]) {
		if (refuse)
			cli_errorf(
			    "%s: profile %s: %s; the gateway cannot start on it (`openclaw-run "
			    "--profile %s exec -- openclaw doctor` still runs)",
			    cmd, label, inst->config_error, label);
		else
			cli_warnf("%s: profile %s: %s; running on what setup pinned", cmd, label,
				  inst->config_error);
		if (refuse)
			return -1;
	}
	if (n == 0)
		return 0;
	if (refuse)
		cli_errorf("%s: profile %s: the config disagrees with what setup pinned; refusing "
			   "to start until a person accepts it:",
			   cmd, label);
	else
		cli_warnf("%s: profile %s: the config disagrees with what setup pinned (%s):", cmd,
			  label,
			  strcmp(cmd, "exec") == 0 ? "running on the pinned values"
						   : "the gateway will not start until a person "
						     "accepts it");
	trust_drift_print(stderr, d, n < TRUST_DRIFT_MAX ? n : TRUST_DRIFT_MAX);
	return refuse ? -1 : 0;
}

size_t cli_foreign_files(const struct instance *inst, struct ownership_report *r)
{
	const struct profile *p = &inst->profile;
	size_t n = strlen(p->state_dir);
	const char *skip = "";
	uid_t uid;
	int fd;

	memset(r, 0, sizeof(*r));
	if (geteuid() == 0 && !(inst->pinned && inst->pins.has_ids))
		return 0; /* the account is not known yet: setup decides it */
	uid = geteuid() == 0 ? inst->pins.uid : geteuid();
	if (path_within(p->workspace, p->state_dir) && p->workspace[n] == '/')
		skip = p->workspace + n + 1;
	fd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ownership_scan(fd, skip, uid, r, NULL) < 0)
		r->foreign = 0;
	close(fd);
	return r->foreign;
}

void cli_report_foreign(const struct instance *inst, const struct ownership_report *r,
			const char *cmd, bool refuse)
{
	const struct profile *p = &inst->profile;
	const char *label = profile_label(p);
	uid_t uid = geteuid() == 0 ? inst->pins.uid : geteuid();

	if (geteuid() == 0)
		(refuse ? cli_errorf : cli_warnf)(
		    "%s: profile %s: %zu%s file%s in %s belong%s to another user (first: %s, uid "
		    "%u); the gateway runs as %s (uid %u) and cannot use them: run `openclaw-run "
		    "--profile %s setup` to give them back",
		    cmd, label, r->foreign, r->truncated ? "+" : "", r->foreign == 1 ? "" : "s",
		    p->state_dir, r->foreign == 1 ? "s" : "", r->first, (unsigned)r->first_uid,
		    inst->pins.user, (unsigned)uid, label);
	else
		(refuse ? cli_errorf : cli_warnf)(
		    "%s: profile %s: %zu%s file%s in %s belong%s to another user (first: %s, uid "
		    "%u); the gateway runs as you (uid %u) and cannot use them: `sudo chown -R %u "
		    "%s` gives them back",
		    cmd, label, r->foreign, r->truncated ? "+" : "", r->foreign == 1 ? "" : "s",
		    p->state_dir, r->foreign == 1 ? "s" : "", r->first, (unsigned)r->first_uid,
		    (unsigned)uid, (unsigned)uid, p->state_dir);
}

int cli_check_ownership(const struct instance *inst, const char *cmd, bool refuse)
{
	struct ownership_report r;

	if (cli_foreign_files(inst, &r) == 0)
		return 0;
	cli_report_foreign(inst, &r, cmd, refuse);
	return refuse ? -1 : 1;
}
