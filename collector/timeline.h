/*
 * timeline.h - the timeline state machine of one target (docs/timelines.md),
 * as pure C: no database, no SQL, no I/O. Every backend of store.h keeps
 * its timelines with it; the backend only loads a target's state, hands it
 * the target's measurements, and saves the state and the events it finds.
 *
 * A target is (input, probe_cc, probe_asn). Its state machine looks at its
 * last TL_WINDOW conclusive measurements (the window) and at the latest
 * word of up to TL_VOTERS keyed submitters (the voters); the rules are
 * docs/timelines.md's, "States" and "Agreement".
 *
 * Use, for one target:
 *   tl_init(&t, input, cc, asn);
 *   stored state? set t's scalar fields (since, last_tested,
 *     n_conclusive, last_time, last_id, fresh, category), then
 *     tl_restore(&t, ag, state, method, window_text, ...): a damaged state
 *     (-1) is recomputed from the target's history instead;
 *   for each new measurement: tl_step(&t, ag, &m, &ch) -> an event in ch
 *     (TL_CHANGED), nothing (TL_SAME), or TL_LATE: older than the last
 *     conclusive one, recompute the target (tl_init, then tl_step for all
 *     its measurements in (start_time, id) order);
 *   save: the state's names (tl_state_name, ww_class_name(t.method)),
 *     tl_encode() for the window, the scalar fields;
 *   tl_free(&t).
 */
#ifndef WW_TIMELINE_H
#define WW_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"   /* struct store_agreement, STORE_STATE_* */
#include "verdict.h" /* the classes: WW_CLASS_*, ww_classify() */

#define TL_WINDOW 5 /* conclusive measurements a state looks at (W) */
#define TL_RUN 3    /* the run that moves a state; also the minimum (MIN) */
#define TL_VOTERS 8 /* keyed submitters whose latest word is kept (V) */
#define TL_VOTER_AGE (24 * 3600) /* how long that word stands (D) */
/* Bytes that always hold tl_encode()'s text, its NUL included. */
#define TL_TEXT_MAX ((TL_WINDOW + TL_VOTERS) * 96)

/* The states; names STORE_STATE_* (tl_state_name). */
enum tl_state {
	TL_UNKNOWN,
	TL_ACCESSIBLE,
	TL_BLOCKED,
	TL_DISRUPTED,
	TL_DOWN,
	TL_NSTATE
};

/* Where a measurement is counted in the daily counts: its class
 * (WW_CLASS_*), or one of these two, which are no class: its claimed
 * network is not the observed one (and the settings do not allow those),
 * or its submitter's daily cap was reached. */
#define TL_COUNT_GEO_MISMATCH WW_CLASS_N
#define TL_COUNT_CAPPED (WW_CLASS_N + 1)

/* What a submitter is, in the low 2 bits of its number
 * (tl_submitter_hash()): a row without one (from before submitters), the
 * unsigned of one network, a key. */
enum { TL_SUB_ROW, TL_SUB_ANON, TL_SUB_KEY };
#define TL_SUB_KIND(sub) ((int)((sub)&3))

/* One conclusive measurement in a target's window. */
struct tl_entry {
	int cls;       /* WW_CLASS_*, never WW_CLASS_FAILED */
	int64_t id;    /* the backend's measurement id (cited by events) */
	uint64_t sub;  /* the submitter it counts as (tl_submitter_hash()) */
	int64_t rt;    /* received_time: the collector's clock */
	int64_t since; /* received_time of the first of its submitter's
			* latest run of the same kind (blocked or not) */
};

/* A keyed submitter's latest conclusive word on a target. */
struct tl_voter {
	uint64_t sub;
	int cls;
	int64_t rt; /* when it was received */
};

/* One target's state, as a backend keeps it. */
struct tl {
	const char *input, *cc, *asn; /* the key, not owned */
	int64_t row;		      /* the backend's id of it, 0: new */
	int state, method; /* method: a blocked class while blocked, else -1 */
	int64_t since;	   /* time of the last event, 0: none */
	int64_t last_tested;  /* latest start_time, conclusive or not */
	int64_t n_conclusive; /* conclusive measurements ever taken */
	int64_t last_time;    /* start_time of the last conclusive one */
	int64_t last_id;      /* and its id */
	struct tl_entry win[TL_WINDOW]; /* oldest first */
	int wn;
	int fresh; /* the newest of win that came after the state began */
	struct tl_voter vot[TL_VOTERS]; /* least recently heard first */
	int nv;
	char *category; /* owned; the latest non-null category_code */
	int64_t category_time;
	bool seen; /* any measurement taken or loaded (last_tested is set) */
};

/* A change of state: an event to record. */
struct tl_change {
	int from, to, method; /* states; method a blocked class or -1 */
	int64_t time;	      /* the start_time of the measurement */
	int ncite;
	int64_t cite[TL_WINDOW]; /* ids of the measurements behind it,
				  * oldest first */
};

/* One measurement of the target, as tl_step() takes it. */
struct tl_meas {
	/* ww_classify() of its verdict; WW_CLASS_FAILED (not conclusive)
	 * also when the settings leave it out (tl_geo_excluded()) */
	int cls;
	int64_t id;	    /* the backend's id, for events */
	uint64_t sub;	    /* tl_submitter_hash(submitter, id) */
	int64_t start_time; /* measurement_start_time */
	int64_t received_time;
	const char *category; /* category_code, may be NULL; copied */
};

void tl_init(struct tl *t, const char *input, const char *cc, const char *asn);
void tl_free(struct tl *t);
/* Keep category (copied) as the target's, seen at time. */
void tl_set_category(struct tl *t, const char *category, int64_t time);

/* What tl_step() did. */
enum { TL_SAME = 0, TL_CHANGED = 1, TL_LATE = 2 };

/*
 * Take one measurement of the target (conclusive or not): last_tested and
 * the category follow it; a conclusive one moves the state machine. Returns
 * TL_CHANGED with the event in *ch, TL_SAME, or TL_LATE when m is
 * conclusive and older than the last conclusive one taken: then t is
 * unchanged, and the target must be recomputed from its history.
 * Measurements are taken in (start_time, id) order.
 */
int tl_step(struct tl *t, const struct store_agreement *ag,
	    const struct tl_meas *m, struct tl_change *ch);

/* Whether the settings keep a measurement with this geo_mismatch flag from
 * moving a state (it is then counted as TL_COUNT_GEO_MISMATCH). */
bool tl_geo_excluded(const struct store_agreement *ag, bool geo_mismatch);

/*
 * The submitter a measurement counts as (docs/timelines.md,
 * "Agreement"): its submitter id, where the unsigned of one observed
 * network ("anon:<asn>:<hour>") are one whatever the hour. Returns where it
 * starts (submitter) and its length in *len; NULL and 0 for NULL (a row
 * from before submitters were recorded).
 */
const char *tl_submitter_id(const char *submitter, size_t *len);
/* That submitter as a number for the window, its kind (TL_SUB_*) in the
 * low 2 bits; a row without one is its own submitter (by its id). A
 * collision makes two submitters one: fewer changes, never more. */
uint64_t tl_submitter_hash(const char *submitter, int64_t id);

/* The state named v (STORE_STATE_*); -1 for NULL or anything else. */
int tl_state_by_name(const char *v);
/* STORE_STATE_* of state; NULL out of range. */
const char *tl_state_name(int state);
/* A blocked class (a method) by its name; -1 for NULL or anything else. */
int tl_method_by_name(const char *v);

/*
 * The window and voters as text, as backends store them (TL_TEXT_MAX
 * bytes hold it): "o12/5f3a.../1700000000/1699990000 n15/..." (class
 * letter and id, submitter in hex, received_time, since), oldest first;
 * then "|" and the voters, "s5f3b.../1700000000 ..." (class letter,
 * submitter, received_time), least recently heard first.
 */
void tl_encode(const struct tl *t, char *out, size_t outlen);

/*
 * A stored state back into t, whose scalar fields the backend has set:
 * state and method by name (method NULL unless blocked), the window's text
 * decoded, and the whole checked for consistency with the settings. 0, or
 * -1 with a message naming what is damaged (then the target is to be
 * recomputed from its measurements).
 */
int tl_restore(struct tl *t, const struct store_agreement *ag,
	       const char *state, const char *method, const char *text,
	       char *err, size_t errlen);

/* The uids of a change's measurements (uids[0..n-1], oldest first) as a
 * JSON array of strings, as events keep them; the caller frees it. */
char *tl_uids_json(const char *const *uids, int n);

#endif
