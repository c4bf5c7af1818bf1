/* Text that came from the payload (its config, its output, its health
 * answers), made safe to show a person. */
#ifndef OCR_TEXT_H
#define OCR_TEXT_H

#include <stddef.h>

/* Control characters (C0 but newline and tab, DEL, UTF-8 C1) become '?', in
 * place: shown on a terminal, the payload's text can neither retitle,
 * recolour, erase or overwrite lines nor send the terminal's query
 * sequences. */
void text_defang(char *text, size_t len);
/* text_defang for a word printed inside a line of ours (a health word, a
 * config key or value): newline and tab become '?' as well, so the
 * payload's text can neither start a line of its own (a forged row in
 * `list`, a fake "ok" in `status`) nor shift the columns. */
void text_defang_line(char *text, size_t len);

/* IN as one shell word in OUT: as is when it holds only characters no
 * shell treats specially, else in single quotes (' as '\''). A command we
 * print for a person to paste must not run what the payload wrote into it.
 * Truncated to LEN - 1 (and then not a word; LEN is PATH_MAX-sized). */
void text_shell_quote(const char *in, char *out, size_t len);

#endif
