/*
 * dbredact.c - a --db value with its passwords replaced (dbredact.h).
 *
 * It reads a connection string the way libpq does, only far enough to
 * find where a password's value starts and ends: the URI's user:PASSWORD@
 * and its query parameters (keys percent-decoded, as libpq decodes them),
 * or the keyword form's KEY = VALUE pairs (a value quoted with '...' and
 * backslash escapes, or up to the next white space). What it cannot parse
 * and may hold a password is dropped rather than printed.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "dbredact.h"
#include "util.h"

struct out {
	char *p;
	size_t n, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		o->cap = (o->n + n + 1) * 2;
		o->p = realloc(o->p, o->cap);
		if (o->p == NULL)
			abort();
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static void
put_redacted(struct out *o)
{
	put(o, DB_REDACTED, strlen(DB_REDACTED));
}

/* libpq's keywords whose value is a secret (case aside: a mistyped case
 * is an unknown keyword to libpq, and still no one's to read). */
static bool
is_secret(const char *k, size_t n)
{
	static const char *const names[] = {"password", "sslpassword"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(k, names[i], n) == 0)
			return true;
	return false;
}

/* A URI query key k[0..n-1], percent-decoded, names a secret. */
static bool
is_secret_encoded(const char *k, size_t n)
{
	char buf[32];
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (c == '%' && i + 2 < n && ww_hexval(k[i + 1]) >= 0 &&
		    ww_hexval(k[i + 2]) >= 0) {
			c = (char)(ww_hexval(k[i + 1]) * 16 +
				   ww_hexval(k[i + 2]));
			i += 2;
		}
		if (m + 1 >= sizeof(buf))
			return false; /* longer than any keyword */
		buf[m++] = c;
	}
	return is_secret(buf, m);
}

/* postgresql://[user[:password]@]host...[?key=value&...] from auth (just
 * after "://"); s is the whole string. */
static void
redact_uri(struct out *o, const char *s, const char *auth)
{
	const char *end = auth + strcspn(auth, "?"), *at = NULL, *colon;
	const char *q;

	/* The last '@' before the query: a password holding an unencoded
	 * '@' or '/' is still all replaced. */
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon != NULL) {
		put(o, s, (size_t)(colon + 1 - s));
		put_redacted(o);
		put(o, at, (size_t)(end - at));
	} else {
		put(o, s, (size_t)(end - s));
	}
	if (*end == '\0')
		return;
	put(o, end, 1);
	for (q = end + 1;;) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);

		if (eq != NULL && is_secret_encoded(q, (size_t)(eq - q))) {
			put(o, q, (size_t)(eq + 1 - q));
			put_redacted(o);
		} else {
			put(o, q, n);
		}
		q += n;
		if (*q == '\0')
			return;
		put(o, q, 1);
		q++;
	}
}

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* The end of the keyword form's value at p: quoted ('...', backslash
 * escapes; unterminated: the rest) or up to white space. */
static const char *
value_end(const char *p)
{
	if (*p == '\'') {
		for (p++; *p != '\0' && *p != '\''; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		return *p == '\'' ? p + 1 : p;
	}
	for (; *p != '\0' && !space(*p); p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/* Past what cannot be parsed: kept when it cannot be a password. */
static void
put_rest(struct out *o, const char *rest)
{
	for (const char *c = rest; *c != '\0'; c++)
		if (strncasecmp(c, "pass", 4) == 0) {
			put_redacted(o);
			return;
		}
	put(o, rest, strlen(rest));
}

/* KEY = VALUE ... (libpq's keyword/value form) from p. */
static void
redact_keywords(struct out *o, const char *p)
{
	while (*p != '\0') {
		const char *k, *v;
		size_t kn;

		if (space(*p)) {
			put(o, p++, 1);
			continue;
		}
		k = p;
		while (*p != '\0' && *p != '=' && !space(*p))
			p++;
		kn = (size_t)(p - k);
		while (space(*p))
			p++;
		if (*p != '=') {
			put_rest(o, k);
			return;
		}
		for (p++; space(*p); p++)
			;
		put(o, k, (size_t)(p - k)); /* KEY, '=' and the spaces */
		v = p;
		p = value_end(p);
		/* quoted stays quoted: what follows a closing quote is read
		 * as the next keyword, by libpq and by a second redaction */
		if (is_secret(k, kn) && *v == '\'')
			put(o, "'" DB_REDACTED "'", strlen(DB_REDACTED) + 2);
		else if (is_secret(k, kn))
			put_redacted(o);
		else
			put(o, v, (size_t)(p - v));
	}
}

/* Just after "SCHEME://" when db begins so (postgresql://, postgres://,
 * or a mistyped scheme, which is then a file name to SQLite, and its
 * messages' name); NULL otherwise. */
static const char *
uri_authority(const char *db)
{
	size_t n = strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			      "WXYZ0123456789+.-");

	return n > 0 && strncmp(db + n, "://", 3) == 0 ? db + n + 3 : NULL;
}

char *
db_redact(const char *db)
{
	struct out o = {NULL, 0, 0};
	const char *auth;

	if (db == NULL)
		return xstrdup("(none)");
	put(&o, "", 0);
	if ((auth = uri_authority(db)) != NULL)
		redact_uri(&o, db, auth);
	else if (strncasecmp(db, "postgresql:", 11) == 0) {
		put(&o, db, 11);
		redact_keywords(&o, db + 11);
	} else if (strchr(db, '=') != NULL)
		redact_keywords(&o, db); /* a conninfo without its prefix */
	else
		put(&o, db, strlen(db)); /* a SQLite path */
	return o.p;
}
