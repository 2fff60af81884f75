/*
 * store_backend.h - what a storage backend provides to store.c, and what
 * store.c gives every backend.
 *
 * store.h's struct store is opaque to callers; to a backend it is this
 * header: a table of operations. A backend embeds struct store as the
 * first member of its own handle, points ops at its table, and returns the
 * address of that member from its opener; store.c then calls every public
 * store_X(s, ...) as s->ops->X(s, ...), and the backend turns s back into
 * its own handle (a cast: the member is first).
 *
 * One member per public function of store.h, named without the store_
 * prefix and with the same signature, except those that need no backend:
 * store_open() (store.c picks the backend from the path), the packer
 * (store_pack.c) and store_meas_check() (store.c); and the read functions
 * (store_targets() .. store_domain_rollup()), which store_read.c answers
 * for both backends from one member, reader. Every member is required.
 *
 * The backends: SQLite (store_sqlite.c and its files, store_sqlite_int.h)
 * and PostgreSQL (store_pg*.c). Both keep timelines with the pure state
 * machine of timeline.h; a backend only loads and saves a target's state.
 */
#ifndef WW_STORE_BACKEND_H
#define WW_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store.h"
#include "util.h" /* xrealloc */

struct store_read;

struct store_ops {
	void (*close)(struct store *s);
	int (*put_batch)(struct store *s, const struct store_meas *v, size_t n,
			 enum store_result *res, char *err, size_t errlen);
	int (*get_raw)(struct store *s, const char *uid, char **raw,
		       size_t *len, char *err, size_t errlen);
	long (*reanalyze)(struct store *s, store_reanalyze_fn fn, void *arg,
			  char *err, size_t errlen);
	int64_t (*count)(struct store *s);
	void (*agreement_get)(struct store *s, struct store_agreement *a);
	int (*agreement_set)(struct store *s, const struct store_agreement *a,
			     char *err, size_t errlen);
	/* the read side: store_read.c answers store_targets(),
	 * store_timeline(), store_events(), store_measurements(),
	 * store_export() and store_domain_rollup() for every backend, reading
	 * it as *rd says (store_read.h) */
	void (*reader)(struct store *s, struct store_read *rd);
	int (*submitter_add)(struct store *s, const char *key_id,
			     const unsigned char public_key[32], int64_t now,
			     char *err, size_t errlen);
	int (*submitters)(struct store *s,
			  int (*cb)(const struct store_submitter *k, void *arg),
			  void *arg, char *err, size_t errlen);
	int (*submitter_revoke)(struct store *s, const char *key_id,
				const char *reason, int64_t now,
				int64_t *n_rows, char *err, size_t errlen);
	int (*submitters_guard)(struct store *s, char *err, size_t errlen);
	int64_t (*data_version)(struct store *s);
	int (*alert_claim)(struct store *s, const char *key, const char *who,
			   int64_t now, char *err, size_t errlen);
};

/* The first member of every backend's handle. */
struct store {
	const struct store_ops *ops;
};

/* The openers, as store_open() describes (path: a file for SQLite, a libpq
 * connection string for PostgreSQL), or store_open_ro() when read_only.
 * NULL with a message on failure. */
struct store *store_sqlite_open(const char *path, bool read_only, char *err,
				size_t errlen);
struct store *store_pg_open(const char *conninfo, bool read_only, char *err,
			    size_t errlen);

/* True when path names a PostgreSQL database ("postgresql://...",
 * "postgres://...", or any libpq conninfo written "postgresql:..."). */
bool store_path_is_pg(const char *path);

/* --- the checks every backend makes (store.c) -----------------------------
 * Each returns 0, or -1 with a message naming ctx (which measurement) and
 * the field. */

/* A string field: NULL only when not required, at most STORE_MAX_FIELD
 * bytes (looked at no further), not empty when required. */
int store_check_str(const char *ctx, const char *name, const char *v,
		    bool required, char *err, size_t errlen);
/* Derived values (a verdict): blocking one of the known values, etc. */
int store_check_derived(const char *ctx, const struct store_derived *d,
			char *err, size_t errlen);
/* A whole batch, before anything is written (size, every measurement). */
int store_check_batch(const struct store_meas *v, size_t n, char *err,
		      size_t errlen);
/* m's derived values as a struct store_derived (pointing into m). */
struct store_derived store_derived_of(const struct store_meas *m);
/* A query's filter (NULL: none) as f with its defaults applied (limit),
 * or -1 naming what is wrong (a field too long, an unknown state, a
 * negative limit): the same for both backends. */
int store_norm_filter(const struct store_filter *in, struct store_filter *f,
		      char *err, size_t errlen);
/* The agreement settings (store_settings.c): one out of range named in err
 * (after where), 0 when all are in range; one row (name, value) of a
 * settings table into *a (-1: a value out of range; unknown names are a
 * newer collector's, left alone); the integer settings by index, for
 * writing them. */
int store_settings_check(const struct store_agreement *a, const char *where,
			 char *err, size_t errlen);
int store_setting_read(struct store_agreement *a, const char *name, int64_t v);
size_t store_settings_n(void);
const char *store_setting_name(size_t i);
int store_setting_value(const struct store_agreement *a, size_t i);
/* A copy of v reversed ("www.example.org" -> "gro.elpmaxe.www"), NULL for
 * NULL: the subdomains of a domain are then a range of an index (both
 * backends store the reversed host for the domain roll-ups). */
char *store_reversed(const char *v);
/* "YYYY-MM-DD" of unix seconds t, clamped to the years 1 to 9999: a day
 * of the daily counts, as both backends compare them. */
void store_day_of(int64_t t, char out[32]);

/* --- a growing string: SQL being built, the events' lists of uids -------- */

struct sbuf {
	char *p; /* NUL-terminated once anything was added; the caller frees */
	size_t len, cap;
};

static inline void
sb_add(struct sbuf *b, const char *v, size_t n)
{
	size_t need = b->len + n + 1;

	if (need > b->cap) {
		b->cap = 2 * b->cap > need ? 2 * b->cap : need;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
	b->p[b->len] = '\0';
}

#endif
