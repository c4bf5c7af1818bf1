/* The other names a directory has through bind mounts. A bind mount of
 * /etc/cron.d or ~/.ssh at /srv/x shows the same directory under a name that
 * no rule about /etc or HOMEs matches, and whose ancestors (by device and
 * inode) are /srv's, not /etc's; /proc/self/mountinfo says which directory of
 * which file system each mount shows, so the directory's names on every
 * other mount of that file system can be computed and judged by name too. */
#ifndef OCR_MOUNT_NAMES_H
#define OCR_MOUNT_NAMES_H

#include <limits.h>
#include <stddef.h>

#define MOUNT_NAMES_MAX 8

/* Up to MAX other names of PATH (absolute, clean, existing, no symlinks)
 * in this mount namespace, each checked to be the same directory (device
 * and inode). Returns how many were found; 0 when mountinfo is unreadable. */
size_t mount_other_names(const char *path, char (*out)[PATH_MAX], size_t max);

#endif
