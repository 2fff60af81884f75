/*
 * failure.h - the one vocabulary of failure strings shared by every step.
 *
 * The strings are OONI's (ooni/spec data-formats/df-007-errors.md and
 * probe-cli netxlite), so researchers' tools read our data unchanged.
 * Each is declared once and compared by pointer: a step stores one of these
 * pointers (or NULL for success), never a copy. Library-specific mappings
 * (c-ares status, CURLcode, X509 verify results) live next to the code that
 * sees those values (dns.c, http.c, tls.c); this file needs only libc, so
 * the collector can compile it unchanged.
 *
 * failure_unknown is special: it is always serialised with a detail, as
 * "unknown_failure: <detail>".
 */
#ifndef WW_FAILURE_H
#define WW_FAILURE_H

#include <stdbool.h>

extern const char failure_connection_refused[];
extern const char failure_connection_reset[];
extern const char failure_connection_aborted[];
extern const char failure_host_unreachable[];
extern const char failure_network_unreachable[];
extern const char failure_network_down[];
extern const char failure_network_reset[];
extern const char failure_address_family_not_supported[];
extern const char failure_address_not_available[];
extern const char failure_permission_denied[];
extern const char failure_generic_timeout[];
extern const char failure_eof[];
extern const char failure_dns_nxdomain[];
extern const char failure_dns_servfail[];
extern const char failure_dns_refused[];
extern const char failure_dns_no_answer[];
extern const char failure_dns_server_misbehaving[];
extern const char failure_dns_bogon[];
extern const char failure_dns_wrong_query_id[];
extern const char failure_ssl_invalid_hostname[];
extern const char failure_ssl_unknown_authority[];
extern const char failure_ssl_invalid_certificate[];
extern const char failure_ssl_failed_handshake[];
extern const char failure_http_request_failed[];
extern const char failure_http_invalid_redirect_location_host[];
extern const char failure_http_too_many_redirects[];
extern const char failure_interrupted[];
extern const char failure_unknown[];

/*
 * Map an errno value seen on a socket (connect, read, write) to the
 * vocabulary. Returns failure_unknown for anything unlisted; the caller then
 * records strerror() as the detail.
 */
const char *failure_from_errno(int err);

/*
 * Look a failure string up by its text (as found in stored JSON). Returns
 * the canonical pointer, failure_unknown for "unknown_failure..." strings,
 * or NULL when the text is not in the vocabulary.
 */
const char *failure_lookup(const char *text);

/* A TLS failure on the certificate alone (invalid hostname, unknown
 * authority, invalid certificate): the handshake itself went through. */
bool failure_is_certificate(const char *f);

/* Every known failure string, for documentation and tests. */
extern const char *const failure_all[];
extern const unsigned failure_count;

#endif
