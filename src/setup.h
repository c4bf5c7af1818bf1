/* What `setup` does besides parsing and printing (cmd_setup.c): the port
 * block and the checklist against the other instances (setup_ports.c), and
 * the directories and ownership on disk (setup_fs.c). */
#ifndef OCR_SETUP_H
#define OCR_SETUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "registry.h"

/* The other instances: the scan minus SELF, and minus a scanned profile dir
 * without a config that is in fact SELF's state dir. */
void setup_drop_self(struct instance_set *set, const struct instance *self);
/* SELF's block: the lowest free grid base when SELF has none yet (skipping
 * blocks another program listens in), else its own, refused when it
 * overlaps another instance. Prints why; returns an exit code. */
int setup_pick_ports(struct instance *self, const struct instance_set *others, unsigned port_flag);
/* SELF's paths against the checklist; prints each refusal; an exit code. */
int setup_check_paths(const struct instance *self, const struct instance_set *others);

/* State dir (mkdir -p of a person's path), then logs and an inner
 * workspace beneath it without following links; a workspace outside the
 * state dir only for a rootless caller. An O_DIRECTORY fd of the state dir,
 * or -1. */
int setup_make_dirs(const struct profile *p, bool root, ocr_error *err);
/* As root: the state dir, logs, an inner workspace and the config go to
 * UID:GID through descriptors, never following a link. */
int setup_give_to_user(int state_fd, const struct profile *p, uid_t uid, gid_t gid, ocr_error *err);
/* As root: foreign-owned files below the state dir go back to UID:GID
 * (upstream's CLI run as root leaves them); says what it did. */
void setup_repair_ownership(int state_fd, const struct profile *p, uid_t uid, gid_t gid);

#endif
