/* Ports held by other programs: a block can be free of every instance and
 * still be taken (a `python3 -m http.server 19029`). setup skips such a
 * block, check reports it, naming the holder when the kernel lets us see it
 * (/proc/net/tcp{,6} and the holder's /proc/PID/fd: all processes as root,
 * our own otherwise). */
#ifndef OCR_PORT_PROBE_H
#define OCR_PORT_PROBE_H

#include <stddef.h>
#include <sys/types.h>

/* First port of FIRST..LAST on which a TCP socket listens (any address,
 * v4 or v6, from /proc/net/tcp{,6}), 0 when none does. */
unsigned port_probe_busy(unsigned first, unsigned last);

/* "pid 4242 (python3)" when the listener of PORT is found, else "another
 * program (see `ss -ltnp 'sport = :PORT'`)". */
void port_describe_holder(unsigned port, char *buf, size_t len);

/* The process of ROOT's tree (ROOT and its descendants, as
 * /proc/PID/task/TID/children lists them) that listens on TCP PORT; 0 when
 * none is found. Only that tree is searched, so it stays cheap. */
pid_t port_listener_in_tree(unsigned port, pid_t root);

#endif
