/*
 * pktview.c - the collector's reading of a measurement's packet evidence
 * (pktview.h): the evidence names and sentence the analysis gave, a count
 * of what test_keys.packets holds, and the trimmed, bounded view the web
 * view draws from. The input is a volunteer's JSON: nothing is trusted
 * to have its documented type or size.
 */
#include <ctype.h>
#include <string.h>

#include "pktview.h"
#include "util.h"

/* A copy of s cut at max bytes, on a UTF-8 character boundary (jansson's
 * strings are valid UTF-8, so stepping back over continuation bytes
 * lands on the start of a character). */
static json_t *
str_cut(const char *s, size_t max, bool *cut)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		*cut = true;
	}
	return json_stringn(s, n);
}

/* dst[key] = src[key] when it is of the kind wanted, else null. */
enum kind { K_NUM, K_STR, K_BOOL };

static void
copy(json_t *dst, const json_t *src, const char *key, enum kind k, bool *cut)
{
	const json_t *v = json_object_get(src, key);
	json_t *out = NULL;

	if (k == K_NUM && json_is_number(v))
		out = json_copy((json_t *)v);
	else if (k == K_STR && json_is_string(v))
		out = str_cut(json_string_value(v), PKTVIEW_MAX_STR, cut);
	else if (k == K_BOOL && json_is_boolean(v))
		out = json_boolean(json_is_true(v));
	json_object_set_new(dst, key, out != NULL ? out : json_null());
}

struct field {
	const char *key;
	enum kind kind;
};

static void
copy_fields(json_t *dst, const json_t *src, const struct field *f, size_t n,
	    bool *cut)
{
	for (size_t i = 0; i < n; i++)
		copy(dst, src, f[i].key, f[i].kind, cut);
}

/* The elements of src[key] that are objects, at most max, each made by
 * fn; an array either way. */
static json_t *
objects(const json_t *src, const char *key, size_t max,
	json_t *(*fn)(const json_t *o, bool *cut), bool *cut)
{
	const json_t *a = json_object_get(src, key), *v;
	json_t *out = json_array();
	size_t i;

	json_array_foreach(a, i, v)
	{
		if (json_array_size(out) == max) {
			*cut = true;
			break;
		}
		if (json_is_object(v))
			json_array_append_new(out, fn(v, cut));
	}
	return out;
}

/* The elements of src[key] of kind k (strings cut at PKTVIEW_MAX_ADDR:
 * addresses), at most max. */
static json_t *
values(const json_t *src, const char *key, enum kind k, size_t max, bool *cut)
{
	const json_t *a = json_object_get(src, key), *v;
	json_t *out = json_array();
	size_t i;

	json_array_foreach(a, i, v)
	{
		if (json_array_size(out) == max) {
			*cut = true;
			break;
		}
		if (k == K_STR && json_is_string(v))
			json_array_append_new(out,
					      str_cut(json_string_value(v),
						      PKTVIEW_MAX_ADDR, cut));
		else if (k == K_NUM && json_is_number(v))
			json_array_append_new(out, json_copy((json_t *)v));
	}
	return out;
}

static json_t *
reply(const json_t *r, bool *cut)
{
	static const struct field f[] = {
		{"t", K_NUM},	   {"dns_id", K_NUM}, {"rcode", K_STR},
		{"ip_ttl", K_NUM}, {"ip_id", K_NUM},  {"question_ok", K_BOOL},
	};
	json_t *o = json_object();

	copy_fields(o, r, f, WW_ARRAY_LEN(f), cut);
	json_object_set_new(o, "addrs",
			    values(r, "addrs", K_STR, PKTVIEW_MAX_ADDRS, cut));
	return o;
}

static json_t *
dns_entry(const json_t *d, bool *cut)
{
	static const struct field f[] = {
		{"transaction_id", K_NUM}, {"hostname", K_STR},
		{"query_type", K_STR},	   {"resolver_address", K_STR},
		{"n_sent", K_NUM},	   {"n_replies", K_NUM},
		{"truncated", K_BOOL},
	};
	json_t *o = json_object();

	copy_fields(o, d, f, WW_ARRAY_LEN(f), cut);
	json_object_set_new(
		o, "replies",
		objects(d, "replies", PKTVIEW_MAX_REPLIES, reply, cut));
	return o;
}

static json_t *
packet(const json_t *p, bool *cut)
{
	static const struct field f[] = {
		{"t", K_NUM},	{"dir", K_STR},	  {"flags", K_STR},
		{"ttl", K_NUM}, {"ip_id", K_NUM}, {"win", K_NUM},
		{"seq", K_NUM}, {"ack", K_NUM},	  {"len", K_NUM},
	};
	json_t *o = json_object();

	copy_fields(o, p, f, WW_ARRAY_LEN(f), cut);
	return o;
}

static json_t *
flow(const json_t *fl, bool *cut)
{
	static const struct field f[] = {
		{"flow", K_NUM},       {"ip", K_STR},
		{"port", K_NUM},       {"n_packets", K_NUM},
		{"truncated", K_BOOL}, {"handshake_only", K_BOOL},
	};
	json_t *o = json_object();

	copy_fields(o, fl, f, WW_ARRAY_LEN(f), cut);
	json_object_set_new(
		o, "transaction_ids",
		values(fl, "transaction_ids", K_NUM, PKTVIEW_MAX_PACKETS, cut));
	json_object_set_new(
		o, "packets",
		objects(fl, "packets", PKTVIEW_MAX_PACKETS, packet, cut));
	return o;
}

json_t *
pktview_trim(const json_t *m)
{
	static const struct field f[] = {
		{"capture", K_STR},    {"capture_failure", K_STR},
		{"snaplen", K_NUM},    {"ring_drops", K_NUM},
		{"truncated", K_BOOL},
	};
	const json_t *p =
		json_object_get(json_object_get(m, "test_keys"), "packets");
	bool cut = false;
	json_t *o;

	if (!json_is_object(p))
		return NULL;
	o = json_object();
	copy_fields(o, p, f, WW_ARRAY_LEN(f), &cut);
	json_object_set_new(
		o, "dns", objects(p, "dns", PKTVIEW_MAX_DNS, dns_entry, &cut));
	json_object_set_new(o, "tcp",
			    objects(p, "tcp", PKTVIEW_MAX_FLOWS, flow, &cut));
	json_object_set_new(o, "trimmed", json_boolean(cut));
	return o;
}

int
pktview_count(const json_t *tk)
{
	const json_t *p = json_object_get(tk, "packets");
	size_t n = 0, dns, tcp;

	if (!json_is_object(p))
		return 0;
	dns = json_array_size(json_object_get(p, "dns"));
	tcp = json_array_size(json_object_get(p, "tcp"));
	n += dns < PKTVIEW_MAX_DNS ? dns : PKTVIEW_MAX_DNS;
	n += tcp < PKTVIEW_MAX_FLOWS ? tcp : PKTVIEW_MAX_FLOWS;
	return (int)n;
}

/* An evidence name: 1..PKTVIEW_MAX_NAME of [a-z0-9_] (what the analysis
 * writes, docs/verdicts.md; anything else is not one of its names). */
static bool
is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PKTVIEW_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) ||
		      isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

const char *
pktview_evidence(const json_t *tk, char *buf, size_t len)
{
	const json_t *ev =
		json_object_get(json_object_get(tk, "analysis"), "evidence");
	const json_t *v;
	size_t i, at = 0, names = 0;

	if (len == 0)
		return NULL;
	buf[0] = '\0';
	json_array_foreach(ev, i, v)
	{
		const char *s = json_string_value(v);
		size_t n;

		if (s == NULL || !is_name(s))
			continue;
		n = strlen(s);
		if (names == PKTVIEW_MAX_NAMES || at + n + 2 > len)
			break;
		if (at > 0)
			buf[at++] = ';';
		memcpy(buf + at, s, n + 1);
		at += n;
		names++;
	}
	return names > 0 ? buf : NULL;
}

const char *
pktview_detail(const json_t *tk, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(tk, "analysis"), "evidence_detail"));
	size_t n;

	if (s == NULL || *s == '\0' || len == 0)
		return NULL;
	n = strlen(s);
	if (n > PKTVIEW_MAX_DETAIL)
		n = PKTVIEW_MAX_DETAIL;
	if (n > len - 1)
		n = len - 1;
	while (n > 0 && n < strlen(s) && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n > 0 ? buf : NULL;
}
