/* Rescue grants (issue 11): setup --rescues/--no-rescues, what check, list
 * and status show, and what a rescuer's sandbox can reach of the target. */
#include "gateway_util.h"

TestSuite(rescue, .fini = gw_fini);

static char *ocr_out(struct gw *g, int want, ...)
{
	char *argv[16];
	struct run_result r;
	va_list ap;
	int n = 0;
	const char *a;

	va_start(ap, want);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	/* gw_ocr is variadic: pass the collected args through a fixed arity. */
	cr_assert_eq(gw_ocr(g, &r, argv[0], n > 1 ? argv[1] : NULL, n > 2 ? argv[2] : NULL,
			    n > 3 ? argv[3] : NULL, n > 4 ? argv[4] : NULL, n > 5 ? argv[5] : NULL,
			    n > 6 ? argv[6] : NULL, n > 7 ? argv[7] : NULL, n > 8 ? argv[8] : NULL,
			    n > 9 ? argv[9] : NULL, NULL),
		     0);
	cr_assert_eq(r.exit_code, want, "%s: exit %d: %s%s", argv[0], r.exit_code, r.out, r.err);
	char *text = malloc(strlen(r.out) + strlen(r.err) + 1);
	strcpy(text, r.out);
	strcat(text, r.err);
	run_result_free(&r);
	return text;
}

Test(rescue, setup_grants_are_shown_and_refused_where_meaningless)
{
	struct gw g;
	char *out;

	gw_init(&g, "main");
	gw_setup_profile(&g, "rescue", g.base + 120);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--rescues", "main", NULL);
	cr_assert(strstr(out, "rescues   main (control, logs, config)"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "rescue", NULL);
	cr_assert(strstr(out, "cannot rescue itself"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "nosuch", NULL);
	cr_assert(strstr(out, "nosuch does not exist"), "%s", out);
	free(out);
	out = ocr_out(&g, 1, "--profile", "rescue", "setup", "--rescues", "main:secrets", NULL);
	cr_assert(strstr(out, "unknown item 'secrets'"), "%s", out);
	free(out);
	/* The failed attempts changed nothing. */
	out = ocr_out(&g, 0, "check", NULL);
	cr_assert(strstr(out, "grant rescue rescues main: control, logs, config\n"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--rescues", "main:workspace", NULL);
	free(out);
	out = ocr_out(&g, 0, "list", NULL);
	cr_assert(strstr(out, "grant: rescue rescues main (control, logs, config, workspace)"),
		  "%s", out);
	free(out);
	out = ocr_out(&g, 3, "--profile", "main", "status", NULL);
	cr_assert(strstr(out, "rescuer  rescue may rescue it"), "%s", out);
	free(out);
	out = ocr_out(&g, 3, "--profile", "rescue", "status", NULL);
	cr_assert(strstr(out, "rescues  main (control, logs, config, workspace)"), "%s", out);
	free(out);
	/* Never in OpenClaw's config, which the payload rewrites. */
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/.openclaw-rescue/openclaw.json", g.home);
	out = read_text_file(path);
	cr_assert(out && !strstr(out, "rescues") && !strstr(out, ".openclaw-main"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "--profile", "rescue", "setup", "--no-rescues", "main", NULL);
	cr_assert(!strstr(out, "rescues"), "%s", out);
	free(out);
	out = ocr_out(&g, 0, "check", NULL);
	cr_assert(!strstr(out, "grant "), "%s", out);
	free(out);
	gw_cleanup(&g);
}
