/* Payload text made safe to show: see text.h. */
#include "text.h"

#include <stdio.h>
#include <string.h>

void text_defang(char *text, size_t len)
{
	unsigned char *u = (unsigned char *)text;

	for (size_t i = 0; i < len; i++) {
		if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t') || u[i] == 0x7f)
			u[i] = '?';
		else if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			u[i] = u[i + 1] = '?'; /* a C1 control (U+0080..U+009F) in UTF-8 */
	}
}

void text_defang_line(char *text, size_t len)
{
	text_defang(text, len);
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || text[i] == '\t')
			text[i] = '?';
}

void text_shell_quote(const char *in, char *out, size_t len)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_./:@%+=,-";
	size_t n = 0;

	if (!len)
		return;
	if (in[0] && strspn(in, safe) == strlen(in)) {
		snprintf(out, len, "%s", in);
		return;
	}
	out[n++] = '\'';
	for (const char *p = in; *p && n + 5 < len; p++) {
		if (*p == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *p;
		}
	}
	if (n + 1 < len)
		out[n++] = '\'';
	out[n] = '\0';
}
