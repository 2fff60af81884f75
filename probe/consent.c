/*
 * consent.c - consent.json, and asking for it (see consent.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consent.h"
#include "probe.h"
#include "state.h"
#include "util.h"

static json_t *
load_consent(struct probe_env *env)
{
	char *path = xasprintf("%s/consent.json", env->state_dir);
	json_t *c = state_load_json(path, "consent", env->read_only);

	free(path);
	return c;
}

static bool
has_string(const json_t *arr, const char *want)
{
	json_t *v;
	size_t k;

	json_array_foreach(arr, k, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), want) == 0)
			return true;
	}
	return false;
}

bool
consent_covers(struct probe_env *env, const char *const *cats, size_t n)
{
	json_t *c = load_consent(env);
	json_t *have = json_object_get(c, "categories");
	bool ok = json_is_array(have);

	for (size_t i = 0; ok && i < n; i++)
		ok = has_string(have, cats[i]);
	json_decref(c);
	return ok;
}

int
consent_record(struct probe_env *env, const char *const *cats, size_t n,
	       const char *how)
{
	json_t *c = load_consent(env);
	json_t *have;
	char now[20], err[512];
	char *s;
	int rc;

	if (c == NULL)
		c = json_object();
	have = json_object_get(c, "categories");
	if (!json_is_array(have)) {
		have = json_array();
		json_object_set_new(c, "categories", have);
	}
	for (size_t i = 0; i < n; i++)
		if (!has_string(have, cats[i]))
			json_array_append_new(have, json_string(cats[i]));
	ww_fmt_utc(time(NULL), now);
	json_object_set_new(c, "given", json_string(now));
	json_object_set_new(c, "how", json_string(how));
	s = json_dumps(c, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(c);
	rc = spool_write_atomic(env->state_dir, "consent.json", s, strlen(s),
				err, sizeof(err));
	if (rc != 0)
		log_error("consent", "%s", err);
	free(s);
	return rc;
}

/* --- asking ------------------------------------------------------------- */

static int
cat_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct categories of the targets (borrowed strings). */
static const char **
target_categories(const struct ww_testlist *l, size_t *n, size_t **counts)
{
	const char **v = xcalloc(l->n + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->targets[i].category_code != NULL)
			v[k++] = l->targets[i].category_code;
	qsort(v, k, sizeof(*v), cat_cmp);
	*counts = xcalloc(k + 1, sizeof(**counts));
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		if (*n > 0 && strcmp(v[*n - 1], v[i]) == 0) {
			(*counts)[*n - 1]++;
			continue;
		}
		v[*n] = v[i];
		(*counts)[(*n)++] = 1;
	}
	return v;
}

/* Targets the volunteer named on the command line of `run` need no
 * question: naming them was the choice. */
int
consent_check(const struct probe_opts *o, bool named, struct probe_env *env)
{
	size_t n, *counts, n_vpn;
	const char **cats;
	char line[16];
	int rc = 0;

	if (named)
		return 0;
	cats = target_categories(&o->targets, &n, &counts);
	if (n == 0 || consent_covers(env, cats, n))
		goto out;
	if (o->yes) {
		rc = consent_record(env, cats, n, "--yes") == 0 ? 0 : -1;
		goto out;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		fprintf(stderr,
			"wallwatch-probe: no consent recorded in %s for the "
			"categories to be tested (",
			env->state_dir);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? "," : "", cats[i]);
		fprintf(stderr, "). Run it once on a terminal to review and "
				"agree, or pass --yes (\"yes = true\" in the "
				"configuration) for an unattended install.\n");
		rc = -1;
		goto out;
	}
	fprintf(stderr,
		"wallwatch-probe will measure %zu targets from these test-list "
		"categories:\n",
		o->targets.n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-6s %zu target(s)\n", cats[i], counts[i]);
	n_vpn = 0;
	for (size_t i = 0; i < o->targets.n; i++)
		n_vpn += ww_target_is_vpn(o->targets.targets[i].kind);
	if (n_vpn > 0)
		fprintf(stderr,
			"\n%zu of them are VPN or QUIC servers: with each the "
			"probe starts the VPN\nprotocol's handshake (OpenVPN, "
			"IKEv2, WireGuard, QUIC) as a VPN app would,\nand a "
			"network that looks for VPN use sees it as such.\n",
			n_vpn);
	fprintf(stderr,
		"\nAnyone watching this network (your ISP, your employer, the "
		"state) can see\nthat this machine contacted these sites. In some "
		"countries that is risky.\nLeave categories out with "
		"--exclude-category (e.g. exclude-category = LGBT,REL\nin the "
		"configuration). Your own address is removed from every "
		"measurement.\n\nMeasure these categories? [y/N] ");
	if (fgets(line, sizeof(line), stdin) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y'))
		rc = consent_record(env, cats, n, "terminal") == 0 ? 0 : -1;
	else {
		fprintf(stderr, "wallwatch-probe: no consent; nothing "
				"measured\n");
		rc = -1;
	}
out:
	free(cats);
	free(counts);
	return rc;
}
