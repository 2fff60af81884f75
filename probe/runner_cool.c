/*
 * runner_cool.c - --cooldown: tests of one address:port spaced apart.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner_int.h"
#include "util.h"

/* --- cooldown: tests of one address:port spaced by --cooldown ----------- */

/*
 * A censor that has just seen a forbidden request often keeps blocking the
 * client's traffic to that address and port for minutes (the GFW does this
 * for 90 s and more): a test right after would measure the punishment, not
 * the target. So a target starts only when every endpoint it will use has
 * been left alone for --cooldown seconds. Its endpoints are its host:port
 * and the address:ports its host resolved to before (learned as tests
 * finish). While a test runs, its endpoints are busy.
 */
#define COOL_BUSY 1e300

static json_t *
cool_obj(struct runner *r, const char *name)
{
	json_t *o = json_object_get(r->cool, name);

	if (o == NULL) {
		o = json_object();
		json_object_set_new(r->cool, name, o);
	}
	return o;
}

/* Every key target t uses, as a JSON array (new reference). */
static json_t *
cool_keys(struct runner *r, const struct ww_target *t)
{
	json_t *keys = json_array();
	json_t *known = json_object_get(cool_obj(r, "addrs"), t->host);
	json_t *v;
	size_t i;

	json_array_append_new(keys, json_sprintf("%s:%d", t->host, t->port));
	json_array_foreach(known, i, v) json_array_append(keys, v);
	return keys;
}

/* Seconds until t may start (<= 0: now). */
static double
cool_wait(struct runner *r, const struct ww_target *t, double now)
{
	json_t *keys = cool_keys(r, t), *free_at = cool_obj(r, "free"), *k;
	double wait = 0;
	size_t i;

	json_array_foreach(keys, i, k)
	{
		double at = json_real_value(
			json_object_get(free_at, json_string_value(k)));

		if (at - now > wait)
			wait = at - now;
	}
	json_decref(keys);
	return wait;
}

static void
cool_set(struct runner *r, json_t *keys, double at)
{
	json_t *free_at = cool_obj(r, "free"), *k;
	size_t i;

	json_array_foreach(keys, i, k) json_object_set_new(
		free_at, json_string_value(k), json_real(at));
}

void
runner_cool_hold(struct runner *r, const struct ww_target *t)
{
	json_t *keys;

	if (r->o->cooldown <= 0)
		return;
	keys = cool_keys(r, t);
	cool_set(r, keys, COOL_BUSY);
	json_decref(keys);
}

static void
add_key(json_t *arr, const char *ip, int port)
{
	json_t *k;
	json_t *v;
	size_t i;

	if (ip == NULL || port <= 0)
		return;
	k = json_sprintf("%s:%d", ip, port);
	json_array_foreach(arr, i, v) if (json_equal(v, k))
	{
		json_decref(k);
		return;
	}
	json_array_append_new(arr, k);
}

/* t finished: learn the endpoints it used, and start their cooldown. */
void
runner_cool_release(struct runner *r, const struct ww_target *t,
		    const struct ww_measurement *m)
{
	json_t *addrs = cool_obj(r, "addrs"), *known, *keys;

	if (r->o->cooldown <= 0)
		return;
	known = json_object_get(addrs, t->host);
	if (known == NULL) {
		known = json_array();
		json_object_set_new(addrs, t->host, known);
	}
	for (size_t i = 0; i < m->n_tcp; i++)
		add_key(known, m->tcp[i].ip, m->tcp[i].port);
	/* A bounded memory of one host's addresses (CDNs rotate). */
	while (json_array_size(known) > 32)
		json_array_remove(known, 0);
	keys = cool_keys(r, t);
	/* Redirects and HTTP hops may reach other endpoints. */
	for (size_t i = 0; i < m->n_http; i++)
		add_key(keys, m->http[i].ip, m->http[i].port);
	cool_set(r, keys, ww_mono() + r->o->cooldown);
	json_decref(keys);
}

/* Position in r->order of the next target to start, or -1; *wait is then
 * the least time until one may start (HUGE_VAL: when a test ends). */
ssize_t
runner_pick(struct runner *r, double *wait)
{
	struct ww_testlist *l = &r->o->targets;
	double now = ww_mono();

	*wait = HUGE_VAL;
	if (r->o->cooldown <= 0)
		return r->n_order > 0 ? 0 : -1;
	for (size_t k = 0; k < r->n_order; k++) {
		double w = cool_wait(r, &l->targets[r->order[k]], now);

		if (w <= 0)
			return (ssize_t)k;
		/* A busy endpoint frees when its test ends, not on a
		 * clock. */
		if (w < COOL_BUSY / 2 && w < *wait)
			*wait = w;
	}
	return -1;
}
