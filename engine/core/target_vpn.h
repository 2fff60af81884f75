/*
 * target_vpn.h - the parameters of a VPN or QUIC endpoint's input (the
 * query of openvpn://, ikev2://, wireguard:// and quic://), for target.c.
 */
#ifndef WW_TARGET_VPN_H
#define WW_TARGET_VPN_H

#include <stddef.h>

#include <curl/curl.h>

#include "target.h"

/* The longest query accepted, and the longest single value, in bytes. */
#define WW_TARGET_VPN_MAX_QUERY 1024
#define WW_TARGET_VPN_MAX_VALUE 512

/*
 * Read u's query into t's VPN fields (t->kind is set): each kind takes only
 * its own parameters, each at most once, values percent-decoded and
 * checked. Returns 0, or -1 with err naming the parameter and the problem.
 */
int ww_target_vpn_params(CURLU *u, struct ww_target *t, char *err,
			 size_t errlen);

#endif
