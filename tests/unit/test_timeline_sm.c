/*
 * test_timeline_sm.c - the timeline state machine on its own
 * (collector/timeline.c; docs/timelines.md, sections 3 and 9): no
 * database. Each test feeds one target's measurements through tl_step()
 * and looks at the state, the events and the window's text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../collector/timeline.c"

#define T0 ((int64_t)1700000000)
#define HOUR ((int64_t)3600)

/* One target and what happened to it. */
struct fx {
	struct tl t;
	struct store_agreement ag;
	int64_t next_id;
	int nchanges;
	struct tl_change last; /* the latest event */
};

static void
fx_init(struct fx *f, int min_submitters, int single_hours)
{
	memset(f, 0, sizeof(*f));
	tl_init(&f->t, "https://example.org/", "CN", "AS4134");
	f->ag = (struct store_agreement)STORE_AGREEMENT_DEFAULT;
	f->ag.min_submitters = min_submitters;
	f->ag.single_submitter_hours = single_hours;
	f->next_id = 1;
}

/* A measurement of class letter c ('o' ok, 'd' down, 'x' failed, 'n'
 * dns, 'p' tcp_ip, 's' tls, 'f' http-failure, 'h' http-diff, 'w'
 * server-side) from submitter sub, started at start and received at rt;
 * returns tl_step()'s answer. */
static int
feed_at(struct fx *f, char c, const char *sub, int64_t start, int64_t rt)
{
	static const char letters[] = "onpsfhwdx";
	const char *p = strchr(letters, c);
	struct tl_change ch;
	struct tl_meas m;
	int rc;

	assert_non_null(p);
	m = (struct tl_meas){(int)(p - letters),
			     f->next_id,
			     tl_submitter_hash(sub, f->next_id),
			     start,
			     rt,
			     NULL};
	f->next_id++;
	rc = tl_step(&f->t, &f->ag, &m, &ch);
	if (rc == TL_CHANGED) {
		f->nchanges++;
		f->last = ch;
	}
	return rc;
}

/* Each letter of s, one a minute from the last one fed, by sub. */
static void
feed(struct fx *f, const char *s, const char *sub)
{
	for (; *s; s++) {
		int64_t t = T0 + f->next_id * 60;

		assert_int_not_equal(feed_at(f, *s, sub, t, t), TL_LATE);
	}
}

static void
test_unknown_until_three(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1, 6);
	feed(&f, "oxxo", "key:a");
	assert_int_equal(f.t.state, TL_UNKNOWN);
	assert_int_equal(f.t.n_conclusive, 2);
	assert_int_equal(f.nchanges, 0);
	feed(&f, "o", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	assert_int_equal(f.nchanges, 1);
	assert_int_equal(f.last.from, TL_UNKNOWN);
	assert_int_equal(f.last.to, TL_ACCESSIBLE);
	/* the run of 3 conclusive ones, not the failed ones between */
	assert_int_equal(f.last.ncite, 3);
	assert_int_equal(f.last.cite[0], 1);
	assert_int_equal(f.last.cite[1], 4);
	assert_int_equal(f.last.cite[2], 5);
	tl_free(&f.t);
}

/* A run of 3 to enter blocked, another of 3 not blocked to leave it. */
static void
test_hysteresis(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1, 6);
	feed(&f, "ooo", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "ss", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE); /* rules 6-7: no run */
	feed(&f, "s", "key:a");
	assert_int_equal(f.t.state, TL_BLOCKED);
	assert_int_equal(f.t.method, WW_CLASS_TLS);
	assert_int_equal(f.last.from, TL_ACCESSIBLE);
	assert_int_equal(f.last.cite[0], 4);
	assert_int_equal(f.last.cite[2], 6);
	feed(&f, "oo", "key:a");
	assert_int_equal(f.t.state, TL_BLOCKED); /* rule 2 */
	feed(&f, "o", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	assert_int_equal(f.t.method, -1);
	assert_int_equal(f.nchanges, 3);
	/* down: 3 down, left by 3 ok; one odd result changes nothing */
	feed(&f, "ddd", "key:a");
	assert_int_equal(f.t.state, TL_DOWN);
	feed(&f, "odo", "key:a");
	assert_int_equal(f.t.state, TL_DOWN);
	feed(&f, "oo", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	tl_free(&f.t);
}

/* The window holds the last 5 conclusive ones; the method follows the
 * run of 3 (kept while among it, else the most frequent). */
static void
test_window_and_method(void **state)
{
	struct fx f;
	char text[TL_TEXT_MAX];

	(void)state;
	fx_init(&f, 1, 6);
	feed(&f, "ooooxxoo", "key:a");
	assert_int_equal(f.t.wn, TL_WINDOW);
	assert_int_equal(f.t.win[0].id, 2); /* the oldest pushed out */
	assert_int_equal(f.t.n_conclusive, 6);
	feed(&f, "nnp", "key:a");
	assert_int_equal(f.t.state, TL_BLOCKED);
	assert_int_equal(f.t.method, WW_CLASS_DNS); /* 2 of 3 */
	feed(&f, "p", "key:a");
	assert_int_equal(f.t.method, WW_CLASS_DNS); /* kept: among n p p */
	feed(&f, "p", "key:a");
	assert_int_equal(f.t.method, WW_CLASS_TCP_IP); /* p p p */
	assert_int_equal(f.last.from, TL_BLOCKED);
	assert_int_equal(f.last.to, TL_BLOCKED);
	tl_encode(&f.t, text, sizeof(text));
	assert_non_null(strchr(text, '|'));
	assert_int_equal(strncmp(text, "n9/", 3), 0); /* the window's oldest */
	tl_free(&f.t);
}

/* Blocking that comes and goes: disrupted (rule 6), with the fresh
 * measurements as its evidence; a clean window leaves it. */
static void
test_intermittent(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1, 6);
	feed(&f, "ooo", "key:a");
	feed(&f, "s", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "oo", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE); /* one blocked only */
	feed(&f, "s", "key:a");
	assert_int_equal(f.t.state, TL_DISRUPTED);
	/* s o o s: the fresh ones since accessible, not the run of 3 */
	assert_int_equal(f.last.ncite, 4);
	assert_int_equal(f.last.cite[0], 4);
	assert_int_equal(f.last.cite[3], 7);
	/* rule 5: stays while a blocked one is in the window */
	feed(&f, "oooo", "key:a");
	assert_int_equal(f.t.state, TL_DISRUPTED);
	feed(&f, "o", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	/* ok, ok, blocked, blocked is not intermittent: a third blocks */
	fx_init(&f, 1, 6);
	feed(&f, "ooss", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "s", "key:a");
	assert_int_equal(f.t.state, TL_BLOCKED);
	tl_free(&f.t);
}

/* N = 2: one submitter's run is not enough; a second one's makes it. */
static void
test_agreement(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2, 0);
	feed(&f, "ooo", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE); /* needs no agreement */
	feed(&f, "sss", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	/* a flood of one submitter keeps one place free for another */
	feed(&f, "ssssss", "key:a");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "s", "key:b");
	assert_int_equal(f.t.state, TL_BLOCKED);
	assert_int_equal(f.nchanges, 2);
	/* the unsigned of one network, whatever the hour, are one */
	fx_init(&f, 2, 0);
	feed(&f, "ooo", "anon:AS1:2024010100");
	feed(&f, "s", "anon:AS1:2024010100");
	feed(&f, "s", "anon:AS1:2024010101");
	feed(&f, "s", "anon:AS1:2024010102");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	/* and count only beside a keyed one */
	feed(&f, "sss", "anon:AS2:2024010100");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "s", "key:c");
	assert_int_equal(f.t.state, TL_BLOCKED);
	tl_free(&f.t);
}

/* The keyed voters outvote a change: X against A and B holds the state. */
static void
test_voters(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2, 0);
	feed(&f, "oo", "key:a");
	feed(&f, "oo", "key:b");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	/* X and an unsigned flood: two submitters, but 1 voter against 2 */
	feed(&f, "ss", "key:x");
	feed(&f, "ss", "anon:AS9:2024010100");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	/* A sees blocking too: 2 against 1 */
	feed(&f, "s", "key:a");
	assert_int_equal(f.t.state, TL_BLOCKED);
	assert_int_equal(f.t.nv, 3);
	/* a tie holds the state: X against A */
	fx_init(&f, 2, 0);
	feed(&f, "ooo", "key:a");
	feed(&f, "ss", "key:x");
	feed(&f, "s", "anon:AS9:2024010100");
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	feed(&f, "s", "key:b"); /* 2 against 1 */
	assert_int_equal(f.t.state, TL_BLOCKED);
	tl_free(&f.t);
}

/* One submitter holds at most W - (N - 1) places: a flood never pushes
 * out the latest of another. */
static void
test_window_share(void **state)
{
	struct fx f;
	uint64_t b;
	int nb = 0;

	(void)state;
	fx_init(&f, 2, 0);
	feed(&f, "o", "key:b");
	b = f.t.win[0].sub;
	feed(&f, "ssssssss", "key:a");
	for (int i = 0; i < f.t.wn; i++)
		nb += f.t.win[i].sub == b;
	assert_int_equal(nb, 1);
	assert_int_equal(f.t.wn, TL_WINDOW);
	/* with N = 3, two others keep theirs */
	fx_init(&f, 3, 0);
	feed(&f, "o", "key:b");
	feed(&f, "o", "key:c");
	feed(&f, "ssssssss", "key:a");
	assert_int_equal(f.t.win[0].id, 1);
	assert_int_equal(f.t.win[1].id, 2);
	tl_free(&f.t);
}

/* One submitter on its own, over H hours of the collector's clock. */
static void
test_single_submitter_hours(void **state)
{
	struct fx f;
	int64_t t = T0 + HOUR;

	(void)state;
	fx_init(&f, 2, 6);
	feed(&f, "ooo", "key:a");
	for (int i = 0; i < 6; i++, t += HOUR)
		assert_int_equal(feed_at(&f, 's', "key:a", t, t), TL_SAME);
	assert_int_equal(f.t.state, TL_ACCESSIBLE); /* 5 hours */
	assert_int_equal(feed_at(&f, 's', "key:a", t, t), TL_CHANGED);
	assert_int_equal(f.t.state, TL_BLOCKED); /* 6 hours */
	/* forged start times do not count: received at once */
	fx_init(&f, 2, 6);
	feed(&f, "ooo", "key:a");
	for (int i = 1; i <= 10; i++)
		assert_int_equal(feed_at(&f, 's', "key:a", T0 + i * 10 * HOUR,
					 T0 + 10 * HOUR),
				 TL_SAME);
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	tl_free(&f.t);
}

/* Older than the last conclusive one: TL_LATE, nothing changed; a failed
 * one is never late; recomputing in order gives the state. */
static void
test_late_arrival(void **state)
{
	struct fx f;
	char before[TL_TEXT_MAX], after[TL_TEXT_MAX];
	int64_t n;

	(void)state;
	fx_init(&f, 1, 6);
	feed_at(&f, 'o', "key:a", T0 + 100, T0 + 100);
	feed_at(&f, 'o', "key:a", T0 + 200, T0 + 200);
	tl_encode(&f.t, before, sizeof(before));
	n = f.t.n_conclusive;
	assert_int_equal(feed_at(&f, 's', "key:a", T0 + 150, T0 + 300),
			 TL_LATE);
	tl_encode(&f.t, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(f.t.n_conclusive, n);
	assert_int_equal(f.t.last_tested, T0 + 200);
	assert_int_equal(feed_at(&f, 'x', "key:a", T0 + 50, T0 + 300), TL_SAME);
	assert_int_equal(f.t.last_tested, T0 + 200);
	/* the same start time is not late (ties go by arrival) */
	assert_int_equal(feed_at(&f, 'o', "key:a", T0 + 200, T0 + 300),
			 TL_CHANGED);
	assert_int_equal(f.t.state, TL_ACCESSIBLE);
	tl_free(&f.t);
}

/* The category follows the newest measurement that has one. */
static void
test_category(void **state)
{
	struct fx f;
	struct tl_change ch;
	struct tl_meas m = {WW_CLASS_FAILED, 1, 0, T0 + 10, T0, "NEWS"};

	(void)state;
	fx_init(&f, 1, 6);
	assert_int_equal(tl_step(&f.t, &f.ag, &m, &ch), TL_SAME);
	m.start_time = T0;
	m.category = "GRP";
	tl_step(&f.t, &f.ag, &m, &ch);
	assert_string_equal(f.t.category, "NEWS");
	m.start_time = T0 + 10;
	tl_step(&f.t, &f.ag, &m, &ch);
	assert_string_equal(f.t.category, "GRP"); /* a tie: the last */
	tl_free(&f.t);
}

/* Restore a state from its text, as a backend does. */
static int
restore(struct tl *t, const struct store_agreement *ag, const char *st,
	const char *method, int64_t n, int fresh, const char *text, char *err,
	size_t errlen)
{
	tl_init(t, "https://example.org/", "CN", "AS4134");
	t->n_conclusive = n;
	t->fresh = fresh;
	return tl_restore(t, ag, st, method, text, err, errlen);
}

static void
test_text_round_trip(void **state)
{
	struct fx f;
	struct tl r;
	char a[TL_TEXT_MAX], b[TL_TEXT_MAX], err[256];

	(void)state;
	fx_init(&f, 2, 6);
	feed(&f, "oo", "key:a");
	feed(&f, "sss", "key:b");
	feed(&f, "s", "anon:AS1:2024010100");
	tl_encode(&f.t, a, sizeof(a));
	assert_int_equal(restore(&r, &f.ag, tl_state_name(f.t.state),
				 ww_class_name(f.t.method), f.t.n_conclusive,
				 f.t.fresh, a, err, sizeof(err)),
			 0);
	assert_int_equal(r.wn, f.t.wn);
	assert_int_equal(r.nv, 2); /* the keyed ones */
	for (int i = 0; i < r.wn; i++) {
		assert_int_equal(r.win[i].cls, f.t.win[i].cls);
		assert_int_equal(r.win[i].id, f.t.win[i].id);
		assert_true(r.win[i].sub == f.t.win[i].sub);
		assert_int_equal(r.win[i].rt, f.t.win[i].rt);
		assert_int_equal(r.win[i].since, f.t.win[i].since);
	}
	tl_encode(&r, b, sizeof(b));
	assert_string_equal(a, b);
	tl_free(&r);
	tl_free(&f.t);
}

/* Damaged text is refused with a message naming the problem. */
static void
test_damaged_text(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"o1/4/1700000000/1700000000", "no '|'"},
		{"q1/4/1700000000/1700000000|", "class letter"},
		{"x1/4/1700000000/1700000000|", "class letter"},
		{"o1/4/1700000000|", "an entry is not"},
		{"o1/-4/1700000000/1700000000|", "an entry is not"},
		{"o1/4/17000x0000/1700000000|", "an entry is not"},
		{"o1/4/1/1 o2/4/1/1 o3/4/1/1 o4/4/1/1 o5/4/1/1 o6/4/1/1|",
		 "more entries than 5"},
		{"o1/4/1/1|o5/1", "not a keyed submitter"}, /* 5: anon kind */
		{"o1/4/1/1|o6", "a voter is not"},
		{"o1/4/1/1|o6/1|", "a voter is not"},
		{NULL, "no window"},
	};
	struct store_agreement ag = STORE_AGREEMENT_DEFAULT;
	char err[256];
	struct tl r;

	(void)state;
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		assert_int_equal(restore(&r, &ag, "unknown", NULL, 1, 0,
					 bad[i].text, err, sizeof(err)),
				 -1);
		if (strstr(err, bad[i].why) == NULL ||
		    strstr(err, "example.org") == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].text, err,
				 bad[i].why);
		tl_free(&r);
	}
	/* well formed, but not consistent */
	assert_int_equal(restore(&r, &ag, "blocked", NULL, 1, 0, "o1/4/1/1|",
				 err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "blocked without a method"));
	assert_int_equal(restore(&r, &ag, "closed", NULL, 1, 0, "o1/4/1/1|",
				 err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not one of the five"));
	assert_int_equal(restore(&r, &ag, "unknown", NULL, 0, 0, "o1/4/1/1|",
				 err, sizeof(err)),
			 -1);
	assert_int_equal(restore(&r, &ag, "unknown", NULL, 1, 2, "o1/4/1/1|",
				 err, sizeof(err)),
			 -1);
	/* seen 9, holds 2: short of its share (4 with N = 2) */
	assert_int_equal(restore(&r, &ag, "unknown", NULL, 9, 0,
				 "o1/4/1/1 o2/4/1/1|", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "short"));
	/* an empty window and no voters is a state */
	assert_int_equal(
		restore(&r, &ag, "unknown", NULL, 0, 0, "|", err, sizeof(err)),
		0);
	tl_free(&r);
}

static void
test_submitters(void **state)
{
	size_t n;
	const char *v;
	uint64_t a = tl_submitter_hash("anon:AS1:2024010100", 1);

	(void)state;
	v = tl_submitter_id("anon:AS1:2024010100", &n);
	assert_int_equal(n, strlen("anon:AS1"));
	assert_memory_equal(v, "anon:AS1", n);
	v = tl_submitter_id("key:abc", &n);
	assert_int_equal(n, 7);
	assert_null(tl_submitter_id(NULL, &n));
	assert_int_equal(n, 0);
	/* the hour does not matter, the network and the row do */
	assert_true(a == tl_submitter_hash("anon:AS1:2024010223", 2));
	assert_true(a != tl_submitter_hash("anon:AS2:2024010100", 1));
	assert_int_equal(TL_SUB_KIND(a), TL_SUB_ANON);
	assert_int_equal(TL_SUB_KIND(tl_submitter_hash("key:abc", 1)),
			 TL_SUB_KEY);
	assert_int_equal(TL_SUB_KIND(tl_submitter_hash(NULL, 1)), TL_SUB_ROW);
	assert_true(tl_submitter_hash(NULL, 1) != tl_submitter_hash(NULL, 2));
}

static void
test_names_and_json(void **state)
{
	const char *uids[] = {"a\"b", "c\\d", "e\nf"};
	struct store_agreement ag = STORE_AGREEMENT_DEFAULT;
	char *j;

	(void)state;
	for (int s = 0; s < TL_NSTATE; s++)
		assert_int_equal(tl_state_by_name(tl_state_name(s)), s);
	assert_int_equal(tl_state_by_name("closed"), -1);
	assert_null(tl_state_name(TL_NSTATE));
	assert_int_equal(tl_method_by_name("server-side"),
			 WW_CLASS_SERVER_SIDE);
	assert_int_equal(tl_method_by_name("ok"), -1);
	assert_int_equal(tl_method_by_name(NULL), -1);
	j = tl_uids_json(uids, 3);
	assert_string_equal(j, "[\"a\\\"b\",\"c\\\\d\",\"e\\u000af\"]");
	free(j);
	j = tl_uids_json(NULL, 0);
	assert_string_equal(j, "[]");
	free(j);
	/* geo: only a mismatch the settings do not allow is left out */
	assert_true(tl_geo_excluded(&ag, true));
	assert_false(tl_geo_excluded(&ag, false));
	ag.allow_geo_mismatch = true;
	assert_false(tl_geo_excluded(&ag, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_until_three),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_window_and_method),
		cmocka_unit_test(test_intermittent),
		cmocka_unit_test(test_agreement),
		cmocka_unit_test(test_voters),
		cmocka_unit_test(test_window_share),
		cmocka_unit_test(test_single_submitter_hours),
		cmocka_unit_test(test_late_arrival),
		cmocka_unit_test(test_category),
		cmocka_unit_test(test_text_round_trip),
		cmocka_unit_test(test_damaged_text),
		cmocka_unit_test(test_submitters),
		cmocka_unit_test(test_names_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
