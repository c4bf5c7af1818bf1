/* The C side of the differential test: reads cases ("<length>\n<bytes>",
 * repeated) from the file named by argv[1] and prints, one line per case,
 * the canonical form of what json5_parse made of it, or "ERROR". The node
 * side (run.mjs) prints the same form from upstream's own parser:
 *   null true false | numbers as the hex of their IEEE-754 bits ("NaN" for
 *   any NaN) | strings in double quotes, printable ASCII but '"' and '\' as
 *   is, every other UTF-16 code unit as \uXXXX | [a,b] | {"k":v} in order.
 * It walks the tree without recursion: any depth prints. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdp_url.h"
#include "config.h"
#include "config_env.h"
#include "json5.h"

static void put_unit(FILE *out, uint32_t u)
{
	if (u >= 0x20 && u < 0x7f && u != '"' && u != '\\')
		fputc((int)u, out);
	else
		fprintf(out, "\\u%04" PRIx32, u);
}

/* Our strings: UTF-8 with C0 80 for U+0000 and lone surrogates as 3 bytes. */
static void put_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		uint32_t cp;

		if (p[0] < 0x80) {
			cp = *p++;
		} else if (p[0] < 0xe0) {
			cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
			p += 2;
		} else if (p[0] < 0xf0) {
			cp = ((uint32_t)(p[0] & 0xf) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
			     (p[2] & 0x3f);
			p += 3;
		} else {
			cp = ((uint32_t)(p[0] & 0x7) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
			     ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
			p += 4;
		}
		if (cp >= 0x10000) {
			put_unit(out, 0xd800 + ((cp - 0x10000) >> 10));
			put_unit(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			put_unit(out, cp);
		}
	}
	fputc('"', out);
}

static void put_scalar(FILE *out, const cJSON *v)
{
	uint64_t bits;

	if (cJSON_IsNull(v)) {
		fputs("null", out);
	} else if (cJSON_IsBool(v)) {
		fputs(cJSON_IsTrue(v) ? "true" : "false", out);
	} else if (cJSON_IsNumber(v)) {
		if (isnan(v->valuedouble)) {
			fputs("NaN", out);
		} else {
			memcpy(&bits, &v->valuedouble, sizeof(bits));
			fprintf(out, "0x%016" PRIx64, bits);
		}
	} else {
		put_string(out, v->valuestring);
	}
}

static int dump(FILE *out, const cJSON *root)
{
	const cJSON **path = NULL, *it = root;
	size_t n = 0, cap = 0;

	while (it) {
		if (n > 0 && it != path[n - 1]->child)
			fputc(',', out);
		if (it->string && n > 0 && cJSON_IsObject(path[n - 1])) {
			put_string(out, it->string);
			fputc(':', out);
		}
		if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
			fputc(cJSON_IsArray(it) ? '[' : '{', out);
			if (it->child) {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					path = realloc(path, cap * sizeof(*path));
					if (!path)
						return -1;
				}
				path[n++] = it;
				it = it->child;
				continue;
			}
			fputc(cJSON_IsArray(it) ? ']' : '}', out);
		} else {
			put_scalar(out, it);
		}
		while (n > 0 && !it->next) {
			it = path[--n];
			fputc(cJSON_IsArray(it) ? ']' : '}', out);
		}
		it = n > 0 ? it->next : NULL;
	}
	free(path);
	return 0;
}

/* --time FILE N: parses FILE N times, one line per run with the
 * nanoseconds json5_parse plus json5_delete took (for scripts/bench-config). */
static int time_parse(const char *path, int n)
{
	FILE *f = fopen(path, "rb");
	static char text[4 << 20];
	size_t len;

	if (!f)
		return 2;
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		cJSON *root = NULL;
		ocr_error err = {0};

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (json5_parse(text, len, path, &root, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		json5_delete(root);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%lld\n",
		       (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	}
	return 0;
}

/* --cdp FILE: one URL a line (cases as above); prints "invalid", "remote"
 * or "local PORT" for each, as the gateway classifies a CDP URL. */
static int classify_urls(FILE *in)
{
	size_t len;

	while (fscanf(in, "%zu", &len) == 1 && fgetc(in) == '\n') {
		char *url = calloc(1, len + 1);
		unsigned port = 0;

		if (!url || fread(url, 1, len, in) != len)
			return 2;
		switch (cdp_url_classify(url, &port)) {
		case CDP_URL_INVALID:
			puts("invalid");
			break;
		case CDP_URL_REMOTE:
			puts("remote");
			break;
		case CDP_URL_LOCAL:
			printf("local %u\n", port);
			break;
		}
		free(url);
	}
	return 0;
}

int main(int argc, char **argv)
{
	FILE *in;
	size_t len;

	if (argc == 4 && strcmp(argv[1], "--time") == 0)
		return time_parse(argv[2], atoi(argv[3]));
	if (argc >= 2 && strcmp(argv[1], "--config") == 0) {
		/* --config PATH...: each config as config_load reads it ($include
		 * resolved), or ERROR. */
		for (int i = 2; i < argc; i++) {
			cJSON *root = NULL;
			bool missing;
			ocr_error err = {0};

			if (config_load(argv[i], &root, &missing, &err) < 0 || missing)
				fputs("ERROR\n", stdout);
			else if (dump(stdout, root) < 0)
				return 2;
			else
				fputc('\n', stdout);
			json5_delete(root);
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--env") == 0) {
		/* --env CASES: each document with ${VAR} substituted from the
		 * environment run.mjs gives the gateway's side too. */
		static const char *const env[] = {"HOME=/h", "A=x", "EMPTY=", "B_1=$${A}",
						  "LOW=l",   "_=u", NULL};

		in = fopen(argv[2], "rb");
		while (in && fscanf(in, "%zu", &len) == 1 && fgetc(in) == '\n') {
			char *text = malloc(len + 1);
			cJSON *root = NULL;
			ocr_error err = {0};

			if (!text || fread(text, 1, len, in) != len)
				return 2;
			if (json5_parse(text, len, "case", &root, &err) < 0 ||
			    config_substitute_env(root, env, &err) < 0)
				fputs("ERROR\n", stdout);
			else if (dump(stdout, root) == 0)
				fputc('\n', stdout);
			json5_delete(root);
			free(text);
		}
		return in ? 0 : 2;
	}
	if (argc == 3 && strcmp(argv[1], "--cdp") == 0) {
		in = fopen(argv[2], "rb");
		return in ? classify_urls(in) : 2;
	}
	in = argc > 1 ? fopen(argv[1], "rb") : NULL;

	if (!in) {
		fprintf(stderr, "usage: json5_dump CASES\n");
		return 2;
	}
	while (fscanf(in, "%zu", &len) == 1 && fgetc(in) == '\n') {
		char *text = malloc(len + 1);
		cJSON *root = NULL;
		ocr_error err = {0};

		if (!text || fread(text, 1, len, in) != len)
			return 2;
		if (json5_parse(text, len, "case", &root, &err) < 0) {
			fputs("ERROR\n", stdout);
		} else {
			if (dump(stdout, root) < 0)
				return 2;
			fputc('\n', stdout);
		}
		json5_delete(root);
		free(text);
	}
	fclose(in);
	return ferror(stdout) ? 2 : 0;
}
