/*
 * consent.h - the volunteer's consent (consent.json in the state
 * directory): the test-list categories they agreed to have measured, and
 * the question that asks for it.
 *
 * Measuring a test list means the network sees the volunteer reach every
 * site on it, which in some places is dangerous. So the first run (and any
 * run that adds a category) shows what will be tested and asks; the answer
 * is remembered.
 */
#ifndef WW_PROBE_CONSENT_H
#define WW_PROBE_CONSENT_H

#include <stdbool.h>
#include <stddef.h>

struct probe_env;
struct probe_opts;

/* True when every code in cats (n of them; "" for targets without a
 * category) is covered by the recorded consent. */
bool consent_covers(struct probe_env *env, const char *const *cats, size_t n);
/* Record consent for cats (merged with what was there); how says how it
 * was given ("--yes", "terminal"). 0, or -1 (logged). */
int consent_record(struct probe_env *env, const char *const *cats, size_t n,
		   const char *how);

/*
 * Before a run or the daemon: are the categories of o's targets covered?
 * If not, record them when o->yes, else ask on a terminal (and record a
 * yes), else say how to consent. named: the volunteer named the targets
 * on the command line of `run`, which is the choice itself (no question).
 * 0 to go on, -1 not to measure (said on stderr).
 */
int consent_check(const struct probe_opts *o, bool named,
		  struct probe_env *env);

#endif
