/*
 * test_submitters.c - the collector's side of submitter identity: the
 * submitters table (add, list, revoke with its flags and stale targets,
 * the insert guard), the registry read from it (and re-read after a
 * revocation made through another connection), and the check of an
 * upload that names its submitter or refuses it (401 unsigned where that
 * is not taken, unknown key, stale date, bad signature; 403 revoked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../collector/ratelimit.c"
#include "../../collector/store.c"
#include "../../collector/store_pack.c"
#include "../../collector/store_schema.c"
#include "../../collector/store_sqlite.c"
#include "../../collector/store_query.c"
#include "../../collector/store_timeline.c"
#include "../../collector/timeline.c"
#include "../../collector/store_agreement.c"
#include "../../collector/store_submitters.c"
#include "../../collector/submitters.c"
#include "store_fixture.h"

/* submitters.c answers HTTP through ctlserver.c's helpers; these tests
 * call no handler, so they only need to link. */
void
reply_json(struct evhttp_request *req, int code, const char *reason,
	   json_t *body)
{
	(void)req;
	(void)code;
	(void)reason;
	(void)body;
	fail_msg("no HTTP in these tests");
}

void
reply_error(struct evhttp_request *req, int code, const char *reason,
	    const char *msg)
{
	(void)req;
	(void)code;
	(void)reason;
	(void)msg;
	fail_msg("no HTTP in these tests");
}
void
reply_not_allowed(struct evhttp_request *req, const char *allow,
		  const char *msg)
{
	(void)req;
	(void)allow;
	(void)msg;
	fail_msg("no HTTP in these tests");
}

static EVP_PKEY *
new_key(unsigned char pub[32], char id[33])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;

	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(ww_sub_raw_public(k, pub), 0);
	ww_sub_key_id(pub, id);
	return k;
}

/* Headers signing body at date with k (strings owned by h). */
static void
sign(EVP_PKEY *k, const char *id, int64_t date, const char *body,
     struct sub_hdrs *h)
{
	unsigned char sig[64];
	char *text = ww_sub_upload_text(id, date, body, strlen(body));

	assert_int_equal(ww_sub_sign(k, text, strlen(text), sig), 0);
	free(text);
	h->key = xstrdup(id);
	h->date = xasprintf("%lld", (long long)date);
	h->sig = ww_base64(sig, sizeof(sig));
}

static struct store *
open_store(const char *db)
{
	char err[512];
	struct store *s = store_open(db, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

static int
count_one(const struct store_submitter *k, void *arg)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

/* A measurement of target input by submitter sub (anything else dull). */
static void
put(struct store *s, const char *uid, const char *input, const char *sub)
{
	struct store_meas m;
	char err[512];

	memset(&m, 0, sizeof(m));
	m.uid = uid;
	m.raw = "{}";
	m.raw_len = 2;
	m.input = input;
	m.probe_cc = "DE";
	m.probe_asn = "AS64500";
	m.submitter = sub;
	m.start_time = 1700000000;
	m.received_time = 1700000000;
	m.blocking = "false";
	m.accessible = 1;
	if (store_put_batch(s, &m, 1, NULL, err, sizeof(err)) != 0)
		fail_msg("put: %s", err);
}

static int64_t
one_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (fx_pg)
		return fx_int(s, sql);
	assert_int_equal(
		sqlite3_prepare_v2(store_sqlite_db(s), sql, -1, &st, NULL),
		SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_table(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_store(f->db);
	unsigned char pub[32];
	char id[33], err[512], *sub;
	EVP_PKEY *k = new_key(pub, id);
	int n = 0;
	int64_t rows = -1;

	assert_int_equal(store_submitter_add(s, id, pub, 100, err, sizeof(err)),
			 1);
	assert_int_equal(store_submitter_add(s, id, pub, 200, err, sizeof(err)),
			 0);
	assert_int_equal(store_submitters(s, count_one, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	sub = xasprintf("key:%s", id);
	put(s, "u1", "http://a.example/", sub);
	put(s, "u2", "http://b.example/", sub);
	put(s, "u3", "http://c.example/", "anon:AS1:2023-11-14T22");
	assert_int_equal(one_int(s, "SELECT count(*) FROM stale_targets"), 0);
	/* no such key */
	assert_int_equal(
		store_submitter_revoke(s, "0123456789abcdef0123456789abcdef",
				       NULL, 300, &rows, err, sizeof(err)),
		1);
	assert_non_null(strstr(err, "no key"));
	assert_int_equal(store_submitter_revoke(s, id, "stolen", 300, &rows,
						err, sizeof(err)),
			 0);
	assert_int_equal(rows, 2);
	assert_int_equal(one_int(s, "SELECT count(*) FROM measurements"
				    " WHERE revoked = 1"),
			 2);
	assert_int_equal(one_int(s, "SELECT count(*) FROM stale_targets"), 2);
	assert_int_equal(one_int(s, "SELECT revoked FROM submitters"), 300);
	/* again: the first time stays */
	assert_int_equal(store_submitter_revoke(s, id, NULL, 400, &rows, err,
						sizeof(err)),
			 0);
	assert_int_equal(rows, 0);
	assert_int_equal(one_int(s, "SELECT revoked FROM submitters"), 300);
	/* the writer's guard: a row of the revoked key stored later (its
	 * batch checked before the registry saw the revocation) is flagged
	 * as it goes in */
	assert_int_equal(store_submitters_guard(s, err, sizeof(err)), 0);
	put(s, "u4", "http://d.example/", sub);
	put(s, "u5", "http://e.example/", "anon:AS1:2023-11-14T22");
	assert_int_equal(one_int(s, "SELECT revoked FROM measurements"
				    " WHERE uid = 'u4'"),
			 1);
	assert_int_equal(one_int(s, "SELECT revoked FROM measurements"
				    " WHERE uid = 'u5'"),
			 0);
	assert_int_equal(one_int(s, "SELECT count(*) FROM stale_targets"), 3);
	free(sub);
	EVP_PKEY_free(k);
	store_close(s);
}

static void
test_check(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_store(f->db), *cli;
	struct sub_registry *r;
	struct sub_hdrs h;
	unsigned char pub[32], opub[32];
	char id[33], oid[33], out[SUB_ID_MAX], err[512];
	EVP_PKEY *k = new_key(pub, id), *other = new_key(opub, oid);
	const int64_t now = 1700000000;

	assert_int_equal(store_submitter_add(s, id, pub, 1, err, sizeof(err)),
			 1);
	r = sub_registry_new(s, SUB_OPEN, NULL, NULL, err, sizeof(err));
	assert_non_null(r);
	/* unsigned, open: anonymous per network and hour */
	memset(&h, 0, sizeof(h));
	assert_int_equal(sub_check_upload(r, &h, "b", 1, "AS64500", now, out,
					  err, sizeof(err)),
			 0);
	assert_string_equal(out, "anon:AS64500:2023-11-14T22");
	assert_int_equal(sub_check_upload(r, &h, "b", 1, NULL, now, out, err,
					  sizeof(err)),
			 0);
	assert_string_equal(out, "anon:unknown:2023-11-14T22");
	/* signed by the registered key */
	sign(k, id, now - 10, "body", &h);
	assert_int_equal(sub_check_upload(r, &h, "body", 4, "AS64500", now, out,
					  err, sizeof(err)),
			 0);
	assert_int_equal(strncmp(out, "key:", 4), 0);
	assert_string_equal(out + 4, id);
	/* tampered body */
	assert_int_equal(sub_check_upload(r, &h, "bodY", 4, NULL, now, out, err,
					  sizeof(err)),
			 401);
	assert_non_null(strstr(err, "bad signature"));
	/* stale date: 901 s off */
	assert_int_equal(sub_check_upload(r, &h, "body", 4, NULL, now + 891,
					  out, err, sizeof(err)),
			 401);
	assert_non_null(strstr(err, "stale date"));
	sub_hdrs_clear(&h);
	/* signed by a key nobody registered */
	sign(other, oid, now, "body", &h);
	assert_int_equal(sub_check_upload(r, &h, "body", 4, NULL, now, out, err,
					  sizeof(err)),
			 401);
	assert_non_null(strstr(err, "unknown key"));
	sub_hdrs_clear(&h);
	/* the registered key's id with another key's signature */
	sign(other, oid, now, "body", &h);
	free(h.key);
	h.key = xstrdup(id);
	assert_int_equal(sub_check_upload(r, &h, "body", 4, NULL, now, out, err,
					  sizeof(err)),
			 401);
	assert_non_null(strstr(err, "bad signature"));
	sub_hdrs_clear(&h);
	/* revoked through another connection (the command line): seen once
	 * the registry re-reads the table, which data_version announces */
	cli = open_store(f->db);
	assert_int_equal(store_submitter_revoke(cli, id, NULL, 5, NULL, err,
						sizeof(err)),
			 0);
	store_close(cli);
	assert_true(store_data_version(s) != r->data_version);
	assert_int_equal(sub_registry_reload(r, err, sizeof(err)), 0);
	sign(k, id, now, "body", &h);
	assert_int_equal(sub_check_upload(r, &h, "body", 4, NULL, now, out, err,
					  sizeof(err)),
			 403);
	assert_non_null(strstr(err, "revoked"));
	sub_hdrs_clear(&h);
	/* --submission signed: unsigned refused, naming the mode */
	r->mode = SUB_SIGNED;
	assert_int_equal(sub_check_upload(r, &h, "b", 1, NULL, now, out, err,
					  sizeof(err)),
			 401);
	assert_non_null(strstr(err, "--submission signed"));
	/* malformed headers: 401 naming the header */
	h.key = xstrdup(oid);
	assert_int_equal(sub_check_upload(r, &h, "b", 1, NULL, now, out, err,
					  sizeof(err)),
			 401);
	assert_non_null(strstr(err, "X-Wallwatch-Date: missing"));
	sub_hdrs_clear(&h);
	sub_registry_free(r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	store_close(s);
}

static void
test_modes(void **state)
{
	enum sub_mode m;

	(void)state;
	assert_int_equal(sub_mode_parse("open", &m), 0);
	assert_int_equal(m, SUB_OPEN);
	assert_int_equal(sub_mode_parse("signed", &m), 0);
	assert_int_equal(m, SUB_SIGNED);
	assert_int_equal(sub_mode_parse("registered", &m), 0);
	assert_int_equal(m, SUB_REGISTERED);
	assert_int_equal(sub_mode_parse("Open", &m), -1);
	assert_int_equal(sub_mode_parse(NULL, &m), -1);
	assert_string_equal(sub_mode_name(SUB_REGISTERED), "registered");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
