/*
 * alerts_group.c - the events of the timelines grouped into alerts
 * (docs/alerts.md, "Grouping"): one alert per network (cc, asn),
 * direction and window of event time, naming its targets.
 *
 * Pure: events in, alerts out. The feed (alerts_feed.c) and the webhooks
 * (alerts_hook.c) both call it on what the store holds, so an alert is the
 * same whoever computes it and however often: that is what makes its Atom
 * id stable and lets several collectors on one database claim it by its
 * identity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "store.h"
#include "util.h"

/* One event, as the grouping keeps it. */
struct gev {
	char *cc, *asn, *input, *from, *to, *method;
	int64_t ws, time, id;
};

struct alert_grouper {
	int64_t window;
	struct gev *v;
	size_t n, cap;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

bool
alert_state_blocking(const char *state)
{
	return state != NULL && (strcmp(state, STORE_STATE_BLOCKED) == 0 ||
				 strcmp(state, STORE_STATE_DISRUPTED) == 0);
}

struct alert_grouper *
alert_grouper_new(int64_t window_len)
{
	struct alert_grouper *g = xcalloc(1, sizeof(*g));

	g->window = window_len > 0 ? window_len : ALERT_WINDOW_DEFAULT;
	return g;
}

/* The start of t's window: a floor, also before 1970. */
static int64_t
window_of(int64_t t, int64_t w)
{
	return t - ((t % w) + w) % w;
}

void
alert_grouper_add(struct alert_grouper *g, const struct store_event *e)
{
	struct gev *x;

	if (e->cc == NULL || e->asn == NULL || e->input == NULL ||
	    e->from_state == NULL || e->to_state == NULL)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	x = &g->v[g->n++];
	x->cc = xstrdup(e->cc);
	x->asn = xstrdup(e->asn);
	x->input = xstrdup(e->input);
	x->from = xstrdup(e->from_state);
	x->to = xstrdup(e->to_state);
	x->method = dup_or_null(e->method);
	x->ws = window_of(e->time, g->window);
	x->time = e->time;
	x->id = e->id;
}

static int
cmp64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* Network, window, target, then time and id: a target's events of one
 * window are next to each other, in the order they happened. */
static int
gev_cmp(const void *pa, const void *pb)
{
	const struct gev *a = pa, *b = pb;
	int c;

	if ((c = strcmp(a->cc, b->cc)) != 0 ||
	    (c = strcmp(a->asn, b->asn)) != 0 ||
	    (c = cmp64(a->ws, b->ws)) != 0 ||
	    (c = strcmp(a->input, b->input)) != 0 ||
	    (c = cmp64(a->time, b->time)) != 0)
		return c;
	return cmp64(a->id, b->id);
}

static bool
same_window(const struct gev *a, const struct gev *b)
{
	return strcmp(a->cc, b->cc) == 0 && strcmp(a->asn, b->asn) == 0 &&
	       a->ws == b->ws;
}

static void
alert_add_target(struct alert *a, const struct gev *last, int64_t id)
{
	struct alert_target *t;

	a->tg = xrealloc(a->tg, (a->n + 1) * sizeof(*a->tg));
	t = &a->tg[a->n++];
	t->input = xstrdup(last->input);
	t->state = xstrdup(last->to);
	t->method = strcmp(last->to, STORE_STATE_BLOCKED) == 0
			    ? dup_or_null(last->method)
			    : NULL;
	t->time = last->time;
	if (a->n == 1 || last->time < a->first)
		a->first = last->time;
	if (a->n == 1 || last->time > a->last)
		a->last = last->time;
	if (id > a->last_event_id)
		a->last_event_id = id;
}

static void
list_push(struct alert_list *l, struct alert *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *a;
}

static void
alert_clear(struct alert *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->tg[i].input);
		free(a->tg[i].state);
		free(a->tg[i].method);
	}
	free(a->tg);
	free(a->cc);
	free(a->asn);
}

/*
 * One network's window, v[0..n-1] (sorted): per target, the net change
 * from the state before its first event to the state after its last. Into
 * blocked or disrupted from anything else is an onset, from blocked or
 * disrupted back to accessible an end; anything else (a flap that came
 * back, a change of method, to down) is no alert. The target's time is
 * that of the event that made the change stand (its last).
 */
static void
group_window(int64_t wlen, const struct gev *v, size_t n, const char *state,
	     struct alert_list *out)
{
	struct alert al[2];

	memset(al, 0, sizeof(al));
	for (size_t i = 0; i < n;) {
		size_t j = i, k;
		int64_t maxid = 0;
		bool was, now;
		int dir;

		while (j < n && strcmp(v[j].input, v[i].input) == 0)
			j++;
		for (k = i; k < j; k++)
			if (v[k].id > maxid)
				maxid = v[k].id;
		was = alert_state_blocking(v[i].from);
		now = alert_state_blocking(v[j - 1].to);
		dir = !was && now ? ALERT_ONSET
		      : was && strcmp(v[j - 1].to, STORE_STATE_ACCESSIBLE) == 0
			      ? ALERT_END
			      : -1;
		if (dir >= 0 &&
		    (state == NULL || strcmp(state, v[j - 1].to) == 0))
			alert_add_target(&al[dir], &v[j - 1], maxid);
		i = j;
	}
	for (int d = 0; d < 2; d++) {
		if (al[d].n == 0)
			continue;
		al[d].cc = xstrdup(v[0].cc);
		al[d].asn = xstrdup(v[0].asn);
		al[d].dir = (enum alert_dir)d;
		al[d].window_start = v[0].ws;
		al[d].window_len = wlen;
		list_push(out, &al[d]);
	}
}

/* Newest window first, then cc, asn, onset before end. */
static int
alert_cmp(const void *pa, const void *pb)
{
	const struct alert *a = pa, *b = pb;
	int c;

	if ((c = cmp64(b->window_start, a->window_start)) != 0 ||
	    (c = strcmp(a->cc, b->cc)) != 0 ||
	    (c = strcmp(a->asn, b->asn)) != 0)
		return c;
	return (int)a->dir - (int)b->dir;
}

void
alert_grouper_finish(struct alert_grouper *g, const char *state,
		     struct alert_list *out)
{
	if (g->n > 1) /* qsort's base must not be NULL, even for 0 */
		qsort(g->v, g->n, sizeof(*g->v), gev_cmp);
	for (size_t i = 0; i < g->n;) {
		size_t j = i;

		while (j < g->n && same_window(&g->v[i], &g->v[j]))
			j++;
		group_window(g->window, g->v + i, j - i, state, out);
		i = j;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), alert_cmp);
}

void
alert_grouper_free(struct alert_grouper *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].cc);
		free(g->v[i].asn);
		free(g->v[i].input);
		free(g->v[i].from);
		free(g->v[i].to);
		free(g->v[i].method);
	}
	free(g->v);
	free(g);
}

void
alert_list_clear(struct alert_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		alert_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* --- what an alert says ----------------------------------------------------
 */

static const char *
dir_name(enum alert_dir d)
{
	return d == ALERT_ONSET ? "onset" : "end";
}

/* A tag URI's specific part takes these as they are; cc and asn are
 * checked when stored (two letters, AS and digits), this is defence. */
static void
put_safe(char *buf, size_t len, size_t *at, const char *s)
{
	for (; *s != '\0' && *at + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')
			buf[(*at)++] = (char)c;
		else
			*at += (size_t)snprintf(buf + *at, len - *at, "%%%02X",
						c);
	}
	buf[*at] = '\0';
}

void
alert_key(const struct alert *a, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	put_safe(buf, len, &at, a->cc);
	if (at + 1 < len)
		buf[at++] = '/';
	put_safe(buf, len, &at, a->asn);
	snprintf(buf + at, len - at, "/%s/%lld/%lld", dir_name(a->dir),
		 (long long)a->window_start, (long long)a->window_len);
}

void
alert_tag(const struct alert *a, char *buf, size_t len)
{
	char key[256];

	alert_key(a, key, sizeof(key));
	snprintf(buf, len, "tag:wallwatch,2026:alert/%s", key);
}

static void
fmt_minute(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

static void
fmt_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "blocked", "disrupted" or "blocked or disrupted"; "accessible again". */
static const char *
alert_verb(const struct alert *a)
{
	size_t nb = 0;

	if (a->dir == ALERT_END)
		return "accessible again";
	for (size_t i = 0; i < a->n; i++)
		nb += strcmp(a->tg[i].state, STORE_STATE_BLOCKED) == 0;
	return nb == a->n ? "blocked"
	       : nb == 0  ? "disrupted"
			  : "blocked or disrupted";
}

char *
alert_title(const struct alert *a)
{
	char since[32];

	fmt_minute(a->first, since);
	return xasprintf("%zu target%s %s in %s \xc2\xb7 %s since %s", a->n,
			 a->n == 1 ? "" : "s", alert_verb(a), a->cc, a->asn,
			 since);
}

/* *p (freed) followed by what fmt makes. */
static void __attribute__((format(printf, 2, 3)))
cat(char **p, const char *fmt, ...)
{
	va_list ap;
	size_t have = strlen(*p);
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	*p = xrealloc(*p, have + (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(*p + have, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

/* The title, then the first ALERT_NAMED targets "INPUT (METHOD)", then
 * "and N more". */
static char *
alert_text(const struct alert *a)
{
	char *s = alert_title(a);
	size_t named = a->n < ALERT_NAMED ? a->n : ALERT_NAMED;

	cat(&s, ": ");
	for (size_t i = 0; i < named; i++) {
		const struct alert_target *t = &a->tg[i];

		cat(&s, "%s%s", i ? ", " : "", t->input);
		if (t->method != NULL)
			cat(&s, " (%s)", t->method);
	}
	if (a->n > named)
		cat(&s, " and %zu more", a->n - named);
	return s;
}

/* s as a JSON string; stored strings came from parsed JSON and are UTF-8,
 * but one that is not must not take the collector down (jansson refuses
 * it): it is replaced, named as such. */
static json_t *
jtext(const char *s)
{
	json_t *v = json_string(s);

	return v != NULL ? v : json_string("(not UTF-8)");
}

static void
put(json_t *o, const char *k, json_t *v)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		abort();
}

json_t *
alert_json(const struct alert *a)
{
	json_t *o = json_object(), *tg = json_array(), *methods = json_object();
	json_t *w = json_object();
	char buf[320];
	char *title = alert_title(a), *text = alert_text(a);

	alert_tag(a, buf, sizeof(buf));
	put(o, "id", json_string(buf));
	alert_key(a, buf, sizeof(buf));
	put(o, "key", json_string(buf));
	put(o, "direction", json_string(dir_name(a->dir)));
	put(o, "cc", jtext(a->cc));
	put(o, "asn", jtext(a->asn));
	fmt_iso(a->window_start, buf);
	put(w, "start", json_string(buf));
	put(w, "seconds", json_integer(a->window_len));
	put(o, "window", w);
	fmt_iso(a->first, buf);
	put(o, "since", json_string(buf));
	fmt_iso(a->last, buf);
	put(o, "until", json_string(buf));
	put(o, "title", jtext(title));
	put(o, "text", jtext(text));
	put(o, "n_targets", json_integer((json_int_t)a->n));
	for (size_t i = 0; i < a->n; i++) {
		const struct alert_target *t = &a->tg[i];
		const char *m = t->method ? t->method : t->state;
		json_t *x;

		if (a->dir == ALERT_ONSET)
			put(methods, m,
			    json_integer(json_integer_value(
						 json_object_get(methods, m)) +
					 1));
		if (i >= ALERT_LISTED)
			continue; /* counted, not listed */
		x = json_object();
		put(x, "input", jtext(t->input));
		put(x, "state", json_string(t->state));
		put(x, "method", t->method ? jtext(t->method) : json_null());
		fmt_iso(t->time, buf);
		put(x, "time", json_string(buf));
		json_array_append_new(tg, x);
	}
	put(o, "targets", tg);
	put(o, "targets_not_listed",
	    json_integer((json_int_t)(a->n > ALERT_LISTED ? a->n - ALERT_LISTED
							  : 0)));
	put(o, "methods", methods);
	free(title);
	free(text);
	return o;
}

/* --- reading the store -----------------------------------------------------
 */

struct readctx {
	struct alert_grouper *g;
	long n, max;
	int64_t last_id;
};

static int
read_cb(const struct store_event *e, void *arg)
{
	struct readctx *c = arg;

	c->last_id = e->id;
	if (++c->n > c->max)
		return 1;
	alert_grouper_add(c->g, e);
	return 0;
}

int
alerts_read(struct store *st, const struct store_filter *f, int64_t window_len,
	    long max_events, struct alert_list *out, char *err, size_t errlen)
{
	struct store_filter pf;
	struct readctx c = {alert_grouper_new(window_len), 0, max_events, 0};
	long before;
	int rc = 0;

	memset(&pf, 0, sizeof(pf));
	pf.cc = f->cc;
	pf.asn = f->asn;
	pf.category = f->category;
	/* whole windows: a window cut at since would lose the first events
	 * of its targets, and with them their state before */
	pf.since = f->since != 0 ? window_of(f->since, c.g->window) : 0;
	pf.until = f->until;
	pf.limit = STORE_LIMIT_MAX;
	do {
		before = c.n;
		pf.after_id = c.last_id;
		rc = store_events(st, &pf, read_cb, &c, err, errlen);
	} while (rc == 0 && c.n <= c.max && c.n - before == STORE_LIMIT_MAX);
	if (rc == 0 && c.n > c.max) {
		ww_set_err(err, errlen,
			   "more than %ld events to group: narrow the query "
			   "(since, cc, asn)",
			   c.max);
		rc = -2;
	}
	if (rc == 0)
		alert_grouper_finish(c.g, f->state, out);
	alert_grouper_free(c.g);
	return rc;
}
