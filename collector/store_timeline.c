/*
 * store_timeline.c - the timelines of the SQLite store (docs/timelines.md):
 * classes, the state machine of each target, its daily counts and events,
 * and their recomputation. Runs inside store_sqlite.c's transactions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sqlite_int.h"
#include "target.h"
#include "util.h"

/* --- timelines: classes, states, events (docs/timelines.md) -------------- */

/*
 * Every measurement with an input belongs to a target, the key (input,
 * probe_cc, probe_asn). Its class comes from its verdict; daily_counts
 * counts the classes per target and UTC day; target_state holds the state
 * machine of each target (its last TL_WINDOW conclusive measurements in
 * `win`), and every change of state is a row of events.
 *
 * New measurements move their target's state forward inside the batch's
 * transaction. One older than the target's last conclusive measurement
 * (it arrived late) has the target recomputed from all its measurements
 * instead, before the batch commits. Reanalysis marks the targets of the
 * measurements it rewrites in stale_targets, in the same transactions, and
 * then recomputes every target: a crash in between leaves the marks, and
 * store_open() recomputes those.
 */

static const char *const class_names[C_N] = {
	"ok",	     "dns",	    "tcp_ip", "tls",	"http-failure",
	"http-diff", "server-side", "down",   "failed",
};
/* One letter per class, for the window kept in target_state.win (read
 * back by letter: a new class takes a new letter). */
static const char class_letters[C_N + 1] = "onpsfhwdx";

#define TL_WINDOW 5 /* conclusive measurements a state looks at (W) */
#define TL_RUN 3    /* the run that moves a state; also the minimum (MIN) */
#define TL_VOTERS 8 /* keyed submitters whose latest word is kept (V) */
#define TL_VOTER_AGE (24 * 3600) /* how long that word stands (D) */

/* What a submitter is, in the low 2 bits of its number (indep_hash()):
 * a row without one (from before submitters), the unsigned of one
 * network, a key. */
enum { SUB_ROW, SUB_ANON, SUB_KEY };
#define SUB_KIND(sub) ((int)((sub)&3))

/* Targets recomputed per transaction by the recomputations of reanalysis
 * and of store_open(). */
#define REBUILD_CHUNK 64

static bool
is_blocked(int c)
{
	return c >= C_DNS && c <= C_SERVER_SIDE;
}

/* As CLASS_SQL. A verdict of "false" without accessible is no verdict. */
static int
classify(const char *blocking, const char *detail, int accessible)
{
	if (blocking == NULL)
		return C_FAILED;
	if (strcmp(blocking, "false") == 0)
		return accessible == 1	 ? C_OK
		       : accessible == 0 ? C_DOWN
					 : C_FAILED;
	if (strcmp(blocking, "http-diff") == 0 && detail != NULL &&
	    strcmp(detail, "http.server_side") == 0)
		return C_SERVER_SIDE;
	for (int c = C_DNS; c <= C_HTTP_DIFF; c++)
		if (strcmp(blocking, class_names[c]) == 0)
			return c;
	return C_FAILED;
}

/* A blocked class by its name; -1 for NULL or anything else. */
static int
method_by_name(const char *v)
{
	for (int c = C_DNS; v != NULL && c <= C_SERVER_SIDE; c++)
		if (strcmp(v, class_names[c]) == 0)
			return c;
	return -1;
}

/* One conclusive measurement in a target's window. */
struct win_entry {
	int cls;
	sqlite3_int64 id;
	uint64_t sub;  /* the submitter it counts as (indep_hash()) */
	int64_t rt;    /* received_time: the collector's clock */
	int64_t since; /* received_time of the first of its submitter's
			* latest run of the same kind (blocked or not) */
};

/* A keyed submitter's latest conclusive word on a target. */
struct voter {
	uint64_t sub;
	int cls;
	int64_t rt; /* when it was received */
};

/* One target's state, as kept in target_state. */
struct tl {
	const char *input, *cc, *asn; /* the key, not owned */
	sqlite3_int64 row;	      /* its id in target_state, 0: new */
	int state, method;	      /* method: a blocked class, or -1 */
	int64_t since;		      /* time of the last event, 0: none */
	int64_t last_tested;
	int64_t n_conclusive;
	int64_t last_time; /* start_time of the last conclusive one */
	sqlite3_int64 last_id;
	struct win_entry win[TL_WINDOW]; /* oldest first */
	int wn;
	int fresh; /* the newest of win that came after the state began */
	struct voter vot[TL_VOTERS]; /* least recently heard first */
	int nv;
	char *category; /* owned; the latest non-null category_code */
	int64_t category_time;
};

/* A change of state: an event to be. */
struct tl_change {
	int from, to, method;
	int64_t time;
	int ncite;
	sqlite3_int64 cite[TL_WINDOW]; /* ids of the measurements behind it */
};

static void
tl_init(struct tl *t, const char *input, const char *cc, const char *asn)
{
	memset(t, 0, sizeof(*t));
	t->input = input;
	t->cc = cc;
	t->asn = asn;
	t->state = S_UNKNOWN;
	t->method = -1;
}

static void
tl_free(struct tl *t)
{
	free(t->category);
	t->category = NULL;
}

static void
tl_set_category(struct tl *t, const char *category, int64_t time)
{
	free(t->category);
	t->category = xstrdup(category);
	t->category_time = time;
}

static int
lean(int n_ok, int n_down)
{
	return n_ok >= n_down ? S_ACCESSIBLE : S_DOWN;
}

static bool
window_has_blocked(const struct tl *t)
{
	for (int i = 0; i < t->wn; i++)
		if (is_blocked(t->win[i].cls))
			return true;
	return false;
}

/* Blocking that came and went since the state began: at least two
 * blocked among the fresh measurements of the window, and an ok after the
 * first of them. (Older ones are what the current state was decided on.) */
static bool
intermittent(const struct tl *t)
{
	int nb = 0, first = -1;

	for (int i = t->wn - t->fresh; i < t->wn; i++) {
		if (!is_blocked(t->win[i].cls))
			continue;
		if (first < 0)
			first = i;
		nb++;
	}
	if (nb < 2)
		return false;
	for (int i = first + 1; i < t->wn; i++)
		if (t->win[i].cls == C_OK)
			return true;
	return false;
}

/* The method of a run of TL_RUN blocked: the current one while it is
 * among them, else the most frequent, a tie going to the most recent. */
static int
pick_method(const struct tl *t)
{
	const struct win_entry *l = t->win + t->wn - TL_RUN;
	int best = -1, best_n = 0;

	if (t->state == S_BLOCKED)
		for (int i = 0; i < TL_RUN; i++)
			if (l[i].cls == t->method)
				return t->method;
	for (int i = TL_RUN - 1; i >= 0; i--) {
		int n = 0;

		for (int j = 0; j < TL_RUN; j++)
			n += l[j].cls == l[i].cls;
		if (n > best_n) {
			best = l[i].cls;
			best_n = n;
		}
	}
	return best;
}

/*
 * The state after the window's newest measurement; the rules of
 * docs/timelines.md, first match wins. *ncite: how many of the newest
 * measurements are behind it.
 */
static void
decide(const struct tl *t, int *state, int *method, int *ncite)
{
	const struct win_entry *l;
	int nb = 0, nd = 0, no = 0;

	*state = t->state;
	*method = t->method;
	*ncite = TL_RUN;
	if (t->n_conclusive < TL_RUN || t->wn < TL_RUN) {
		*state = S_UNKNOWN;
		*method = -1;
		*ncite = 0;
		return;
	}
	l = t->win + t->wn - TL_RUN;
	for (int i = 0; i < TL_RUN; i++) {
		if (is_blocked(l[i].cls))
			nb++;
		else if (l[i].cls == C_DOWN)
			nd++;
		else
			no++;
	}
	if (nb == TL_RUN) { /* 1 */
		*state = S_BLOCKED;
		*method = pick_method(t);
		return;
	}
	if (t->state == S_BLOCKED) { /* 2 */
		if (nb > 0)
			return;
		*state = lean(no, nd);
		*method = -1;
		return;
	}
	*method = -1;
	if (nd == TL_RUN) { /* 3 */
		*state = S_DOWN;
		return;
	}
	if (no == TL_RUN && t->state != S_DISRUPTED) { /* 4 */
		*state = S_ACCESSIBLE;
		return;
	}
	if (t->state == S_DISRUPTED && window_has_blocked(t)) /* 5 */
		return;
	if (intermittent(t)) { /* 6 */
		*state = S_DISRUPTED;
		*ncite = t->fresh;
		return;
	}
	if (t->state == S_ACCESSIBLE || t->state == S_DOWN) /* 7 */
		return;
	*state = lean(no, nd); /* 8 */
}

/*
 * Keep e's word as its submitter's latest: the voters are the TL_VOTERS
 * keyed submitters heard most recently on the target, each once.
 */
static void
voter_note(struct tl *t, const struct win_entry *e)
{
	int i = 0;

	while (i < t->nv && t->vot[i].sub != e->sub)
		i++;
	if (i == t->nv && t->nv == TL_VOTERS)
		i = 0;
	if (i < t->nv) {
		memmove(t->vot + i, t->vot + i + 1,
			(size_t)(t->nv - i - 1) * sizeof(t->vot[0]));
		t->nv--;
	}
	t->vot[t->nv++] = (struct voter){e->sub, e->cls, e->rt};
}

/*
 * Put e at the window's end. A submitter holds at most
 * TL_WINDOW - (N - 1) places, so that a flood from one never pushes out
 * the latest of N - 1 others: a new measurement of a submitter that has
 * its share replaces that submitter's oldest, not the window's.
 */
static void
win_push(struct tl *t, const struct store_agreement *ag, struct win_entry e)
{
	int share = TL_WINDOW - (ag->min_submitters - 1), mine = 0;
	int first = -1, last = -1, drop = -1;

	for (int i = 0; i < t->wn; i++) {
		if (t->win[i].sub != e.sub)
			continue;
		mine++;
		if (first < 0)
			first = i;
		last = i;
	}
	e.since = e.rt;
	if (last >= 0 && is_blocked(t->win[last].cls) == is_blocked(e.cls) &&
	    t->win[last].since < e.rt)
		e.since = t->win[last].since;
	if (mine >= share)
		drop = first;
	else if (t->wn == TL_WINDOW)
		drop = 0;
	if (drop >= 0) {
		if (drop >= t->wn - t->fresh)
			t->fresh--;
		memmove(t->win + drop, t->win + drop + 1,
			(size_t)(t->wn - drop - 1) * sizeof(t->win[0]));
		t->wn--;
	}
	t->win[t->wn++] = e;
	if (t->fresh < TL_WINDOW)
		t->fresh++;
	if (SUB_KIND(e.sub) == SUB_KEY)
		voter_note(t, &e);
}

/*
 * One submitter's evidence on its own: its newest measurement in the
 * window is of the kind (blocked or not), its run of that kind spans at
 * least span seconds of the collector's clock, and no other submitter's
 * measurement in the window received since that run began says
 * otherwise.
 */
static bool
lone_streak(const struct tl *t, uint64_t sub, bool blocked, int64_t span)
{
	const struct win_entry *newest = NULL;

	for (int i = 0; i < t->wn; i++)
		if (t->win[i].sub == sub)
			newest = &t->win[i];
	if (newest == NULL || is_blocked(newest->cls) != blocked ||
	    newest->rt - newest->since < span)
		return false;
	/* said otherwise since the run began (an older word, from a probe
	 * that has since gone quiet, does not hold the state for ever) */
	for (int i = 0; i < t->wn; i++)
		if (t->win[i].sub != sub &&
		    is_blocked(t->win[i].cls) != blocked &&
		    t->win[i].rt >= newest->since)
			return false;
	return true;
}

/*
 * Whether the keyed submitters that have spoken in the last TL_VOTER_AGE
 * (on the collector's clock, before the newest measurement), each by its
 * latest word, do not outvote a change of this kind (blocked, or not
 * blocked): none of them says the opposite, or more say the same.
 */
static bool
majority(const struct tl *t, bool blocked)
{
	int64_t now = t->win[t->wn - 1].rt;
	int same = 0, other = 0;

	for (int i = 0; i < t->nv; i++) {
		if (t->vot[i].rt < now - TL_VOTER_AGE)
			continue;
		if (is_blocked(t->vot[i].cls) == blocked)
			same++;
		else
			other++;
	}
	return other == 0 || same > other;
}

/*
 * Whether the ncite newest measurements of the window, those behind a
 * change, agree (docs/timelines.md, "Agreement"): the ones of the change's
 * kind (blocked, or not blocked) come from at least N submitters (the
 * unsigned counting only beside a keyed one, or a row without a
 * submitter), or one submitter's uncontradicted run of that kind spans H
 * hours; and the keyed submitters' latest words do not outvote it.
 */
static bool
agreed(const struct tl *t, const struct store_agreement *ag, int ncite,
       bool blocked)
{
	uint64_t subs[TL_WINDOW];
	int ns = 0;
	bool signed_one = false, ok = false;

	if (ag->min_submitters <= 1)
		return true;
	for (int i = t->wn - ncite; i < t->wn; i++) {
		int j = 0;

		if (is_blocked(t->win[i].cls) != blocked)
			continue;
		signed_one |= SUB_KIND(t->win[i].sub) != SUB_ANON;
		while (j < ns && subs[j] != t->win[i].sub)
			j++;
		if (j == ns)
			subs[ns++] = t->win[i].sub;
	}
	if (signed_one && ns >= ag->min_submitters)
		ok = true;
	for (int j = 0; !ok && ag->single_submitter_hours > 0 && j < ns; j++)
		ok = lone_streak(t, subs[j], blocked,
				 (int64_t)ag->single_submitter_hours * 3600);
	return ok && majority(t, blocked);
}

/* A change that needs agreement: into or out of blocked or disrupted (what
 * says "censorship" or takes it back), and a new method while blocked.
 * Unknown, accessible and down move among themselves freely. */
static bool
needs_agreement(int from, int to)
{
	return from == S_BLOCKED || from == S_DISRUPTED || to == S_BLOCKED ||
	       to == S_DISRUPTED;
}

/* Take one conclusive measurement, in (start_time, id) order; true when
 * the state changed, described in *ch. */
static bool
advance(struct tl *t, const struct store_agreement *ag, struct win_entry e,
	int64_t time, struct tl_change *ch)
{
	int state, method, ncite;

	win_push(t, ag, e);
	t->n_conclusive++;
	t->last_time = time;
	t->last_id = e.id;
	decide(t, &state, &method, &ncite);
	if (state == t->state && method == t->method)
		return false;
	if (needs_agreement(t->state, state) &&
	    !agreed(t, ag, ncite, state == S_BLOCKED || state == S_DISRUPTED))
		return false;
	ch->from = t->state;
	ch->to = state;
	ch->method = method;
	ch->time = time;
	ch->ncite = ncite;
	for (int i = 0; i < ncite; i++)
		ch->cite[i] = t->win[t->wn - ncite + i].id;
	t->state = state;
	t->method = method;
	t->since = time;
	t->fresh = 0;
	return true;
}

/* The window as text, "o12/5f3a.../1700000000/1699990000 n15/..." (class
 * letter and id, submitter, received_time, since), oldest first; then
 * "|" and the voters, "s5f3b.../1700000000 ..." (class letter, submitter,
 * received_time), least recently heard first. */
static void
win_encode(const struct tl *t, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < t->wn && n < outlen; i++)
		n += (size_t)snprintf(
			out + n, outlen - n, "%s%c%lld/%llx/%lld/%lld",
			i > 0 ? " " : "", class_letters[t->win[i].cls],
			(long long)t->win[i].id,
			(unsigned long long)t->win[i].sub,
			(long long)t->win[i].rt, (long long)t->win[i].since);
	if (n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "|");
	for (int i = 0; i < t->nv && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%c%llx/%lld",
				      i > 0 ? " " : "",
				      class_letters[t->vot[i].cls],
				      (unsigned long long)t->vot[i].sub,
				      (long long)t->vot[i].rt);
}

/* One number of an entry, followed by sep; NULL when it is not there. */
static const char *
win_num(const char *v, int base, char sep, long long *out)
{
	char *end;

	errno = 0;
	*out = base == 16 ? (long long)strtoull(v, &end, 16)
			  : strtoll(v, &end, 10);
	if (end == v || errno != 0 || (base == 16 && *v == '-') || *v == ' ' ||
	    (*end != sep && !(sep == ' ' && (*end == '\0' || *end == '|'))))
		return NULL;
	return end;
}

/* The voters after the window's "|". */
static bool
vot_decode(struct tl *t, const char *v)
{
	t->nv = 0;
	while (v != NULL && *v != '\0') {
		const char *p = strchr(class_letters, *v);
		long long sub, rt;

		if (p == NULL || *p == '\0' || *p == 'x' || t->nv == TL_VOTERS)
			return false;
		v = win_num(v + 1, 16, '/', &sub);
		v = v != NULL ? win_num(v + 1, 10, ' ', &rt) : NULL;
		if (v == NULL || *v == '|' || SUB_KIND(sub) != SUB_KEY)
			return false;
		t->vot[t->nv++] = (struct voter){(uint64_t)sub,
						 (int)(p - class_letters), rt};
		v = *v == ' ' ? v + 1 : v;
	}
	return v != NULL;
}

static bool
win_decode(struct tl *t, const char *v)
{
	t->wn = 0;
	while (v != NULL && *v != '\0' && *v != '|') {
		const char *p = strchr(class_letters, *v);
		struct win_entry *e = &t->win[t->wn];
		long long id, sub, rt, since;

		if (p == NULL || *p == '\0' || *p == 'x' || t->wn == TL_WINDOW)
			return false;
		v = win_num(v + 1, 10, '/', &id);
		v = v != NULL ? win_num(v + 1, 16, '/', &sub) : NULL;
		v = v != NULL ? win_num(v + 1, 10, '/', &rt) : NULL;
		v = v != NULL ? win_num(v + 1, 10, ' ', &since) : NULL;
		if (v == NULL)
			return false;
		e->cls = (int)(p - class_letters);
		e->id = id;
		e->sub = (uint64_t)sub;
		e->rt = rt;
		e->since = since;
		t->wn++;
		v = *v == ' ' ? v + 1 : v;
	}
	return v != NULL && *v == '|' && vot_decode(t, v + 1);
}

/* --- timelines: the tables ----------------------------------------------- */

/* v as a JSON string. */
static void
sb_json_str(struct sbuf *b, const char *v)
{
	char esc[8];

	sb_add(b, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			sb_add(b, esc, 2);
		} else if (*c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			sb_add(b, esc, 6);
		} else {
			sb_add(b, (const char *)c, 1);
		}
	}
	sb_add(b, "\"", 1);
}

/* The lower-case host of input (NULL when it is not a valid target); the
 * last one is kept. */
static const char *
host_of(struct sqlite_store *s, const char *input)
{
	struct ww_target t;
	char e[160];

	if (input == NULL)
		return NULL;
	if (s->hc_input != NULL && strcmp(s->hc_input, input) == 0)
		return s->hc_host;
	free(s->hc_input);
	free(s->hc_host);
	s->hc_input = xstrdup(input);
	s->hc_host = NULL;
	if (ww_target_parse(input, &t, e, sizeof(e)) == 0) {
		s->hc_host = xstrdup(t.host);
		ww_target_clear(&t);
	}
	return s->hc_host;
}

/*
 * The submitter a measurement counts as (INDEP_SQL in store_sqlite.c):
 * its submitter id, where the unsigned of one observed network
 * ("anon:<asn>:<hour>") are one whatever the hour; NULL (a row from before
 * submitters were recorded) is none, *len 0. Returns where it starts.
 */
static const char *
indep_id(const char *submitter, size_t *len)
{
	const char *c;

	*len = 0;
	if (submitter == NULL)
		return NULL;
	*len = strlen(submitter);
	if (strncmp(submitter, "anon:", 5) == 0 &&
	    (c = strchr(submitter + 5, ':')) != NULL)
		*len = (size_t)(c - submitter);
	return submitter;
}

/* The submitter as a number for the window, its kind (SUB_*) in the low
 * 2 bits; a row without one is its own submitter (by its id). A collision
 * makes two submitters one: fewer changes, never more. */
static uint64_t
indep_hash(const char *submitter, sqlite3_int64 id)
{
	uint64_t h = 14695981039346656037ULL;
	size_t n;
	const char *v = indep_id(submitter, &n);
	char row[32];

	if (v == NULL) {
		n = (size_t)snprintf(row, sizeof(row), "row:%lld",
				     (long long)id);
		v = row;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)v[i]) * 1099511628211ULL;
	return (h & ~3ULL) |
	       (uint64_t)(submitter == NULL		       ? SUB_ROW
			  : strncmp(submitter, "key:", 4) == 0 ? SUB_KEY
							       : SUB_ANON);
}

/* Whether the settings keep a measurement with this geo_mismatch flag
 * from moving a state (and count it apart). */
static bool
geo_excluded(const struct sqlite_store *s, int geo_mismatch)
{
	return geo_mismatch != 0 && !s->ag.allow_geo_mismatch;
}

/* Bind the key (1-3), start_time or the day's first second (4) and a
 * submitter (5, may be NULL) of one target's day. */
static int
bind_day(sqlite3_stmt *st, const struct store_meas *m, int64_t t,
	 const char *sub, size_t n)
{
	int rc = bind_key(st, m->input, m->probe_cc, m->probe_asn);

	rc |= sqlite3_bind_int64(st, 4, t);
	if (sub != NULL)
		rc |= sqlite3_bind_text(st, 5, sub, (int)n, SQLITE_STATIC);
	return rc;
}

/* Step st, which returns one integer in *v, then reset it. */
static int
step_int(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc, int64_t *v,
	 const char *what, char *err, size_t errlen)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else
		db_fail(s, what, err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Count a new measurement as cls in its day: most days are there
 * already. */
static int
daily_add(struct sqlite_store *s, const struct store_meas *m, int cls,
	  char *err, size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = s->st[i == 0 ? ST_DAILY_INC : ST_DAILY_ADD];
		int rc = bind_day(st, m, m->start_time, NULL, 0);

		rc |= sqlite3_bind_int(st, 5, cls);
		if (step_done(s, st, rc, "counting a measurement", err,
			      errlen) != 0)
			return -1;
		if (sqlite3_changes(s->db) > 0)
			return 0;
	}
	return 0;
}

/* The target's count of the day so far, in *total (0: none yet). */
static int
daily_total(struct sqlite_store *s, const struct store_meas *m, int64_t *total,
	    char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_DAILY_TOTAL];
	int rc = bind_day(st, m, m->start_time, NULL, 0);

	*total = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		db_fail(s, "reading a day's count", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * How many measurements of the target the submitter sub has sent that
 * day, this one included. submitter_days is kept only for the days whose
 * count passed the cap (below it, no submitter can be over it): the day
 * is counted from the rows when it passes (total == cap + 1), then one
 * is added per measurement.
 */
static int
sub_count(struct sqlite_store *s, const struct store_meas *m, const char *sub,
	  size_t n, int64_t total, int64_t *count, char *err, size_t errlen)
{
	int64_t day = m->start_time - ((m->start_time % DAY) + DAY) % DAY;
	sqlite3_stmt *st;

	if (total > (int64_t)s->ag.daily_cap + 1) {
		st = s->st[ST_SUBDAY_ADD];
		return step_int(s, st, bind_day(st, m, m->start_time, sub, n),
				count, "counting a submitter's day", err,
				errlen);
	}
	st = s->st[ST_SUBDAY_DEL_DAY];
	if (step_done(s, st, bind_day(st, m, day, NULL, 0),
		      "counting a submitter's day", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_DAY];
	if (step_done(s, st, bind_day(st, m, day, NULL, 0),
		      "counting a submitter's day", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_GET];
	return step_int(s, st, bind_day(st, m, m->start_time, sub, n), count,
			"counting a submitter's day", err, errlen);
}

/*
 * Count a new measurement in daily_counts: as its class, or
 * C_GEO_MISMATCH, or C_CAPPED once its submitter has sent daily_cap
 * measurements of the target that day (in arrival order, as ST_DAILY_KEY
 * ranks them by id). A day within the cap costs nothing more; past it,
 * the submitter's count is looked up, and a capped one is moved.
 */
static int
daily_count(struct sqlite_store *s, const struct store_meas *m, int cls,
	    char *err, size_t errlen)
{
	size_t n;
	const char *sub = indep_id(m->submitter, &n);
	int64_t total = 0, count = 0;
	sqlite3_stmt *st = s->st[ST_DAILY_CAP];
	int rc;

	if (geo_excluded(s, m->geo_mismatch))
		cls = C_GEO_MISMATCH;
	if (sub == NULL || s->ag.daily_cap == 0)
		return daily_add(s, m, cls, err, errlen);
	if (daily_total(s, m, &total, err, errlen) != 0 ||
	    daily_add(s, m, cls, err, errlen) != 0)
		return -1;
	if (++total <= s->ag.daily_cap)
		return 0;
	if (sub_count(s, m, sub, n, total, &count, err, errlen) != 0)
		return -1;
	if (count <= s->ag.daily_cap)
		return 0;
	rc = bind_day(st, m, m->start_time, NULL, 0);
	rc |= sqlite3_bind_int(st, 5, cls);
	return step_done(s, st, rc, "capping a submitter's day", err, errlen);
}

/* Load a target's state into *t (tl_init'ed with its key): 0 found, 1 not
 * there, 2 damaged (to be recomputed), -1 error. */
static int
tl_load(struct sqlite_store *s, struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_STATE_GET];
	int rc = bind_key(st, t->input, t->cc, t->asn), ret;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 1;
	} else if (rc == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 0);
		const char *method = (const char *)sqlite3_column_text(st, 1);
		const char *cat = (const char *)sqlite3_column_text(st, 8);

		t->state = state_by_name(state);
		t->method = method_by_name(method);
		t->since = sqlite3_column_int64(st, 2);
		t->last_tested = sqlite3_column_int64(st, 3);
		t->n_conclusive = sqlite3_column_int64(st, 4);
		t->last_time = sqlite3_column_int64(st, 5);
		t->last_id = sqlite3_column_int64(st, 6);
		t->row = sqlite3_column_int64(st, 10);
		t->fresh = sqlite3_column_int(st, 11);
		if (cat != NULL)
			tl_set_category(t, cat, sqlite3_column_int64(st, 9));
		ret = 0;
		if (t->state < 0 ||
		    (t->state == S_BLOCKED) != (t->method >= 0) ||
		    !win_decode(t, (const char *)sqlite3_column_text(st, 7)) ||
		    t->n_conclusive < t->wn || t->fresh < 0 ||
		    t->fresh > t->wn ||
		    /* a window not yet full has seen all there was, or
		     * holds one submitter's share (win_push()) */
		    (t->n_conclusive > t->wn &&
		     t->wn < TL_WINDOW - (s->ag.min_submitters - 1)))
			ret = 2;
	} else {
		ret = db_fail(s, "reading a target's state", err, errlen);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int
tl_save(struct sqlite_store *s, const struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[t->row > 0 ? ST_STATE_UPD : ST_STATE_PUT];
	const char *host = NULL;
	char win[(TL_WINDOW + TL_VOTERS) * 96], *rhost = NULL;
	int rc, ret;

	win_encode(t, win, sizeof(win));
	if (t->row > 0) {
		rc = sqlite3_bind_int64(st, 1, t->row);
	} else {
		host = host_of(s, t->input);
		rhost = reversed(host);
		rc = bind_key(st, t->input, t->cc, t->asn);
		rc |= bind_text(st, 4, host);
		rc |= bind_text(st, 5, rhost);
	}
	rc |= bind_text(st, 6, t->category);
	rc |= t->category != NULL ? sqlite3_bind_int64(st, 7, t->category_time)
				  : sqlite3_bind_null(st, 7);
	rc |= bind_text(st, 8, state_names[t->state]);
	rc |= bind_text(st, 9, t->method >= 0 ? class_names[t->method] : NULL);
	rc |= sqlite3_bind_int64(st, 10, t->since);
	rc |= sqlite3_bind_int64(st, 11, t->last_tested);
	rc |= sqlite3_bind_int64(st, 12, t->n_conclusive);
	if (t->n_conclusive > 0) {
		rc |= sqlite3_bind_int64(st, 13, t->last_time);
		rc |= sqlite3_bind_int64(st, 14, t->last_id);
	} else {
		rc |= sqlite3_bind_null(st, 13);
		rc |= sqlite3_bind_null(st, 14);
	}
	rc |= bind_text(st, 15, win);
	rc |= sqlite3_bind_int(st, 16, t->fresh);
	ret = step_done(s, st, rc, "storing a target's state", err, errlen);
	free(rhost);
	return ret;
}

/* The uids of a change's measurements, oldest first, as a JSON array; the
 * caller frees it. NULL on error. */
static char *
cite_json(struct sqlite_store *s, const struct tl_change *ch, char *err,
	  size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_UID_OF];
	struct sbuf b = {NULL, 0, 0};

	sb_add(&b, "[", 1);
	for (int i = 0; i < ch->ncite; i++) {
		int rc = sqlite3_bind_int64(st, 1, ch->cite[i]);

		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			db_fail(s, "reading a measurement's uid", err, errlen);
			sqlite3_reset(st);
			free(b.p);
			return NULL;
		}
		if (i > 0)
			sb_add(&b, ",", 1);
		sb_json_str(&b, (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	sb_add(&b, "]", 1);
	return b.p;
}

static int
tl_event_add(struct sqlite_store *s, const struct tl *t, int64_t time, int from,
	     int to, int method, const char *uids, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_EVENT_ADD];
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= sqlite3_bind_int64(st, 4, time);
	rc |= bind_text(st, 5, state_names[from]);
	rc |= bind_text(st, 6, state_names[to]);
	rc |= bind_text(st, 7, method >= 0 ? class_names[method] : NULL);
	rc |= bind_text(st, 8, uids);
	return step_done(s, st, rc, "recording an event", err, errlen);
}

static uint64_t
key_hash(const char *input, const char *cc, const char *asn)
{
	const char *parts[3] = {input, cc, asn};
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *c = (const unsigned char *)parts[i];
		     *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static size_t *
ks_find(struct keyset *ks, const char *input, const char *cc, const char *asn)
{
	size_t i;

	if (ks->nslot == 0)
		return NULL;
	i = (size_t)key_hash(input, cc, asn) & (ks->nslot - 1);
	for (;; i = (i + 1) & (ks->nslot - 1)) {
		const struct kkey *k;

		if (ks->slot[i] == 0)
			return &ks->slot[i];
		k = &ks->v[ks->slot[i] - 1];
		if (strcmp(k->input, input) == 0 && strcmp(k->cc, cc) == 0 &&
		    strcmp(k->asn, asn) == 0)
			return &ks->slot[i];
	}
}

static bool
ks_has(struct keyset *ks, const char *input, const char *cc, const char *asn)
{
	size_t *p = ks_find(ks, input, cc, asn);

	return p != NULL && *p != 0;
}

static void
ks_add(struct keyset *ks, const char *input, const char *cc, const char *asn)
{
	struct kkey *k;
	size_t *p;

	if (ks_has(ks, input, cc, asn))
		return;
	if (2 * (ks->n + 1) > ks->nslot) {
		size_t nslot = ks->nslot > 0 ? 2 * ks->nslot : 64;

		free(ks->slot);
		ks->slot = xcalloc(nslot, sizeof(*ks->slot));
		ks->nslot = nslot;
		for (size_t i = 0; i < ks->n; i++) {
			p = ks_find(ks, ks->v[i].input, ks->v[i].cc,
				    ks->v[i].asn);
			*p = i + 1;
		}
	}
	k = WW_PUSH(ks->v, ks->n, ks->cap);
	k->input = input;
	k->cc = cc;
	k->asn = asn;
	p = ks_find(ks, input, cc, asn);
	*p = ks->n;
}

void
store_ks_free(struct keyset *ks)
{
	free(ks->v);
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}

/*
 * A new measurement (id) of a batch: count it, and move its target's state
 * forward; or, when it is older than the target's last conclusive one or
 * the state is damaged, leave the target to be recomputed (redo).
 */
int
store_tl_add(struct sqlite_store *s, const struct store_meas *m,
	     sqlite3_int64 id, struct keyset *redo, char *err, size_t errlen)
{
	struct tl t;
	struct tl_change ch;
	int c, rc;

	if (m->input == NULL)
		return 0;
	c = classify(m->blocking, m->blocking_detail, m->accessible);
	if (daily_count(s, m, c, err, errlen) != 0)
		return -1;
	/* evidence the settings leave out is no evidence, as a failed one */
	if (geo_excluded(s, m->geo_mismatch))
		c = C_FAILED;
	if (ks_has(redo, m->input, m->probe_cc, m->probe_asn))
		return 0;
	tl_init(&t, m->input, m->probe_cc, m->probe_asn);
	rc = tl_load(s, &t, err, errlen);
	if (rc < 0)
		goto out;
	if (rc == 2 || (c != C_FAILED && rc == 0 && t.n_conclusive > 0 &&
			m->start_time < t.last_time)) {
		ks_add(redo, m->input, m->probe_cc, m->probe_asn);
		rc = 0;
		goto out;
	}
	if (rc == 1 || m->start_time > t.last_tested)
		t.last_tested = m->start_time;
	/* the newest wins; on a tie, the one stored last */
	if (m->category_code != NULL &&
	    (t.category == NULL || m->start_time >= t.category_time))
		tl_set_category(&t, m->category_code, m->start_time);
	rc = 0;
	if (c != C_FAILED &&
	    advance(&t, &s->ag,
		    (struct win_entry){c, id, indep_hash(m->submitter, id),
				       m->received_time, 0},
		    m->start_time, &ch)) {
		char *uids = cite_json(s, &ch, err, errlen);

		rc = uids == NULL ? -1
				  : tl_event_add(s, &t, ch.time, ch.from, ch.to,
						 ch.method, uids, err, errlen);
		free(uids);
	}
	if (rc == 0)
		rc = tl_save(s, &t, err, errlen);
out:
	tl_free(&t);
	return rc < 0 ? -1 : 0;
}

/* An event found by a recomputation. */
struct gen_event {
	int64_t time;
	int from, to, method;
	char *uids;
};

static bool
same_event(sqlite3_stmt *st, const struct gen_event *g)
{
	const char *from = (const char *)sqlite3_column_text(st, 2);
	const char *to = (const char *)sqlite3_column_text(st, 3);
	const char *method = (const char *)sqlite3_column_text(st, 4);
	const char *uids = (const char *)sqlite3_column_text(st, 5);

	return sqlite3_column_int64(st, 1) == g->time && from != NULL &&
	       strcmp(from, state_names[g->from]) == 0 && to != NULL &&
	       strcmp(to, state_names[g->to]) == 0 &&
	       method_by_name(method) == g->method &&
	       (method == NULL) == (g->method < 0) && uids != NULL &&
	       strcmp(uids, g->uids) == 0;
}

/* Make the target's events g[0..n-1]: the stored ones that are the same,
 * in the same order, stay (ids too); the rest are replaced. */
static int
sync_events(struct sqlite_store *s, const struct tl *t,
	    const struct gen_event *g, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KEY_EVENTS];
	sqlite3_int64 cut = -1;
	size_t i = 0;
	int rc = bind_key(st, t->input, t->cc, t->asn);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (i < n && same_event(st, &g[i])) {
			i++;
			rc = SQLITE_OK;
			continue;
		}
		cut = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
		break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		db_fail(s, "reading events", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return -1;
	if (cut >= 0) {
		st = s->st[ST_EVENTS_CUT];
		rc = bind_key(st, t->input, t->cc, t->asn);
		rc |= sqlite3_bind_int64(st, 4, cut);
		if (step_done(s, st, rc, "replacing events", err, errlen) != 0)
			return -1;
	}
	for (; i < n; i++)
		if (tl_event_add(s, t, g[i].time, g[i].from, g[i].to,
				 g[i].method, g[i].uids, err, errlen) != 0)
			return -1;
	return 0;
}

/* Forget a target that has no measurements (none is ever deleted, but a
 * recomputation must not leave a state without them). */
static int
tl_drop(struct sqlite_store *s, const struct tl *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_EVENTS_CUT];
	int rc = bind_key(st, t->input, t->cc, t->asn);

	rc |= sqlite3_bind_int64(st, 4, 0);
	if (step_done(s, st, rc, "dropping events", err, errlen) != 0)
		return -1;
	st = s->st[ST_STATE_DEL];
	if (step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
		      "dropping a state", err, errlen) != 0)
		return -1;
	st = s->st[ST_SUBDAY_DEL_KEY];
	if (step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
		      "dropping counts", err, errlen) != 0)
		return -1;
	st = s->st[ST_DAILY_DEL_KEY];
	return step_done(s, st, bind_key(st, t->input, t->cc, t->asn),
			 "dropping counts", err, errlen);
}

/*
 * Recompute a target from all its measurements, in (start_time, id)
 * order: its state, its events (kept where unchanged) and, with daily, its
 * daily counts. Runs inside the caller's transaction.
 */
static int
tl_rebuild(struct sqlite_store *s, const char *input, const char *cc,
	   const char *asn, bool daily, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KEY_ROWS];
	struct gen_event *g = NULL;
	size_t gn = 0, gcap = 0;
	struct tl t;
	struct tl_change ch;
	bool any = false;
	int rc, ret = -1;

	tl_init(&t, input, cc, asn);
	rc = bind_key(st, input, cc, asn);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		int64_t time = sqlite3_column_int64(st, 1);
		int c = classify((const char *)sqlite3_column_text(st, 2),
				 (const char *)sqlite3_column_text(st, 5),
				 sqlite3_column_type(st, 3) == SQLITE_NULL
					 ? -1
					 : sqlite3_column_int(st, 3));
		const char *cat = (const char *)sqlite3_column_text(st, 4);
		struct win_entry w = {
			c, id,
			indep_hash((const char *)sqlite3_column_text(st, 6),
				   id),
			sqlite3_column_int64(st, 7), 0};

		rc = SQLITE_OK;
		/* a revoked submitter's rows are as if never sent */
		if (sqlite3_column_int(st, 9) != 0)
			continue;
		if (geo_excluded(s, sqlite3_column_int(st, 8)))
			w.cls = C_FAILED;
		if (!any || time > t.last_tested)
			t.last_tested = time;
		any = true;
		if (cat != NULL) /* the newest wins, as in tl_add() */
			tl_set_category(&t, cat, time);
		if (w.cls != C_FAILED && advance(&t, &s->ag, w, time, &ch)) {
			struct gen_event *e;
			char *uids = cite_json(s, &ch, err, errlen);

			if (uids == NULL)
				goto out;
			e = WW_PUSH(g, gn, gcap);
			e->time = ch.time;
			e->from = ch.from;
			e->to = ch.to;
			e->method = ch.method;
			e->uids = uids;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "reading a target's measurements", err, errlen);
		goto out;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!any) {
		ret = tl_drop(s, &t, err, errlen);
		goto out;
	}
	if (sync_events(s, &t, g, gn, err, errlen) != 0 ||
	    tl_save(s, &t, err, errlen) != 0)
		goto out;
	if (daily) {
		sqlite3_stmt *d = s->st[ST_DAILY_DEL_KEY];

		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target", err, errlen) != 0)
			goto out;
		d = s->st[ST_DAILY_KEY];
		rc = bind_key(d, input, cc, asn);
		rc |= sqlite3_bind_int(d, 4, s->ag.daily_cap);
		rc |= sqlite3_bind_int(d, 5, s->ag.allow_geo_mismatch);
		if (step_done(s, d, rc, "recounting a target", err, errlen) !=
		    0)
			goto out;
		d = s->st[ST_SUBDAY_DEL_KEY];
		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target's submitters", err,
			      errlen) != 0)
			goto out;
		d = s->st[ST_SUBDAY_KEY];
		if (step_done(s, d, bind_key(d, input, cc, asn),
			      "recounting a target's submitters", err,
			      errlen) != 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (size_t i = 0; i < gn; i++)
		free(g[i].uids);
	free(g);
	tl_free(&t);
	return ret;
}

/* Recompute the targets of a batch that arrived out of order. */
int
store_tl_redo(struct sqlite_store *s, const struct keyset *redo, char *err,
	      size_t errlen)
{
	for (size_t i = 0; i < redo->n; i++)
		if (tl_rebuild(s, redo->v[i].input, redo->v[i].cc,
			       redo->v[i].asn, false, err, errlen) != 0)
			return -1;
	return 0;
}

struct keybuf {
	char *k[REBUILD_CHUNK][3];
	int n;
};

static void
kb_clear(struct keybuf *kb)
{
	for (int i = 0; i < kb->n; i++)
		for (int j = 0; j < 3; j++)
			free(kb->k[i][j]);
	kb->n = 0;
}

/* Read up to REBUILD_CHUNK keys (columns 0-2) from st, then reset it. */
static int
kb_read(struct sqlite_store *s, sqlite3_stmt *st, int bind_rc,
	struct keybuf *kb, char *err, size_t errlen)
{
	int rc = bind_rc;

	kb->n = 0;
	while (rc == SQLITE_OK && kb->n < REBUILD_CHUNK &&
	       (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int j = 0; j < 3; j++)
			kb->k[kb->n][j] = xstrdup(
				(const char *)sqlite3_column_text(st, j));
		kb->n++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		db_fail(s, "reading targets", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_OK || rc == SQLITE_DONE ? 0 : -1;
}

/* Recompute the targets in kb (counts too) and clear their stale marks. */
static int
kb_rebuild(struct sqlite_store *s, const struct keybuf *kb, char *err,
	   size_t errlen)
{
	for (int i = 0; i < kb->n; i++) {
		sqlite3_stmt *st = s->st[ST_STALE_DEL];
		char *const *k = kb->k[i];

		if (k[0] == NULL || k[1] == NULL || k[2] == NULL) {
			ww_set_err(err, errlen, "%s: a target without a key",
				   s->path);
			return -1;
		}
		if (tl_rebuild(s, k[0], k[1], k[2], true, err, errlen) != 0 ||
		    step_done(s, st, bind_key(st, k[0], k[1], k[2]),
			      "clearing a stale mark", err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Recompute the targets marked stale, a chunk per transaction. */
int
store_tl_rebuild_stale(struct sqlite_store *s, char *err, size_t errlen)
{
	struct keybuf *kb = xcalloc(1, sizeof(*kb));
	int ret = -1;

	for (;;) {
		sqlite3_stmt *st = s->st[ST_STALE_NEXT];

		if (run(s, ST_BEGIN, "starting a transaction", err, errlen) !=
		    0)
			break;
		if (kb_read(s, st, sqlite3_bind_int(st, 1, REBUILD_CHUNK), kb,
			    err, errlen) != 0 ||
		    kb_rebuild(s, kb, err, errlen) != 0 ||
		    run(s, ST_COMMIT, "committing", err, errlen) != 0) {
			rollback(s);
			break;
		}
		if (kb->n == 0) {
			ret = 0;
			break;
		}
		kb_clear(kb);
	}
	kb_clear(kb);
	free(kb);
	return ret;
}

/* Recompute every target, in key order, a chunk per transaction. */
int
store_tl_rebuild_all(struct sqlite_store *s, char *err, size_t errlen)
{
	struct keybuf *kb = xcalloc(1, sizeof(*kb));
	char *last[3] = {xstrdup(""), xstrdup(""), xstrdup("")};
	int ret = -1;

	for (;;) {
		sqlite3_stmt *st = s->st[ST_KEYS_NEXT];
		int rc = bind_key(st, last[0], last[1], last[2]);

		rc |= sqlite3_bind_int(st, 4, REBUILD_CHUNK);
		if (run(s, ST_BEGIN, "starting a transaction", err, errlen) !=
		    0)
			break;
		if (kb_read(s, st, rc, kb, err, errlen) != 0 ||
		    kb_rebuild(s, kb, err, errlen) != 0 ||
		    run(s, ST_COMMIT, "committing", err, errlen) != 0) {
			rollback(s);
			break;
		}
		if (kb->n == 0) {
			ret = 0;
			break;
		}
		for (int j = 0; j < 3; j++) {
			free(last[j]);
			last[j] = xstrdup(kb->k[kb->n - 1][j]);
		}
		kb_clear(kb);
	}
	kb_clear(kb);
	free(kb);
	for (int j = 0; j < 3; j++)
		free(last[j]);
	return ret;
}
