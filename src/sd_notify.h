/* systemd's notify protocol (sd_notify(3)) in a few lines over the socket,
 * without libsystemd: a unit of Type=notify learns READY=1 once the
 * gateway started, STATUS= lines, STOPPING=1, and WATCHDOG=1 pings when
 * the unit sets WatchdogSec=. */
#ifndef OCR_SD_NOTIFY_H
#define OCR_SD_NOTIFY_H

#include <stdint.h>

#include "error.h"

struct sd_notifier;

/* From NOTIFY_SOCKET (a path, or "@name" in the abstract namespace) and
 * WATCHDOG_USEC/WATCHDOG_PID. *OUT stays NULL when systemd did not ask.
 * Removes the variables from our environment: nothing we start may
 * believe systemd watches it. */
int sd_notifier_open(struct sd_notifier **out, ocr_error *err);
void sd_notifier_close(struct sd_notifier *n);

/* One datagram, "KEY=VALUE\n..." (best effort: systemd may be gone). */
void sd_notifyf(struct sd_notifier *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds between WATCHDOG=1 pings (half of WatchdogSec=), 0: none. */
int64_t sd_watchdog_interval_ms(const struct sd_notifier *n);

#endif
