/*
 * fuzz_packet.c - ww_pkt_parse() on arbitrary frames. The first input byte
 * chooses the link type (its index in link_types; past the table, the
 * byte itself is passed as an unknown type), the rest is the frame. Besides
 * the sanitizers' checks, abort() on any broken promise of packet.h: an
 * error message exactly on -1; on success, every offset and the payload
 * inside the captured bytes, payload_caplen <= payload_len, ports only with
 * TCP or UDP and never on a later fragment, flags and addresses printable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "packet.h"

static const int link_types[] = {
	WW_DLT_NULL,	  WW_DLT_EN10MB, WW_DLT_RAW,  WW_DLT_RAW_ALT,
	WW_DLT_LINUX_SLL, WW_DLT_IPV4,	 WW_DLT_IPV6, WW_DLT_LINUX_SLL2,
};
#define N_LINK_TYPES (sizeof(link_types) / sizeof(link_types[0]))

static void
check_ok(const uint8_t *frame, size_t size, const struct ww_pkt *p)
{
	char flags[9], addr[64];

	if (p->family != AF_INET && p->family != AF_INET6)
		abort();
	if (p->ip_off + p->ip_hlen > size || p->ip_hlen > p->ip_len)
		abort();
	if (p->payload_caplen > p->payload_len)
		abort();
	if (p->payload == NULL || p->payload < frame + p->ip_off + p->ip_hlen ||
	    p->payload + p->payload_caplen > frame + size)
		abort();
	if (p->have_ports) {
		if (p->proto != 6 && p->proto != 17)
			abort();
		if (p->frag_off != 0)
			abort();
		if (p->l4_off != p->ip_off + p->ip_hlen ||
		    p->payload < frame + p->l4_off + (p->proto == 6 ? 20 : 8))
			abort();
	}
	if (p->fragment == false && p->frag_off != 0)
		abort();
	if (p->ttl < 0 || p->ttl > 255 || p->ip_id < -1)
		abort();
	if (p->family == AF_INET && (p->ip_id < 0 || p->ip_id > 0xffff))
		abort();
	if (p->mss < -1 || p->mss > 0xffff || p->wscale < -1 || p->wscale > 255)
		abort();
	ww_tcp_flags_str(p->flags, flags);
	if (strlen(flags) > 8)
		abort();
	ww_pkt_addr_str(p->family, p->src, addr, sizeof(addr));
	if (strcmp(addr, "?") == 0)
		abort();
	ww_pkt_addr_str(p->family, p->dst, addr, sizeof(addr));
	if (strcmp(addr, "?") == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_pkt p;
	char err[128];
	int linktype, rc;

	if (size == 0)
		return 0;
	linktype = data[0] < N_LINK_TYPES ? link_types[data[0]] : data[0];
	data++;
	size--;
	memset(err, 'x', sizeof(err));
	rc = ww_pkt_parse(linktype, size > 0 ? data : NULL, size, &p, err,
			  sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (rc != 0 && rc != -1)
		abort();
	if ((rc == -1) != (err[0] != '\0'))
		abort();
	if (rc == 0)
		check_ok(data, size, &p);
	return 0;
}
