/*
 * timeline.c - the timeline state machine of one target (timeline.h,
 * docs/timelines.md): the window of conclusive measurements, the rules
 * that decide a state, agreement among submitters, and the text form the
 * backends store. Pure C: the backends (store_timeline.c for SQLite) load
 * and save what it works on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h" /* struct sbuf */
#include "timeline.h"
#include "util.h"

/* One letter per class, for the window's text (read back by letter: a new
 * class takes a new letter). */
static const char class_letters[WW_CLASS_N + 1] = "onpsfhwdxve";

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const state_names[TL_NSTATE] = {
	STORE_STATE_UNKNOWN,   STORE_STATE_ACCESSIBLE, STORE_STATE_BLOCKED,
	STORE_STATE_DISRUPTED, STORE_STATE_DOWN,
};

int
tl_state_by_name(const char *v)
{
	for (int i = 0; v != NULL && i < TL_NSTATE; i++)
		if (strcmp(v, state_names[i]) == 0)
			return i;
	return -1;
}

const char *
tl_state_name(int state)
{
	return state >= 0 && state < TL_NSTATE ? state_names[state] : NULL;
}

int
tl_method_by_name(const char *v)
{
	int c = ww_class_by_name(v);

	return ww_class_is_blocked(c) ? c : -1;
}

bool
tl_geo_excluded(const struct store_agreement *ag, bool geo_mismatch)
{
	return geo_mismatch && !ag->allow_geo_mismatch;
}

/* --- the state machine ---------------------------------------------------- */

void
tl_init(struct tl *t, const char *input, const char *cc, const char *asn)
{
	memset(t, 0, sizeof(*t));
	t->input = input;
	t->cc = cc;
	t->asn = asn;
	t->state = TL_UNKNOWN;
	t->method = -1;
}

void
tl_free(struct tl *t)
{
	free(t->category);
	t->category = NULL;
}

void
tl_set_category(struct tl *t, const char *category, int64_t time)
{
	free(t->category);
	t->category = xstrdup(category);
	t->category_time = time;
}

static int
lean(int n_ok, int n_down)
{
	return n_ok >= n_down ? TL_ACCESSIBLE : TL_DOWN;
}

static bool
window_has_blocked(const struct tl *t)
{
	for (int i = 0; i < t->wn; i++)
		if (ww_class_is_blocked(t->win[i].cls))
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
		if (!ww_class_is_blocked(t->win[i].cls))
			continue;
		if (first < 0)
			first = i;
		nb++;
	}
	if (nb < 2)
		return false;
	for (int i = first + 1; i < t->wn; i++)
		if (t->win[i].cls == WW_CLASS_OK)
			return true;
	return false;
}

/* The method of a run of TL_RUN blocked: the current one while it is
 * among them, else the most frequent, a tie going to the most recent. */
static int
pick_method(const struct tl *t)
{
	const struct tl_entry *l = t->win + t->wn - TL_RUN;
	int best = -1, best_n = 0;

	if (t->state == TL_BLOCKED)
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
	const struct tl_entry *l;
	int nb = 0, nd = 0, no = 0;

	*state = t->state;
	*method = t->method;
	*ncite = TL_RUN;
	if (t->n_conclusive < TL_RUN || t->wn < TL_RUN) {
		*state = TL_UNKNOWN;
		*method = -1;
		*ncite = 0;
		return;
	}
	l = t->win + t->wn - TL_RUN;
	for (int i = 0; i < TL_RUN; i++) {
		if (ww_class_is_blocked(l[i].cls))
			nb++;
		else if (l[i].cls == WW_CLASS_DOWN)
			nd++;
		else
			no++;
	}
	if (nb == TL_RUN) { /* 1 */
		*state = TL_BLOCKED;
		*method = pick_method(t);
		return;
	}
	if (t->state == TL_BLOCKED) { /* 2 */
		if (nb > 0)
			return;
		*state = lean(no, nd);
		*method = -1;
		return;
	}
	*method = -1;
	if (nd == TL_RUN) { /* 3 */
		*state = TL_DOWN;
		return;
	}
	if (no == TL_RUN && t->state != TL_DISRUPTED) { /* 4 */
		*state = TL_ACCESSIBLE;
		return;
	}
	if (t->state == TL_DISRUPTED && window_has_blocked(t)) /* 5 */
		return;
	if (intermittent(t)) { /* 6 */
		*state = TL_DISRUPTED;
		*ncite = t->fresh;
		return;
	}
	if (t->state == TL_ACCESSIBLE || t->state == TL_DOWN) /* 7 */
		return;
	*state = lean(no, nd); /* 8 */
}

/*
 * Keep e's word as its submitter's latest: the voters are the TL_VOTERS
 * keyed submitters heard most recently on the target, each once.
 */
static void
voter_note(struct tl *t, const struct tl_entry *e)
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
	t->vot[t->nv++] = (struct tl_voter){e->sub, e->cls, e->rt};
}

/*
 * Put e at the window's end. A submitter holds at most
 * TL_WINDOW - (N - 1) places, so that a flood from one never pushes out
 * the latest of N - 1 others: a new measurement of a submitter that has
 * its share replaces that submitter's oldest, not the window's.
 */
static void
win_push(struct tl *t, const struct store_agreement *ag, struct tl_entry e)
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
	if (last >= 0 &&
	    ww_class_is_blocked(t->win[last].cls) ==
		    ww_class_is_blocked(e.cls) &&
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
	if (TL_SUB_KIND(e.sub) == TL_SUB_KEY)
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
	const struct tl_entry *newest = NULL;

	for (int i = 0; i < t->wn; i++)
		if (t->win[i].sub == sub)
			newest = &t->win[i];
	if (newest == NULL || ww_class_is_blocked(newest->cls) != blocked ||
	    newest->rt - newest->since < span)
		return false;
	/* said otherwise since the run began (an older word, from a probe
	 * that has since gone quiet, does not hold the state for ever) */
	for (int i = 0; i < t->wn; i++)
		if (t->win[i].sub != sub &&
		    ww_class_is_blocked(t->win[i].cls) != blocked &&
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
		if (ww_class_is_blocked(t->vot[i].cls) == blocked)
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

		if (ww_class_is_blocked(t->win[i].cls) != blocked)
			continue;
		signed_one |= TL_SUB_KIND(t->win[i].sub) != TL_SUB_ANON;
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
	return from == TL_BLOCKED || from == TL_DISRUPTED || to == TL_BLOCKED ||
	       to == TL_DISRUPTED;
}

/* Take one conclusive measurement, in (start_time, id) order; true when
 * the state changed, described in *ch. */
static bool
advance(struct tl *t, const struct store_agreement *ag, struct tl_entry e,
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
	    !agreed(t, ag, ncite, state == TL_BLOCKED || state == TL_DISRUPTED))
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

int
tl_step(struct tl *t, const struct store_agreement *ag, const struct tl_meas *m,
	struct tl_change *ch)
{
	bool conclusive = m->cls != WW_CLASS_FAILED;

	if (conclusive && t->n_conclusive > 0 && m->start_time < t->last_time)
		return TL_LATE;
	if (!t->seen || m->start_time > t->last_tested)
		t->last_tested = m->start_time;
	t->seen = true;
	/* the newest wins; on a tie, the one taken last */
	if (m->category != NULL &&
	    (t->category == NULL || m->start_time >= t->category_time))
		tl_set_category(t, m->category, m->start_time);
	if (conclusive && advance(t, ag,
				  (struct tl_entry){m->cls, m->id, m->sub,
						    m->received_time, 0},
				  m->start_time, ch))
		return TL_CHANGED;
	return TL_SAME;
}

/* --- the text form -------------------------------------------------------- */

/* timeline.h says the form. */
void
tl_encode(const struct tl *t, char *out, size_t outlen)
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

/* The class of a letter of the text (a conclusive one), or -1. */
static int
class_of_letter(char c)
{
	const char *p = strchr(class_letters, c);

	if (p == NULL || c == '\0' || c == 'x')
		return -1;
	return (int)(p - class_letters);
}

/* The voters after the window's "|": NULL, or what is wrong with them. */
static const char *
vot_decode(struct tl *t, const char *v)
{
	t->nv = 0;
	while (*v != '\0') {
		int cls = class_of_letter(*v);
		long long sub, rt;

		if (cls < 0)
			return "a voter's class letter is not one of a conclusive "
			       "class";
		if (t->nv == TL_VOTERS)
			return "more voters than " STR(TL_VOTERS);
		v = win_num(v + 1, 16, '/', &sub);
		v = v != NULL ? win_num(v + 1, 10, ' ', &rt) : NULL;
		if (v == NULL || *v == '|')
			return "a voter is not letter, hex submitter, '/', "
			       "received time";
		if (TL_SUB_KIND(sub) != TL_SUB_KEY)
			return "a voter is not a keyed submitter";
		t->vot[t->nv++] = (struct tl_voter){(uint64_t)sub, cls, rt};
		v = *v == ' ' ? v + 1 : v;
	}
	return NULL;
}

/* The window and then the voters: NULL, or what is wrong. */
static const char *
win_decode(struct tl *t, const char *v)
{
	t->wn = 0;
	t->nv = 0;
	if (v == NULL)
		return "no window";
	while (*v != '\0' && *v != '|') {
		int cls = class_of_letter(*v);
		struct tl_entry *e = &t->win[t->wn];
		long long id, sub, rt, since;

		if (cls < 0)
			return "an entry's class letter is not one of a "
			       "conclusive class";
		if (t->wn == TL_WINDOW)
			return "more entries than " STR(TL_WINDOW);
		v = win_num(v + 1, 10, '/', &id);
		v = v != NULL ? win_num(v + 1, 16, '/', &sub) : NULL;
		v = v != NULL ? win_num(v + 1, 10, '/', &rt) : NULL;
		v = v != NULL ? win_num(v + 1, 10, ' ', &since) : NULL;
		if (v == NULL)
			return "an entry is not letter and id, hex submitter, "
			       "received time, since (separated by '/')";
		e->cls = cls;
		e->id = id;
		e->sub = (uint64_t)sub;
		e->rt = rt;
		e->since = since;
		t->wn++;
		v = *v == ' ' ? v + 1 : v;
	}
	if (*v != '|')
		return "no '|' between the window and the voters";
	return vot_decode(t, v + 1);
}

/* What is inconsistent in a restored state, or NULL. */
static const char *
state_check(const struct tl *t, const struct store_agreement *ag)
{
	if ((t->state == TL_BLOCKED) != (t->method >= 0))
		return t->method >= 0 ? "a method while not blocked"
				      : "blocked without a method";
	if (t->n_conclusive < t->wn)
		return "fewer conclusive measurements than the window holds";
	if (t->fresh < 0 || t->fresh > t->wn)
		return "fresh is not within the window";
	/* a window not yet full has seen all there was, or holds one
	 * submitter's share (win_push()) */
	if (t->n_conclusive > t->wn &&
	    t->wn < TL_WINDOW - (ag->min_submitters - 1))
		return "the window is short of what it has seen";
	return NULL;
}

int
tl_restore(struct tl *t, const struct store_agreement *ag, const char *state,
	   const char *method, const char *text, char *err, size_t errlen)
{
	const char *why = NULL;

	t->seen = true;
	t->state = tl_state_by_name(state);
	t->method = tl_method_by_name(method);
	/* a method that is no blocked class is none (as it always was) */
	if (t->state < 0)
		why = "the state is not one of the five";
	if (why == NULL)
		why = win_decode(t, text);
	if (why == NULL)
		why = state_check(t, ag);
	if (why == NULL)
		return 0;
	ww_set_err(
		err, errlen, "the timeline state of %s (%s, %s) is damaged: %s",
		t->input != NULL ? t->input : "?", t->cc != NULL ? t->cc : "?",
		t->asn != NULL ? t->asn : "?", why);
	return -1;
}

/* --- submitters ---------------------------------------------------------- */

/*
 * The submitter a measurement counts as (INDEP_SQL in store_sqlite.c does the
 * same): its submitter id, where the unsigned of one observed network
 * ("anon:<asn>:<hour>") are one whatever the hour; NULL (a row from before
 * submitters were recorded) is none, *len 0. Returns where it starts.
 */
const char *
tl_submitter_id(const char *submitter, size_t *len)
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
uint64_t
tl_submitter_hash(const char *submitter, int64_t id)
{
	uint64_t h = 14695981039346656037ULL;
	size_t n;
	const char *v = tl_submitter_id(submitter, &n);
	char row[32];

	if (v == NULL) {
		n = (size_t)snprintf(row, sizeof(row), "row:%lld",
				     (long long)id);
		v = row;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)v[i]) * 1099511628211ULL;
	return (h & ~3ULL) |
	       (uint64_t)(submitter == NULL		       ? TL_SUB_ROW
			  : strncmp(submitter, "key:", 4) == 0 ? TL_SUB_KEY
							       : TL_SUB_ANON);
}

/* --- events --------------------------------------------------------------- */

/* v as a JSON string. */
static void
jb_str(struct sbuf *b, const char *v)
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

char *
tl_uids_json(const char *const *uids, int n)
{
	struct sbuf b = {NULL, 0, 0};

	sb_add(&b, "[", 1);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			sb_add(&b, ",", 1);
		jb_str(&b, uids[i]);
	}
	sb_add(&b, "]", 1);
	return b.p;
}
