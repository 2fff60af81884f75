/*
 * conf.c - the probe's configuration file parser (syntax in conf.h).
 *
 * Each line is checked whole (length, NUL, UTF-8, control characters)
 * before it is split, so that an error always names the line it is on and
 * a value never carries a byte that could garble the log line quoting it.
 */
#include "conf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

/* How much of a bad key an error message quotes (the rest is "..."). */
#define QUOTE_MAX 64

struct parser {
	struct ww_conf *c;
	const char *name;
	int line;
	char *err;
	size_t errlen;
};

static void conf_error(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "NAME:LINE: " and the message. */
static void
conf_error(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ww_set_err(p->err, p->errlen, "%s:%d: %s", p->name, p->line, msg);
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-';
}

/* Drop spaces and tabs at both ends of s[*start..*end). */
static void
trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && is_blank(s[*start]))
		(*start)++;
	while (*end > *start && is_blank(s[*end - 1]))
		(*end)--;
}

/*
 * A bad key for an error message: at most QUOTE_MAX bytes, cut on a UTF-8
 * sequence boundary (the line was checked to be UTF-8 without control
 * characters, so nothing else needs escaping).
 */
static void
quote_key(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = len;

	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(out, outlen, "%.*s%s", (int)n, s, n < len ? "..." : "");
}

/*
 * The checks every line passes, comment or not, so that a file with CR
 * line ends (one long "line") is refused rather than read as one comment.
 * len excludes the '\n' and a final '\r'.
 */
static int
check_line(struct parser *p, const char *s, size_t len)
{
	if (len > WW_CONF_MAX_LINE) {
		conf_error(p, "line longer than %d bytes", WW_CONF_MAX_LINE);
		return -1;
	}
	if (memchr(s, '\0', len) != NULL) {
		conf_error(p, "NUL byte");
		return -1;
	}
	if (!ww_utf8_valid((const unsigned char *)s, len)) {
		conf_error(p, "invalid UTF-8");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			conf_error(p, "control character 0x%02x%s", ch,
				   ch == '\r' ? " (CR line ends? use LF)" : "");
			return -1;
		}
	}
	return 0;
}

/* The key s[0..len): [a-z0-9-], 1..WW_CONF_MAX_KEY bytes. */
static int
check_key(struct parser *p, const char *s, size_t len)
{
	char quoted[QUOTE_MAX + 8];

	if (len == 0) {
		conf_error(p, "missing key before \"=\" (want key = value)");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_key_char(s[i])) {
			quote_key(s, len, quoted, sizeof(quoted));
			conf_error(p,
				   "bad key \"%s\" (want lower-case letters, "
				   "digits and \"-\")",
				   quoted);
			return -1;
		}
	}
	if (len > WW_CONF_MAX_KEY) {
		conf_error(p, "key longer than %d characters", WW_CONF_MAX_KEY);
		return -1;
	}
	return 0;
}

/*
 * The value s[*start..*end), already trimmed: unwrap one pair of double
 * quotes. Quotes inside are ordinary characters (there are no escapes), so
 * a value that starts with '"' must also end with one.
 */
static int
unquote_value(struct parser *p, const char *key, const char *s, size_t *start,
	      size_t *end)
{
	size_t n = *end - *start;

	if (n > 0 && s[*start] == '"') {
		if (n < 2 || s[*end - 1] != '"') {
			if (memchr(s + *start + 1, '"', n - 1) != NULL)
				conf_error(p,
					   "text after the closing quote in "
					   "value for \"%s\"",
					   key);
			else
				conf_error(p,
					   "unterminated quote in value for "
					   "\"%s\"",
					   key);
			return -1;
		}
		(*start)++;
		(*end)--;
	}
	if (*start == *end) {
		conf_error(p, "empty value for \"%s\"", key);
		return -1;
	}
	return 0;
}

/* One checked line s[0..len), without its line end. */
static int
parse_line(struct parser *p, const char *s, size_t len)
{
	size_t ks = 0, ke, vs, ve = len;
	const char *eq;
	struct ww_conf_entry *e;
	char *key;

	trim(s, &ks, &ve);
	if (ks == ve || s[ks] == '#')
		return 0;
	eq = memchr(s + ks, '=', ve - ks);
	if (eq == NULL) {
		conf_error(p, "missing \"=\" (want key = value)");
		return -1;
	}
	ke = (size_t)(eq - s);
	vs = ke + 1;
	trim(s, &ks, &ke);
	if (check_key(p, s + ks, ke - ks) < 0)
		return -1;
	if (p->c->n >= WW_CONF_MAX_ENTRIES) {
		conf_error(p, "more than %d entries", WW_CONF_MAX_ENTRIES);
		return -1;
	}
	key = xstrndup(s + ks, ke - ks);
	trim(s, &vs, &ve);
	if (unquote_value(p, key, s, &vs, &ve) < 0) {
		free(key);
		return -1;
	}
	e = WW_PUSH(p->c->e, p->c->n, p->c->cap);
	e->key = key;
	e->value = xstrndup(s + vs, ve - vs);
	e->line = p->line;
	return 0;
}

int
ww_conf_parse(struct ww_conf *c, const char *name, const char *buf, size_t len,
	      char *err, size_t errlen)
{
	struct parser p = {c, name, 1, err, errlen};
	size_t pos = 0;

	memset(c, 0, sizeof(*c));
	if (len > WW_CONF_MAX_BYTES) {
		ww_set_err(err, errlen, "%s: file is larger than %d MiB", name,
			   WW_CONF_MAX_BYTES / (1024 * 1024));
		return -1;
	}
	c->path = xstrdup(name);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	for (; pos < len; p.line++) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		size_t n = end - pos;

		if (n > 0 && buf[end - 1] == '\r')
			n--;
		if (check_line(&p, buf + pos, n) < 0 ||
		    parse_line(&p, buf + pos, n) < 0) {
			ww_conf_free(c);
			return -1;
		}
		pos = nl != NULL ? end + 1 : len;
	}
	return 0;
}

int
ww_conf_load(struct ww_conf *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	char *buf;
	size_t len = 0, cap = 4096, n;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	f = ww_open_read(path, &st, err, errlen);
	if (f == NULL)
		return -1;
	/* Read at most one byte past the limit: enough to know it is over,
	 * whatever the file is (a pipe has no size to stat). */
	if (S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uintmax_t)st.st_size < WW_CONF_MAX_BYTES)
		cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			cap = cap * 2 > WW_CONF_MAX_BYTES + 1
				      ? WW_CONF_MAX_BYTES + 1
				      : cap * 2;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > WW_CONF_MAX_BYTES || n == 0)
			break;
	}
	if (ferror(f))
		ww_set_err(err, errlen, "%s: %s", path, strerror(errno));
	else
		ret = ww_conf_parse(c, path, buf, len, err, errlen);
	free(buf);
	fclose(f);
	return ret;
}

void
ww_conf_free(struct ww_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int
ww_conf_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (value == NULL)
		return -1;
	for (size_t i = 0; i < WW_ARRAY_LEN(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}
