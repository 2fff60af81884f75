/*
 * cmdline.h - one command's options: the table's defaults (options.h),
 * then the configuration file (conf.h), then the command line, which
 * wins; each value checked and applied, and for run and daemon the
 * targets, fingerprints and category filters loaded.
 */
#ifndef WW_PROBE_CMDLINE_H
#define WW_PROBE_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "probe.h"

/* The default configuration file (WALLWATCH_PROBE_CONF or --config name
 * another one). */
#define DEFAULT_CONFIG "/etc/wallwatch/probe.conf"

/* Everything one command line plus configuration file says. The strings
 * point into argv, the configuration and the option table. */
struct bundle {
	const char *cmd; /* "run", "daemon", ... */
	struct probe_opts o;
	struct ww_conf conf;
	const char **lists, **inputs, **controls;
	size_t n_lists, n_inputs, n_controls;
	const char *include, *fp_dir;
	bool lists_from_cli; /* the volunteer named the targets */
	bool json;
};

/*
 * Parse the command line (argv[0] is the command: "run", "daemon",
 * "upload", "status" or "export") and the configuration file into a
 * bundle. NULL after a message on stderr; *rc is then the exit code
 * (EXIT_MEASURED for --help/--version, EXIT_USAGE for a bad option).
 */
struct bundle *bundle_load(const char *cmd, int argc, char **argv, int *rc);
void bundle_free(struct bundle *b);

#endif
