/* `exec`'s stdio: the caller's terminal is never handed to the sandbox.
 *
 * With a terminal (stdin is one, or --tty), the sandbox gets a
 * pseudo-terminal of its own as its controlling terminal, and the launcher
 * relays bytes between the caller's terminal (in raw mode, so Ctrl-C,
 * Ctrl-Z and arrow keys go through as bytes and the pty's line discipline
 * turns them into the payload's signals) and the pty's master, and passes
 * window-size changes on. Without (--no-tty, or stdin is no terminal),
 * each of the caller's stdin, stdout and stderr that is a terminal is
 * replaced by a pipe the launcher relays; pipes and files pass straight
 * through. Either way nothing inside can push input into the caller's
 * terminal (TIOCSTI) or change its modes, and the modes are restored on
 * every way out the launcher has: the payload's exit or death, and a
 * SIGTERM, SIGINT or SIGHUP sent to the launcher (forwarded to the
 * sandbox, which then ends). */
#ifndef OCR_EXEC_IO_H
#define OCR_EXEC_IO_H

#include <signal.h>
#include <stdbool.h>
#include <termios.h>

#include "error.h"
#include "sandbox.h"

struct exec_io {
	bool tty;      /* a pseudo-terminal (else: pipes where needed) */
	int ours[3];   /* our ends: pty master in [0]; pipe ends; -1: none */
	int theirs[3]; /* the sandbox's ends, -1: the caller's fd passes through */
	bool in_tty;   /* the caller's stdin is a terminal (its modes are ours to restore) */
	bool raw;      /* saved holds the modes to put back */
	struct termios saved;
};

#define EXEC_IO_INIT                                                                               \
	{                                                                                          \
		.ours = {-1, -1, -1}, .theirs = { -1, -1, -1 }                                     \
	}

/* TTY: the pair, the slave with the caller's terminal's modes and size when
 * stdin is one (else the kernel's defaults and 80x24). Else: a pipe for each
 * of the caller's stdio fds that is a terminal (none needed: nothing to
 * relay). Then hands the sandbox its ends. */
int exec_io_open(struct exec_io *io, bool tty, struct sandbox *sb, ocr_error *err);
/* Something to relay (else the caller's stdio passed through). */
bool exec_io_relays(const struct exec_io *io);
/* Puts the caller's modes back (idempotent) and closes everything. */
void exec_io_close(struct exec_io *io);

/* Once the sandbox runs: raw mode (tty), then relays until the sandbox
 * ends, forwarding the signals of SET (which the caller blocked, SIGCHLD
 * and SIGWINCH among them) but SIGCHLD and SIGWINCH to its init. Restores
 * the caller's modes before it returns the exit code, or -1 (err). */
int exec_io_relay(struct exec_io *io, struct sandbox *sb, const sigset_t *set, ocr_error *err);

#endif
