/*
 * fuzz_asndb.c - the iptoasn TSV loader on arbitrary bytes, and lookups in
 * whatever loaded. Checks what the contract promises: a refusal names the
 * input ("fuzz.tsv..."); a table holds at least one range; a lookup
 * answers 0 with a routed AS and a two-letter country, or 1 with AS 0 and
 * "ZZ"; an IPv4-mapped IPv6 address answers as its IPv4 address.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/asndb.h"
#include "fuzz.h"
#include "util.h"

static void
check_name(const struct ww_asndb *db, uint32_t asn)
{
	const char *s = ww_asndb_name(db, asn);
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (asn == 0 || n == 0 || n > WW_ASNDB_MAX_NAME || s[0] == ' ' ||
	    s[n - 1] == ' ' || strstr(s, "  ") != NULL ||
	    !ww_utf8_valid((const unsigned char *)s, n))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static int
lookup(const struct ww_asndb *db, const char *ip, uint32_t *asn, char cc[3])
{
	int rc = ww_asndb_lookup(db, ip, asn, cc);

	check_name(db, *asn);
	if (rc == 0 ? *asn == 0 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' ||
			      cc[1] > 'Z' || cc[2] != '\0'
		    : rc != 1 || *asn != 0 || strcmp(cc, "ZZ") != 0)
		abort();
	return rc;
}

/* A v4 address and its ::ffff: form answer alike. */
static void
lookup_v4(const struct ww_asndb *db, const unsigned char b[4])
{
	char ip[INET_ADDRSTRLEN], mapped[INET6_ADDRSTRLEN + 8];
	uint32_t a1, a2;
	char c1[3], c2[3];

	inet_ntop(AF_INET, b, ip, sizeof(ip));
	snprintf(mapped, sizeof(mapped), "::ffff:%s", ip);
	if (lookup(db, ip, &a1, c1) != lookup(db, mapped, &a2, c2) ||
	    a1 != a2 || strcmp(c1, c2) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {
		"0.0.0.0",
		"127.0.0.1",
		"255.255.255.255",
		"::",
		"::1",
		"2001:db8::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"not an address",
	};
	char err[256], ip[INET6_ADDRSTRLEN];
	struct ww_asndb *db;
	size_t n4, n6;
	uint32_t asn;
	char cc[3];

	db = ww_asndb_load_buf((const char *)data, size, "fuzz.tsv", err,
			       sizeof(err));
	if (db == NULL) {
		if (strncmp(err, "fuzz.tsv", 8) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	ww_asndb_count(db, &n4, &n6);
	if (n4 + n6 == 0)
		abort();
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		lookup(db, fixed[i], &asn, cc);
	/* addresses made of the input's last bytes */
	if (size >= 4)
		lookup_v4(db, data + size - 4);
	if (size >= 16) {
		inet_ntop(AF_INET6, data + size - 16, ip, sizeof(ip));
		lookup(db, ip, &asn, cc);
	}
	ww_asndb_free(db);
	return 0;
}
