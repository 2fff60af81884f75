/*
 * store_redo.c - store_reanalyze()'s pass by pages, for both backends
 * (store_redo.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_backend.h"
#include "store_redo.h"
#include "util.h"

int
store_redo_row(struct store_redo_pass *ps, int64_t id, int64_t start_time,
	       const char *uid, const char *raw, size_t len, char *err,
	       size_t errlen)
{
	struct store_derived out = {NULL, -1,	NULL, false, NULL,
				    NULL, NULL, NULL, 0};
	struct store_redo *k;
	char ctx[256];

	ps->last = id;
	if (ps->fn(uid, raw, len, &out, ps->arg) != 0)
		return 0; /* fn keeps what is stored */
	snprintf(ctx, sizeof(ctx), "reanalysis of measurement %.200s", uid);
	if (store_check_derived(ctx, &out, err, errlen) != 0)
		return -1;
	k = &ps->page[ps->n++];
	k->id = id;
	k->start_time = start_time;
	k->accessible = out.accessible;
	k->confirmed = out.confirmed;
	k->packets = out.packets;
	k->blocking = xstrdup(out.blocking);
	k->detail = xstrdup(out.blocking_detail);
	k->version = xstrdup(out.analysis_version);
	k->reason = xstrdup(out.analysis_reason);
	k->evidence = xstrdup(out.evidence);
	k->ev_detail = xstrdup(out.evidence_detail);
	return 0;
}

struct store_derived
store_redo_derived(const struct store_redo *k)
{
	struct store_derived d = {k->blocking,	k->accessible, k->detail,
				  k->confirmed, k->version,    k->reason,
				  k->evidence,	k->ev_detail,  k->packets};

	return d;
}

static void
forget_page(struct store_redo_pass *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct store_redo *k = &ps->page[i];

		free(k->blocking);
		free(k->detail);
		free(k->version);
		free(k->reason);
		free(k->evidence);
		free(k->ev_detail);
	}
	ps->n = 0;
}

long
store_redo_run(void *b, const struct store_redo_ops *ops, store_reanalyze_fn fn,
	       void *arg, char *err, size_t errlen)
{
	struct store_redo_pass *ps;
	size_t seen;
	long ret;

	if (fn == NULL) {
		ww_set_err(err, errlen, "no reanalysis function given");
		return -1;
	}
	ps = xcalloc(1, sizeof(*ps));
	ps->fn = fn;
	ps->arg = arg;
	for (;;) {
		if (ops->read_page(b, ps, &seen, err, errlen) != 0 ||
		    (ps->n > 0 && ops->write_page(b, ps, err, errlen) != 0)) {
			ret = -1;
			break;
		}
		forget_page(ps);
		if (seen == 0) {
			ret = ps->updated;
			break;
		}
	}
	/* the timelines of the new verdicts: every target recomputed */
	if (ret >= 0 && ops->rebuild_all(b, err, errlen) != 0)
		ret = -1;
	forget_page(ps);
	free(ps);
	return ret;
}
