/* ttyprobe: what a program sees of its terminal inside the sandbox, for
 * the pty tests (each line is flushed at once).
 *
 *   ttyprobe info     "tty A ctty B fg C size RxC dev0 D ctty_nr E", then
 *                     "ready"; then "winch RxC" on each SIGWINCH and, on
 *                     SIGINT, "got SIGINT" and exit 0
 *   ttyprobe sleep    "ready", then sleep until killed
 *   ttyprobe stdio    "stdio-ttys A B C": isatty of fds 0, 1 and 2
 *   ttyprobe tiocsti  push "echo PWNED\r" into fd 0 with TIOCSTI, print
 *                     "tiocsti ok" or "tiocsti <error>", then "own-input N"
 *                     (the bytes that came back on our own terminal) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

const char *__asan_default_options(void) __attribute__((used, visibility("default")));
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static volatile sig_atomic_t got_int, got_winch;

static void on_sig(int sig)
{
	if (sig == SIGINT)
		got_int = 1;
	else
		got_winch = 1;
}

static void print_size(const char *what)
{
	struct winsize ws = {0};

	ioctl(0, TIOCGWINSZ, &ws);
	printf("%s %ux%u", what, ws.ws_row, ws.ws_col);
}

/* The controlling terminal's device number: field 7 of /proc/self/stat. */
static unsigned long ctty_nr(void)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	unsigned long nr = 0;
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %lu", &nr);
	return nr;
}

static int info(void)
{
	struct stat st0 = {0};
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	struct sigaction sa = {.sa_handler = on_sig};
	sigset_t both, before;

	/* Blocked but while waiting (sigsuspend): a signal that comes while
	 * we print is not lost before the wait. */
	sigemptyset(&both);
	sigaddset(&both, SIGINT);
	sigaddset(&both, SIGWINCH);
	sigprocmask(SIG_BLOCK, &both, &before);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	fstat(0, &st0);
	printf("tty %d ctty %d fg %d ", isatty(0), fd >= 0, tcgetpgrp(0) == getpgrp());
	print_size("size");
	printf(" dev0 %lu ctty_nr %lu\nready\n", (unsigned long)st0.st_rdev, ctty_nr());
	for (;;) {
		if (got_winch) {
			got_winch = 0;
			print_size("winch");
			putchar('\n');
		}
		if (got_int) {
			printf("got SIGINT\n");
			return 0;
		}
		sigsuspend(&before);
	}
}

static int tiocsti(void)
{
	const char *text = "echo PWNED\r";
	char buf[256];
	struct pollfd p = {0, POLLIN, 0};
	int n = 0, bad = 0;
	struct termios tio;

	/* Raw, so the pushed bytes are readable at once, not a line later. */
	if (tcgetattr(0, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(0, TCSANOW, &tio);
	}
	for (const char *c = text; *c; c++) {
		if (ioctl(0, TIOCSTI, c) < 0)
			bad = errno;
	}
	printf("tiocsti %s\r\n", bad ? strerror(bad) : "ok");
	while (poll(&p, 1, 500) > 0) {
		ssize_t r = read(0, buf, sizeof(buf));

		if (r <= 0)
			break;
		n += (int)r;
	}
	printf("own-input %d\r\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "info") == 0)
		return info();
	if (argc > 1 && strcmp(argv[1], "tiocsti") == 0)
		return tiocsti();
	if (argc > 1 && strcmp(argv[1], "stdio") == 0) {
		printf("stdio-ttys %d %d %d\n", isatty(0), isatty(1), isatty(2));
		return 0;
	}
	printf("ready\n");
	for (;;)
		pause();
}
