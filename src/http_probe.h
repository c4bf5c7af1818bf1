/* HTTP GET against a gateway's health endpoints with libcurl, which is
 * dlopen()ed on first use: linking it would make every process of the
 * launcher (the sandbox start, the long-lived supervisor) pay ~7 ms and
 * ~6 MB RSS for a library only `status` and the readiness probe need. */
#ifndef OCR_HTTP_PROBE_H
#define OCR_HTTP_PROBE_H

#include "error.h"

struct http_probe;

struct http_result {
	int status;	   /* HTTP status, 0 when nothing answered */
	double latency_ms; /* whole request, connect included */
	char error[128];   /* curl's reason when status is 0 */
	/* Start of the body, NUL-terminated: /readyz's JSON with its eventLoop
	 * details is ~400 bytes; the Control UI's HTML is cut. */
	char body[4096];
};

/* Loads libcurl (libcurl.so.4, else libcurl-gnutls.so.4) and makes a handle
 * that keeps its connection between requests. */
int http_probe_open(struct http_probe **out, ocr_error *err);
void http_probe_close(struct http_probe *p);

/* GET http://127.0.0.1:PORT/PATH with a total timeout; no proxy, whatever
 * the environment says. Returns 0 whenever a result was obtained (an
 * unreachable port is a result: status 0), -1 only on a local error. */
int http_probe_get(struct http_probe *p, unsigned port, const char *path, long timeout_ms,
		   struct http_result *res, ocr_error *err);

#endif
