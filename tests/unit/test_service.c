/* The systemd unit and environment file renderers and their paths
 * (service.c): pure, no systemd needed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

Test(service, paths_per_scope)
{
	struct service_paths p;
	ocr_error err = {0};

	cr_assert_eq(service_paths_resolve(SERVICE_SYSTEM, NULL, "/root", NULL, "rescue", &p, &err),
		     0);
	cr_assert_str_eq(p.unit, "/etc/systemd/system/openclaw-run@.service");
	cr_assert_str_eq(p.env, "/etc/openclaw-run/rescue.env");
	cr_assert_eq(service_paths_resolve(SERVICE_USER, NULL, "/home/a", NULL, NULL, &p, &err), 0);
	cr_assert_str_eq(p.instance, "default");
	cr_assert_str_eq(p.unit, "/home/a/.config/systemd/user/openclaw-run@.service");
	cr_assert_str_eq(p.env, "/home/a/.config/openclaw-run/services/default.env");
	cr_assert_eq(service_paths_resolve(SERVICE_USER, NULL, "/home/a", "/x/cfg", "m", &p, &err),
		     0);
	cr_assert_str_eq(p.unit, "/x/cfg/systemd/user/openclaw-run@.service");
	cr_assert_eq(service_paths_resolve(SERVICE_USER, "/tmp/u", "/home/a", NULL, "m", &p, &err),
		     0);
	cr_assert_str_eq(p.env, "/tmp/u/openclaw-run.env.d/m.env");
	cr_assert_eq(service_paths_resolve(SERVICE_USER, "rel", "/home/a", NULL, "m", &p, &err),
		     -1);
}

Test(service, unit_quotes_paths_and_follows_the_policy)
{
	struct service_paths p;
	ocr_error err = {0};

	cr_assert_eq(
	    service_paths_resolve(SERVICE_SYSTEM, "/srv/my units", "/root", NULL, "main", &p, &err),
	    0);
	char *unit = service_render_unit(&p, "/opt/o r/100%/openclaw-run");
	cr_assert_not_null(unit);
	cr_assert(strstr(unit, "ExecStart=\"/opt/o r/100%%/openclaw-run\" --profile %i serve\n"),
		  "%s", unit);
	cr_assert(strstr(unit, "EnvironmentFile=/srv/my units/openclaw-run.env.d/%i.env\n"), "%s",
		  unit);
	cr_assert(strstr(unit, "RestartPreventExitStatus=78\n"));
	cr_assert(strstr(unit, "WantedBy=multi-user.target\n"));
	/* Upstream's inspector flags "openclaw" with a "gateway" word on the
	 * ExecStart line. */
	const char *exec = strstr(unit, "ExecStart=");
	const char *eol = strchr(exec, '\n');
	cr_assert(!memmem(exec, (size_t)(eol - exec), "gateway", 7), "%s", unit);
	free(unit);
}

Test(service, env_file_quotes_values)
{
	struct service_paths p;
	ocr_error err = {0};
	char *env[] = {(char *)"HOME=/home/a b", (char *)"OPENCLAW_STATE_DIR=/s/\"q\"",
		       (char *)"PLAIN=/x/y", NULL};

	cr_assert_eq(service_paths_resolve(SERVICE_USER, NULL, "/home/a", NULL, "m", &p, &err), 0);
	char *text = service_render_env(&p, env);
	cr_assert(strstr(text, "\nHOME=\"/home/a b\"\n"), "%s", text);
	cr_assert(strstr(text, "\nOPENCLAW_STATE_DIR=\"/s/\\\"q\\\"\"\n"), "%s", text);
	cr_assert(strstr(text, "\nPLAIN=/x/y\n"), "%s", text);
	free(text);
}
