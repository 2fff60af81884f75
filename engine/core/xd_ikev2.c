/*
 * xd_ikev2.c - the IKEv2 driver (xdriver.h): an IKE_SA_INIT request, and
 * the resend a responder asks for (its COOKIE, or a KE of the group its
 * INVALID_KE_PAYLOAD names), at most twice. Any IKE answer to our SPI
 * proves a live responder (ikev2.h); the exchange is done at the first
 * answer that asks nothing more.
 */
#include "xdrivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikev2.h"
#include "util.h"

#define IKE_MAX_RESENDS 2

struct ike {
	struct ww_ikev2_params p;
	int resends;
};

static ssize_t
ike_first(void *st, unsigned char *out, size_t cap)
{
	struct ike *k = st;

	return ww_ikev2_build_sa_init(&k->p, out, cap);
}

static enum ww_xnext
ike_reply(void *st, const unsigned char *buf, size_t len, struct ww_xseen *seen,
	  unsigned char *out, size_t cap, size_t *out_len)
{
	struct ike *k = st;
	struct ww_ikev2_reply r;
	ssize_t n;

	*out_len = 0;
	if (ww_ikev2_parse_reply(buf, len, &k->p, &r, seen->note,
				 sizeof(seen->note)) != 0)
		return WW_XNEXT_WAIT;
	seen->kind = r.kind;
	seen->ours = r.ours;
	seen->proves_up = ww_ikev2_reply_proves_up(&r);
	if (!r.ours)
		return WW_XNEXT_WAIT;
	if (r.kind != NULL &&
	    (strcmp(r.kind, "notify_cookie") == 0 ||
	     strcmp(r.kind, "notify_invalid_ke") == 0) &&
	    k->resends < IKE_MAX_RESENDS &&
	    ww_ikev2_params_retry(&k->p, &r) == 0) {
		n = ww_ikev2_build_sa_init(&k->p, out, cap);
		if (n > 0) {
			k->resends++;
			*out_len = (size_t)n;
			return WW_XNEXT_SEND;
		}
	}
	return WW_XNEXT_DONE;
}

struct ww_xdriver *
ww_xd_ikev2(const struct ww_target *t)
{
	struct ww_xdriver *d = xcalloc(1, sizeof(*d));
	struct ike *k = xcalloc(1, sizeof(*k));

	/* RFC 7296 2.23: on 4500 an initiator starts with the marker */
	if (ww_ikev2_params_random(&k->p, t->port == 4500) != 0)
		abort(); /* the CSPRNG or the key share failed */
	d->protocol = "ikev2";
	d->payload = "handshake";
	d->udp = true;
	d->st = k;
	d->first = ike_first;
	d->reply = ike_reply;
	d->free_st = free;
	return d;
}
