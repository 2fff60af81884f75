/*
 * store.h - where the collector keeps measurements (issue #4).
 *
 * A small interface, the same for the SQLite backend (store_sqlite.c) and
 * the PostgreSQL one: nothing here names a backend's types; store.c passes
 * each call to the handle's backend (store_backend.h). Raw measurements
 * are kept verbatim (compressed); the derived columns (the verdict) can be
 * recomputed by store_reanalyze().
 *
 * The collector never stores the submitter's IP address: there is no
 * place for it here, only the country and network it maps to.
 *
 * A struct store is used by one thread at a time. Functions that fail
 * write a message naming the problem into err (errlen bytes; err may be
 * NULL).
 */
#ifndef WW_STORE_H
#define WW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what the store accepts; larger input is refused, with its
 * field named, before anything is written. */
#define STORE_MAX_RAW ((size_t)16 * 1024 * 1024) /* bytes of raw JSON */
#define STORE_MAX_FIELD ((size_t)4096)		 /* bytes of any other string */
#define STORE_MAX_BATCH ((size_t)100000)	 /* measurements per batch */
/* start_time must fall in the years 1 to 9999 (UTC): timelines count by
 * calendar day. */
#define STORE_MIN_TIME ((int64_t)-62135596800) /* 0001-01-01 00:00:00 */
#define STORE_MAX_TIME ((int64_t)253402300799) /* 9999-12-31 23:59:59 */

struct store;

/* One measurement, as the ingest hands it over. Strings are NUL-terminated
 * and only read during the call. */
struct store_meas {
	const char *uid; /* measurement_uid, unique key; required */
	const char *raw; /* the measurement JSON exactly as submitted */
	size_t raw_len;	 /* 1..STORE_MAX_RAW bytes (raw may hold NULs) */
	const char *input, *test_name, *category_code; /* may be NULL */
	/* Where it comes from (schema 9 / PostgreSQL 3), as the measurement
	 * says: its software_name, software_version and test_version; NULL
	 * allowed. OONI's measurements are told apart by test_name
	 * (STORE_OONI_TEST_NAME; docs/ooni-data.md). */
	const char *software_name, *software_version, *test_version;
	const char *probe_cc, *probe_asn; /* as the probe claimed; required */
	/* what the collector saw of the submitter (NULL: unknown) */
	const char *observed_cc, *observed_asn;
	bool geo_mismatch;
	/* Who submitted it (docs/timelines.md, "Agreement"): "key:<key id>"
	 * for a batch signed by a registered key, "anon:<observed
	 * network>:<UTC hour received>" for an unsigned one; NULL allowed
	 * (an anonymous submitter of its own). Never an address. */
	const char *submitter;
	int64_t start_time;    /* measurement_start_time, unix seconds UTC */
	int64_t received_time; /* when the collector accepted it */
	/* Derived (re-computable by reanalysis), as in docs/verdicts.md.
	 * blocking: "false", "dns", "tcp_ip", "tls", "http-failure",
	 * "http-diff" (engine/core/verdict.h's names), or NULL for null;
	 * anything else is refused. */
	const char *blocking;
	int accessible;		     /* -1 null, 0 false, 1 true */
	const char *blocking_detail; /* NULL allowed */
	bool confirmed;
	const char *analysis_version; /* NULL allowed */
	const char *analysis_reason;  /* NULL allowed */
	/* Packet evidence (issue 13; collector/pktview.h): the analysis's
	 * evidence names joined by ';' and its one sentence (NULL: none),
	 * and how many DNS entries and TCP flows test_keys.packets holds. */
	const char *evidence, *evidence_detail;
	int packets;
	/* Optional: raw already compressed by store_pack() (zraw_len
	 * bytes), kept as it is; NULL has the store compress raw itself.
	 * raw and raw_len are required either way. */
	const void *zraw;
	size_t zraw_len;
};

/*
 * How raw is kept (store_pack.c): compressed with zlib. A packer is used by
 * one thread at a time; any thread may have its own, so that compression
 * runs beside the store. store_pack() compresses raw (1..STORE_MAX_RAW
 * bytes) into memory of p: *z (*zlen bytes) is valid until p's next call.
 * 0, or -1 with a message.
 */
struct store_packer;
struct store_packer *store_packer_new(void);
void store_packer_free(struct store_packer *p);
int store_pack(struct store_packer *p, const char *raw, size_t len,
	       const void **z, size_t *zlen, char *err, size_t errlen);

/* What became of one measurement of a batch (store_put_batch). */
enum store_result {
	STORE_NEW = 0,	     /* stored */
	STORE_DUPLICATE = 1, /* its uid was stored with the same raw */
	STORE_CONFLICT = 2,  /* its uid was stored with another raw */
};

/* The checks store_put_batch() makes of each measurement (required
 * fields, lengths, the time range, derived values), so that a caller can
 * refuse one measurement alone before it joins a batch: 0, or -1 with a
 * message naming the field. Any thread. */
int store_meas_check(const struct store_meas *m, char *err, size_t errlen);

/*
 * Open the database at path, creating it and bringing its schema up to
 * date. path is a libpq connection string for PostgreSQL when it begins
 * with "postgresql:" or "postgres://" (store_pg*.c), else a file for
 * SQLite (store_sqlite.c; store_backend.h says how a backend plugs in).
 * SQLite: WAL mode, synchronous=FULL (an acknowledged batch survives kill
 * -9 and power loss), foreign keys on, a busy timeout. A database whose
 * schema is newer than this code is refused (the message says so), and
 * left untouched. Targets whose timelines are stale (after the migration
 * from version 1, or a reanalysis that did not finish) are recomputed
 * before it returns. NULL on failure.
 */
struct store *store_open(const char *path, char *err, size_t errlen);

/*
 * Open the database at path for reading only (`wallwatch-collector
 * --read-only`, e.g. on a PostgreSQL streaming replica): nothing is
 * created, migrated or recomputed, and every transaction is read-only
 * (SQLite: the file is opened read-only and must exist). The schema must
 * be the version this code knows (older: migrating it is the primary's
 * collectors' work; newer: this code cannot read it): otherwise NULL with
 * a message saying which. Stale targets are read as stored (the primary's
 * collectors recompute them); the agreement settings are read again at
 * each store_agreement_get(), as the primary may change them. Writing
 * functions fail with the database's own read-only error.
 */
struct store *store_open_ro(const char *path, char *err, size_t errlen);
void store_close(struct store *s);

/*
 * Store v[0..n-1] in one transaction. res[i] (res may be NULL) says whether
 * v[i] is new, a duplicate (its uid was already stored, earlier or earlier
 * in this batch, with the same raw byte for byte), or a conflict (that uid
 * was stored with another raw: a reused measurement_uid). Neither a
 * duplicate nor a conflict is stored or changes anything, and neither is
 * an error. The timelines of the new ones (daily counts, states, events) are
 * updated in the same transaction (SQLite), or queued in it for the
 * serialised updater, which every read of a writable store waits for
 * (PostgreSQL: store_pg_fold.c, docs/timelines.md). Returns 0 once the batch is
 * committed to disk; -1 with a message (naming the measurement's position and
 * field when the input is at fault), and then nothing of the batch is stored.
 */
int store_put_batch(struct store *s, const struct store_meas *v, size_t n,
		    enum store_result *res, char *err, size_t errlen);

/*
 * The raw JSON of measurement uid, decompressed, in *raw (NUL-terminated
 * for convenience; *len bytes; the caller frees it). 0 found, 1 not found,
 * -1 error (*raw is then NULL).
 */
int store_get_raw(struct store *s, const char *uid, char **raw, size_t *len,
		  char *err, size_t errlen);

/* The derived values of one measurement (as in struct store_meas). */
struct store_derived {
	const char *blocking;
	int accessible;
	const char *blocking_detail;
	bool confirmed;
	const char *analysis_version;
	const char *analysis_reason;
	const char *evidence, *evidence_detail; /* NULL allowed */
	int packets;				/* >= 0 */
};

/*
 * Called with one stored measurement (raw is NUL-terminated, len bytes).
 * out arrives all null (accessible -1, confirmed false, packets 0); fill it and
 * return 0 to have those values stored, or return non-zero to leave what is
 * stored for this measurement and go on. The store copies out's strings
 * before the next call, so they may point into memory fn reuses. fn must
 * not call the store.
 */
typedef int (*store_reanalyze_fn)(const char *uid, const char *raw, size_t len,
				  struct store_derived *out, void *arg);

/*
 * Reanalysis: call fn for every stored measurement in received order
 * (including those arriving meanwhile) and store the values it gives, in
 * short transactions of a few hundred measurements each so that ingest
 * goes on alongside; then recompute every target's timeline (counts,
 * state, events), a few dozen targets per transaction. Returns the number
 * of measurements updated, or -1 (the transactions already committed stay:
 * running it again is harmless, and the next store_open() recomputes the
 * targets it changed).
 */
long store_reanalyze(struct store *s, store_reanalyze_fn fn, void *arg,
		     char *err, size_t errlen);

/* The number of stored measurements (for /metrics and tests), or -1. */
int64_t store_count(struct store *s);

/*
 * Agreement (docs/timelines.md, "Agreement"): how much independent
 * evidence a change of state needs, and how much one submitter counts.
 * A property of the database (table settings), so that a running
 * collector and `reanalyze` use the same; read at store_open().
 */
struct store_agreement {
	/* N: distinct submitters whose measurements are behind a change
	 * into or out of blocked or disrupted; 1 to STORE_MAX_MIN_SUBMITTERS
	 * (1: any one submitter is enough, a single-probe deployment) */
	int min_submitters;
	/* H: or one submitter's evidence spanning this many hours of the
	 * collector's clock, uncontradicted; 0 turns that rule off */
	int single_submitter_hours;
	/* measurements of one submitter counted per target and UTC day in
	 * the daily counts (the rest are counted apart); 0: no cap */
	int daily_cap;
	/* measurements whose claimed network is not the observed one may
	 * move a state and count in the class counts */
	bool allow_geo_mismatch;
};
#define STORE_MAX_MIN_SUBMITTERS 3
#define STORE_MAX_SINGLE_HOURS (24 * 365)
#define STORE_MAX_DAILY_CAP 1000000
#define STORE_AGREEMENT_DEFAULT                                                \
	{                                                                      \
		2, 6, 48, false                                                \
	}

/* The settings in use. */
void store_agreement_get(struct store *s, struct store_agreement *a);

/*
 * Keep a as the database's settings. When they differ from the stored
 * ones, every target is marked stale and recomputed before this returns
 * (other open handles keep the settings they read until they are opened
 * again). Returns 1 when they changed, 0 when they were already those,
 * -1 with a message (a value out of range is named).
 */
int store_agreement_set(struct store *s, const struct store_agreement *a,
			char *err, size_t errlen);

/* --- timelines and queries (docs/timelines.md) ---------------------------
 *
 * Derived from the stored verdicts as measurements arrive, inside
 * store_put_batch()'s transaction, and recomputed by store_reanalyze():
 * daily counts per (input, probe_cc, probe_asn, UTC day), and a state per
 * target (input, probe_cc, probe_asn) with hysteresis whose every change
 * is an event. A measurement older than its target's last conclusive one
 * has the target recomputed from its history, in the same transaction.
 * Measurements without an input have no target and are in neither.
 *
 * Query functions call cb once per row; cb returns 0 to go on, non-zero to
 * stop (which is not an error: the function then returns 0). String
 * pointers are valid only during the call. cb may read the store (e.g.
 * store_get_raw) but must not write to it. All return 0, or -1 with a
 * message in err (a bad filter is named there).
 */

/* The states, as stored and as returned in store_target.state and
 * store_event.from_state/to_state. */
#define STORE_STATE_UNKNOWN "unknown"
#define STORE_STATE_ACCESSIBLE "accessible"
#define STORE_STATE_BLOCKED "blocked"
#define STORE_STATE_DISRUPTED "disrupted"
#define STORE_STATE_DOWN "down"

/* The test_name of OONI's measurements (validate.h's WW_OONI_TEST_NAME),
 * which the source filter tells apart from ours. */
#define STORE_OONI_TEST_NAME "web_connectivity"

#define STORE_LIMIT_DEFAULT 100
#define STORE_LIMIT_MAX 1000

/* A filter; NULL strings and 0 numbers mean "any". A NULL filter is all
 * defaults. Strings are compared exactly (cc "CN", asn "AS4134"); state
 * must be one of the five states (else -1). */
struct store_filter {
	const char *input, *cc, *asn, *category, *state;
	/* "ooni" (OONI's measurements: test_name STORE_OONI_TEST_NAME),
	 * "wallwatch" (ours: every other test_name) or "all"; NULL is
	 * "all". Anything else is -1. */
	const char *source;
	int64_t since, until; /* unix seconds; 0 = unbounded; [since, until) */
	int64_t after_id;     /* paging: only rows with id > after_id */
	int limit;	      /* max rows (0 = default 100, capped at 1000) */
};

struct store_target {
	const char *input, *category_code, *cc, *asn;
	const char *state, *method; /* method NULL unless blocked */
	int64_t since;	     /* when the current state (and method) began: the
			      * time of the last event; 0 if none yet */
	int64_t last_tested; /* latest start_time */
	/* blocked / conclusive, in percent (0-100), over the 30 (90) UTC
	 * days ending with the day of `now`, both included; -1 when no
	 * conclusive test in the window */
	double pct_blocked_30, pct_blocked_90;
	int64_t n_30, n_90; /* conclusive tests in those windows */
	/* added: */
	int64_t id;	  /* the target's id, for paging with after_id */
	const char *host; /* lower-case host of input (NULL if unparsable) */
	int64_t n_conclusive; /* conclusive tests ever */
};

/* `now` for store_targets(): 0 means time(NULL); STORE_NOW_NEWEST the
 * newest start_time of all stored measurements. */
#define STORE_NOW_NEWEST ((int64_t)-1)

/*
 * Targets (one per input, probe_cc, probe_asn) matching f, by id
 * ascending, at most f->limit. Filters: input, cc, asn, category (the
 * target's latest non-null category_code), state (the current state),
 * since/until (on last_tested), after_id (on the target's id).
 */
int store_targets(struct store *s, const struct store_filter *f, int64_t now,
		  int (*cb)(const struct store_target *t, void *arg), void *arg,
		  char *err, size_t errlen);

struct store_bucket {
	const char *input, *cc, *asn;
	int64_t start; /* bucket start, unix seconds (day or hour) */
	int64_t ok, dns, tcp_ip, tls, http_failure, http_diff, server_side,
		down, failed, protocol, endpoint;
};

/*
 * Per (input, cc, asn) strip (in that order), buckets in time order;
 * granularity 86400 (from the daily counts) or 3600 (from the
 * measurements), anything else is -1. Only buckets with measurements are
 * given, whole: those overlapping [since, until). category and state
 * select targets as in store_targets(); limit and after_id do not apply
 * (cb may stop).
 */
int store_timeline(struct store *s, const struct store_filter *f,
		   int granularity,
		   int (*cb)(const struct store_bucket *b, void *arg),
		   void *arg, char *err, size_t errlen);

struct store_event {
	int64_t id, time;
	const char *input, *cc, *asn, *from_state, *to_state, *method;
	const char *uids_json; /* JSON array text */
};

/*
 * State changes matching f, by id ascending (the order they were found;
 * within a target also time order), at most f->limit. since/until on
 * time, state on to_state, category on the target's, after_id on the
 * event's id. A recomputation (late measurement, reanalysis) keeps the
 * events it finds again, ids included, and replaces the others.
 */
int store_events(struct store *s, const struct store_filter *f,
		 int (*cb)(const struct store_event *e, void *arg), void *arg,
		 char *err, size_t errlen);

struct store_row { /* a measurement's stored metadata */
	int64_t id;
	const char *uid, *input, *test_name, *category_code, *probe_cc,
		*probe_asn, *observed_cc, *observed_asn;
	bool geo_mismatch;
	int64_t start_time, received_time;
	const char *blocking;
	int accessible; /* -1 null, 0 false, 1 true */
	const char *blocking_detail;
	bool confirmed;
	const char *analysis_version, *analysis_reason;
	/* packet evidence (NULL: none; stored before version 7 and not
	 * reanalysed: NULL and 0) */
	const char *evidence, *evidence_detail;
	int packets;
	/* added: who submitted it, as in struct store_meas (NULL: none),
	 * so that copy-store carries it to another store */
	const char *submitter;
	/* added: its source, as in struct store_meas (NULL for rows stored
	 * before schema 9 / PostgreSQL 3) */
	const char *software_name, *software_version, *test_version;
};

/* "ooni" for one of OONI's measurements (its test_name is
 * STORE_OONI_TEST_NAME), else "wallwatch": the source filter's names. */
const char *store_source_of(const struct store_row *r);

/* Measurements matching f, by id ascending, at most f->limit (paging with
 * after_id). since/until on start_time; category on the measurement's own
 * category_code; state on its target's current state. */
int store_measurements(struct store *s, const struct store_filter *f,
		       int (*cb)(const struct store_row *r, void *arg),
		       void *arg, char *err, size_t errlen);

/* Export: every measurement matching f (limit does not apply; after_id
 * does), in start_time order then id, with its raw JSON decompressed
 * (raw_len bytes, NUL-terminated). Streaming: one row at a time, never the
 * whole result in memory. The rows come from an index in that order; with
 * an input in f, that target's rows are sorted (SQLite's sorter spills to
 * temporary files). */
int store_export(struct store *s, const struct store_filter *f,
		 int (*cb)(const struct store_row *r, const char *raw,
			   size_t raw_len, void *arg),
		 void *arg, char *err, size_t errlen);

/* Domain roll-up: of the targets whose input's host is `domain` (or a
 * subdomain of it; case and a final dot do not matter), per (cc, asn) in
 * that order: how many are in each state. */
struct store_rollup {
	const char *cc, *asn;
	int64_t blocked, disrupted, accessible, down, unknown;
	int64_t total; /* added: the sum of the five */
};
int store_domain_rollup(struct store *s, const char *domain,
			int (*cb)(const struct store_rollup *r, void *arg),
			void *arg, char *err, size_t errlen);

/* --- submitters (docs/submitters.md; store_submitters.c) ------------------
 *
 * The registered public keys. A key is never deleted, only revoked: its
 * measurements stay stored, flagged (measurements.revoked), and out of the
 * timelines once recomputed.
 */
struct store_submitter {
	const char *key_id;		 /* 32 lowercase hex characters */
	const unsigned char *public_key; /* 32 raw Ed25519 bytes */
	int64_t registered;		 /* unix seconds */
	int64_t revoked;		 /* unix seconds; 0: not revoked */
	const char *revoke_reason;	 /* NULL when none */
};

/* Add a key (key_id must be its id). 1 added, 0 already there (revoked or
 * not: look it up), -1 error. */
int store_submitter_add(struct store *s, const char *key_id,
			const unsigned char public_key[32], int64_t now,
			char *err, size_t errlen);

/* Every key, by key_id. 0, or -1 (cb's non-zero stops, not an error). */
int store_submitters(struct store *s,
		     int (*cb)(const struct store_submitter *k, void *arg),
		     void *arg, char *err, size_t errlen);

/* Revoke key_id (reason may be NULL) in one transaction: the key is
 * flagged (a second revocation keeps the first time), its measurements
 * (submitter = "key:<key_id>") get revoked = 1, and their targets are
 * marked stale, for the next store_open() or reanalysis to recompute.
 * *n_rows (may be NULL): measurements flagged now. 0, 1 when there is no
 * such key, -1 error. */
int store_submitter_revoke(struct store *s, const char *key_id,
			   const char *reason, int64_t now, int64_t *n_rows,
			   char *err, size_t errlen);

/* For the ingest's writer handle: every measurement this handle stores
 * with the submitter of a revoked key is flagged and its target marked
 * stale as it is inserted (a connection-local trigger), so that a batch
 * verified just before a revocation reached the registry is caught too.
 * 0, or -1. */
int store_submitters_guard(struct store *s, char *err, size_t errlen);

/* --- alerts (docs/alerts.md; alerts.h) ------------------------------------
 *
 * Claim the alert whose identity is key (at most 255 bytes), for this
 * collector (who: its host and pid, kept for the operator), at unix time
 * now: 1 when this call claimed it (its webhooks are sent by the caller),
 * 0 when it was claimed before (by this or another collector on the same
 * database), -1 error. A claim is never given back: an alert is sent at
 * most once per database. */
int store_alert_claim(struct store *s, const char *key, const char *who,
		      int64_t now, char *err, size_t errlen);

/* SQLite's data_version: changes when another connection commits (a cheap
 * "has anything changed?"); -1 on error. */
int64_t store_data_version(struct store *s);

#endif
