/*
 * upload_policy.c - the uploader's parts that do no I/O (see upload.h):
 * the backoff and its jitter, the collector's clock from its Date header,
 * the whoami answer, category withholding, the gzip of a batch. upload.c
 * drives them on the event loop.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "ipaddr.h"
#include "upload.h"
#include "util.h"

double
upload_jitter(double d)
{
	return d + d * 0.25 * ww_random_unit();
}

double
upload_backoff(const struct upload_opts *o, unsigned k)
{
	double d;

	if (k == 0)
		return 0;
	if (k <= 3)
		d = o->retry_quick * ldexp(1.0, (int)k - 1);
	else
		d = o->retry_slow * ldexp(1.0, (int)(k > 20 ? 16 : k - 4));
	return d > UPLOAD_BACKOFF_CAP ? UPLOAD_BACKOFF_CAP : d;
}

/* A response's Date header (an HTTP date, RFC 9110 section 5.6.7). */
long
upload_clock_offset(long current, const char *v, size_t len)
{
	char buf[64];
	time_t t, now = time(NULL);
	long off;

	if (len >= sizeof(buf))
		return current;
	memcpy(buf, v, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	t = curl_getdate(buf + strspn(buf, " \t"), NULL);
	if (t == (time_t)-1)
		return current;
	off = (long)(t - now);
	/* A second or two is the date's resolution and the transfer. */
	if (off >= -5 && off <= 5)
		off = 0;
	if (off != 0 && (off - current > 60 || current - off > 60))
		log_warn("upload",
			 "this machine's clock is %ld s off the collector's: "
			 "signing with the collector's time",
			 -off);
	return off;
}

int
upload_parse_whoami(struct probe_env *env, const char *from, const char *body,
		    size_t len, char *err, size_t errlen)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *ip = json_string_value(json_object_get(j, "ip"));
	const char *asn = json_string_value(json_object_get(j, "asn"));
	const char *cc = json_string_value(json_object_get(j, "cc"));
	const char *name =
		json_string_value(json_object_get(j, "network_name"));

	if (ip == NULL || !ww_ip_is_literal(ip)) {
		ww_set_err(err, errlen, "whoami: no address in the answer");
		json_decref(j);
		return -1;
	}
	/* Keep only well-formed values: they end up in every measurement. */
	if (asn != NULL && (strncmp(asn, "AS", 2) != 0 || strlen(asn) > 12 ||
			    strspn(asn + 2, "0123456789") != strlen(asn + 2) ||
			    asn[2] == '\0'))
		asn = NULL;
	if (cc != NULL && (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' ||
			   cc[1] < 'A' || cc[1] > 'Z'))
		cc = NULL;
	if (name != NULL && strlen(name) > 200)
		name = NULL;
	state_learn_whoami(env, from, ip, asn, cc, name);
	json_decref(j);
	return 0;
}

bool
upload_excluded(const char *exclude, const char *cat)
{
	size_t n;

	if (exclude == NULL || cat == NULL || cat[0] == '\0')
		return false;
	n = strlen(cat);
	for (const char *p = exclude; *p;) {
		size_t k = strcspn(p, ",");

		if (k == n && strncasecmp(p, cat, n) == 0)
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

char *
upload_gzip(const char *in, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = deflateBound(NULL, (uLong)len) + 64;
	char *out = xmalloc(cap);

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper, as Content-Encoding: gzip wants. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		abort();
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort(); /* cap is deflateBound's */
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}
