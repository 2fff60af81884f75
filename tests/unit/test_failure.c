/* test_failure.c - the shared failure vocabulary. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "failure.h"

static void
test_strings_are_oonis(void **state)
{
	(void)state;
	assert_string_equal(failure_dns_nxdomain, "dns_nxdomain_error");
	assert_string_equal(failure_dns_servfail, "dns_servfail_error");
	assert_string_equal(failure_dns_refused, "dns_refused_error");
	assert_string_equal(failure_dns_no_answer, "dns_no_answer");
	assert_string_equal(failure_connection_refused, "connection_refused");
	assert_string_equal(failure_connection_reset, "connection_reset");
	assert_string_equal(failure_generic_timeout, "generic_timeout_error");
	assert_string_equal(failure_eof, "eof_error");
	assert_string_equal(failure_host_unreachable, "host_unreachable");
	assert_string_equal(failure_network_unreachable, "network_unreachable");
	assert_string_equal(failure_ssl_invalid_hostname,
			    "ssl_invalid_hostname");
	assert_string_equal(failure_ssl_unknown_authority,
			    "ssl_unknown_authority");
	assert_string_equal(failure_ssl_invalid_certificate,
			    "ssl_invalid_certificate");
	assert_string_equal(failure_ssl_failed_handshake,
			    "ssl_failed_handshake");
	assert_string_equal(failure_http_too_many_redirects,
			    "http_too_many_redirects");
	assert_string_equal(failure_unknown, "unknown_failure");
}

static void
test_table_unique_and_lookup(void **state)
{
	(void)state;
	assert_true(failure_count > 20);
	for (unsigned i = 0; i < failure_count; i++) {
		for (unsigned k = i + 1; k < failure_count; k++)
			assert_string_not_equal(failure_all[i], failure_all[k]);
		/* Lookup returns the canonical pointer, not a copy. */
		assert_ptr_equal(failure_lookup(failure_all[i]),
				 failure_all[i]);
	}
	assert_null(failure_lookup("no_such_failure"));
	assert_null(failure_lookup(NULL));
	assert_ptr_equal(failure_lookup("unknown_failure: boom"),
			 failure_unknown);
}

static void
test_errno_mapping(void **state)
{
	(void)state;
	assert_ptr_equal(failure_from_errno(ECONNREFUSED),
			 failure_connection_refused);
	assert_ptr_equal(failure_from_errno(ECONNRESET),
			 failure_connection_reset);
	assert_ptr_equal(failure_from_errno(EPIPE), failure_connection_reset);
	assert_ptr_equal(failure_from_errno(EHOSTUNREACH),
			 failure_host_unreachable);
	assert_ptr_equal(failure_from_errno(ENETUNREACH),
			 failure_network_unreachable);
	assert_ptr_equal(failure_from_errno(ETIMEDOUT),
			 failure_generic_timeout);
	assert_ptr_equal(failure_from_errno(EACCES), failure_permission_denied);
	assert_ptr_equal(failure_from_errno(EIO), failure_unknown);
	assert_ptr_equal(failure_from_errno(0), failure_unknown);
}

/* Certificate failures (the handshake went through), by text as read
 * back from JSON too; a reset or a handshake failure is not one. */
static void
test_certificate(void **state)
{
	(void)state;
	assert_true(failure_is_certificate(failure_ssl_invalid_hostname));
	assert_true(failure_is_certificate("ssl_unknown_authority"));
	assert_true(failure_is_certificate(failure_ssl_invalid_certificate));
	assert_false(failure_is_certificate(failure_ssl_failed_handshake));
	assert_false(failure_is_certificate("connection_reset"));
	assert_false(failure_is_certificate(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_are_oonis),
		cmocka_unit_test(test_table_unique_and_lookup),
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_certificate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
