/* setup's port block and checklist against the other instances: see setup.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "port_probe.h"
#include "setup.h"

/* The other instances: the scan minus this one, and minus a scanned profile
 * dir without a config that is in fact this instance's state dir. */
void setup_drop_self(struct instance_set *set, const struct instance *self)
{
	for (size_t i = 0; i < set->n;) {
		const struct instance *o = &set->items[i];

		if (instance_same_place(o, self) ||
		    (o->config_missing &&
		     strcmp(o->profile.state_dir, self->profile.state_dir) == 0)) {
			instance_release(&set->items[i]);
			memmove(&set->items[i], &set->items[i + 1],
				(set->n - i - 1) * sizeof(set->items[0]));
			set->n--;
		} else {
			i++;
		}
	}
}

/* The lowest grid base free of every instance and of every other program:
 * a block whose port another process holds is skipped, and said. */
static int alloc_free_base(struct instance *self, struct port_block **taken, size_t n,
			   ocr_error *err)
{
	for (;;) {
		struct port_block *bigger;
		unsigned base, hit;
		char holder[128];

		if (port_alloc_base(*taken, n, &base, err) < 0)
			return -1;
		hit = port_probe_busy(base, base + PORT_BLOCK_LAST_OFFSET);
		if (!hit) {
			self->ports.base = base;
			return 0;
		}
		port_describe_holder(hit, holder, sizeof(holder));
		printf("setup: skipping ports %u..%u: port %u is held by %s\n", base,
		       base + PORT_BLOCK_LAST_OFFSET, hit, holder);
		bigger = realloc(*taken, (n + 1) * sizeof(**taken));
		if (!bigger)
			return err_set(err, ENOMEM, "port allocation");
		*taken = bigger;
		memset(&bigger[n], 0, sizeof(bigger[n]));
		bigger[n++].base = base;
	}
}

int setup_pick_ports(struct instance *self, const struct instance_set *others, unsigned port_flag)
{
	struct port_block *taken = calloc(others->n + 1, sizeof(*taken));
	size_t n = 0;
	ocr_error err = {0};
	int rc = EXIT_OK;

	if (!taken) {
		cli_errorf("setup: out of memory");
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < others->n; i++)
		if (port_block_validate(&others->items[i].ports, NULL) == 0)
			taken[n++] = others->items[i].ports;
	if (self->ports.origin == PORT_FROM_DEFAULT || self->ports.origin == PORT_FROM_HASH) {
		/* Upstream's default may land in another block: pick and write one. */
		if (alloc_free_base(self, &taken, n, &err) < 0) {
			err_prefix(&err, "setup: profile %s", profile_label(&self->profile));
			err_print(&err);
			rc = EXIT_FAIL;
		}
		self->ports.origin = PORT_FROM_CONFIG;
		goto out;
	}
	if (port_block_validate(&self->ports, &err) < 0) {
		err_prefix(&err, "setup: profile %s: %s", profile_label(&self->profile),
			   port_base_origin_label(self->ports.origin));
		err_print(&err);
		rc = port_flag ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	if (port_flag) {
		unsigned busy = port_probe_busy(self->ports.base, port_block_last(&self->ports));
		char holder[128];

		if (busy) {
			port_describe_holder(busy, holder, sizeof(holder));
			cli_warnf(
			    "setup: profile %s: port %u of the block is held by %s; the gateway "
			    "will not start until it is free",
			    profile_label(&self->profile), busy, holder);
		}
	}
	for (size_t i = 0; i < others->n; i++) {
		const struct instance *o = &others->items[i];
		unsigned hit = port_blocks_first_collision(&self->ports, &o->ports);
		unsigned next;

		if (!hit || port_block_validate(&o->ports, NULL) < 0)
			continue;
		if (port_alloc_base_from(taken, n, self->ports.base, &next, &err) < 0 &&
		    port_alloc_base(taken, n, &next, &err) < 0)
			next = 0;
		cli_errorf("setup: profile %s: %s %u: ports %u..%u overlap profile %s (state dir "
			   "%s, ports %u..%u) from port %u; next free base: %u%s",
			   profile_label(&self->profile),
			   port_base_origin_label(self->ports.origin), self->ports.base,
			   self->ports.base, port_block_last(&self->ports),
			   profile_label(&o->profile), o->profile.state_dir, o->ports.base,
			   port_block_last(&o->ports), hit, next,
			   next ? " (setup --port that)" : " (none left)");
		rc = EXIT_FAIL;
		break;
	}
out:
	free(taken);
	return rc;
}

/* Paths that break the checklist against the other instances. */
int setup_check_paths(const struct instance *self, const struct instance_set *others)
{
	struct instance *all = calloc(others->n + 1, sizeof(*all));
	struct violation_list vl;
	ocr_error err = {0};
	size_t found = 0;

	if (!all) {
		cli_errorf("setup: out of memory");
		return EXIT_FAIL;
	}
	if (others->n)
		memcpy(all, others->items, others->n * sizeof(*all));
	all[others->n] = *self;
	if (check_instances(all, others->n + 1, &vl, &err) < 0) {
		free(all);
		err_print(&err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < vl.n; i++) {
		if (!violation_involves(&vl.items[i], others->n))
			continue;
		cli_errorf("setup: refused, %s: %s", violation_kind_name(vl.items[i].kind),
			   vl.items[i].detail);
		found++;
	}
	violation_list_release(&vl);
	free(all);
	return found ? EXIT_FAIL : EXIT_OK;
}

/* Sets KEY = VALUE in the tree and as a minimal edit of the config's text
 * (config_edit.h): only when KEY is absent, unless FORCE. */
