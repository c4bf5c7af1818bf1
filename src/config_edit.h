/* setup's changes to a config, as minimal text edits: a missing key is
 * inserted, a value replaced where it stands, and every other byte stays as
 * the person wrote it (comments, order, spelling of numbers and strings,
 * indentation, line endings). Pure: text in, text out. */
#ifndef OCR_CONFIG_EDIT_H
#define OCR_CONFIG_EDIT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct config_text {
	char *text; /* NUL-terminated, malloc'ed */
	size_t len;
	cJSON *root; /* the parse of text, kept current (no includes) */
	char origin[256];
};

/* Takes a copy of TEXT (the config file's bytes); NULL starts a new file.
 * Fails when the text does not parse. */
int config_text_init(struct config_text *t, const char *origin, const char *text, size_t len,
		     ocr_error *err);

/* DOTTED absent: inserts it with VALUE (a string, a number, or an array of
 * them), creating the
 * objects on the way. Present: unchanged, unless REPLACE and the value
 * differs, then only the value's text is replaced. *changed is set when the
 * text changed. A key on the way that is not an object is an error, so is
 * an edit of a text that is not UTF-8 (edits need offsets into the very
 * bytes the person wrote). */
int config_text_set(struct config_text *t, const char *dotted, const cJSON *value, bool replace,
		    bool *changed, ocr_error *err);

void config_text_release(struct config_text *t);

#endif
