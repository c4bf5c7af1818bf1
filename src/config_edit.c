/* See config_edit.h. Each edit is found on the parse's spans, spliced into
 * the text, and checked by parsing the result again: an edit that would not
 * read back as intended is refused, never written. */
#include "config_edit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json5.h"
#include "json5_lex.h"
#include "json5_text.h"

struct parsed {
	cJSON *root;
	struct json5_span *spans;
	size_t n;
};

static void parsed_release(struct parsed *p)
{
	json5_delete(p->root);
	free(p->spans);
	*p = (struct parsed){0};
}

static int parse(const struct config_text *t, struct parsed *p, ocr_error *err)
{
	*p = (struct parsed){0};
	if (json5_parse_spans(t->text, t->len, t->origin, &p->root, &p->spans, &p->n, err) < 0)
		return -1;
	if (!cJSON_IsObject(p->root)) {
		parsed_release(p);
		return err_set(err, 0, "%s: the top-level value is not an object", t->origin);
	}
	return 0;
}

int config_text_init(struct config_text *t, const char *origin, const char *text, size_t len,
		     ocr_error *err)
{
	struct parsed p;

	*t = (struct config_text){0};
	snprintf(t->origin, sizeof(t->origin), "%s", origin);
	if (!text) {
		text = "{\n}\n";
		len = strlen(text);
	}
	t->text = malloc(len + 1);
	if (!t->text)
		return err_set(err, ENOMEM, "%s", origin);
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->len = len;
	/* No spans yet: bytes that are not UTF-8 stop an edit, not a setup
	 * that has nothing to change. */
	if (json5_parse(t->text, t->len, t->origin, &p.root, err) < 0) {
		config_text_release(t);
		return -1;
	}
	if (!cJSON_IsObject(p.root)) {
		json5_delete(p.root);
		config_text_release(t);
		return err_set(err, 0, "%s: the top-level value is not an object", t->origin);
	}
	t->root = p.root;
	return 0;
}

void config_text_release(struct config_text *t)
{
	json5_delete(t->root);
	free(t->text);
	t->root = NULL;
	t->text = NULL;
}

/* ---- the style of the file, so that inserted text looks like its own ---- */

struct style {
	const char *nl; /* "\n" or "\r\n" */
	char unit[16];	/* one level of indentation */
	char quote;	/* '"', '\'' or 0 for unquoted keys */
};

static void detect_style(const struct config_text *t, const struct parsed *p, struct style *s)
{
	const char *lf = memchr(t->text, '\n', t->len);
	const cJSON *first = p->root->child;

	s->nl = lf && lf > t->text && lf[-1] == '\r' ? "\r\n" : "\n";
	snprintf(s->unit, sizeof(s->unit), "  ");
	for (const char *line = t->text; line && line < t->text + t->len;) {
		size_t ws = strspn(line, " \t");

		if (ws && !strchr("\r\n", line[ws])) {
			snprintf(s->unit, sizeof(s->unit), "%.*s",
				 line[0] == '\t' ? 1 : (int)(ws > 8 ? 8 : ws), line);
			break;
		}
		line = memchr(line, '\n', (size_t)(t->text + t->len - line));
		line = line ? line + 1 : NULL;
	}
	s->quote = '"';
	if (first) {
		const struct json5_span *sp = json5_span_of(p->spans, p->n, first);
		char c = sp ? t->text[sp->key] : '"';

		s->quote = c == '"' || c == '\'' ? c : 0;
	}
}

/* ---- building the inserted text ---- */

static bool put(struct json5_buf *b, const char *s)
{
	return json5_buf_put(b, s, strlen(s));
}

static bool put_string(struct json5_buf *b, const char *s, char quote)
{
	char q[2] = {quote, 0};

	if (!put(b, q))
		return false;
	for (; *s; s++) {
		char esc[8];

		if (*s == quote || *s == '\\' || (unsigned char)*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
			if (*s == quote || *s == '\\')
				snprintf(esc, sizeof(esc), "\\%c", *s);
			if (!put(b, esc))
				return false;
		} else if (!json5_buf_put(b, s, 1)) {
			return false;
		}
	}
	return put(b, q);
}

static bool identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '$')
			return false;
	return true;
}

static bool put_key(struct json5_buf *b, const char *key, size_t n, char quote)
{
	char k[256];

	snprintf(k, sizeof(k), "%.*s", (int)n, key);
	if (quote == 0 && identifier(k))
		return put(b, k) && put(b, ": ");
	return put_string(b, k, quote ? quote : '"') && put(b, ": ");
}

static bool put_value(struct json5_buf *b, const cJSON *v)
{
	char num[64];

	if (cJSON_IsArray(v)) { /* of strings and numbers: allowedOrigins */
		bool ok = put(b, "[");
		const cJSON *item;

		cJSON_ArrayForEach(item, v)
		{
			ok = ok && (item == v->child || put(b, ", ")) && put_value(b, item);
		}
		return ok && put(b, "]");
	}
	if (cJSON_IsString(v))
		return put_string(b, v->valuestring, '"');
	if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 9007199254740992.0)
		snprintf(num, sizeof(num), "%.0f", v->valuedouble);
	else if (cJSON_IsNumber(v))
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
	else
		snprintf(num, sizeof(num), "%s",
			 cJSON_IsTrue(v)    ? "true"
			 : cJSON_IsFalse(v) ? "false"
					    : "null");
	return put(b, num);
}

/* "key: value" for the path REST (dotted, no leading dot), objects for its
 * inner segments, multi-line at INDENT when MULTI. */
static bool put_member(struct json5_buf *b, const char *rest, const cJSON *v, const struct style *s,
		       bool multi, const char *indent)
{
	const char *dot = strchr(rest, '.');
	char inner[512];

	if (!put_key(b, rest, dot ? (size_t)(dot - rest) : strlen(rest), s->quote))
		return false;
	if (!dot)
		return put_value(b, v);
	snprintf(inner, sizeof(inner), "%s%s", indent, s->unit);
	if (!put(b, "{") || (multi && (!put(b, s->nl) || !put(b, inner))) ||
	    !put_member(b, dot + 1, v, s, multi, inner))
		return false;
	if (multi)
		return put(b, s->nl) && put(b, indent) && put(b, "}");
	return put(b, "}");
}

/* ---- splicing ---- */

struct splice {
	size_t at, del; /* replace DEL bytes at AT */
	const char *text;
};

/* Applies N splices, sorted by offset and not overlapping, to T's text. */
static int apply(struct config_text *t, const struct splice *sp, size_t n, ocr_error *err)
{
	struct json5_buf b = {0};
	size_t from = 0;
	bool ok = json5_buf_put(&b, "", 0);

	for (size_t i = 0; ok && i < n; i++) {
		ok = json5_buf_put(&b, t->text + from, sp[i].at - from) && put(&b, sp[i].text);
		from = sp[i].at + sp[i].del;
	}
	if (!ok || !json5_buf_put(&b, t->text + from, t->len - from)) {
		free(b.data);
		return err_set(err, ENOMEM, "%s", t->origin);
	}
	free(t->text);
	t->text = b.data;
	t->len = b.len;
	return 0;
}

static size_t line_start(const struct config_text *t, size_t pos)
{
	while (pos > 0 && t->text[pos - 1] != '\n')
		pos--;
	return pos;
}

/* The blanks before POS on its line, when nothing else precedes it there. */
static bool indent_of(const struct config_text *t, size_t pos, char *out, size_t len)
{
	size_t ls = line_start(t, pos);

	if (strspn(t->text + ls, " \t") < pos - ls)
		return false;
	snprintf(out, len, "%.*s", (int)(pos - ls), t->text + ls);
	return true;
}

/* Whether a ',' follows POS, past blanks and comments. */
static bool comma_after(const struct config_text *t, size_t pos)
{
	struct json5_lexer l = {.s = (const unsigned char *)t->text, .len = t->len, .pos = pos};

	return json5_skip_space(&l) && l.pos < l.len && t->text[l.pos] == ',';
}

/* Inserts the path REST (the part of the key missing below OBJ) into OBJ. */
static int insert(struct config_text *t, const struct parsed *p, const cJSON *obj, const char *rest,
		  const cJSON *v, ocr_error *err)
{
	const struct json5_span *os = json5_span_of(p->spans, p->n, obj), *ls = NULL;
	const cJSON *last = NULL;
	char close_indent[128], open_indent[128] = "", member_indent[160] = "";
	struct style s;
	struct json5_buf m = {0};
	struct splice sp[2];
	size_t n = 0, close;
	bool multi, at_line_start;
	int rc;

	/* The member written last (a duplicate key keeps its first place in
	 * the tree but its text may come last). */
	for (size_t i = p->n; i > 0 && !ls; i--)
		if (p->spans[i - 1].parent == obj)
			ls = &p->spans[i - 1];
	last = ls ? ls->node : NULL;
	if (!os)
		return err_set(err, EINVAL, "%s: no position for the edit", t->origin);
	detect_style(t, p, &s);
	if (ls && t->text[ls->key] != '"' && t->text[ls->key] != '\'')
		s.quote = 0;
	else if (ls)
		s.quote = t->text[ls->key];
	close = os->end - 1;
	/* An object written over several lines gets members on lines of their own. */
	multi = memchr(t->text + os->start, '\n', close - os->start) != NULL;
	at_line_start = indent_of(t, close, close_indent, sizeof(close_indent));
	indent_of(t, line_start(t, os->start) + strspn(t->text + line_start(t, os->start), " \t"),
		  open_indent, sizeof(open_indent));
	if (!(ls && indent_of(t, ls->key, member_indent, sizeof(member_indent))))
		snprintf(member_indent, sizeof(member_indent), "%s%s",
			 at_line_start ? close_indent : open_indent, s.unit);
	if (!json5_buf_put(&m, "", 0))
		return err_set(err, ENOMEM, "%s", t->origin);
	if (last && !comma_after(t, ls->end))
		sp[n++] = (struct splice){.at = ls->end, .text = ","};
	bool ok;
	if (multi && at_line_start) {
		ok = put(&m, member_indent) && put_member(&m, rest, v, &s, true, member_indent) &&
		     put(&m, s.nl);
		sp[n++] = (struct splice){.at = line_start(t, close), .text = m.data};
	} else if (multi) {
		ok = put(&m, s.nl) && put(&m, member_indent) &&
		     put_member(&m, rest, v, &s, true, member_indent) && put(&m, s.nl) &&
		     put(&m, open_indent);
		sp[n++] = (struct splice){.at = close, .text = m.data};
	} else {
		bool blank = t->text[close - 1] == ' ';

		ok = (blank || !last || put(&m, " ")) && put_member(&m, rest, v, &s, false, "") &&
		     (!blank || put(&m, " "));
		sp[n++] = (struct splice){.at = close, .text = m.data};
	}
	rc = ok ? apply(t, sp, n, err) : err_set(err, ENOMEM, "%s", t->origin);
	free(m.data);
	return rc;
}

/* The value at a dotted path (config_get's walk; kept here so that the
 * editor links alone, for the fuzzer). */
static const cJSON *at_path(const cJSON *node, const char *dotted)
{
	char key[256];

	while (node && *dotted) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);

		if (n >= sizeof(key) || !cJSON_IsObject(node))
			return NULL;
		snprintf(key, sizeof(key), "%.*s", (int)n, dotted);
		node = cJSON_GetObjectItemCaseSensitive(node, key);
		dotted += n + (dot ? 1 : 0);
	}
	return node;
}

static bool same_value(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		const cJSON *x = a->child, *y = b->child;

		for (; x && y; x = x->next, y = y->next)
			if (!same_value(x, y))
				return false;
		return !x && !y;
	}
	return false;
}

/* After an edit: the text must parse and say VALUE at DOTTED. */
static int reread(struct config_text *t, const char *dotted, const cJSON *value, ocr_error *err)
{
	struct parsed p;
	ocr_error why = {0};

	if (parse(t, &p, &why) < 0)
		return err_set(err, 0, "%s: setting %s would not parse (%s); nothing written",
			       t->origin, dotted, why.msg);
	free(p.spans);
	if (!same_value(at_path(p.root, dotted), value)) {
		json5_delete(p.root);
		return err_set(err, 0, "%s: setting %s would not read back; nothing written",
			       t->origin, dotted);
	}
	json5_delete(t->root);
	t->root = p.root;
	return 0;
}

/* The deepest object on DOTTED's way that exists (*node) and the part of
 * the path still missing below it (*rest), or the value itself (*rest NULL). */
static int walk(const struct config_text *t, const cJSON *root, const char *dotted,
		const cJSON **node, const char **rest, ocr_error *err)
{
	const char *s = dotted;

	*node = root;
	for (;;) {
		char key[256];
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		const cJSON *child;

		if (n == 0 || n >= sizeof(key))
			return err_set(err, EINVAL, "config key \"%s\": bad path", dotted);
		snprintf(key, sizeof(key), "%.*s", (int)n, s);
		child = cJSON_GetObjectItemCaseSensitive(*node, key);
		if (!child) {
			*rest = s;
			return 0;
		}
		if (!dot) {
			*node = child;
			*rest = NULL;
			return 0;
		}
		if (!cJSON_IsObject(child))
			return err_set(err, 0, "%s: config key %s: %.*s is not an object",
				       t->origin, dotted, (int)(dot - dotted), dotted);
		*node = child;
		s = dot + 1;
	}
}

int config_text_set(struct config_text *t, const char *dotted, const cJSON *value, bool replace,
		    bool *changed, ocr_error *err)
{
	struct parsed p;
	const cJSON *node;
	const char *s = NULL;
	char *saved;
	size_t saved_len;
	int rc = 0;

	/* Nothing to do needs no offsets (and takes a text that is not UTF-8). */
	node = at_path(t->root, dotted);
	if (node && (!replace || same_value(node, value)))
		return 0;
	if (parse(t, &p, err) < 0)
		return -1;
	if (walk(t, p.root, dotted, &node, &s, err) < 0) {
		parsed_release(&p);
		return -1;
	}
	saved = t->text;
	saved_len = t->len;
	t->text = malloc(saved_len + 1); /* the original stays until the edit reads back */
	if (t->text)
		memcpy(t->text, saved, saved_len + 1); /* the text may hold NULs */
	if (!t->text) {
		t->text = saved;
		parsed_release(&p);
		return err_set(err, ENOMEM, "%s", t->origin);
	}
	if (s) {
		rc = insert(t, &p, node, s, value, err);
	} else if (replace && !same_value(node, value)) {
		const struct json5_span *vs = json5_span_of(p.spans, p.n, node);
		struct json5_buf lit = {0};

		if (!vs || !json5_buf_put(&lit, "", 0) || !put_value(&lit, value))
			rc = err_set(err, ENOMEM, "%s", t->origin);
		else
			rc = apply(t, &(struct splice){vs->start, vs->end - vs->start, lit.data}, 1,
				   err);
		free(lit.data);
	} else {
		free(t->text);
		t->text = saved;
		parsed_release(&p);
		return 0;
	}
	parsed_release(&p);
	if (rc == 0)
		rc = reread(t, dotted, value, err);
	if (rc < 0) {
		free(t->text);
		t->text = saved;
		t->len = saved_len;
		return -1;
	}
	free(saved);
	*changed = true;
	return 0;
}
