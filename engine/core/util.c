/* util.c - see util.h. */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static void
oom(size_t n)
{
	fprintf(stderr, "out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

bool
ww_append_bounded(char **buf, size_t *len, size_t max, const void *data,
		  size_t n)
{
	if (*len > max || n > max - *len)
		return false;
	*buf = xrealloc(*buf, *len + n + 1);
	if (n > 0)
		memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

char *
xstrdup(const char *s)
{
	return s == NULL ? NULL : xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
ww_grow(void **arr, size_t elem_size, size_t len, size_t *cap)
{
	size_t ncap;

	if (len < *cap)
		return;
	/* From one: most record arrays hold one or two, and a job's records
	 * can wait a second for its DNS late window. */
	ncap = *cap ? *cap * 2 : 1;
	if (ncap > SIZE_MAX / elem_size)
		oom(SIZE_MAX);
	*arr = xrealloc(*arr, ncap * elem_size);
	memset((char *)*arr + *cap * elem_size, 0, (ncap - *cap) * elem_size);
	*cap = ncap;
}

void
ww_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
ww_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

FILE *
ww_open_read(const char *path, struct stat *st, char *err, size_t errlen)
{
	struct stat own;
	FILE *f = fopen(path, "rb");
	int e;

	if (st == NULL)
		st = &own;
	if (f == NULL) {
		ww_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), st) < 0)
		e = errno;
	else if (S_ISDIR(st->st_mode))
		e = EISDIR;
	else
		return f;
	ww_set_err(err, errlen, "%s: %s", path, strerror(e));
	fclose(f);
	return NULL;
}

double
ww_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
ww_fmt_utc(time_t t, char out[20])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void
ww_fmt_utc_compact(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void
ww_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
ww_sha256_hex(const void *in, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(in, len, md);
	ww_hex(md, sizeof(md), out);
}

char *
ww_base64(const unsigned char *in, size_t len)
{
	char *out;

	if (len > (size_t)INT_MAX / 2)
		oom(len);
	out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

unsigned char *
ww_base64_decode(const char *s, size_t n, size_t max_in, size_t *out_len)
{
	unsigned char *out;
	unsigned long acc = 0;
	size_t o = 0, bits = 0;

	if (n > max_in || n % 4 != 0)
		return NULL;
	if (n > 0 && s[n - 1] == '=')
		n -= n > 1 && s[n - 2] == '=' ? 2 : 1;
	out = xmalloc(n / 4 * 3 + 3);
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}

double
ww_random_unit(void)
{
	char hex[9];

	ww_random_hex(hex, 4);
	return (double)strtoul(hex, NULL, 16) / 4294967295.0;
}

struct timeval
ww_timeval(double secs)
{
	struct timeval tv;

	if (secs < 0)
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	return tv;
}

void
ww_random_hex(char *out, size_t n_bytes)
{
	unsigned char buf[64];

	if (n_bytes > sizeof(buf) || RAND_bytes(buf, (int)n_bytes) != 1) {
		fprintf(stderr, "CSPRNG failure\n");
		abort();
	}
	ww_hex(buf, n_bytes, out);
}

int
ww_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
ww_parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !(v >= min && v <= max)) /* NaN fails too */
		return -1;
	*out = v;
	return 0;
}

bool
ww_hostname_normalize(char *s)
{
	size_t n = strlen(s), label = 0;

	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_') ||
		    ++label > 63)
			return false;
		if (c >= 'A' && c <= 'Z')
			s[i] = (char)(c - 'A' + 'a');
	}
	return label > 0;
}

size_t
ww_utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c;
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid
	 * (RFC 3629 section 3). */
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

bool
ww_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = ww_utf8_seq_len(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
ww_utf8_sanitize(const char *in, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	char *out = xmalloc(len * 3 + 1), *o = out;
	size_t i = 0;

	while (i < len) {
		size_t n = s[i] != 0 ? ww_utf8_seq_len(s + i, len - i) : 0;

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
			continue;
		}
		memcpy(o, s + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	return xrealloc(out, (size_t)(o - out) + 1);
}

static const char *log_prog = "wallwatch";
static enum ww_log_level log_level = WW_LOG_INFO;

void
ww_log_set_prog(const char *prog)
{
	log_prog = prog;
}

void
ww_log_set_level(enum ww_log_level lvl)
{
	log_level = lvl;
}

void
ww_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", log_prog);
}

int
ww_opt_long(const char *opt, const char *arg, long min, long max, long *out)
{
	if (ww_parse_long(arg, min, max, out) == 0)
		return 0;
	ww_usage_error("bad --%s \"%s\": want a whole number from %ld to %ld",
		       opt, arg, min, max);
	return -1;
}

/*
 * The escaped form of the byte sequence starting at s[0] (len > 0 bytes
 * left) into e (at most 8 bytes + NUL); *used: the bytes it stands for.
 * A control character (C0, DEL, C1) or a byte that starts no valid UTF-8
 * sequence becomes \xHH (\n, \r, \t for the usual three), a backslash
 * "\\", so that the result is one line and reads back unambiguously.
 */
static size_t
escape_one(const unsigned char *s, size_t len, char e[9], size_t *used)
{
	size_t n = ww_utf8_seq_len(s, len);

	*used = n > 0 ? n : 1;
	if (n == 1 && s[0] >= 0x20 && s[0] != 0x7f && s[0] != '\\') {
		e[0] = (char)s[0];
		e[1] = '\0';
		return 1;
	}
	if (n == 1 &&
	    (s[0] == '\n' || s[0] == '\r' || s[0] == '\t' || s[0] == '\\')) {
		e[0] = '\\';
		e[1] = s[0] == '\n'   ? 'n'
		       : s[0] == '\r' ? 'r'
		       : s[0] == '\t' ? 't'
				      : '\\';
		e[2] = '\0';
		return 2;
	}
	/* U+0080..U+009F, the C1 controls (0xc2 0x80..0x9f): some terminals
	 * act on them, as on ESC. */
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
		snprintf(e, 9, "\\x%02x\\x%02x", s[0], s[1]);
		return 8;
	}
	if (n > 1) {
		memcpy(e, s, n);
		e[n] = '\0';
		return n;
	}
	snprintf(e, 9, "\\x%02x", s[0]);
	return 4;
}

const char *
ww_log_escape(const char *s, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, o = 0, used;
	bool fits;
	char e[9];

	if (outlen == 0)
		return out;
	if (s == NULL) {
		snprintf(out, outlen, "(null)");
		return out;
	}
	len = strlen(s);
	/* Whether all of it fits, escaped; if not, room is kept for "...". */
	for (size_t i = 0, k; i < len; i += k)
		o += escape_one(p + i, len - i, e, &k);
	fits = o < outlen;
	o = 0;
	while (len > 0) {
		size_t n = escape_one(p, len, e, &used);

		if (o + n + (fits ? 0 : 3) >= outlen) {
			if (o + 3 < outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, e, n);
		o += n;
		p += used;
		len -= used;
	}
	out[o] = '\0';
	return out;
}

void
ww_log(enum ww_log_level lvl, const char *tag, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	char small[512], *msg = small;
	va_list ap, ap2;
	int n;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small)) {
		msg = xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	va_end(ap);
	if (n < 0)
		n = 0;
	/* One whole line, whichever thread logs; whatever a client put in
	 * the message (a path, a filter, a uid) is escaped, so that it can
	 * never end this line and forge the next. */
	flockfile(stderr);
	fprintf(stderr, "%s: %s: %s: ", log_prog, names[lvl], tag);
	for (size_t i = 0, used; i < (size_t)n; i += used) {
		char e[9];

		escape_one((const unsigned char *)msg + i, (size_t)n - i, e,
			   &used);
		fputs(e, stderr);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
	if (msg != small)
		free(msg);
}

bool
ww_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
ww_read_file(const char *path, size_t max, size_t *len, char *err,
	     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		fclose(f);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%lld bytes, more than %zu",
			 (long long)st.st_size, max);
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "read error");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}
