/* Messages to the user, in one format: "openclaw-run: <what>: <why>". */
#include "cli.h"

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
