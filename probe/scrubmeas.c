/*
 * scrubmeas.c - a measurement scrubbed of the volunteer's own addresses
 * before it leaves the machine (see scrubmeas.h).
 */
#include <stdlib.h>
#include <string.h>

#include "scrubmeas.h"
#include "state.h"
#include "util.h"

size_t
scrub_measurement(const struct ww_scrub *s, json_t *m)
{
	json_t *reqs =
		json_object_get(json_object_get(m, "test_keys"), "requests");
	json_t *r;
	size_t i, n = 0;

	/* A changed body no longer matches its hash, and the old hash would
	 * let anyone who guesses the address confirm it (hash the page with
	 * the guess in it). So the hash goes with the address. */
	json_array_foreach(reqs, i, r)
	{
		json_t *resp = json_object_get(r, "response");
		json_t *body = json_object_get(resp, "body");
		json_t *box;
		size_t k;

		if (body == NULL || json_is_null(body))
			continue;
		box = json_object();
		json_object_set(box, "body", body);
		k = ww_scrub_json(s, box);
		if (k > 0) {
			json_object_set(resp, "body",
					json_object_get(box, "body"));
			json_object_set_new(resp, "body_sha256", json_null());
			n += k;
		}
		json_decref(box);
	}
	return n + ww_scrub_json(s, m);
}

char *
env_scrub_line(struct probe_env *env, const char *data, size_t len, char **uid,
	       char **category, size_t *replaced, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m = json_loadb(data, len, 0, &je);
	const char *u;
	char *out;

	if (uid)
		*uid = NULL;
	if (category)
		*category = NULL;
	if (!json_is_object(m)) {
		ww_set_err(err, errlen, "not a JSON object: %s",
			   m ? "wrong type" : je.text);
		json_decref(m);
		return NULL;
	}
	u = json_string_value(json_object_get(m, "measurement_uid"));
	if (u == NULL) {
		ww_set_err(err, errlen, "no measurement_uid");
		json_decref(m);
		return NULL;
	}
	if (uid)
		*uid = xstrdup(u);
	if (category)
		*category = xstrdup(json_string_value(json_object_get(
			json_object_get(m, "test_keys"), "category_code")));
	*replaced = scrub_measurement(env->scrub, m);
	out = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS |
				    JSON_REAL_PRECISION(9));
	json_decref(m);
	if (out == NULL)
		abort();
	return out;
}

void
jsonl_append(char **buf, size_t *len, size_t *cap, const char *line)
{
	size_t n = strlen(line);

	while (*len + n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 65536;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, line, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
}
