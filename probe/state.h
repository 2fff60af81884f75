/*
 * state.h - what the probe remembers between runs, in its state directory
 * (docs/volunteer.md): the spool, state.json (its own addresses and
 * network as the collector saw them, each collector's last attempt and
 * error, counters, the last run), and consent.json.
 *
 * state.json is advisory: written atomically, and when it is unreadable it
 * is set aside as state.json.bad and the probe starts afresh (nothing in
 * it is a measurement).
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

/*
 * Spool one measurement; on a full disk, trim bodies and retry, then hold
 * it in memory (env_flush_pending retries). Returns 0 when on disk, 1 when
 * held, -1 when lost (memory cap reached; logged).
 */
int env_spool(struct probe_env *env, const char *uid, const char *data,
	      size_t len);
/* Retry the held measurements; returns how many are still held. */
size_t env_flush_pending(struct probe_env *env);

/* Is the spool over its cap even after trimming (then new runs wait)? */
bool env_spool_full(struct probe_env *env, uint64_t *total);

/* Consent (consent.json): the categories the volunteer agreed to have
 * measured. True when every code in cats (comma list; "" for targets
 * without a category) is covered. */
bool consent_covers(struct probe_env *env, const char *const *cats, size_t n);
/* Record consent for cats (merged with what was there). */
int consent_record(struct probe_env *env, const char *const *cats, size_t n,
		   const char *how);

#endif
