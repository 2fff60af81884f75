/*
 * state.h - what the probe remembers between runs, in its state directory
 * (docs/volunteer.md): the spool, state.json (its own addresses and
 * network as the collector saw them, each collector's last attempt and
 * error, counters, the last run), and consent.json.
 *
 * state.json is advisory: written atomically, and when it is unreadable it
 * is set aside as state.json.bad and the probe starts afresh (nothing in
 * it is a measurement).
 *
 * The rest of the directory has headers of its own: consent.h
 * (consent.json), scrubmeas.h (a measurement scrubbed of the volunteer's
 * addresses), spoolhold.h (spooling, and holding in memory what a full
 * disk refuses).
 */
#ifndef WW_PROBE_STATE_H
#define WW_PROBE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "identity.h"
#include "scrub.h"
#include "spool.h"

/* Own addresses remembered for scrubbing (a dynamic address changes; a
 * measurement spooled last week may still hold last week's). */
#define STATE_MAX_ADDRS 16

/* A measurement that could not be spooled (full disk), held in memory
 * until it can be. */
struct pending_line {
	char *uid;
	char *data;
	size_t len;
};

/* Held in memory at most (beyond: counted as lost, loudly). */
#define PENDING_MAX_BYTES (32u * 1024 * 1024)

struct probe_env {
	char *state_dir;
	struct spool spool;
	json_t *state; /* state.json */
	struct ww_scrub *scrub;
	struct pending_line *pending;
	size_t n_pending, cap_pending, pending_bytes;
	bool spool_full_warned;
	bool read_only; /* status, export: change nothing on disk */
	/* The submitter key (identity.h); NULL read-only when there is none
	 * yet, or it is damaged (id_error says so). */
	struct probe_identity *id;
	char *id_error;
};

/* The state directory: $STATE_DIRECTORY (systemd), else the data
 * directory. Caller frees. */
char *state_default_dir(void);

/* Open (creating) the state directory, its spool, state.json and the
 * submitter key (made on first run; a damaged one is an error); learn
 * the machine's global addresses for the scrubber. read_only (status,
 * export): create and clean nothing; a missing directory is an error.
 * 0, or -1 with a message. */
int env_open(struct probe_env *env, const char *dir, uint64_t spool_max,
	     bool read_only, char *err, size_t errlen);
void env_close(struct probe_env *env);

/* Write state.json now (atomically); a failure is logged. */
void state_save(struct probe_env *env);

/* state.collectors[url], created when missing (borrowed). */
json_t *state_collector(struct probe_env *env, const char *url);

/* Add n to the counter state.counters[name]. */
void state_count(struct probe_env *env, const char *name, uint64_t n);
uint64_t state_counter(struct probe_env *env, const char *name);

/* What GET /api/v1/whoami said (asn, cc, name may be NULL): the address
 * joins the scrubber and state.addresses, the rest state.network. */
void state_learn_whoami(struct probe_env *env, const char *from, const char *ip,
			const char *asn, const char *cc, const char *name);

/* The network as last learned ("AS64500", "DE"), or NULL. */
const char *state_asn(struct probe_env *env);
const char *state_cc(struct probe_env *env);

/*
 * Load a JSON object file of the state directory (state.json,
 * consent.json); what names it in messages. NULL when it is missing, too
 * big, or not an object: then, unless read_only, it is set aside as
 * PATH.bad (logged) so that the next save starts afresh.
 */
json_t *state_load_json(const char *path, const char *what, bool read_only);

/* The probe's data directory (WALLWATCH_DATA_DIR, $XDG_DATA_HOME/wallwatch
 * or ~/.local/share/wallwatch); caller frees. */
char *probe_data_dir(void);

#endif
