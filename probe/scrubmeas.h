/*
 * scrubmeas.h - a measurement scrubbed of the volunteer's own addresses
 * (the scrubber of scrub.h, fed by state.c) before it leaves the machine:
 * uploaded (upload.c), exported (commands.c) or written by a run
 * (runner.c); and the JSON Lines such measurements travel in.
 */
#ifndef WW_PROBE_SCRUBMEAS_H
#define WW_PROBE_SCRUBMEAS_H

#include <stddef.h>

#include <jansson.h>

#include "scrub.h"

struct probe_env;

/* Scrub a measurement in place (scrub.h), and drop the body_sha256 of a
 * response body that changed; returns the replacements. */
size_t scrub_measurement(const struct ww_scrub *s, json_t *m);

/*
 * Scrub a serialised measurement (one JSON object): parse, scrub, dump.
 * Returns a new string (caller frees) and its measurement_uid and
 * category through *uid / *category (copies; may be NULL); NULL with a
 * message when data is not a JSON object with a measurement_uid.
 */
char *env_scrub_line(struct probe_env *env, const char *data, size_t len,
		     char **uid, char **category, size_t *replaced, char *err,
		     size_t errlen);

/* Append line and a newline to the JSON Lines in *buf (*len bytes used
 * of *cap), growing it. */
void jsonl_append(char **buf, size_t *len, size_t *cap, const char *line);

#endif
