/* hog: eats what the limits tests limit, inside a sandbox.
 *
 *   hog memory         touch 1 MiB after 1 MiB until killed (the OOM killer)
 *   hog fork           fork children that wait, until fork fails; prints
 *                      "forked N (error)" and exits 3, its children with it
 *   hog ANYTHING ELSE  memory (so it can stand in for `gateway run ...`)
 *
 * mmap, not malloc: what the kernel charges is what is touched, and the
 * sanitizers' allocator must not get in between. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

const char *__asan_default_options(void) __attribute__((used, visibility("default")));
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int eat_memory(void)
{
	for (;;) {
		char *p =
		    mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "hog: mmap: %s\n", strerror(errno));
			return 2;
		}
		memset(p, 0xa5, 1 << 20);
	}
}

static int fork_storm(void)
{
	int n = 0;

	for (;;) {
		pid_t pid = fork();

		if (pid < 0) {
			printf("forked %d (%s)\n", n, strerror(errno));
			return 3; /* the children die with us (pdeathsig) */
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pause();
			_exit(0);
		}
		n++;
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "fork") == 0)
		return fork_storm();
	return eat_memory();
}
