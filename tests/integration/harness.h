/* Shared by the integration and e2e tests: run the built binary with a
 * chosen environment, capture its output, make and remove temp dirs. */
#ifndef OCR_TEST_HARNESS_H
#define OCR_TEST_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

struct run_result {
	int exit_code; /* exit status, or 128+signal */
	char *out;     /* captured stdout, NUL-terminated */
	char *err;     /* captured stderr, NUL-terminated */
};

/* Runs ARGV (argv[0] is a path) with exactly ENVP (NULL-terminated; NULL
 * means a minimal PATH-only environment), capturing both streams. Returns -1
 * if it could not be started; kills it after TIMEOUT_S seconds. */
int run_argv(struct run_result *r, char *const envp[], char *const argv[], int timeout_s);

/* openclaw-run with HOME=home (and a PATH), args NULL-terminated. */
int run_ocr(struct run_result *r, const char *home, ...) __attribute__((sentinel));
/* Same, with extra "KEY=VALUE" environment entries (NULL-terminated array). */
int run_ocr_env(struct run_result *r, const char *home, char *const extra_env[], ...)
    __attribute__((sentinel));

void run_result_free(struct run_result *r);

/* Appends this process's ASAN_OPTIONS/UBSAN_OPTIONS entries to ENVP (which
 * holds N of at most MAX entries); returns the new count. The binary under
 * test must run with the same sanitizer options as the test. */
size_t add_sanitizer_env(char **envp, size_t n, size_t max);

/* A fresh directory under $TMPDIR (or /tmp), mode 0755; caller frees. */
char *tmpdir_make(const char *tag);
/* rm -rf, refusing anything not under /tmp or $TMPDIR. */
void tmpdir_remove(const char *path);

/* Writes a whole file (creating parent dirs). */
void write_text_file(const char *path, const char *text);
/* Reads a whole file, NULL if missing; caller frees. */
char *read_text_file(const char *path);
bool path_exists(const char *path);

/* A free TCP port base on setup's 120 grid, in 61029..65109: outside every
 * block upstream derives from a profile name and outside the ephemeral
 * ports (checks base..base+2 with bind()). As root each test binary runs in
 * a network namespace of its own (harness.c), so no other run's ports are
 * seen and the choice is the same every run. */
unsigned free_port_base(void);

#endif
