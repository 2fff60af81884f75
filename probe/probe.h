/*
 * probe.h - the probe program: options (main.c) and the run (runner.c).
 */
#ifndef WW_PROBE_H
#define WW_PROBE_H

#include <stdbool.h>

#include "engine.h"
#include "fingerprint.h"
#include "testlist.h"

/* Exit codes (issue #2). */
#define EXIT_MEASURED 0 /* every target measured, whatever it found */
#define EXIT_USAGE 1    /* bad command line or input files */
#define EXIT_RUNFAIL 2  /* the run could not happen or was cut short */

struct probe_opts {
	struct ww_config cfg;
	struct ww_testlist targets;
	int concurrency;
	const char *output; /* NULL: a dated file in the data directory */
	const char *probe_cc;
	const char *probe_asn;
	bool quiet;
	const char **references; /* domestic reference targets (URLs) */
	size_t n_references;
	struct ww_fingerprints *fp; /* NULL: none */
};

/* Run every target; returns one of the exit codes above. */
int runner_run(struct probe_opts *o);

/* The probe's data directory (WALLWATCH_DATA_DIR, $XDG_DATA_HOME/wallwatch
 * or ~/.local/share/wallwatch); caller frees. */
char *probe_data_dir(void);

#endif
