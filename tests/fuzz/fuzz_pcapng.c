/*
 * fuzz_pcapng.c - ww_pcapng_rewrite() on arbitrary frames. Input: a byte
 * choosing the link type (as in fuzz_packet.c), a byte whose low bit says
 * whether the local side is the source, then the frame. abort() on a
 * broken promise of pcapng.h: -1 exactly when the frame does not parse
 * (and then the frame is unchanged); otherwise the rewritten frame parses
 * to the same packet with the placeholder as its local address, the
 * length unchanged, the IPv4 header checksum right, and a transport
 * checksum that was right over a whole captured segment still right.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "packet.h"
#include "pcapng.h"

static const int link_types[] = {
	WW_DLT_NULL,	  WW_DLT_EN10MB, WW_DLT_RAW,  WW_DLT_RAW_ALT,
	WW_DLT_LINUX_SLL, WW_DLT_IPV4,	 WW_DLT_IPV6, WW_DLT_LINUX_SLL2,
};
#define N_LINK_TYPES (sizeof(link_types) / sizeof(link_types[0]))

static uint32_t
sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n % 2 == 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* 1: the transport checksum over the whole segment is right; 0: wrong;
 * -1: cannot tell (not TCP/UDP, cut, a fragment, UDP without one). */
static int
l4_ok(const uint8_t *f, size_t caplen, const struct ww_pkt *p)
{
	size_t end = p->ip_off + p->ip_len, l4len;
	uint32_t acc;

	if (!p->have_ports || p->fragment || end > caplen)
		return -1;
	l4len = end - p->l4_off;
	if (p->proto == 17) {
		l4len = (size_t)(f[p->l4_off + 4] << 8 | f[p->l4_off + 5]);
		if (f[p->l4_off + 6] == 0 && f[p->l4_off + 7] == 0)
			return -1;
	}
	if (p->family == AF_INET)
		acc = sum(f + p->ip_off + 12, 8, 0);
	else
		acc = sum(f + p->ip_off + 8, 32, 0);
	acc += (uint32_t)p->proto + (uint32_t)l4len;
	return sum(f + p->l4_off, l4len, acc) == 0xffff;
}

static int
ip4_ok(const uint8_t *f, const struct ww_pkt *p)
{
	return sum(f + p->ip_off, p->ip_hlen, 0) == 0xffff;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_pkt before, after;
	uint8_t *f, place[16];
	bool local_is_src;
	int linktype, rc, pr;
	size_t alen;

	if (size < 2)
		return 0;
	linktype = data[0] < N_LINK_TYPES ? link_types[data[0]] : data[0];
	local_is_src = (data[1] & 1) != 0;
	data += 2;
	size -= 2;
	f = malloc(size > 0 ? size : 1);
	if (f == NULL)
		abort();
	if (size > 0)
		memcpy(f, data, size);
	pr = ww_pkt_parse(linktype, size > 0 ? data : NULL, size, &before, NULL,
			  0);
	rc = ww_pcapng_rewrite(linktype, size > 0 ? f : NULL, size,
			       local_is_src, NULL, NULL, NULL, 0);
	if (rc != pr)
		abort();
	if (rc < 0) {
		if (size > 0 && memcmp(f, data, size) != 0)
			abort();
		free(f);
		return 0;
	}
	if (ww_pkt_parse(linktype, f, size, &after, NULL, 0) != 0)
		abort();
	alen = after.family == AF_INET ? 4 : 16;
	inet_pton(after.family,
		  after.family == AF_INET ? WW_PCAPNG_LOCAL_V4
					  : WW_PCAPNG_LOCAL_V6,
		  place);
	if (memcmp(local_is_src ? after.src : after.dst, place, alen) != 0)
		abort();
	if (after.family != before.family || after.proto != before.proto ||
	    after.ip_len != before.ip_len ||
	    after.payload_len != before.payload_len ||
	    after.sport != before.sport || after.seq != before.seq)
		abort();
	if (after.family == AF_INET && !ip4_ok(f, &after))
		abort();
	if (l4_ok(data, size, &before) == 1 && l4_ok(f, size, &after) != 1)
		abort();
	free(f);
	return 0;
}
