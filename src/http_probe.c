/* HTTP probe over a dlopen()ed libcurl (see http_probe.h). The curl
 * headers give the constants and types only; no symbol is linked. */
#include "http_probe.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	void (*easy_cleanup)(CURL *h);
};

struct http_probe {
	void *lib;
	struct curl_api api;
	CURL *easy;
};

struct body_buf {
	char *data;
	size_t len, cap;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body_buf *b = userdata;
	size_t n = size * nmemb;
	size_t room = b->cap - 1 - b->len;
	size_t take = n < room ? n : room;

	memcpy(b->data + b->len, ptr, take);
	b->len += take;
	b->data[b->len] = '\0';
	return n; /* the rest is dropped, not an error */
}

static int load_symbol(void *lib, const char *name, void *slot, ocr_error *err)
{
	void *sym = dlsym(lib, name);

	if (!sym)
		return err_set(err, 0, "libcurl: missing symbol %s", name);
	/* POSIX guarantees object and function pointers convert via dlsym. */
	memcpy(slot, &sym, sizeof(sym));
	return 0;
}

int http_probe_open(struct http_probe **out, ocr_error *err)
{
	static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4",
					    "libcurl-nss.so.4"};
	struct http_probe *p = calloc(1, sizeof(*p));
	char why[256] = "";

	if (!p)
		return err_set(err, ENOMEM, "http probe");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !p->lib; i++) {
		p->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!p->lib && i == 0)
			snprintf(why, sizeof(why), "%s", dlerror());
	}
	if (!p->lib) {
		free(p);
		return err_set(err, 0, "load libcurl (install libcurl4): %s", why);
	}
	if (load_symbol(p->lib, "curl_global_init", &p->api.global_init, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_init", &p->api.easy_init, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_setopt", &p->api.easy_setopt, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_perform", &p->api.easy_perform, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_getinfo", &p->api.easy_getinfo, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_strerror", &p->api.easy_strerror, err) < 0 ||
	    load_symbol(p->lib, "curl_easy_cleanup", &p->api.easy_cleanup, err) < 0) {
		dlclose(p->lib);
		free(p);
		return -1;
	}
	/* Plain HTTP to loopback: no TLS or Win32 socket init needed. */
	if (p->api.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK ||
	    !(p->easy = p->api.easy_init())) {
		dlclose(p->lib);
		free(p);
		return err_set(err, 0, "libcurl: initialisation failed");
	}
	*out = p;
	return 0;
}

void http_probe_close(struct http_probe *p)
{
	if (!p)
		return;
	if (p->easy)
		p->api.easy_cleanup(p->easy);
	/* No dlclose: libcurl's dependencies register atexit handlers that
	 * would then point into unmapped code. */
	free(p);
}

static double elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

int http_probe_get(struct http_probe *p, unsigned port, const char *path, long timeout_ms,
		   struct http_result *res, ocr_error *err)
{
	char url[128];
	struct body_buf body = {res->body, 0, sizeof(res->body)};
	struct timespec start;
	long code = 0;
	CURLcode rc;
	CURL *h = p->easy;

	memset(res, 0, sizeof(*res));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	if (p->api.easy_setopt(h, CURLOPT_URL, url) != CURLE_OK)
		return err_set(err, 0, "libcurl: bad URL %s", url);
	p->api.easy_setopt(h, CURLOPT_NOPROXY, "*");
	p->api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a signalfd process */
	p->api.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	p->api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	p->api.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	p->api.easy_setopt(h, CURLOPT_WRITEDATA, &body);
	p->api.easy_setopt(h, CURLOPT_USERAGENT, "openclaw-run");
	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = p->api.easy_perform(h);
	res->latency_ms = elapsed_ms(&start);
	if (rc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s", p->api.easy_strerror(rc));
		return 0;
	}
	p->api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	res->status = (int)code;
	return 0;
}
