/* Capabilities: the payload is uid 0 inside its user namespace, so it starts
 * with every capability there. Empty all five sets and lock the securebits
 * so no later execve() can hand root's capabilities back.
 *
 * The securebits, the bounding set and the ambient set are plain prctl()s;
 * libcap's wrappers for them cost a syscall per capability for the ambient
 * set (where PR_CAP_AMBIENT_CLEAR_ALL is one) and its own probing of the
 * highest capability. The last step, emptying effective, permitted and
 * inheritable, stays libcap's cap_set_proc(): one capset(). */
#include "sandbox_internal.h"

#include <errno.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* Without namespaces an unprivileged caller has no CAP_SETPCAP to lock
 * anything with; it has no capability to give back either, and
 * no_new_privs (set before) keeps execve from granting any. */
static bool have_setpcap(void)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (now) {
		cap_get_flag(now, CAP_SETPCAP, CAP_EFFECTIVE, &v);
		cap_free(now);
	}
	return v == CAP_SET;
}

int sb_caps_drop_all(struct sandbox_error *err)
{
	cap_t empty;
	int rc;
	bool setpcap = have_setpcap();

	/* Securebits and the bounding set need CAP_SETPCAP: do them first. */
	if (setpcap && prctl(PR_SET_SECUREBITS,
			     SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
				 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
				 SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
			     0, 0, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: capabilities: securebits");
	/* Up to the first number the kernel does not know (EINVAL): a kernel
	 * newer than our headers has more than CAP_LAST_CAP. */
	for (unsigned long c = 0; setpcap; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && c > 0)
			break;
		return sandbox_error_set(err, errno, "sandbox: capabilities: drop bounding %lu", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return sandbox_error_set(err, errno, "sandbox: capabilities: clear ambient");
	empty = cap_init(); /* all of effective, permitted, inheritable clear */
	if (!empty)
		return sandbox_error_set(err, errno, "sandbox: capabilities: cap_init");
	rc = cap_set_proc(empty);
	cap_free(empty);
	if (rc < 0)
		return sandbox_error_set(err, errno, "sandbox: capabilities: cap_set_proc");
	return 0;
}
