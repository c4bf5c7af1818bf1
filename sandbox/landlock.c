/* Landlock: TCP bind restricted to the plan's port ranges (and port 0, which
 * asks the kernel for an ephemeral port). Network rules need ABI >= 4; the
 * launcher warns (or refuses, strict) on older kernels before the clone. */
#include "sandbox_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Debian 12's headers predate the network rules (Linux 6.7): own copies. */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define SB_LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define SB_LANDLOCK_RULE_NET_PORT	2

/* ABI 6 (Linux 6.12) scopes: no connecting to abstract UNIX sockets made
 * outside the sandbox's domain (a host's D-Bus or X11 listen there, and the
 * host's network namespace is shared by default), no signals to processes
 * outside it. */
#define SB_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SB_LANDLOCK_SCOPE_SIGNAL	       (1ULL << 1)

struct sb_landlock_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped; /* ABI >= 6; the attr is passed shorter before */
};

struct sb_landlock_net_port_attr {
	__u64 allowed_access;
	__u64 port;
} __attribute__((packed));

int sb_landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

static int allow_port(int ruleset, unsigned port, struct sandbox_error *err)
{
	struct sb_landlock_net_port_attr rule = {
	    .allowed_access = SB_LANDLOCK_ACCESS_NET_BIND_TCP,
	    .port = port,
	};

	if (syscall(SYS_landlock_add_rule, ruleset, SB_LANDLOCK_RULE_NET_PORT, &rule, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: landlock: allow port %u", port);
	return 0;
}

int sb_landlock_apply(const struct sandbox *sb, int abi, struct sandbox_error *err)
{
	bool ports = sb->n_ports > 0 && abi >= 4;
	struct sb_landlock_ruleset_attr attr = {
	    .handled_access_net = ports ? SB_LANDLOCK_ACCESS_NET_BIND_TCP : 0,
	    .scoped =
		abi >= 6 ? SB_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | SB_LANDLOCK_SCOPE_SIGNAL : 0,
	};
	size_t size = abi >= 6 ? sizeof(attr) : offsetof(struct sb_landlock_ruleset_attr, scoped);
	cleanup_close int ruleset = -1;

	if (!ports && !attr.scoped)
		return 0;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return sandbox_error_set(err, errno, "sandbox: landlock: create ruleset");
	if (ports && allow_port(ruleset, 0, err) < 0)
		return -1;
	for (size_t i = 0; ports && i < sb->n_ports; i++) {
		for (unsigned p = sb->ports[i].first; p <= sb->ports[i].last; p++) {
			if (allow_port(ruleset, p, err) < 0)
				return -1;
		}
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: landlock: restrict self");
	return 0;
}
