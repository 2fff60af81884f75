/*
 * xd_wireguard.c - the WireGuard driver (xdriver.h): a handshake
 * initiation with a valid MAC1 for the server's public key. With our
 * registered key (a test peer's) the server answers with a handshake
 * response; with a random one a server drops it silently (wireguard.h),
 * so silence there proves nothing, and the plan says so in the record
 * (payload "unregistered"). A cookie reply (a server under load) is
 * answered once with the initiation again, MAC2 keyed by the cookie.
 */
#include "xdrivers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wireguard.h"
#include "util.h"

struct wg {
	struct ww_wg_params p;
	bool cookie_used;
};

static ssize_t
wg_first(void *st, unsigned char *out, size_t cap)
{
	struct wg *w = st;

	return ww_wg_build_initiation(&w->p, out, cap);
}

static enum ww_xnext
wg_reply(void *st, const unsigned char *buf, size_t len, struct ww_xseen *seen,
	 unsigned char *out, size_t cap, size_t *out_len)
{
	struct wg *w = st;
	struct ww_wg_reply r;
	ssize_t n;

	*out_len = 0;
	if (ww_wg_parse_reply(buf, len, &w->p, &r, seen->note,
			      sizeof(seen->note)) != 0)
		return WW_XNEXT_WAIT;
	seen->kind = r.kind;
	seen->ours = r.answers_ours;
	seen->proves_up = ww_wg_reply_proves_up(&r);
	if (!r.answers_ours)
		return WW_XNEXT_WAIT;
	if (r.type == 3 && r.cookie_ok && !w->cookie_used) {
		w->cookie_used = true;
		w->p.has_cookie = true;
		memcpy(w->p.cookie, r.cookie, sizeof(w->p.cookie));
		n = ww_wg_build_initiation(&w->p, out, cap);
		if (n > 0) {
			*out_len = (size_t)n;
			return WW_XNEXT_SEND;
		}
	}
	return r.type == 2 || r.type == 3 ? WW_XNEXT_DONE : WW_XNEXT_WAIT;
}

struct ww_xdriver *
ww_xd_wireguard(const struct ww_target *t, const char *key_file)
{
	struct ww_xdriver *d;
	struct wg *w = xcalloc(1, sizeof(*w));
	char err[200];

	if (ww_wg_params_random(&w->p) != 0)
		abort(); /* the CSPRNG failed */
	if (ww_wg_key_from_base64(t->pubkey, w->p.server_pub, err,
				  sizeof(err)) != 0 ||
	    (key_file != NULL && ww_wg_key_from_file(key_file, w->p.static_priv,
						     err, sizeof(err)) != 0)) {
		char *why = xasprintf("WireGuard key%s%s: %s",
				      key_file != NULL ? " " : "",
				      key_file != NULL ? key_file : "", err);

		free(w);
		d = ww_xdriver_failed("wireguard", "handshake", true, why);
		free(why);
		return d;
	}
	w->p.registered = key_file != NULL;
	d = xcalloc(1, sizeof(*d));
	d->protocol = "wireguard";
	d->payload = key_file != NULL ? "handshake" : "unregistered";
	d->udp = true;
	d->st = w;
	d->first = wg_first;
	d->reply = wg_reply;
	d->free_st = free;
	return d;
}
