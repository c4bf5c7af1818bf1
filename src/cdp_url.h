/* The local TCP port a CDP URL (browser.cdpUrl, browser.profiles.*.cdpUrl)
 * takes, decided as the gateway decides it: the WHATWG URL parser (`new
 * URL`) for http/https/ws/wss, then upstream's loopback test on the parsed
 * hostname (localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104; 0.0.0.0 and
 * :: are not loopback). Pure; checked against the gateway's own functions
 * by tests/differential. */
#ifndef OCR_CDP_URL_H
#define OCR_CDP_URL_H

enum cdp_url_kind {
	CDP_URL_INVALID, /* the gateway refuses it (new URL throws, or another scheme) */
	CDP_URL_REMOTE,	 /* a host that is not this machine's loopback */
	CDP_URL_LOCAL,	 /* loopback: *port is the port it takes */
};

enum cdp_url_kind cdp_url_classify(const char *url, unsigned *port);

#endif
