/* A rescuer's commands on another profile, from inside its own sandbox:
 * `openclaw-run --profile main status|logs|restart|stop|start|config ...`
 * speak to main's supervisor through the control socket of the grant
 * (control_proto.h) instead of reading the host's lock and state files,
 * which the sandbox does not have. On the host, `logs` reads the
 * supervisor's log, `start` starts a held supervisor's gateway and `config`
 * says where the config is. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "control_proto.h"
#include "gateway_status.h"
#include "host_dirs.h"
#include "registry.h"
#include "rescue.h"

#define CALL_TIMEOUT_MS	 10000
#define APPLY_TIMEOUT_MS 180000 /* upstream's validate runs in a sandbox */
#define START_TIMEOUT_S	 360
#define STOP_TIMEOUT_S	 90

static void usage(FILE *out)
{
	fputs("Usage: openclaw-run --profile NAME logs [-n N] [-f]\n"
	      "       openclaw-run --profile NAME start\n"
	      "       openclaw-run --profile NAME config pull|validate|apply\n"
	      "\n"
	      "logs: the last N lines (default 50) of the supervisor's log (the gateway's\n"
	      "output), -f: then follow it. start: start a gateway whose supervisor waits for\n"
	      "it (stopped by a rescuer, or given up). Inside the sandbox of a profile that\n"
	      "may rescue NAME (setup --rescues NAME), these and status, stop and restart go\n"
	      "to NAME's supervisor through its control socket; config pull copies NAME's\n"
	      "config to " RESCUE_SANDBOX_DIR "/NAME/config/openclaw.json to edit with\n"
	      "upstream's tools, validate checks that copy as apply would, apply validates it\n"
	      "(parses, pinned ports and workspace, a new port block free, `openclaw config\n"
	      "validate`), installs it (the old one kept as .bak) and restarts NAME on it.\n",
	      out);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	return s ? s : "";
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One request, one answer; -1 (said) when it failed or was refused. */
static int call(int fd, const char *label, cJSON *req, int timeout_ms, cJSON **resp)
{
	ocr_error err = {0};
	int rc = control_client_call(fd, req, timeout_ms, resp, &err);

	cJSON_Delete(req);
	if (rc < 0) {
		err_prefix(&err, "profile %s", label);
		err_print(&err);
		return -1;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*resp, "ok"))) {
		cli_errorf("profile %s: %s", label, jstr(*resp, "error"));
		cJSON_Delete(*resp);
		*resp = NULL;
		return -1;
	}
	return 0;
}

static cJSON *op(const char *name)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "op", name);
	return o;
}

/* The status answer's view; NULL (said) on failure. */
static cJSON *remote_status(int fd, const char *label)
{
	cJSON *r;

	return call(fd, label, op("status"), CALL_TIMEOUT_MS, &r) < 0 ? NULL : r;
}

static const char *phase_of(const cJSON *st)
{
	return jstr(cJSON_GetObjectItemCaseSensitive(st, "view"), "phase");
}

static int print_status(int fd, const char *label, bool json)
{
	cJSON *r = remote_status(fd, label);
	const char *why;
	int rc;

	if (!r)
		return EXIT_FAIL;
	if (json) {
		char *text = cJSON_Print(cJSON_GetObjectItemCaseSensitive(r, "view"));

		puts(text ? text : "null");
		free(text);
	} else {
		fputs(jstr(r, "text"), stdout);
		why = jstr(r, "why");
		if (*why) {
			printf("  why      the log's last lines:\n");
			for (const char *p = why; *p;) {
				size_t n = strcspn(p, "\n");

				printf("    %.*s\n", (int)n, p);
				p += n + (p[n] == '\n');
			}
		}
	}
	rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "held")) ? EXIT_STOPPED
	     : strcmp(phase_of(r), "started") == 0		       ? EXIT_OK
								       : EXIT_FAIL;
	cJSON_Delete(r);
	return rc;
}

/* After a start, restart or apply: until a run after BEFORE restarts says
 * started (0), gives up, or the time is out. */
static int wait_started(int fd, const char *label, double before)
{
	time_t deadline = time(NULL) + START_TIMEOUT_S;

	for (;;) {
		cJSON *r = remote_status(fd, label);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "view");
		const char *ph = phase_of(r);
		bool later = jnum(v, "restarts") > before,
		     held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "held"));
		int rc = -1;

		if (!r)
			return EXIT_FAIL;
		if (later && strcmp(ph, "started") == 0) {
			printf("%s: started (port %.0f, restarts %.0f)\n", label,
			       jnum(cJSON_GetObjectItemCaseSensitive(v, "ports"), "base"),
			       jnum(v, "restarts"));
			rc = EXIT_OK;
		} else if (later && held) {
			cli_errorf("profile %s: the gateway did not start (%s); see `openclaw-run "
				   "--profile %s status` and `logs`",
				   label, ph, label);
			rc = EXIT_FAIL;
		} else if (time(NULL) >= deadline) {
			cli_errorf("profile %s: not started within %d s (phase %s)", label,
				   START_TIMEOUT_S, ph);
			rc = EXIT_FAIL;
		}
		cJSON_Delete(r);
		if (rc >= 0)
			return rc;
		usleep(250 * 1000);
	}
}

static double restarts_now(int fd, const char *label)
{
	cJSON *r = remote_status(fd, label);
	double n = jnum(cJSON_GetObjectItemCaseSensitive(r, "view"), "restarts");

	cJSON_Delete(r);
	return n;
}

static int remote_logs(int fd, const char *label, int lines, bool follow)
{
	cJSON *req = op("logs"), *r;
	ocr_error err = {0};

	cJSON_AddNumberToObject(req, "lines", lines);
	cJSON_AddBoolToObject(req, "follow", follow);
	if (call(fd, label, req, CALL_TIMEOUT_MS, &r) < 0)
		return EXIT_FAIL;
	while (r) {
		bool end = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "end"));

		fputs(jstr(r, "data"), stdout);
		fflush(stdout);
		cJSON_Delete(r);
		if (end)
			return EXIT_OK;
		if (control_client_next(fd, -1, &r, &err) < 0) {
			err_print(&err);
			return EXIT_FAIL;
		}
	}
	return EXIT_OK; /* the supervisor ended */
}

static int remote_stop(int fd, const char *label)
{
	time_t deadline = time(NULL) + STOP_TIMEOUT_S;
	cJSON *r;

	if (call(fd, label, op("stop"), CALL_TIMEOUT_MS, &r) < 0)
		return EXIT_FAIL;
	cJSON_Delete(r);
	for (;;) {
		bool held;

		r = remote_status(fd, label);
		if (!r)
			return EXIT_FAIL;
		held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "held"));
		cJSON_Delete(r);
		if (held) {
			printf(
			    "%s: stopped (its supervisor stays: `openclaw-run --profile %s start` "
			    "starts it again)\n",
			    label, label);
			return EXIT_OK;
		}
		if (time(NULL) >= deadline) {
			cli_errorf("profile %s: not stopped within %d s", label, STOP_TIMEOUT_S);
			return EXIT_FAIL;
		}
		usleep(250 * 1000);
	}
}

static int remote_start(int fd, const char *label, const char *what)
{
	double before = restarts_now(fd, label);
	cJSON *r;

	if (before < 0 || call(fd, label, op(what), CALL_TIMEOUT_MS, &r) < 0)
		return EXIT_FAIL;
	cJSON_Delete(r);
	return wait_started(fd, label, before);
}

/* The target's own config path when the sandbox shows the copy there
 * (rescue.h), so upstream's tools take the path people know; only when
 * that path is the copy itself: between containers main's config path is
 * rescue's own config, which an agent must not edit believing it main's. */
static const char *pulled_path(const cJSON *r)
{
	const char *alias = jstr(r, "config_path"), *copy = jstr(r, "path");
	struct stat a, c;

	if (*alias && stat(alias, &a) == 0 && stat(copy, &c) == 0 && a.st_dev == c.st_dev &&
	    a.st_ino == c.st_ino)
		return alias;
	return copy;
}

static int remote_config(int fd, const char *label, const char *verb)
{
	const char *name = strcmp(verb, "pull") == 0	   ? "config-read"
			   : strcmp(verb, "validate") == 0 ? "config-validate"
			   : strcmp(verb, "apply") == 0	   ? "config-apply"
							   : NULL;
	double before;
	cJSON *r;

	if (!name) {
		cli_errorf("config: pull, validate or apply, not '%s'", verb);
		return EXIT_USAGE;
	}
	before = restarts_now(fd, label);
	if (before < 0 || call(fd, label, op(name), APPLY_TIMEOUT_MS, &r) < 0)
		return EXIT_FAIL;
	if (name[7] == 'r')
		printf("%s\n", pulled_path(r));
	else if (name[7] == 'v')
		printf("%s: the copy is valid (port %.0f)\n", label, jnum(r, "port"));
	cJSON_Delete(r);
	if (name[7] != 'a')
		return EXIT_OK;
	printf("%s: config applied, restarting\n", label);
	return wait_started(fd, label, before);
}

/* -n N, -f, --json: what the commands here take. */
struct rescue_args {
	int lines;
	bool follow, json;
	const char *verb;
};

static int parse(int argc, char **argv, const char *cmd, struct rescue_args *a)
{
	static const struct option options[] = {
	    {"lines", required_argument, NULL, 'n'}, {"follow", no_argument, NULL, 'f'},
	    {"json", no_argument, NULL, 'j'},	     {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	int opt, t;

	a->lines = 50;
	while ((opt = getopt_long(argc, argv, "+n:fh", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			a->lines = atoi(optarg);
			if (a->lines < 0 || a->lines > CONTROL_LOG_LINES_MAX) {
				cli_errorf("%s: -n %s: expected 0..%d", cmd, optarg,
					   CONTROL_LOG_LINES_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			a->follow = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 't':
			if (cli_parse_seconds(cmd, "--timeout", optarg, &t) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_bad_option(cmd, argv);
		}
	}
	a->verb = optind < argc ? argv[optind++] : NULL;
	if (optind < argc || (a->verb && strcmp(cmd, "config") != 0) ||
	    (!a->verb && strcmp(cmd, "config") == 0)) {
		cli_errorf("%s: unexpected arguments (see openclaw-run %s --help)", cmd, cmd);
		return EXIT_USAGE;
	}
	return -1;
}

int cli_rescue_run(const struct cli_context *ctx, const char *cmd, int argc, char **argv)
{
	const char *label = ctx->profile ? ctx->profile : "default";
	struct rescue_args a = {0};
	ocr_error err = {0};
	int fd, rc;

	if ((rc = parse(argc, argv, cmd, &a)) >= 0)
		return rc;
	if (!ctx->rescue_dir) {
		cli_errorf(
		    "%s: profile %s is out of reach: this is the sandbox of profile %s, which "
		    "may rescue no profile (on the host: openclaw-run --profile %s setup "
		    "--rescues %s)",
		    cmd, label, ctx->sandbox_profile, ctx->sandbox_profile, label);
		return EXIT_NOT_SET_UP;
	}
	if (control_client_open(ctx->rescue_dir, label, &fd, &err) < 0) {
		err_prefix(&err, "%s", cmd);
		err_print(&err);
		return EXIT_NOT_SET_UP;
	}
	if (strcmp(cmd, "status") == 0)
		rc = print_status(fd, label, a.json);
	else if (strcmp(cmd, "logs") == 0)
		rc = remote_logs(fd, label, a.lines, a.follow);
	else if (strcmp(cmd, "stop") == 0)
		rc = remote_stop(fd, label);
	else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "restart") == 0)
		rc = remote_start(fd, label, cmd);
	else
		rc = remote_config(fd, label, a.verb);
	close(fd);
	return rc;
}

/* ---- the same commands on the host ---------------------------------------- */

static void print_tail(const char *path, int lines, long long *offset)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, start;
	int seen = 0;

	if (!f)
		return;
	if (fseeko(f, 0, SEEK_END) == 0 && ftello(f) > 1 << 20)
		fseeko(f, -(1 << 20), SEEK_END);
	else
		fseeko(f, 0, SEEK_SET);
	text = malloc((1 << 20) + 1);
	if (text)
		len = fread(text, 1, 1 << 20, f);
	*offset = ftello(f);
	fclose(f);
	if (!text)
		return;
	start = len;
	if (start && text[start - 1] == '\n')
		start--;
	while (start > 0 && !(text[start - 1] == '\n' && ++seen == lines))
		start--;
	fwrite(text + start, 1, len - start, stdout);
	free(text);
}

static void follow_file(const char *path, long long offset)
{
	char buf[65536];

	for (;; sleep(1)) {
		FILE *f = fopen(path, "re");
		size_t n;

		if (!f)
			continue;
		fseeko(f, 0, SEEK_END);
		if (ftello(f) < offset) /* rotated */
			offset = 0;
		fseeko(f, offset, SEEK_SET);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			fwrite(buf, 1, n, stdout);
			offset += (long long)n;
		}
		fflush(stdout);
		fclose(f);
	}
}

int cmd_logs(const struct cli_context *ctx, int argc, char **argv)
{
	struct rescue_args a = {0};
	struct instance inst = {0};
	char path[PATH_MAX];
	ocr_error err = {0};
	long long offset = 0;
	int rc;

	if ((rc = parse(argc, argv, "logs", &a)) >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "logs")) >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0 ||
	    host_log_path(&ctx->env, &inst.profile, path, sizeof(path), &err) < 0) {
		err_print(&err);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	instance_release(&inst);
	print_tail(path, a.lines, &offset);
	fflush(stdout);
	if (a.follow)
		follow_file(path, offset);
	return EXIT_OK;
}

int cmd_start(const struct cli_context *ctx, int argc, char **argv)
{
	struct rescue_args a = {0};
	struct instance inst = {0};
	struct control_report r;
	struct gateway_view v;
	ocr_error err = {0};
	int rc;

	if ((rc = parse(argc, argv, "start", &a)) >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "start")) >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0 ||
	    gateway_view_get(&inst, NULL, GATEWAY_PROBE_NONE, &v, &err) < 0) {
		err_print(&err);
		instance_release(&inst);
		return EXIT_FAIL;
	}
	const char *label = profile_label(&inst.profile);
	rc = EXIT_FAIL;
	if (!v.running)
		cli_errorf("start: %s has no supervisor: start it with `openclaw-run --profile %s "
			   "gateway --detach`",
			   label, label);
	else if (!v.have_state || !v.st.held)
		cli_errorf("start: %s already runs (%s)", label, gateway_view_state(&v));
	else if (control_restart(&inst, START_TIMEOUT_S, &r, &err) < 0)
		err_print(&err);
	else {
		printf("%s: started (supervisor pid %ld, restarts %u)\n", label, (long)r.supervisor,
		       r.view.st.restarts);
		rc = EXIT_OK;
	}
	instance_release(&inst);
	return rc;
}

int cmd_config(const struct cli_context *ctx, int argc, char **argv)
{
	struct rescue_args a = {0};
	struct instance inst = {0};
	ocr_error err = {0};
	int rc;

	if ((rc = parse(argc, argv, "config", &a)) >= 0)
		return rc;
	if ((rc = cli_require_set_up(ctx, "config")) >= 0)
		return rc;
	if (instance_load(ctx->profile, &ctx->env, 0, &inst, &err) < 0) {
		err_print(&err);
		return EXIT_FAIL;
	}
	cli_errorf("config %s: for a rescuer's sandbox; on the host, edit %s (e.g. with "
		   "`openclaw-run --profile %s exec -- openclaw config set ...`) and restart",
		   a.verb, inst.profile.config_path, profile_label(&inst.profile));
	instance_release(&inst);
	return EXIT_USAGE;
}
