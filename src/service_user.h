/* The unprivileged host account a root launcher runs sandboxes as: root's
 * payload must never be host root. */
#ifndef OCR_SERVICE_USER_H
#define OCR_SERVICE_USER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

#define SERVICE_USER_DEFAULT "openclaw-run"

/* Looks NAME up (a user name or a numeric uid). With CREATE and NAME the
 * default, a missing account is created as a system user without a home and
 * with a nologin shell. */
int service_user_resolve(const char *name, bool create, uid_t *uid, gid_t *gid, ocr_error *err);

#endif
