/*
 * runner_refs.c - the reference check: before the targets, the run
 * measures its domestic reference targets (--reference); when every step
 * of every reference fails, the network is down, and each measurement
 * carries that (test_keys.network_check) so the analysis gives null
 * verdicts instead of "blocked".
 */
#include <stdlib.h>
#include <string.h>

#include "runner_int.h"
#include "util.h"

/* --- the reference check ------------------------------------------------- */

struct ref_arg {
	struct runner *r;
	size_t i;
};

/* Did any step reach the network: an address from DNS, or a connect? */
static bool
reached_network(const struct ww_measurement *m)
{
	for (size_t i = 0; i < m->n_queries; i++)
		for (size_t k = 0; k < m->queries[i].n_answers; k++)
			if (m->queries[i].answers[k].type != WW_RR_CNAME)
				return true;
	for (size_t i = 0; i < m->n_tcp; i++)
		if (m->tcp[i].failure == NULL)
			return true;
	return false;
}

static void
ref_done(struct ww_measurement *m, void *arg)
{
	struct ref_arg *ra = arg;
	struct runner *r = ra->r;
	bool ok = reached_network(m);

	r->ref_jobs[ra->i] = NULL;
	if (ok)
		r->net_ok = true;
	else if (!r->o->quiet)
		log_warn("reference", "%s: every step failed", m->input);
	ww_measurement_free(m);
	free(ra);
	if (--r->ref_pending > 0)
		return;
	if (r->stopping) {
		runner_maybe_finish(r);
		return;
	}
	json_object_set_new(r->network_check, "ok", json_boolean(r->net_ok));
	if (!r->net_ok)
		log_warn("run", "no working network: every reference target "
				"failed at every step; verdicts will be null, "
				"not \"blocked\"");
	runner_start_more(r);
}

void
runner_start_references(struct runner *r)
{
	struct probe_opts *o = r->o;
	json_t *refs = json_array();
	struct ww_job_opts jo;

	memset(&jo, 0, sizeof(jo));
	jo.no_control = true;
	r->network_check = json_object();
	r->ref_jobs = xcalloc(o->n_references, sizeof(*r->ref_jobs));
	r->ref_pending = o->n_references;
	for (size_t i = 0; i < o->n_references; i++)
		json_array_append_new(refs, json_string(o->references[i]));
	json_object_set_new(r->network_check, "references", refs);
	for (size_t i = 0; i < o->n_references; i++) {
		struct ref_arg *ra = xmalloc(sizeof(*ra));
		struct ww_target t;
		char err[256];

		if (ww_target_parse(o->references[i], &t, err, sizeof(err)) !=
		    0)
			abort(); /* checked with the options */
		ra->r = r;
		ra->i = i;
		r->ref_jobs[i] = ww_job_start_opts(
			r->engine, &t, &jo, ww_measurement_new(), ref_done, ra);
		ww_target_clear(&t);
	}
}
