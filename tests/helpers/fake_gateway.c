/* fake_gateway: stands in for `openclaw gateway run` in the integration
 * tests. It reads the same environment (OPENCLAW_GATEWAY_PORT,
 * OPENCLAW_STATE_DIR), binds 127.0.0.1:PORT, answers GET /healthz, /startupz
 * and /readyz like upstream (JSON bodies), writes into its state dir, and
 * misbehaves on demand.
 *
 * Environment (passed with `openclaw-run gateway --env K=V`):
 *   FAKE_MODE            run (default) | crash | exit78 | ignore-term |
 *                        die-on-term (SIGTERM's default action) |
 *                        crash-then-run (crash FAKE_CRASHES times, counted in
 *                        <state>/fake-crash-count, then run)
 *   FAKE_TERM_EXIT       exit status after SIGTERM/SIGINT (default 0)
 *   FAKE_CRASHES         for crash-then-run (default 2)
 *   FAKE_CRASH_DELAY_MS  how long crash/exit78 live first (default 100)
 *   FAKE_READY_DELAY_MS  /readyz answers 503 until then (default 0)
 *   FAKE_READY_FAILING   /readyz answers 503 {"ready":false,"failing":[it]}
 *   FAKE_STARTUP_DELAY_MS /startupz answers 503 "starting" until then
 *   FAKE_LISTEN_DELAY_MS nothing listens until then (default 0)
 *   FAKE_HTML_CATCHALL   1: like an older gateway without /startupz, every
 *                        unknown path (/startupz too) answers 200 with HTML
 *   FAKE_HANG_AFTER_MS   once listening that long, answer nothing and ignore
 *                        SIGTERM, like a hung event loop
 *   FAKE_DOCTOR          for `fake_gateway doctor ...` (the doctor pass):
 *                        fix (exit78 runs normally afterwards) | fail (exit 1)
 *                        | nothing (default: exit 0 without fixing)
 *
 * While <state>/fake-unhealthy exists (a test creates and removes it),
 * /healthz answers 503 {"ok":false,"status":"unhealthy"}: a gateway that
 * turns unhealthy and back without restarting.
 *
 * SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are logged ("got SIGUSR2"); the
 * signal that stopped it too ("got SIGINT").
 *
 * Files in the state dir: fake-gateway.log (one line per start/stop/doctor),
 * fake-gateway.env (the environment it got), fake-gateway.pid,
 * fake-config-fixed (the doctor "fixed" the config). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Built with the tree's sanitizers, but run under seccomp, which kills
 * ptrace: LeakSanitizer's exit-time scan would use it. */
const char *__asan_default_options(void) __attribute__((used, visibility("default")));
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static volatile sig_atomic_t got_term, got_int, got_usr1, got_usr2, got_hup, got_quit;

/* SIGUSR1 would open Node's inspector in the real gateway, SIGUSR2 is its
 * restart signal: the tests look for what arrived. */
static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_quit = 1;
}

static void on_term(int sig)
{
	got_int = sig == SIGINT;
	got_term = 1;
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void state_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("OPENCLAW_STATE_DIR");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : ".", name);
}

static void log_line(const char *fmt, const char *arg)
{
	char path[4096];
	FILE *f;

	state_path(path, sizeof(path), "fake-gateway.log");
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%ld ", (long)getpid());
	fprintf(f, fmt, arg);
	fputc('\n', f);
	fclose(f);
}

static void write_env_and_pid(void)
{
	char path[4096];
	FILE *f;

	state_path(path, sizeof(path), "fake-gateway.env");
	f = fopen(path, "w");
	if (f) {
		for (char **e = environ; *e; e++)
			fprintf(f, "%s\n", *e);
		fclose(f);
	}
	state_path(path, sizeof(path), "fake-gateway.pid");
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
}

/* crash-then-run: the counter survives restarts because it lives in the
 * state dir, exactly where a real gateway keeps what outlives it. */
/* `fake_gateway doctor --fix --yes --non-interactive`: the doctor pass. */
static int doctor(int argc, char **argv)
{
	const char *what = getenv("FAKE_DOCTOR");
	char path[4096], args[512] = "";
	FILE *f;

	for (int i = 1; i < argc; i++)
		snprintf(args + strlen(args), sizeof(args) - strlen(args), " %s", argv[i]);
	log_line("doctor%s", args);
	fprintf(stderr, "fake-gateway: doctor%s\n", args);
	if (what && strcmp(what, "fail") == 0)
		return 1;
	if (what && strcmp(what, "fix") == 0) {
		state_path(path, sizeof(path), "fake-config-fixed");
		f = fopen(path, "w");
		if (f)
			fclose(f);
	}
	return 0;
}

/* The config as upstream would find it (NULL: none). */
static char *read_config(void)
{
	const char *path = getenv("OPENCLAW_CONFIG_PATH");
	static char buf[65536];
	FILE *f = path ? fopen(path, "r") : NULL;
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* `fake_gateway config validate --json`, as upstream answers it: a key
 * "fakeInvalid" anywhere is an unknown key. */
static int config_validate(void)
{
	const char *text = read_config();

	log_line("config validate %s", getenv("OPENCLAW_CONFIG_PATH"));
	if (text && strstr(text, "\"fakeInvalid\"")) {
		printf("{\"valid\":false,\"issues\":[{\"path\":\"fakeInvalid\",\"message\":"
		       "\"Unrecognized key\"}]}\n");
		return 1;
	}
	printf("{\"valid\":true,\"path\":\"%s\",\"warnings\":[]}\n",
	       getenv("OPENCLAW_CONFIG_PATH"));
	return 0;
}

static bool config_fixed(void)
{
	char path[4096];

	state_path(path, sizeof(path), "fake-config-fixed");
	return access(path, F_OK) == 0;
}

static int bump_crash_counter(void)
{
	char path[4096];
	int n = 0;
	FILE *f;

	state_path(path, sizeof(path), "fake-crash-count");
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
	}
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", n + 1);
		fclose(f);
	}
	return n;
}

struct timing {
	long ready_at, started_at;
	const char *failing; /* NULL: none */
	bool html;
};

static void answer(int fd, const struct timing *t)
{
	char req[2048], failing[256];
	const char *status = "404 Not Found", *body = "{\"error\":\"not found\"}";
	const char *type = "application/json";
	ssize_t n;
	struct pollfd p = {fd, POLLIN, 0};

	if (poll(&p, 1, 2000) <= 0)
		return;
	n = read(fd, req, sizeof(req) - 1);
	if (n <= 0)
		return;
	req[n] = '\0';
	if (strncmp(req, "GET /healthz", 12) == 0) {
		char flag[4096];

		state_path(flag, sizeof(flag), "fake-unhealthy");
		status = access(flag, F_OK) == 0 ? "503 Service Unavailable" : "200 OK";
		body = status[0] == '2' ? "{\"ok\":true,\"status\":\"live\"}"
					: "{\"ok\":false,\"status\":\"unhealthy\"}";
	} else if (strncmp(req, "GET /startupz", 13) == 0 && !t->html) {
		if (now_ms() >= t->started_at) {
			status = "200 OK";
			body = "{\"ok\":true,\"status\":\"started\",\"version\":\"fake\"}";
		} else {
			status = "503 Service Unavailable";
			body = "{\"ok\":false,\"status\":\"starting\"}";
		}
	} else if (strncmp(req, "GET /readyz", 11) == 0) {
		if (t->failing) {
			snprintf(failing, sizeof(failing),
				 "{\"ready\":false,\"failing\":[\"%s\"],\"uptimeMs\":1}",
				 t->failing);
			status = "503 Service Unavailable";
			body = failing;
		} else if (now_ms() >= t->ready_at) {
			status = "200 OK";
			body = "{\"ready\":true,\"failing\":[]}";
		} else {
			status = "503 Service Unavailable";
			body = "{\"ready\":false,\"failing\":[\"startup\"]}";
		}
	} else if (t->html) { /* upstream's Control UI catches every other path */
		status = "200 OK";
		type = "text/html";
		body =
		    "<!doctype html>\n<html><head><title>OpenClaw Control</title></head></html>\n";
	}
	char resp[1024];
	int len = snprintf(resp, sizeof(resp),
			   "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			   status, type, strlen(body), body);
	if (write(fd, resp, (size_t)len) < 0)
		return;
}

int main(int argc, char **argv)
{
	const char *mode = getenv("FAKE_MODE");
	const char *port_s = getenv("OPENCLAW_GATEWAY_PORT");
	long start = now_ms();
	struct sigaction sa = {0};
	int port;

	if (!mode || !*mode)
		mode = "run";
	if (argc > 1 && strcmp(argv[1], "doctor") == 0)
		return doctor(argc, argv);
	if (argc > 2 && strcmp(argv[1], "config") == 0 && strcmp(argv[2], "validate") == 0)
		return config_validate();
	/* Like upstream on a config it cannot load: exit 78. */
	const char *cfg = read_config();
	if (cfg && strstr(cfg, "\"fakeBroken\"")) {
		log_line("exit config%s", "");
		fprintf(stderr, "fake-gateway: Config invalid: fakeBroken: Unrecognized key\n");
		return 78;
	}
	if (strcmp(mode, "exit78") == 0 && config_fixed())
		mode = "run";
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--port") == 0)
			port_s = argv[i + 1];
	port = port_s ? atoi(port_s) : 0;
	write_env_and_pid();
	log_line("start mode=%s", mode);
	fprintf(stderr, "fake-gateway: pid %ld mode %s port %d\n", (long)getpid(), mode, port);

	if (strcmp(mode, "crash-then-run") == 0) {
		if (bump_crash_counter() < env_long("FAKE_CRASHES", 2))
			mode = "crash";
		else
			mode = "run";
	}
	if (strcmp(mode, "crash") == 0 || strcmp(mode, "exit78") == 0) {
		usleep((useconds_t)env_long("FAKE_CRASH_DELAY_MS", 100) * 1000);
		log_line("exit %s", mode);
		fprintf(stderr, "fake-gateway: %s\n", mode);
		return strcmp(mode, "crash") == 0 ? 1 : 78;
	}

	sa.sa_handler = strcmp(mode, "ignore-term") == 0   ? SIG_IGN
			: strcmp(mode, "die-on-term") == 0 ? SIG_DFL
							   : on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	usleep((useconds_t)env_long("FAKE_LISTEN_DELAY_MS", 0) * 1000);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (port <= 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 16) < 0) {
		/* Like upstream on EADDRINUSE: exit 1. */
		fprintf(stderr, "fake-gateway: bind 127.0.0.1:%d: %s\n", port, strerror(errno));
		log_line("exit bind-failed%s", "");
		return 1;
	}
	struct timing t = {
	    .ready_at = start + env_long("FAKE_READY_DELAY_MS", 0),
	    .started_at = start + env_long("FAKE_STARTUP_DELAY_MS", 0),
	    .failing = getenv("FAKE_READY_FAILING"),
	    .html = env_long("FAKE_HTML_CATCHALL", 0) != 0,
	};
	long hang_after = env_long("FAKE_HANG_AFTER_MS", -1);
	long listening = now_ms();
	log_line("listening%s", "");
	while (!got_term) {
		struct pollfd p = {s, POLLIN, 0};

		if (hang_after >= 0 && now_ms() - listening >= hang_after) {
			/* A hung event loop: connections queue, nothing answers,
			 * not even SIGTERM. */
			log_line("hanging%s", "");
			signal(SIGTERM, SIG_IGN);
			for (;;)
				pause();
		}
		if (got_usr1 || got_usr2) {
			log_line("got %s", got_usr1 ? "SIGUSR1" : "SIGUSR2");
			got_usr1 = got_usr2 = 0;
		}
		if (got_hup || got_quit) {
			log_line("got %s", got_hup ? "SIGHUP" : "SIGQUIT");
			got_hup = got_quit = 0;
		}
		if (poll(&p, 1, 200) > 0) {
			int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0) {
				answer(c, &t);
				close(c);
			}
		}
	}
	log_line("got %s", got_int ? "SIGINT" : "SIGTERM");
	log_line("stop on signal%s", "");
	fprintf(stderr, "fake-gateway: stopping\n");
	return (int)env_long("FAKE_TERM_EXIT", 0);
}
