/*
 * fuzz_dnsmsg.c - ww_dns_parse_reply() on arbitrary bytes. Besides the
 * sanitizers' checks, abort() on any broken promise of dnsmsg.h: at most
 * WW_DNS_MAX_ANSWERS answers, every value printable ASCII (so valid UTF-8
 * for the JSON), qname NUL-terminated, an error string exactly on -1.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "model.h"

static void
check_text(const char *s)
{
	if (s == NULL || *s == '\0')
		abort();
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_dns_reply r;
	struct ww_query q;
	char err[128];
	int rc;

	memset(&q, 0, sizeof(q));
	rc = ww_dns_parse_reply(data, size, &r, &q, err, sizeof(err));
	if ((rc == -1) != (err[0] != '\0') || (rc != 0 && rc != -1))
		abort();
	if (q.n_answers > WW_DNS_MAX_ANSWERS)
		abort();
	if (memchr(r.qname, '\0', sizeof(r.qname)) == NULL)
		abort();
	if (r.qname[0] != '\0')
		check_text(r.qname);
	for (size_t i = 0; i < q.n_answers; i++) {
		if (q.answers[i].type != WW_RR_A &&
		    q.answers[i].type != WW_RR_AAAA &&
		    q.answers[i].type != WW_RR_CNAME)
			abort();
		check_text(q.answers[i].value);
	}
	ww_query_clear(&q);
	return 0;
}
