/*
 * fuzz_ipaddr.c - the judgement of addresses the control service may
 * connect to: text from probes and DNS answers (ww_ip_is_bogon,
 * ww_ip_is_refused) and the IPv4 addresses an IPv6 address carries
 * (ww_ip6_embedded_v4). The invariants: a bogon is always refused; an
 * IPv6 address whose embedded IPv4 address is a bogon is refused; the
 * count of embedded addresses never exceeds max.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ipaddr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128], v4text[INET_ADDRSTRLEN];
	unsigned char a[16], v4[2][4];
	size_t n;

	/* as text: NUL-terminated, cut to a bounded length */
	n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	if (ww_ip_is_bogon(text) && !ww_ip_is_refused(text))
		abort();
	/* as 16 raw bytes */
	memset(a, 0, sizeof(a));
	memcpy(a, data, size < 16 ? size : 16);
	for (size_t max = 0; max <= 2; max++)
		if (ww_ip6_embedded_v4(a, v4, max) > max)
			abort();
	n = ww_ip6_embedded_v4(a, v4, 2);
	if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (inet_ntop(AF_INET, v4[i], v4text, sizeof(v4text)) == NULL)
			abort();
		if (ww_ip_is_bogon(v4text) && !ww_ip_is_refused(text))
			abort();
	}
	return 0;
}
