/*
 * fuzz_dnsevidence.c - ww_dns_msg_parse() (a datagram that came to a DNS
 * query's socket, kept as evidence) on arbitrary bytes, against a fixed
 * question (www.example.test, A, IN) and against one taken from the input
 * itself. abort() on any broken promise of dnsmsg.h: raw is the input's
 * first WW_DNS_REPLY_KEEP bytes, addresses are printable and at most
 * WW_DNS_MAX_ANSWERS, rcode -1..15, the id only from 2 bytes on, a
 * question that matches fits in the message.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "model.h"

static const unsigned char question[] = {3,   'w', 'w', 'w', 7, 'e', 'x', 'a',
					 'm', 'p', 'l', 'e', 4, 't', 'e', 's',
					 't', 0,   0,	1,   0, 1};

static void
check(const uint8_t *data, size_t size, const unsigned char *want,
      size_t want_len)
{
	struct ww_dns_msg m;
	size_t keep = size < WW_DNS_REPLY_KEEP ? size : WW_DNS_REPLY_KEEP;

	ww_dns_msg_parse(data, size, size + 1, want, want_len, &m);
	if (m.raw == NULL || m.raw_len != keep ||
	    (keep > 0 && memcmp(m.raw, data, keep) != 0))
		abort();
	if (m.wire_len != size + 1 || m.ip_ttl != -1 || m.ip_id != -1)
		abort();
	if ((size < 2) != (m.dns_id == -1) || m.dns_id > 0xffff)
		abort();
	if (m.rcode < -1 || m.rcode > 15)
		abort();
	if (m.question_ok && size < 12 + want_len)
		abort();
	if (m.n_addrs > WW_DNS_MAX_ANSWERS)
		abort();
	for (size_t i = 0; i < m.n_addrs; i++)
		for (const char *s = m.addrs[i]; *s != '\0'; s++)
			if (*s < 0x21 || *s > 0x7e)
				abort();
	ww_dns_msg_clear(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, question, sizeof(question));
	/* The input's own question, whatever its length: matches itself. */
	if (size > 12) {
		struct ww_dns_msg m;

		ww_dns_msg_parse(data, size, size, data + 12, size - 12, &m);
		if (m.question_ok != (data[4] == 0 && data[5] == 1))
			abort();
		ww_dns_msg_clear(&m);
	}
	return 0;
}
