/* Capabilities: the payload is uid 0 inside its user namespace, so it starts
 * with every capability there. Empty all five sets with libcap and lock the
 * securebits so no later execve() can hand root's capabilities back. */
#include "sandbox_internal.h"

#include <errno.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

int sb_caps_drop_all(struct sandbox_error *err)
{
	cap_t empty;
	int rc;

	/* Securebits and the bounding set need CAP_SETPCAP: do them first. */
	if (cap_set_secbits(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			    SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
			    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
		return sandbox_error_set(err, errno, "sandbox: capabilities: securebits");
	for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return sandbox_error_set(err, errno,
						 "sandbox: capabilities: drop bounding %d", (int)c);
	}
	if (cap_reset_ambient() < 0)
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
