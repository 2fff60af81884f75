/*
 * test_ingest_prep.c - the ingest's CPU half (collector/ingest_prep.c): a
 * body as measurements (JSON Lines, one document over several lines, gzip
 * and its limits), and a line as a row for the store or a refusal naming
 * its field.
 *
 * Linked from build/libcollector.a.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>
#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

#include "util.h"
#include "../../collector/ingest_prep.h"
#include "../../collector/pktview.h"
#include "../../collector/store.h"

#define GOOD "tests/data/validate/good.json"

/* good.json as one line, its start time now (the ingest refuses
 * measurements over a year old) and its uid uid. */
static char *
good_line(const char *uid)
{
	json_error_t e;
	json_t *m = json_load_file(GOOD, 0, &e);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	char *s;

	if (m == NULL)
		fail_msg("%s: %s", GOOD, e.text);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	json_object_set_new(m, "measurement_start_time", json_string(when));
	json_object_set_new(m, "measurement_uid", json_string(uid));
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return s;
}

static int
decode(const char *body, bool gzip, struct prep_body *pb, char *err)
{
	return prep_body_decode((const unsigned char *)body, strlen(body), gzip,
				pb, err, 256);
}

static void
test_json_lines(void **state)
{
	const char *body = "{\"a\":1}\n\n  \r\n{\"b\":2}\r\nnot json\n";
	struct prep_body pb;
	char err[256];

	(void)state;
	assert_int_equal(decode(body, false, &pb, err), 0);
	assert_int_equal(pb.n, 3);
	assert_int_equal(pb.lines[0].line, 1);
	assert_int_equal(pb.lines[1].line, 4);
	assert_int_equal(pb.lines[2].line, 5);
	/* CRLF: the CR is white space around the measurement, not kept */
	assert_int_equal(pb.lines[1].len, 7);
	assert_memory_equal(pb.lines[2].text, "not json", 8);
	assert_int_equal(pb.lines[2].len, 8);
	prep_body_free(&pb);
}

/* One pretty-printed object is one measurement, kept without the white
 * space around it; several objects that each span lines are not. */
static void
test_one_document(void **state)
{
	const char *doc = "\n  {\n \"a\": [1,\n 2]\n}\n\n";
	struct prep_body pb;
	char err[256];

	(void)state;
	assert_int_equal(decode(doc, false, &pb, err), 0);
	assert_int_equal(pb.n, 1);
	assert_int_equal(pb.lines[0].line, 2);
	assert_int_equal(pb.lines[0].len, strlen("{\n \"a\": [1,\n 2]\n}"));
	prep_body_free(&pb);
	assert_int_equal(decode("{\n\"a\":1\n}\n{\"b\":2}\n", false, &pb, err),
			 0);
	assert_int_equal(pb.n, 4); /* JSON Lines: line 1 is not JSON */
	prep_body_free(&pb);
	assert_int_equal(decode("{\"a\":1}", false, &pb, err), 0);
	assert_int_equal(pb.n, 1);
	prep_body_free(&pb);
}

static void
test_body_refusals(void **state)
{
	struct prep_body pb;
	char err[256];
	size_t n = PREP_MAX_LINES + 1;
	char *many = malloc(n * 3 + 1);

	(void)state;
	assert_int_equal(decode(" \n\r\n", false, &pb, err), 400);
	assert_non_null(strstr(err, "empty body"));
	assert_int_equal(decode("{}", true, &pb, err), 400);
	assert_non_null(strstr(err, "gzip"));
	for (size_t i = 0; i < n; i++)
		memcpy(many + 3 * i, "{}\n", 3);
	many[3 * n] = '\0';
	assert_int_equal(decode(many, false, &pb, err), 413);
	assert_non_null(strstr(err, "more than 10000"));
	many[3 * (n - 1)] = '\0'; /* exactly the limit */
	assert_int_equal(decode(many, false, &pb, err), 0);
	assert_int_equal(pb.n, PREP_MAX_LINES);
	prep_body_free(&pb);
	free(many);
}

/* gzip of src, as a probe would send it. */
static unsigned char *
gz(const void *src, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = len + 1024;
	unsigned char *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (const Bytef *)src;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static void
test_gzip(void **state)
{
	const char *body = "{\"a\":1}\n{\"b\":2}\n";
	size_t zlen, big = (size_t)PREP_MAX_INFLATED + 1;
	unsigned char *z = gz(body, strlen(body), &zlen);
	char *zeros = calloc(1, big);
	struct prep_body pb;
	char err[256];

	(void)state;
	assert_int_equal(prep_body_decode(z, zlen, true, &pb, err, sizeof(err)),
			 0);
	assert_int_equal(pb.n, 2);
	assert_memory_equal(pb.lines[1].text, "{\"b\":2}", 7);
	prep_body_free(&pb);
	/* cut short */
	assert_int_equal(
		prep_body_decode(z, zlen - 6, true, &pb, err, sizeof(err)),
		400);
	assert_non_null(strstr(err, "gzip"));
	free(z);
	/* two members (cat a.gz b.gz): both read, in order */
	{
		const char *b2 = "{\"c\":3}\n";
		size_t z2len;
		unsigned char *z1 = gz(body, strlen(body), &zlen);
		unsigned char *z2 = gz(b2, strlen(b2), &z2len);
		unsigned char *both = malloc(zlen + z2len + 3);

		memcpy(both, z1, zlen);
		memcpy(both + zlen, z2, z2len);
		assert_int_equal(prep_body_decode(both, zlen + z2len, true, &pb,
						  err, sizeof(err)),
				 0);
		assert_int_equal(pb.n, 3);
		assert_memory_equal(pb.lines[2].text, "{\"c\":3}", 7);
		prep_body_free(&pb);
		/* the second member cut short: refused, not half-read */
		assert_int_equal(prep_body_decode(both, zlen + z2len - 4, true,
						  &pb, err, sizeof(err)),
				 400);
		assert_non_null(strstr(err, "truncated"));
		/* garbage after the data: refused, naming it */
		memcpy(both + zlen, "xyz", 3);
		assert_int_equal(prep_body_decode(both, zlen + 3, true, &pb,
						  err, sizeof(err)),
				 400);
		assert_non_null(strstr(err, "3 bytes after the end"));
		/* a lone byte after it, even the first of the magic */
		both[zlen] = 0x1f;
		assert_int_equal(prep_body_decode(both, zlen + 1, true, &pb,
						  err, sizeof(err)),
				 400);
		free(both);
		free(z1);
		free(z2);
	}
	/* a bomb: 64 MiB and one byte of zeros from a few KiB */
	z = gz(zeros, big, &zlen);
	assert_true(zlen < 128 * 1024);
	assert_int_equal(prep_body_decode(z, zlen, true, &pb, err, sizeof(err)),
			 413);
	assert_non_null(strstr(err, "64 MiB"));
	free(z);
	free(zeros);
}

/* A measurement with test_keys.packets (tests/data/web/, the contract's
 * form): stored, with its DNS entries and TCP flows counted. */
static void
test_row_packets(void **state)
{
	char *good = good_line("20260101T000000Z_test_uid_p"), *line;
	json_t *m = json_loads(good, 0, NULL);
	json_t *pk = json_load_file("tests/data/web/packets_dns.json", 0, NULL);
	struct prep_peer peer = {"CN", "AS4134", 1700000000, NULL};
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_line l;
	struct prep_row r;

	(void)state;
	assert_non_null(m);
	assert_non_null(pk);
	json_object_set_new(json_object_get(m, "test_keys"), "packets", pk);
	line = json_dumps(m, JSON_COMPACT);
	l.text = line;
	l.len = strlen(line);
	l.line = 1;
	prep_row_make(c, &l, &peer, &r);
	if (!r.ok)
		fail_msg("refused: %s: %s", r.field, r.error);
	assert_int_equal(r.sm.packets, 2);
	/* the evidence, when the analysis names some, is the row's own */
	if (r.sm.evidence != NULL)
		assert_true(r.sm.evidence >= (const char *)r.mem);
	prep_row_clear(&r);
	prep_ctx_free(c);
	json_decref(m);
	free(line);
	free(good);
}

static void
test_row_good(void **state)
{
	char *line = good_line("20260101T000000Z_test_uid_1");
	struct prep_line l = {line, strlen(line), 7};
	struct prep_peer peer = {"DE", "AS64500", 1700000000,
				 "anon:AS64500:2023-11-14T22"};
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_row r;
	uLongf plen = (uLongf)l.len;
	char *plain = malloc(l.len);

	(void)state;
	prep_row_make(c, &l, &peer, &r);
	if (!r.ok)
		fail_msg("refused: %s: %s", r.field, r.error);
	assert_int_equal(r.line, 7);
	assert_string_equal(r.sm.uid, "20260101T000000Z_test_uid_1");
	assert_ptr_equal(r.sm.raw, line);
	assert_int_equal(r.sm.raw_len, l.len);
	assert_string_equal(r.sm.observed_asn, "AS64500");
	assert_int_equal(r.sm.received_time, 1700000000);
	/* the batch's submitter, for every row of it (docs/submitters.md) */
	assert_string_equal(r.sm.submitter, "anon:AS64500:2023-11-14T22");
	/* the probe claims another network than the one it came from */
	assert_true(r.sm.geo_mismatch);
	assert_non_null(r.sm.analysis_version);
	/* the compressed raw is the line, byte for byte */
	assert_int_equal(uncompress((Bytef *)plain, &plen, r.sm.zraw,
				    (uLong)r.sm.zraw_len),
			 Z_OK);
	assert_int_equal(plen, l.len);
	assert_memory_equal(plain, line, l.len);
	/* its strings are its own: the JSON they came from is gone */
	assert_true((const char *)r.sm.uid >= (const char *)r.mem);
	prep_row_clear(&r);
	prep_ctx_free(c);
	free(plain);
	free(line);
}

/* An https measurement with its QUIC step (the probe's --quic): its
 * exchanges, the control's and analysis.quic are accepted, and the row
 * keeps them (the raw line, verbatim); the verdict columns are the web
 * verdict's, recomputed. */
static void
test_row_quic_step(void **state)
{
	char *good = good_line("20260101T000000Z_test_uid_q");
	json_t *m = json_loads(good, 0, NULL), *tk, *x, *a;
	struct prep_peer peer = {"DE", "AS64500", 1700000000,
				 "anon:AS64500:2023-11-14T22"};
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_row r;
	struct prep_line l;
	char *line;

	(void)state;
	assert_non_null(m);
	tk = json_object_get(m, "test_keys");
	/* a QUIC handshake as the probe writes it (model.c) */
	x = json_loads("[{\"answered\":false,\"bytes_sent\":3600,"
		       "\"endpoint\":\"127.0.0.1:443\",\"failure\":"
		       "\"generic_timeout_error\",\"first_length\":1200,"
		       "\"ip\":\"127.0.0.1\",\"payload\":\"handshake\","
		       "\"port\":443,\"protocol\":\"quic\",\"replies\":[],"
		       "\"replies_seen\":0,\"sent\":3,\"server_name\":"
		       "\"good.lab.test\",\"stage\":null,\"t\":3.0,\"t0\":0.1,"
		       "\"transaction_id\":9,\"transport\":\"udp\"}]",
		       0, NULL);
	assert_non_null(x);
	json_object_set_new(tk, "exchanges", x);
	a = json_object_get(tk, "analysis");
	if (a == NULL) {
		a = json_object();
		json_object_set_new(tk, "analysis", a);
	}
	json_object_set_new(a, "quic",
			    json_pack("{s:s, s:b, s:s, s:s}", "blocking",
				      "protocol", "accessible", false, "detail",
				      "quic.sni_blocked", "reason",
				      "sni_blocked"));
	line = json_dumps(m, JSON_COMPACT);
	l.text = line;
	l.len = strlen(line);
	l.line = 1;
	prep_row_make(c, &l, &peer, &r);
	if (!r.ok)
		fail_msg("refused: %s: %s", r.field, r.error);
	assert_ptr_equal(r.sm.raw, line);
	assert_non_null(strstr(line, "\"quic.sni_blocked\""));
	assert_non_null(strstr(line, "\"exchanges\""));
	prep_row_clear(&r);
	prep_ctx_free(c);
	json_decref(m);
	free(line);
	free(good);
}

static void
test_row_refused(void **state)
{
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_peer peer = {NULL, NULL, 1, NULL};
	char *good = good_line("20260101T000000Z_test_uid_2");
	json_t *m = json_loads(good, 0, NULL);
	char *nouid, *old;
	struct prep_row r;
	struct prep_line l = {"{\"a\":", 5, 3};

	(void)state;
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	assert_int_equal(r.line, 3);
	assert_string_equal(r.field, "");
	assert_non_null(strstr(r.error, "not JSON"));
	prep_row_clear(&r);

	json_object_del(m, "measurement_uid");
	nouid = json_dumps(m, JSON_COMPACT);
	l = (struct prep_line){nouid, strlen(nouid), 9};
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	assert_string_equal(r.field, "measurement_uid");
	prep_row_clear(&r);

	json_object_set_new(m, "measurement_uid", json_string("u"));
	json_object_set_new(m, "measurement_start_time",
			    json_string("2001-01-01 00:00:00"));
	old = json_dumps(m, JSON_COMPACT);
	l = (struct prep_line){old, strlen(old), 1};
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	assert_string_equal(r.field, "measurement_start_time");
	prep_row_clear(&r);

	/* duplicate keys are refused, not silently merged */
	l = (struct prep_line){"{\"a\":1,\"a\":2}", 13, 1};
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok);
	assert_non_null(strstr(r.error, "not JSON"));
	prep_row_clear(&r);

	json_decref(m);
	free(nouid);
	free(old);
	free(good);
	prep_ctx_free(c);
}

/* A value larger than an arena block (its block is not kept), then an
 * ordinary row on the same thread. */
static void
test_row_large(void **state)
{
	struct prep_ctx *c = prep_ctx_new(NULL);
	struct prep_peer peer = {NULL, NULL, 1, NULL};
	size_t n = 600 * 1024;
	char *big = malloc(n + 16), *good = good_line("uid_after_large");
	struct prep_line l = {big, 0, 1};
	struct prep_row r;

	(void)state;
	memcpy(big, "{\"big\":\"", 8);
	memset(big + 8, 'a', n);
	memcpy(big + 8 + n, "\"}", 2);
	l.len = n + 10;
	prep_row_make(c, &l, &peer, &r);
	assert_false(r.ok); /* no measurement_uid */
	assert_string_equal(r.field, "measurement_uid");
	prep_row_clear(&r);
	l = (struct prep_line){good, strlen(good), 2};
	prep_row_make(c, &l, &peer, &r);
	assert_true(r.ok);
	assert_string_equal(r.sm.uid, "uid_after_large");
	prep_row_clear(&r);
	free(big);
	free(good);
	prep_ctx_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_one_document),
		cmocka_unit_test(test_body_refusals),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_row_good),
		cmocka_unit_test(test_row_quic_step),
		cmocka_unit_test(test_row_packets),
		cmocka_unit_test(test_row_refused),
		cmocka_unit_test(test_row_large),
	};

	/* as the collector runs it */
	prep_install_json_arena();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
