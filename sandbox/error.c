/* The project's one error convention: see sandbox.h. */
#include "sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sandbox_error_set(struct sandbox_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int sandbox_error_prefix(struct sandbox_error *err, const char *fmt, ...)
{
	char prefix[SANDBOX_ERROR_MSG_MAX];
	size_t plen, mlen, room;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (err->msg[0])
		strcat(prefix, ": ");
	plen = strlen(prefix);
	if (plen >= sizeof(err->msg))
		plen = sizeof(err->msg) - 1;
	/* Shift the old message right, truncating its tail if it must. */
	mlen = strlen(err->msg);
	room = sizeof(err->msg) - 1 - plen;
	if (mlen > room)
		mlen = room;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
	return -1;
}

const char *sandbox_error_text(const struct sandbox_error *err, char *buf, size_t len)
{
	if (err->errnum)
		snprintf(buf, len, "%s: %s", err->msg, strerror(err->errnum));
	else
		snprintf(buf, len, "%s", err->msg);
	return buf;
}

void sandbox_error_clear(struct sandbox_error *err)
{
	err->errnum = 0;
	err->msg[0] = '\0';
}
