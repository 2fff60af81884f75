/*
 * upload_register.c - what the uploader (upload.c) asks a collector before
 * its batches: whoami (the probe's address as the collector sees it, so
 * that it is scrubbed) and the registration of the submitter key
 * (docs/submitters.md); and uploader_whoami(), the same question asked
 * before a run.
 */
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "identity.h"
#include "upload_int.h"
#include "util.h"

/* --- a round's whoami and registration --------------------------------- */

/* Whoami is done: register the key with this collector unless it already
 * knows it (state.json collectors[url].registered_key), then the batches. */
void
upl_after_whoami(struct uploader *u)
{
	const char *from = u->o.collectors[u->col];
	const char *reg;
	char *body;

	u->sign = false;
	if (u->env->id == NULL) {
		upl_post_batch(u);
		return;
	}
	reg = json_string_value(json_object_get(state_collector(u->env, from),
						"registered_key"));
	if (reg != NULL && strcmp(reg, identity_key_id(u->env->id)) == 0) {
		u->sign = true;
		upl_post_batch(u);
		return;
	}
	body = identity_registration(u->env->id);
	if (body == NULL) {
		log_error("upload", "cannot make the key's registration: "
				    "uploading unsigned");
		upl_post_batch(u);
		return;
	}
	u->body = body;
	upl_start_xfer(u, X_REGISTER, from);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDS, u->body);
	curl_easy_setopt(u->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(u->body));
}

void
upl_register_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	const char *mine = identity_key_id(u->env->id);
	json_t *j, *c;
	char *why;

	if (res != CURLE_OK || code >= 500 || code == 429) {
		/* The collector is in trouble, not the key: as a failed
		 * upload (Retry-After honoured), next collector. */
		if (res != CURLE_OK)
			upl_note_transport_failure(u, from, res);
		else {
			why = xasprintf("registering the key: HTTP %ld", code);
			upl_note_failure(u, from, failure_http_request_failed,
					 why);
			free(why);
		}
		upl_end_xfer(u);
		upl_next_collector(u);
		return;
	}
	j = json_loadb(u->ans ? u->ans : "", u->ans_len, 0, NULL);
	if ((code == 200 || code == 201) &&
	    json_is_string(json_object_get(j, "key_id")) &&
	    strcmp(json_string_value(json_object_get(j, "key_id")), mine) ==
		    0) {
		c = state_collector(u->env, from);
		json_object_set_new(c, "registered_key", json_string(mine));
		state_save(u->env);
		log_info("upload", "%s knows this probe's key %s", from, mine);
		u->sign = true;
	} else if (code == 404) {
		log_info("upload",
			 "%s predates submitter keys: uploading unsigned",
			 from);
	} else {
		why = upl_answer_error(u);
		log_error("upload",
			  "%s refused this probe's key %s (HTTP %ld: %s): "
			  "uploading unsigned, which it may refuse too "
			  "(docs/volunteer.md, \"Your submitter key\")",
			  from, mine, code, why);
		free(why);
	}
	json_decref(j);
	upl_end_xfer(u);
	upl_post_batch(u);
}

void
upl_whoami_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->col];
	char err[256], *detail = NULL;

	if (res != CURLE_OK) {
		upl_note_transport_failure(u, from, res);
		upl_end_xfer(u);
		upl_next_collector(u);
		return;
	}
	if (code == 200 && upload_parse_whoami(u->env, from, u->ans, u->ans_len,
					       err, sizeof(err)) == 0) {
		upl_end_xfer(u);
		u->whoami_done = true;
		upl_after_whoami(u);
		return;
	}
	upl_end_xfer(u);
	/* Without the address the probe cannot scrub it: no upload to a
	 * collector that does not say, unless an earlier one did. */
	if (code == 404 && ww_scrub_count(u->env->scrub) > 0 &&
	    json_array_size(json_object_get(u->env->state, "addresses")) > 0) {
		u->whoami_done = true;
		upl_after_whoami(u);
		return;
	}
	detail = code == 200 ? xstrdup(err)
			     : xasprintf("whoami: HTTP %ld", code);
	upl_note_failure(u, from, failure_http_request_failed, detail);
	free(detail);
	upl_next_collector(u);
}

/* --- standalone whoami (before a run) ----------------------------------- */

static void
who_standalone_next(struct uploader *u)
{
	if (u->who_col >= u->o.n_collectors) {
		uploader_whoami_cb cb = u->who_cb;

		u->who_standalone = false;
		upl_apply_next_opts(u);
		u->who_cb = NULL;
		if (cb != NULL)
			cb(u->who_arg, false);
		return;
	}
	upl_start_xfer(u, X_WHOAMI, u->o.collectors[u->who_col]);
}

void
upl_who_standalone_result(struct uploader *u, CURLcode res, long code)
{
	const char *from = u->o.collectors[u->who_col];
	char err[256], *detail = NULL;
	uploader_whoami_cb cb;

	if (res == CURLE_OK && code == 200 &&
	    upload_parse_whoami(u->env, from, u->ans, u->ans_len, err,
				sizeof(err)) == 0) {
		upl_end_xfer(u);
		state_save(u->env);
		cb = u->who_cb;
		u->who_standalone = false;
		u->who_cb = NULL;
		upl_apply_next_opts(u);
		if (cb != NULL)
			cb(u->who_arg, true);
		return;
	}
	if (res != CURLE_OK) {
		upl_note_transport_failure(u, from, res);
	} else {
		detail = xasprintf("whoami: HTTP %ld", code);
		upl_note_failure(u, from, failure_http_request_failed, detail);
		free(detail);
	}
	upl_end_xfer(u);
	u->who_col++;
	who_standalone_next(u);
}

void
uploader_whoami(struct uploader *u, uploader_whoami_cb cb, void *arg)
{
	if (u->busy || u->who_standalone || u->o.n_collectors == 0) {
		/* A round asks whoami itself; nothing to ask otherwise. */
		if (cb != NULL)
			cb(arg, false);
		return;
	}
	u->who_standalone = true;
	u->who_cb = cb;
	u->who_arg = arg;
	u->who_col = 0;
	who_standalone_next(u);
}
