/* failure.c - see failure.h. */
#include "failure.h"

#include <errno.h>
#include <string.h>

const char failure_connection_refused[] = "connection_refused";
const char failure_connection_reset[] = "connection_reset";
const char failure_connection_aborted[] = "connection_aborted";
const char failure_host_unreachable[] = "host_unreachable";
const char failure_network_unreachable[] = "network_unreachable";
const char failure_network_down[] = "network_down";
const char failure_network_reset[] = "network_reset";
const char failure_address_family_not_supported[] =
	"address_family_not_supported";
const char failure_address_not_available[] = "address_not_available";
const char failure_permission_denied[] = "permission_denied";
const char failure_generic_timeout[] = "generic_timeout_error";
const char failure_eof[] = "eof_error";
const char failure_dns_nxdomain[] = "dns_nxdomain_error";
const char failure_dns_servfail[] = "dns_servfail_error";
const char failure_dns_refused[] = "dns_refused_error";
const char failure_dns_no_answer[] = "dns_no_answer";
const char failure_dns_server_misbehaving[] = "dns_server_misbehaving";
const char failure_dns_bogon[] = "dns_bogon_error";
const char failure_dns_wrong_query_id[] = "dns_reply_with_wrong_query_id";
const char failure_ssl_invalid_hostname[] = "ssl_invalid_hostname";
const char failure_ssl_unknown_authority[] = "ssl_unknown_authority";
const char failure_ssl_invalid_certificate[] = "ssl_invalid_certificate";
const char failure_ssl_failed_handshake[] = "ssl_failed_handshake";
const char failure_http_request_failed[] = "http_request_failed";
const char failure_http_invalid_redirect_location_host[] =
	"http_invalid_redirect_location_host";
/* Past WW_MAX_REDIRECTS (OONI's probe-cli says the same on its 11th). */
const char failure_http_too_many_redirects[] = "http_too_many_redirects";
const char failure_interrupted[] = "interrupted";
const char failure_unknown[] = "unknown_failure";

const char *const failure_all[] = {
	failure_connection_refused,
	failure_connection_reset,
	failure_connection_aborted,
	failure_host_unreachable,
	failure_network_unreachable,
	failure_network_down,
	failure_network_reset,
	failure_address_family_not_supported,
	failure_address_not_available,
	failure_permission_denied,
	failure_generic_timeout,
	failure_eof,
	failure_dns_nxdomain,
	failure_dns_servfail,
	failure_dns_refused,
	failure_dns_no_answer,
	failure_dns_server_misbehaving,
	failure_dns_bogon,
	failure_dns_wrong_query_id,
	failure_ssl_invalid_hostname,
	failure_ssl_unknown_authority,
	failure_ssl_invalid_certificate,
	failure_ssl_failed_handshake,
	failure_http_request_failed,
	failure_http_invalid_redirect_location_host,
	failure_http_too_many_redirects,
	failure_interrupted,
	failure_unknown,
};
const unsigned failure_count = sizeof(failure_all) / sizeof(failure_all[0]);

const char *
failure_from_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return failure_connection_refused;
	case ECONNRESET:
	case EPIPE: /* a write after the peer's RST */
		return failure_connection_reset;
	case ECONNABORTED:
		return failure_connection_aborted;
	case EHOSTUNREACH:
		return failure_host_unreachable;
	case ENETUNREACH:
		return failure_network_unreachable;
	case ENETDOWN:
		return failure_network_down;
	case ENETRESET:
		return failure_network_reset;
	case EAFNOSUPPORT:
		return failure_address_family_not_supported;
	case EADDRNOTAVAIL:
		return failure_address_not_available;
	case EACCES:
	case EPERM: /* e.g. a local firewall rejecting the SYN */
		return failure_permission_denied;
	case ETIMEDOUT:
		return failure_generic_timeout;
	default:
		return failure_unknown;
	}
}

bool
failure_is_certificate(const char *f)
{
	return f != NULL && (strcmp(f, failure_ssl_invalid_hostname) == 0 ||
			     strcmp(f, failure_ssl_unknown_authority) == 0 ||
			     strcmp(f, failure_ssl_invalid_certificate) == 0);
}

const char *
failure_lookup(const char *text)
{
	size_t ulen = strlen(failure_unknown);

	if (text == NULL)
		return NULL;
	if (strncmp(text, failure_unknown, ulen) == 0)
		return failure_unknown;
	for (unsigned i = 0; i < failure_count; i++)
		if (strcmp(text, failure_all[i]) == 0)
			return failure_all[i];
	return NULL;
}
