/* Instances: a profile with its config and port block, and the host view of
 * every instance of the user (all ~/.openclaw* state dirs plus instances that
 * `setup` registered with explicit paths). Reads files, writes nothing except
 * registry_record(). */
#ifndef OCR_REGISTRY_H
#define OCR_REGISTRY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "pins.h"
#include "ports.h"
#include "profile.h"

struct instance {
	/* Effective values: a pinned instance's workspace and ports are its
	 * pins (--port and OPENCLAW_GATEWAY_PORT, a person's, still win). */
	struct profile profile;
	struct port_block ports;
	cJSON *config;	     /* NULL when the config file is missing or unreadable */
	bool config_missing; /* the file does not exist (not an error) */
	/* A pinned instance whose config does not parse still loads, on its
	 * pins: the reason is kept here for the commands to say. */
	char config_error[512];
	bool pinned; /* the launcher has records of it (setup ran) */
	struct pins pins;
	/* What the config alone asks for, to compare with the pins. */
	struct port_block config_ports;
	char config_workspace[PATH_MAX]; /* "" when the config names none */
};

/* Resolve one instance: profile paths, launcher records, config, workspace
 * and port block. PORT_FLAG is --port (0: none); the base follows --port,
 * then OPENCLAW_GATEWAY_PORT, then the pinned base, then gateway.port, then
 * upstream's default. A block out of range (base < 1024 or base+110 > 65535)
 * is an error here; the instances of registry_scan() keep it, for check to
 * report. */
int instance_load(const char *profile_name, const struct env_view *env, unsigned port_flag,
		  struct instance *out, ocr_error *err);
void instance_release(struct instance *inst);
/* instance_release at scope exit; the instance starts zeroed. */
#define cleanup_instance __attribute__((cleanup(instance_release)))

struct instance_set {
	struct instance *items;
	size_t n;
	/* Instances that could not be read (a broken config with no pins, an
	 * unreadable dir): one message each. They are left out of the set, so
	 * one profile's broken config never blocks another's commands; `check`
	 * reports them as errors, the others as warnings. */
	char **problems;
	size_t n_problems;
};

/* Every instance of the user. Instances are loaded from their recorded paths
 * only (the caller's OPENCLAW_* overrides are not applied to other profiles). */
int registry_scan(const struct env_view *env, struct instance_set *out, ocr_error *err);
/* The same, recording in LOG every file and directory the scan looked at
 * (check_cache.h), each stat()ed before it was read. */
struct dep_log;
int registry_scan_logged(const struct env_view *env, struct instance_set *out, struct dep_log *log,
			 ocr_error *err);
void instance_set_release(struct instance_set *set);

/* Path of the registry file of explicit-path instances
 * (<home>/.config/openclaw-run/instances.json). */
int registry_path(const struct env_view *env, char *buf, size_t len, ocr_error *err);
/* Record (or update) an instance whose paths are not the profile defaults.
 * An entry is keyed by its (state dir, config path) pair; an unchanged
 * registry is not rewritten. */
int registry_record(const struct env_view *env, const struct profile *p, ocr_error *err);

/* Same state dir and config path: the same instance seen twice. */
bool instance_same_place(const struct instance *a, const struct instance *b);
/* mkdir -p with MODE for the directories it creates. */
int registry_mkdirs(const char *path, mode_t mode, ocr_error *err);

#endif
