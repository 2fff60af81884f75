/*
 * store_redo.h - store_reanalyze() for both backends (store_redo.c): the
 * pass over every stored measurement by pages, with the backend's reading
 * and writing of a page as operations.
 *
 * Each page is read first, with fn run on every row, outside any write
 * transaction, and its results then written in one short transaction: the
 * write lock is held for the updates only, never while fn analyses, so the
 * ingest is not kept waiting. Pages follow the id (received order), which
 * the updates do not change. Every update marks its target stale; at the
 * end every target is recomputed (or at the next open, should the process
 * not get there).
 */
#ifndef WW_STORE_REDO_H
#define WW_STORE_REDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Measurements read per page. */
#define STORE_REDO_PAGE 256

/* What fn gave for one measurement, to be written (copies, owned). */
struct store_redo {
	int64_t id, start_time;
	int accessible, packets;
	bool confirmed;
	char *blocking, *detail, *version, *reason, *evidence, *ev_detail;
};

struct store_redo_pass {
	store_reanalyze_fn fn;
	void *arg;
	int64_t last; /* id of the last measurement read */
	struct store_redo page[STORE_REDO_PAGE];
	size_t n;     /* entries of page to write */
	long updated; /* measurements updated so far */
};

struct store_redo_ops {
	/* Read the (at most STORE_REDO_PAGE) measurements after id ps->last,
	 * by id, calling store_redo_row() on each; *seen: how many rows were
	 * read (0: the end). 0, or -1 with a message. */
	int (*read_page)(void *b, struct store_redo_pass *ps, size_t *seen,
			 char *err, size_t errlen);
	/* Write ps->page[0 .. ps->n) (ps->n > 0) in one transaction, marking
	 * each one's target stale; add the rows changed to ps->updated. 0,
	 * or -1 with a message (rolled back). */
	int (*write_page)(void *b, struct store_redo_pass *ps, char *err,
			  size_t errlen);
	/* Recompute the timeline of every target. 0, or -1 with a message. */
	int (*rebuild_all)(void *b, char *err, size_t errlen);
};

/* Run ps->fn on measurement id (start_time: when it was measured, as
 * stored; uid; its raw, len bytes) and keep what it gives for writing;
 * nothing when fn keeps what is stored. 0, or -1 with a message (fn gave
 * values that are not stored). */
int store_redo_row(struct store_redo_pass *ps, int64_t id, int64_t start_time,
		   const char *uid, const char *raw, size_t len, char *err,
		   size_t errlen);
/* A kept entry as the derived values it holds (pointing into it). */
struct store_derived store_redo_derived(const struct store_redo *k);

/* store_reanalyze() on backend b: the updated count, or -1 with a
 * message. */
long store_redo_run(void *b, const struct store_redo_ops *ops,
		    store_reanalyze_fn fn, void *arg, char *err, size_t errlen);

#endif
