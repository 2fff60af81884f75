/*
 * cap_stub.c - TEMPORARY stand-ins for the capture helper's engine/capture.c
 * (issue 13), so that dns.c links before that branch is merged. Weak: the
 * real definitions win. THE MERGE MUST DELETE THIS FILE. Nothing calls them
 * while ww_engine.cap stays NULL, which it does until capture.c exists.
 */
#include "internal.h"

__attribute__((weak)) uint32_t
cap_flow_add(struct ww_capture *c, int proto, int local_port,
	     const struct sockaddr *remote)
{
	(void)c;
	(void)proto;
	(void)local_port;
	(void)remote;
	return 0;
}

__attribute__((weak)) void
cap_flow_close(struct ww_capture *c, uint32_t id)
{
	(void)c;
	(void)id;
}
