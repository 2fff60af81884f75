/*
 * store_network.h - the store's reads for the network pages (issue 16),
 * for both backends (store_network.c, over store_read.h's query builder):
 * a country's networks counted by state and method, its targets side by
 * side on its networks, and the changes of state across all targets,
 * newest first. Every value of a filter is bound, never pasted into SQL.
 */
#ifndef WW_STORE_NETWORK_H
#define WW_STORE_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The targets of one network in one state (and method, when blocked). */
struct store_netcount {
	const char *cc, *asn;
	const char *state;   /* unknown, accessible, blocked, ... */
	const char *method;  /* blocked: its method; else NULL */
	int64_t n;	     /* targets */
	int64_t since;	     /* the earliest `since` among them (0: none) */
	int64_t last_tested; /* the latest `last_tested` among them */
};

/*
 * The targets of the networks f->cc (required) and, when given, f->asn,
 * of category f->category, and of source f->source (the targets that
 * source measured, as store_targets()), counted per network, state and
 * method: one row per (network, state, method), a network's rows
 * together, networks by cc and asn ascending. input, state, since, until,
 * after and limit do not apply. cb returns non-zero to stop. 0, or -1
 * with a message.
 */
int store_network_counts(struct store *s, const struct store_filter *f,
			 int (*cb)(const struct store_netcount *c, void *arg),
			 void *arg, char *err, size_t errlen);

/* One target on one network of a country (a cell of the matrix). */
struct store_cell {
	const char *input, *category_code, *asn, *state, *method;
	int64_t since, last_tested;
};

/*
 * The matrix of country f->cc (required): the targets blocked or
 * disrupted on at least one of its networks (of category f->category when
 * given), by input ascending after `after_input` (NULL: from the first),
 * at most f->limit inputs; for each, its state on every network of the
 * country that tested it, by asn ascending (cb once per cell). With
 * f->source, only the (target, network) pairs that source measured count,
 * for the rows and for the cells alike. *more is
 * set when further inputs follow. 0, or -1 with a message.
 */
int store_network_matrix(struct store *s, const struct store_filter *f,
			 const char *after_input,
			 int (*cb)(const struct store_cell *c, void *arg),
			 void *arg, int *more, char *err, size_t errlen);

/* A change of state, with its target's category. */
struct store_change {
	struct store_event e;
	const char *category_code;
};

/*
 * Changes of state matching f (input, cc, asn, category: the target's,
 * state: to_state, since and until: the event's time, source: those of
 * the targets that source measured, as store_events()), newest first: by
 * time, then id, descending, at most f->limit; only those before
 * (before_time, before_id) when before_id > 0 (the last row of the
 * previous page). after_id does not apply. 0, or -1 with a message.
 */
int store_changes(struct store *s, const struct store_filter *f,
		  int64_t before_time, int64_t before_id,
		  int (*cb)(const struct store_change *c, void *arg), void *arg,
		  char *err, size_t errlen);

#endif
