/*
 * test_dbredact.c - a --db value as the collector prints it
 * (collector/dbredact.c): every password of a PostgreSQL connection
 * string replaced, in the URI form (user:PASSWORD@, ?password=, a
 * percent-encoded key) and the keyword form (quoted, escaped, spaced
 * around '=', sslpassword), the rest kept byte for byte; SQLite paths as
 * given; what cannot be parsed and may hold a password dropped; and
 * redacting twice changes nothing more.
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

#include <cmocka.h>

#include "../../collector/dbredact.h"

/* db redacted is want, and redacting that again changes nothing. */
static void
expect(const char *db, const char *want)
{
	char *got = db_redact(db), *again = db_redact(got);

	if (strcmp(got, want) != 0)
		fail_msg("db_redact(\"%s\"): got \"%s\", want \"%s\"", db, got,
			 want);
	assert_string_equal(again, got);
	free(again);
	free(got);
}

static void
test_uri(void **state)
{
	(void)state;
	expect("postgresql://ww:s3cret@db.example/ww",
	       "postgresql://ww:***@db.example/ww");
	expect("postgres://u:p%40ss@h:5432/d?sslmode=require",
	       "postgres://u:***@h:5432/d?sslmode=require");
	/* an unencoded '@' or '/' in the password: all of it goes */
	expect("postgresql://u:pa@s/s@h/d", "postgresql://u:***@h/d");
	expect("POSTGRESQL://u:x@h/d", "POSTGRESQL://u:***@h/d");
	/* an empty password is said to be one */
	expect("postgresql://u:@h/d", "postgresql://u:***@h/d");
	/* no password: as given */
	expect("postgresql://ww@h/ww", "postgresql://ww@h/ww");
	expect("postgresql://h1:5432,h2:5433/ww",
	       "postgresql://h1:5432,h2:5433/ww");
	expect("postgresql:///ww?host=/tmp/wwpg.x&user=wallwatch",
	       "postgresql:///ww?host=/tmp/wwpg.x&user=wallwatch");
}

static void
test_uri_query(void **state)
{
	(void)state;
	expect("postgresql:///ww?host=/tmp/x&password=s3&sslmode=disable",
	       "postgresql:///ww?host=/tmp/x&password=***&sslmode=disable");
	expect("postgresql://u:a@h/d?password=b",
	       "postgresql://u:***@h/d?password=***");
	/* libpq decodes the keys: so does the redaction */
	expect("postgresql:///ww?pass%77ord=s3",
	       "postgresql:///ww?pass%77ord=***");
	expect("postgresql:///ww?sslpassword=k&x=1",
	       "postgresql:///ww?sslpassword=***&x=1");
	/* a value holding '@' after the '?' is no user info */
	expect("postgresql:///ww?application_name=a@b",
	       "postgresql:///ww?application_name=a@b");
	expect("postgresql:///ww?password", "postgresql:///ww?password");
}

static void
test_keywords(void **state)
{
	(void)state;
	expect("postgresql:host=h password=s3cret dbname=ww",
	       "postgresql:host=h password=*** dbname=ww");
	expect("postgresql:host=h password = 'a b\\' c' dbname=ww",
	       "postgresql:host=h password = '***' dbname=ww");
	/* what follows a closing quote is the next keyword (libpq's
	 * reading too) */
	expect("postgresql:password='a'b=c", "postgresql:password='***'b=c");
	expect("postgresql:password=a\\ b host=h",
	       "postgresql:password=*** host=h");
	expect("host=h sslpassword=k PASSWORD=x user=u",
	       "host=h sslpassword=*** PASSWORD=*** user=u");
	expect("postgresql:password=", "postgresql:password=***");
	expect("postgresql:host=h password='unterminated rest",
	       "postgresql:host=h password='***'");
	/* a key word holding "password" is no password */
	expect("postgresql:host=h passfile=/p dbname=ww",
	       "postgresql:host=h passfile=/p dbname=ww");
	expect("postgresql:host=h dbname=password",
	       "postgresql:host=h dbname=password");
}

static void
test_unparsable(void **state)
{
	(void)state;
	/* past a word without '=', the rest is dropped if it may hold one */
	expect("postgresql:host=h oops password=x", "postgresql:host=h ***");
	expect("postgresql:host=h oops dbname=ww",
	       "postgresql:host=h oops dbname=ww");
}

static void
test_sqlite(void **state)
{
	(void)state;
	expect("/var/lib/wallwatch/collector.db",
	       "/var/lib/wallwatch/collector.db");
	expect("/srv/passwords.db", "/srv/passwords.db");
	expect("collector.db", "collector.db");
	expect("", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_uri_query),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_unparsable),
		cmocka_unit_test(test_sqlite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
