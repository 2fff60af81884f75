/*
 * test_spool.c - the probe's spool and state directory: durable puts, the
 * oldest-first listing, acknowledged deletes, rejects with their reason,
 * trimming bodies under the cap, memory holding, consent, the whoami
 * answer parsed defensively, the backoff schedule and category withholding,
 * and the collector's clock learned from its Date header (a batch is signed
 * with the collector's time).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../probe/consent.h"
#include "../../probe/scrubmeas.h"
#include "../../probe/spool.h"
#include "../../probe/state.h"
#include "../../probe/upload.h"
#include "util.h"

static char tmpl[] = "/tmp/ww-spool-test.XXXXXX";
static char *dir;

static int
setup(void **state)
{
	(void)state;
	strcpy(tmpl, "/tmp/ww-spool-test.XXXXXX");
	dir = mkdtemp(tmpl);
	return dir ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

/* A measurement with one response body of n bytes. */
static char *
measurement(const char *uid, size_t body)
{
	char *b = xmalloc(body + 1);
	char *s;

	memset(b, 'x', body);
	b[body] = '\0';
	s = xasprintf("{\"measurement_uid\":\"%s\",\"annotations\":{},"
		      "\"test_keys\":{\"category_code\":\"NEWS\",\"requests\":"
		      "[{\"response\":{\"body\":\"%s\",\"code\":200}}]}}",
		      uid, b);
	free(b);
	return s;
}

static void
test_put_list_remove(void **state)
{
	struct spool s;
	struct spool_entry *e;
	size_t n, len;
	uint64_t total;
	char err[256], *m, *back;
	const char *gone[1];

	(void)state;
	assert_int_equal(spool_open(&s, dir, 0, false, err, sizeof(err)), 0);
	m = measurement("20260101000002.1_ZZ_b", 10);
	assert_int_equal(spool_put(&s, "20260101000002.1_ZZ_b", m, strlen(m),
				   err, sizeof(err)),
			 0);
	free(m);
	m = measurement("20260101000001.1_ZZ_a", 10);
	assert_int_equal(spool_put(&s, "20260101000001.1_ZZ_a", m, strlen(m),
				   err, sizeof(err)),
			 0);
	/* Names that could leave the directory are refused. */
	assert_int_equal(
		spool_put(&s, "../evil", m, strlen(m), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot name"));
	assert_int_equal(spool_list(&s, &e, &n, &total, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "20260101000001.1_ZZ_a.json");
	assert_int_equal(total, 2 * strlen(m));
	back = spool_read(&s, e[0].name, &len, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(back, m);
	free(back);
	free(m);
	gone[0] = e[0].name;
	assert_int_equal(spool_remove(&s, gone, 1), 1);
	spool_entries_free(e, n);
	assert_int_equal(spool_list(&s, &e, &n, &total, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	/* Rejected: out of the queue, with its reason beside it. */
	assert_int_equal(spool_reject(&s, e[0].name, "refused: x"), 0);
	spool_entries_free(e, n);
	assert_int_equal(spool_rejected_count(&s), 1);
	assert_int_equal(spool_list(&s, &e, &n, &total, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	spool_entries_free(e, n);
	spool_close(&s);
}

static void
test_tmp_emptied_at_open(void **state)
{
	struct spool s;
	char err[256], *p;
	FILE *f;

	(void)state;
	assert_int_equal(spool_open(&s, dir, 0, false, err, sizeof(err)), 0);
	/* What a crash mid-write leaves. */
	p = xasprintf("%s/.x.json.1234.tmp", s.tmp);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("{\"half", f);
	fclose(f);
	spool_close(&s);
	assert_int_equal(spool_open(&s, dir, 0, false, err, sizeof(err)), 0);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	spool_close(&s);
}

static void
test_trim_oldest_bodies(void **state)
{
	struct spool s;
	struct spool_entry *e;
	size_t n, len;
	uint64_t total, after;
	char err[256], uid[32];

	(void)state;
	/* Five of about 10 KiB under a 32 KiB cap: the two oldest lose
	 * their bodies, the newest keep them. */
	assert_int_equal(
		spool_open(&s, dir, 32 * 1024, false, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++) {
		char *m;

		snprintf(uid, sizeof(uid), "2026010100000%d.1_ZZ", i);
		m = measurement(uid, 10 * 1024);
		assert_int_equal(
			spool_put(&s, uid, m, strlen(m), err, sizeof(err)), 0);
		free(m);
	}
	assert_int_equal(spool_trim(&s, &after), 2);
	assert_true(after <= 32 * 1024);
	assert_int_equal(spool_list(&s, &e, &n, &total, err, sizeof(err)), 0);
	assert_int_equal(total, after);
	for (size_t i = 0; i < n; i++) {
		char *b = spool_read(&s, e[i].name, &len, err, sizeof(err));
		json_t *j = json_loads(b, 0, NULL);
		json_t *body = json_object_get(
			json_object_get(
				json_array_get(
					json_object_get(
						json_object_get(j, "test_keys"),
						"requests"),
					0),
				"response"),
			"body");

		assert_non_null(j);
		if (i < 2) {
			assert_true(json_is_null(body));
			assert_string_equal(
				json_string_value(json_object_get(
					json_object_get(j, "annotations"),
					"spool_trimmed")),
				"true");
		} else {
			assert_true(json_is_string(body));
		}
		json_decref(j);
		free(b);
	}
	spool_entries_free(e, n);
	/* Nothing more to drop: trimming again changes nothing. */
	assert_int_equal(spool_trim(&s, &after), 0);
	spool_close(&s);
}

static int
whoami(struct probe_env *env, const char *answer)
{
	char err[256];

	return upload_parse_whoami(env, "c", answer, strlen(answer), err,
				   sizeof(err));
}

static void
test_env_consent_and_whoami(void **state)
{
	struct probe_env env;
	char err[256];
	const char *news[] = {"NEWS"};
	const char *both[] = {"NEWS", "HUMR"};
	static const char *const bad[] = {
		"",
		"[]",
		"{\"ip\":42}",
		"{\"ip\":\"not an address\"}",
		"{\"ip\":\"1.2.3.4\"", /* cut */
	};

	(void)state;
	assert_int_equal(env_open(&env, dir, 0, false, err, sizeof(err)), 0);
	assert_false(consent_covers(&env, news, 1));
	assert_int_equal(consent_record(&env, news, 1, "test"), 0);
	assert_true(consent_covers(&env, news, 1));
	assert_false(consent_covers(&env, both, 2));
	for (size_t i = 0; i < WW_ARRAY_LEN(bad); i++)
		assert_int_equal(upload_parse_whoami(&env, "c", bad[i],
						     strlen(bad[i]), err,
						     sizeof(err)),
				 -1);
	/* Malformed network fields are dropped, the address kept. */
	assert_int_equal(whoami(&env, "{\"ip\":\"198.51.100.9\",\"asn\":"
				      "\"AS1x\",\"cc\":\"de\"}"),
			 0);
	assert_null(state_asn(&env));
	assert_null(state_cc(&env));
	assert_int_equal(whoami(&env, "{\"ip\":\"198.51.100.9\",\"asn\":"
				      "\"AS64500\",\"cc\":\"DE\"}"),
			 0);
	assert_string_equal(state_asn(&env), "AS64500");
	assert_int_equal(
		json_array_size(json_object_get(env.state, "addresses")), 1);
	/* A loopback answer is the collector next door, not us. */
	assert_int_equal(whoami(&env, "{\"ip\":\"127.0.0.1\"}"), 0);
	assert_int_equal(
		json_array_size(json_object_get(env.state, "addresses")), 1);
	{
		char *m = measurement("u1", 1), *line;
		size_t k = 0;
		char *uid = NULL, *cat = NULL;

		/* The learned address is scrubbed from what is sent. */
		free(m);
		m = xstrdup("{\"measurement_uid\":\"u1\",\"x\":\"at "
			    "198.51.100.9\"}");
		line = env_scrub_line(&env, m, strlen(m), &uid, &cat, &k, err,
				      sizeof(err));
		assert_non_null(line);
		assert_null(strstr(line, "198.51.100.9"));
		assert_non_null(strstr(line, "[scrubbed]"));
		assert_string_equal(uid, "u1");
		assert_int_equal(k, 1);
		free(line);
		free(uid);
		free(cat);
		free(m);
	}
	state_save(&env);
	env_close(&env);
	/* Learned addresses survive a restart. */
	assert_int_equal(env_open(&env, dir, 0, true, err, sizeof(err)), 0);
	assert_int_equal(
		json_array_size(json_object_get(env.state, "addresses")), 1);
	env_close(&env);
}

static void
test_backoff_and_exclude(void **state)
{
	struct upload_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.retry_quick = 5;
	o.retry_slow = 900;
	assert_true(upload_backoff(&o, 1) == 5);
	assert_true(upload_backoff(&o, 2) == 10);
	assert_true(upload_backoff(&o, 3) == 20);
	assert_true(upload_backoff(&o, 4) == 900);
	assert_true(upload_backoff(&o, 5) == 1800);
	assert_true(upload_backoff(&o, 40) == UPLOAD_BACKOFF_CAP);
	for (double d = 5; d < 1e4; d *= 3) {
		double j = upload_jitter(d);

		assert_true(j >= d && j <= d * 1.25);
	}
	assert_true(upload_excluded("LGBT,news", "NEWS"));
	assert_false(upload_excluded("LGBT,NEWSX", "NEWS"));
	assert_false(upload_excluded("LGBT", NULL));
	assert_false(upload_excluded(NULL, "NEWS"));
}

/* The offset to the collector's clock, from a Date header as curl hands
 * it over (leading space, CRLF). */
static void
test_clock_offset(void **state)
{
	long off;
	char hdr[64];
	struct tm tm;
	time_t now = time(NULL), t;

	(void)state;
	/* a collector 2,000 s ahead of us */
	t = now + 2000;
	gmtime_r(&t, &tm);
	strftime(hdr, sizeof(hdr), " %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	off = upload_clock_offset(0, hdr, strlen(hdr));
	assert_true(off >= 1998 && off <= 2000);
	/* within a few seconds: none */
	gmtime_r(&now, &tm);
	strftime(hdr, sizeof(hdr), " %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	off = upload_clock_offset(off, hdr, strlen(hdr));
	assert_int_equal(off, 0);
	/* not a date, or too long: nothing learned */
	assert_int_equal(upload_clock_offset(7, " yesterday\r\n", 12), 7);
	memset(hdr, 'x', sizeof(hdr));
	assert_int_equal(upload_clock_offset(7, hdr, sizeof(hdr)), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_list_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tmp_emptied_at_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trim_oldest_bodies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_env_consent_and_whoami,
						setup, teardown),
		cmocka_unit_test(test_backoff_and_exclude),
		cmocka_unit_test(test_clock_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
