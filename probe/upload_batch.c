/*
 * upload_batch.c - a batch of the uploader (upload.c): the spool's
 * measurements, scrubbed, as JSON Lines (what cannot be read is set aside,
 * what a now excluded category holds deleted), and the collector's answer
 * to it: what it stored or already had is deleted from the spool, what it
 * rejected or holds with other content is set aside for the volunteer.
 */
#include <stdlib.h>
#include <string.h>

#include "scrubmeas.h"
#include "upload_int.h"
#include "util.h"

void
upl_free_batch(struct uploader *u)
{
	for (size_t i = 0; i < u->n_batch; i++) {
		free(u->names[i]);
		free(u->uids[i]);
	}
	free(u->names);
	free(u->uids);
	u->names = NULL;
	u->uids = NULL;
	u->n_batch = 0;
}

/*
 * Fill the next batch from the spool. Unreadable entries are rejected
 * locally, withheld ones (a category now excluded) deleted. Returns the
 * JSON Lines (NULL when nothing is queued).
 */
char *
upl_build_batch(struct uploader *u, size_t *len)
{
	struct probe_env *env = u->env;
	struct spool_entry *e;
	size_t n, cap_n = 0, cap_u = 0, nb = 0, nu = 0, withheld = 0;
	char *buf = NULL, err[512];
	size_t blen = 0, bcap = 0;

	*len = 0;
	if (spool_list(&env->spool, &e, &n, NULL, err, sizeof(err)) != 0) {
		log_error("upload", "%s", err);
		return NULL;
	}
	for (size_t i = 0; i < n && nb < u->batch_max && blen < BATCH_MAX_BYTES;
	     i++) {
		size_t dlen, sc = 0;
		char *data = spool_read(&env->spool, e[i].name, &dlen, err,
					sizeof(err));
		char *uid = NULL, *cat = NULL, *line;

		if (data == NULL) {
			log_warn("upload", "skipping %s: %s", e[i].name, err);
			continue;
		}
		line = env_scrub_line(env, data, dlen, &uid, &cat, &sc, err,
				      sizeof(err));
		free(data);
		if (line == NULL) {
			log_error("upload", "%s is damaged (%s): moved to %s",
				  e[i].name, err, env->spool.rejected);
			spool_reject(&env->spool, e[i].name, err);
			state_count(env, "rejected", 1);
		} else if (upload_excluded(u->o.exclude, cat)) {
			const char *nm = e[i].name;

			spool_remove(&env->spool, &nm, 1);
			withheld++;
		} else {
			jsonl_append(&buf, &blen, &bcap, line);
			*WW_PUSH(u->names, nb, cap_n) = xstrdup(e[i].name);
			*WW_PUSH(u->uids, nu, cap_u) = uid;
			uid = NULL;
		}
		free(line);
		free(uid);
		free(cat);
	}
	spool_entries_free(e, n);
	if (withheld > 0) {
		log_info("upload",
			 "%zu queued measurement(s) of excluded "
			 "categories (%s) deleted unsent",
			 withheld, u->o.exclude);
		state_count(env, "withheld", withheld);
	}
	u->n_batch = nb;
	*len = blen;
	if (nb == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static ssize_t
batch_index(const struct uploader *u, const char *uid)
{
	for (size_t i = 0; i < u->n_batch; i++)
		if (u->uids[i] != NULL && strcmp(u->uids[i], uid) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * The collector's answer to a batch: delete what it stored or had, move
 * what it rejected. 0, or -1 when the answer is not the collector's.
 */
int
upl_apply_answer(struct uploader *u, const char *from, size_t *n_stored,
		 size_t *n_dups)
{
	json_t *j = json_loadb(u->ans ? u->ans : "", u->ans_len, 0, NULL);
	json_t *stored = json_object_get(j, "stored");
	json_t *dups = json_object_get(j, "duplicates");
	json_t *rej = json_object_get(j, "rejected");
	const char **gone = xcalloc(u->n_batch + 1, sizeof(*gone));
	size_t ng = 0, i;
	json_t *v;

	*n_stored = *n_dups = 0;
	if (!json_is_array(stored) || !json_is_array(dups) ||
	    !json_is_array(rej)) {
		json_decref(j);
		free(gone);
		return -1;
	}
	json_array_foreach(stored, i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;

		if (k >= 0 && u->names[k] != NULL) {
			gone[ng++] = u->names[k];
			(*n_stored)++;
			free(u->uids[k]);
			u->uids[k] = NULL;
		}
	}
	json_array_foreach(dups, i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;

		if (k >= 0) {
			gone[ng++] = u->names[k];
			(*n_dups)++;
			free(u->uids[k]);
			u->uids[k] = NULL;
		}
	}
	spool_remove(&u->env->spool, gone, ng);
	/* A collector of issue 12 or later: a uid it holds with other
	 * content. Sending it again would only be refused again: set aside
	 * with the rejected, for the volunteer to see. */
	json_array_foreach(json_object_get(j, "conflicts"), i, v)
	{
		ssize_t k = json_is_string(v)
				    ? batch_index(u, json_string_value(v))
				    : -1;
		char *why;

		if (k < 0 || u->uids[k] == NULL)
			continue;
		why = xasprintf("%s holds another measurement with this "
				"measurement_uid",
				from);
		log_warn("upload", "%s: %s", u->uids[k], why);
		spool_reject(&u->env->spool, u->names[k], why);
		state_count(u->env, "rejected", 1);
		free(why);
		free(u->uids[k]);
		u->uids[k] = NULL;
	}
	json_array_foreach(rej, i, v)
	{
		json_int_t line =
			json_integer_value(json_object_get(v, "line"));
		const char *field =
			json_string_value(json_object_get(v, "field"));
		const char *error =
			json_string_value(json_object_get(v, "error"));
		char *why;

		if (line < 1 || (size_t)line > u->n_batch ||
		    u->uids[line - 1] == NULL)
			continue;
		why = xasprintf("%s refused it: %s: %s", from,
				field ? field : "?", error ? error : "?");
		log_warn("upload", "%s: %s", u->uids[line - 1], why);
		spool_reject(&u->env->spool, u->names[line - 1], why);
		state_count(u->env, "rejected", 1);
		free(why);
		free(u->uids[line - 1]);
		u->uids[line - 1] = NULL;
	}
	state_count(u->env, "sent", *n_stored);
	state_count(u->env, "duplicates", *n_dups);
	free(gone);
	json_decref(j);
	return 0;
}
