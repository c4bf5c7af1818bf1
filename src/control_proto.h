/* The control socket of a supervisor, for the profiles that may rescue it
 * (grant.h, rescue.h): both ends of its protocol.
 *
 * Transport: a SOCK_SEQPACKET unix socket, RESCUE_SOCKET in the grant
 * directory, bound into the rescuer's sandbox alone. One request per
 * packet, a JSON object; every answer is one or more packets, each a JSON
 * object with "ok" (true/false) and, when false, "error" (why, for people).
 *
 *   {"op":"status"}            "text": what `status` prints, "view": what
 *                              `status --json` prints, "why": the last lines
 *                              of the log when the gateway failed
 *   {"op":"logs","lines":N,"follow":B}
 *                              "data" packets with the supervisor's log (the
 *                              gateway's output), the last N lines; then
 *                              {"ok":true,"end":true}, or with follow, more
 *                              "data" packets as the log grows, until the
 *                              client closes
 *   {"op":"restart"}           restart the gateway (start it when held)
 *   {"op":"stop"}              stop the gateway; the supervisor stays, held,
 *                              so a rescuer can start it again
 *   {"op":"start"}             start a held gateway
 *   {"op":"config-read"}       copy the target's config into the grant's
 *                              config/ (the rescuer's to edit): "path"
 *   {"op":"config-validate"}   check config/openclaw.json as apply would,
 *                              without applying: "problems"
 *   {"op":"config-apply"}      validate it, install it (the previous one
 *                              kept as .bak), and restart the gateway on it
 *
 * Who may ask is decided by the kernel, never by what the peer says: the
 * socket's place (only the rescuer's sandbox has it in its mount
 * namespace) and SO_PEERCRED (the peer's uid must be the account the
 * rescuer's sandbox runs as). Every request, refused or not, is written to
 * the target's audit log with the peer's pid and uid and the result (the
 * launcher's copy keeps the latest 4 to 8 MiB: it rotates to .1). */
#ifndef OCR_CONTROL_PROTO_H
#define OCR_CONTROL_PROTO_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

#define CONTROL_PACKET_MAX    (60 * 1024) /* one answer packet at most */
#define CONTROL_LOG_LINES_MAX 2000

/* ---- the rescuer's end ---------------------------------------------------- */

/* Connects to the control socket of TARGET (a profile label) below DIR
 * (RESCUE_SANDBOX_DIR in a rescuer's sandbox). */
int control_client_open(const char *dir, const char *target, int *fd, ocr_error *err);
/* Sends REQ; *RESP is the first answer packet (caller deletes). TIMEOUT_MS
 * bounds the wait (-1: none). -1 when the socket fails; a refusal is an
 * answer ("ok": false). */
int control_client_call(int fd, const cJSON *req, int timeout_ms, cJSON **resp, ocr_error *err);
/* The next answer packet (logs); 0 with *RESP NULL when the server closed. */
int control_client_next(int fd, int timeout_ms, cJSON **resp, ocr_error *err);

#endif
