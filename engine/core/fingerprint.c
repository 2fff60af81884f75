/*
 * fingerprint.c - fingerprint CSV loader and matcher (see fingerprint.h).
 *
 * The CSV reader follows RFC 4180 (quoted fields, doubled quotes, line
 * breaks inside quotes, CRLF or LF) and is strict where RFC 4180 is loose,
 * as the test-list loader is: a quote inside an unquoted field, text after
 * a closing quote and a CR without LF are errors, because a fingerprint
 * that half-parses is a verdict that silently changes. Empty lines are
 * skipped. A file is parsed into a private list and appended only when the
 * whole file is good.
 */
#include "fingerprint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlist.h"
#include "util.h"

#define N_COLS 8
static const char *const col_names[N_COLS] = {
	"name",		"scope",   "location",
	"pattern_type", "pattern", "expected_countries",
	"source",	"notes",
};
enum {
	COL_NAME,
	COL_SCOPE,
	COL_LOC,
	COL_TYPE,
	COL_PATTERN,
	COL_CC,
	COL_SOURCE,
	COL_NOTES
};

#define NAME_MAX_LEN 128
#define HEADER_NAME_MAX 64
#define HOST_MAX_LEN 253

enum fp_type { FP_FULL, FP_PREFIX, FP_CONTAINS };

struct ww_fingerprint {
	char *name;
	char *scope;
	enum ww_fp_location loc;
	char *header; /* WW_FP_HEADER: the lower-case header name */
	enum fp_type type;
	char *pattern; /* WW_FP_DNS names: lower case, no trailing dot */
	size_t pattern_len;
	int family; /* WW_FP_DNS: AF_INET or AF_INET6 for an address, else 0 */
	unsigned char addr[16];
	char *countries; /* "CN IR", or "" for any */
	char *source;
	char *origin; /* "file:line", for duplicate-name messages */
	size_t seq;   /* load order, to tell which duplicate came second */
};

struct ww_fingerprints {
	struct ww_fingerprint **v;
	size_t n, cap;
	size_t next_seq;
};

/* --- errors --------------------------------------------------------------- */

static void set_error(char *err, size_t errlen, const char *name,
		      unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "name:line: message", or "name: message" when line is 0. */
static void
set_error(char *err, size_t errlen, const char *name, unsigned long line,
	  const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%lu: ", name, line);
	else
		n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* --- the set -------------------------------------------------------------- */

static void
fp_free_one(struct ww_fingerprint *f)
{
	if (f == NULL)
		return;
	free(f->name);
	free(f->scope);
	free(f->header);
	free(f->pattern);
	free(f->countries);
	free(f->source);
	free(f->origin);
	free(f);
}

struct ww_fingerprints *
ww_fingerprints_new(void)
{
	return xcalloc(1, sizeof(struct ww_fingerprints));
}

void
ww_fingerprints_free(struct ww_fingerprints *fp)
{
	if (fp == NULL)
		return;
	for (size_t i = 0; i < fp->n; i++)
		fp_free_one(fp->v[i]);
	free(fp->v);
	free(fp);
}

size_t
ww_fingerprints_count(const struct ww_fingerprints *fp)
{
	return fp != NULL ? fp->n : 0;
}

const char *
ww_fingerprint_name(const struct ww_fingerprint *f)
{
	return f->name;
}

enum ww_fp_location
ww_fingerprint_location(const struct ww_fingerprint *f)
{
	return f->loc;
}

bool
ww_fingerprint_expected_in(const struct ww_fingerprint *f, const char *cc)
{
	const char *p = f->countries;

	if (*p == '\0' || cc == NULL || *cc == '\0' || strcmp(cc, "ZZ") == 0)
		return true;
	if (strlen(cc) != 2)
		return false;
	/* countries is validated: two letters, single spaces */
	for (; *p != '\0'; p += p[2] == ' ' ? 3 : 2)
		if (p[0] == cc[0] && p[1] == cc[1])
			return true;
	return false;
}

/* --- CSV reader ----------------------------------------------------------- */

struct csv {
	const char *name;
	const char *p, *end;
	unsigned long line; /* the physical line p is on, 1-based */
	char *err;
	size_t errlen;
	char *fields[N_COLS];
	size_t n_fields;
	char *buf; /* the field being read */
	size_t len, cap;
};

/*
 * Check every physical line before parsing, so that errors name the line
 * and the parser can rely on: no NUL (fields are C strings), lines of at
 * most WW_FP_MAX_LINE bytes, valid UTF-8.
 */
static int
check_lines(struct csv *c)
{
	const char *p = c->p, *nl, *stop;
	unsigned long line = 1;
	size_t n;

	while (p < c->end) {
		nl = memchr(p, '\n', (size_t)(c->end - p));
		stop = nl != NULL ? nl : c->end;
		n = (size_t)(stop - p);
		if (n > 0 && stop[-1] == '\r')
			n--;
		if (n > WW_FP_MAX_LINE) {
			set_error(c->err, c->errlen, c->name, line,
				  "line longer than %d bytes", WW_FP_MAX_LINE);
			return -1;
		}
		if (memchr(p, '\0', n) != NULL) {
			set_error(c->err, c->errlen, c->name, line, "NUL byte");
			return -1;
		}
		if (!ww_utf8_valid((const unsigned char *)p, n)) {
			set_error(c->err, c->errlen, c->name, line,
				  "invalid UTF-8");
			return -1;
		}
		p = stop + (nl != NULL);
		line++;
	}
	return 0;
}

static void
csv_clear_fields(struct csv *c)
{
	for (size_t i = 0; i < c->n_fields; i++) {
		free(c->fields[i]);
		c->fields[i] = NULL;
	}
	c->n_fields = 0;
}

static int
put_byte(struct csv *c, char ch, unsigned long line)
{
	if (c->len >= WW_FP_MAX_FIELD) {
		set_error(c->err, c->errlen, c->name, line,
			  "field longer than %d bytes", WW_FP_MAX_FIELD);
		return -1;
	}
	if (c->len + 1 >= c->cap) {
		c->cap = c->cap ? c->cap * 2 : 128;
		c->buf = xrealloc(c->buf, c->cap);
	}
	c->buf[c->len++] = ch;
	return 0;
}

/* A quoted field; c->p is just after the opening quote. */
static int
read_quoted(struct csv *c)
{
	unsigned long start = c->line;

	for (;;) {
		if (c->p >= c->end) {
			set_error(c->err, c->errlen, c->name, start,
				  "quoted field not closed");
			return -1;
		}
		if (*c->p == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				c->p += 2;
				if (put_byte(c, '"', c->line) != 0)
					return -1;
				continue;
			}
			c->p++;
			break;
		}
		if (*c->p == '\n')
			c->line++;
		if (put_byte(c, *c->p++, c->line) != 0)
			return -1;
	}
	if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
		set_error(c->err, c->errlen, c->name, c->line,
			  "text after a closing quote");
		return -1;
	}
	return 0;
}

static int
read_unquoted(struct csv *c)
{
	while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
	       *c->p != '\r') {
		if (*c->p == '"') {
			set_error(c->err, c->errlen, c->name, c->line,
				  "quote inside an unquoted field");
			return -1;
		}
		if (put_byte(c, *c->p++, c->line) != 0)
			return -1;
	}
	return 0;
}

static int
read_field(struct csv *c, unsigned long rec_line)
{
	int rc;

	if (c->n_fields == N_COLS) {
		set_error(c->err, c->errlen, c->name, rec_line,
			  "more than %d fields", N_COLS);
		return -1;
	}
	c->len = 0;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		rc = read_quoted(c);
	} else {
		rc = read_unquoted(c);
	}
	if (rc != 0)
		return -1;
	c->fields[c->n_fields++] =
		xstrndup(c->buf != NULL ? c->buf : "", c->len);
	return 0;
}

/* Skip empty lines (LF or CRLF alone). */
static void
skip_blank_lines(struct csv *c)
{
	for (;;) {
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
		} else if (c->end - c->p >= 2 && c->p[0] == '\r' &&
			   c->p[1] == '\n') {
			c->p += 2;
		} else {
			return;
		}
		c->line++;
	}
}

/*
 * Read one record into c->fields. Returns 1 at the end of input, 0 with
 * *rec_line set to the line the record starts on, -1 on error.
 */
static int
read_record(struct csv *c, unsigned long *rec_line)
{
	csv_clear_fields(c);
	skip_blank_lines(c);
	if (c->p >= c->end)
		return 1;
	*rec_line = c->line;
	for (;;) {
		if (read_field(c, *rec_line) != 0)
			return -1;
		if (c->p >= c->end)
			return 0;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '\r' && (c->p + 1 >= c->end || c->p[1] != '\n')) {
			set_error(c->err, c->errlen, c->name, c->line,
				  "CR without LF");
			return -1;
		}
		c->p += *c->p == '\r' ? 2 : 1;
		c->line++;
		return 0;
	}
}

/* --- row validation ------------------------------------------------------- */

static bool
is_name_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char((unsigned char)s[i]))
			return false;
	return true;
}

static int
parse_location(struct ww_fingerprint *f, const char *s, const char **why)
{
	size_t n;

	if (strcmp(s, "dns") == 0) {
		f->loc = WW_FP_DNS;
		return 0;
	}
	if (strcmp(s, "body") == 0) {
		f->loc = WW_FP_BODY;
		return 0;
	}
	if (strncmp(s, "header.", 7) != 0) {
		*why = "location must be dns, body or header.<name>";
		return -1;
	}
	s += 7;
	n = strlen(s);
	if (n == 0 || n > HEADER_NAME_MAX) {
		*why = "bad header name in location";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'A' && ch <= 'Z') {
			*why = "header name in location must be lower case";
			return -1;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_')) {
			*why = "bad header name in location";
			return -1;
		}
	}
	f->loc = WW_FP_HEADER;
	f->header = xstrdup(s);
	return 0;
}

static int
parse_type(struct ww_fingerprint *f, const char *s, const char **why)
{
	if (strcmp(s, "full") == 0)
		f->type = FP_FULL;
	else if (strcmp(s, "prefix") == 0)
		f->type = FP_PREFIX;
	else if (strcmp(s, "contains") == 0)
		f->type = FP_CONTAINS;
	else if (strcmp(s, "regexp") == 0)
		*why = "pattern_type regexp is not supported (use full, "
		       "prefix or contains)";
	else
		*why = "pattern_type must be full, prefix or contains";
	return *why != NULL ? -1 : 0;
}

static int
parse_pattern(struct ww_fingerprint *f, const char *s, const char **why)
{
	f->pattern = xstrdup(s);
	f->pattern_len = strlen(s);
	if (f->pattern_len == 0) {
		*why = "empty pattern";
		return -1;
	}
	if (f->loc == WW_FP_BODY && f->pattern_len < WW_FP_MIN_BODY_PATTERN) {
		*why = "body pattern shorter than 4 bytes";
		return -1;
	}
	if (f->loc != WW_FP_DNS)
		return 0;
	if (f->type != FP_FULL) {
		*why = "a dns fingerprint must have pattern_type full";
		return -1;
	}
	if (inet_pton(AF_INET, s, f->addr) == 1) {
		f->family = AF_INET;
	} else if (inet_pton(AF_INET6, s, f->addr) == 1) {
		f->family = AF_INET6;
	} else if (!ww_hostname_normalize(f->pattern)) {
		*why = "dns pattern is neither an IP address nor a host name";
		return -1;
	}
	f->pattern_len = strlen(f->pattern);
	return 0;
}

/* Space-separated two-letter upper-case codes, or empty. */
static int
parse_countries(struct ww_fingerprint *f, const char *s, const char **why)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i += 3) {
		if (i + 2 > n || s[i] < 'A' || s[i] > 'Z' || s[i + 1] < 'A' ||
		    s[i + 1] > 'Z' || (i + 2 < n && s[i + 2] != ' ') ||
		    i + 3 == n) {
			*why = "expected_countries must be space-separated "
			       "upper-case two-letter codes";
			return -1;
		}
	}
	f->countries = xstrdup(s);
	return 0;
}

static bool
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* Build a fingerprint from a record; NULL with *why set when it is bad. */
static struct ww_fingerprint *
parse_row(char **fld, const char **why)
{
	struct ww_fingerprint *f = xcalloc(1, sizeof(*f));
	const char *scope = fld[COL_SCOPE];

	*why = NULL;
	if (!valid_name(fld[COL_NAME]))
		*why = "name must be 1-128 letters, digits, '.', '_' or '-'";
	else if (strcmp(scope, "nat") != 0 && strcmp(scope, "isp") != 0 &&
		 strcmp(scope, "prod") != 0 && strcmp(scope, "inst") != 0)
		*why = "scope must be nat, isp, prod or inst";
	else if (parse_location(f, fld[COL_LOC], why) != 0 ||
		 parse_type(f, fld[COL_TYPE], why) != 0 ||
		 parse_pattern(f, fld[COL_PATTERN], why) != 0 ||
		 parse_countries(f, fld[COL_CC], why) != 0)
		; /* *why is set */
	else if (blank(fld[COL_SOURCE]))
		*why = "source is required (a URL or a citation)";
	if (*why != NULL) {
		fp_free_one(f);
		return NULL;
	}
	f->name = xstrdup(fld[COL_NAME]);
	f->scope = xstrdup(scope);
	f->source = xstrdup(fld[COL_SOURCE]);
	return f;
}

/* --- loading -------------------------------------------------------------- */

enum expect { EXPECT_ANY, EXPECT_DNS, EXPECT_HTTP };

static int
check_header(struct csv *c)
{
	unsigned long line = 0;
	int rc = read_record(c, &line);
	bool ok = rc == 0 && c->n_fields == N_COLS;

	if (rc < 0)
		return -1;
	for (size_t i = 0; ok && i < N_COLS; i++)
		ok = strcmp(c->fields[i], col_names[i]) == 0;
	if (!ok) {
		set_error(c->err, c->errlen, c->name, rc == 1 ? 0 : line,
			  "%s: the header must be exactly "
			  "name,scope,location,pattern_type,pattern,"
			  "expected_countries,source,notes",
			  rc == 1 ? "empty file" : "bad header");
		return -1;
	}
	return 0;
}

static int
check_kind(struct csv *c, const struct ww_fingerprint *f, enum expect exp,
	   unsigned long line)
{
	if (exp == EXPECT_DNS && f->loc != WW_FP_DNS) {
		set_error(c->err, c->errlen, c->name, line,
			  "not a dns fingerprint (this file holds only dns "
			  "rows)");
		return -1;
	}
	if (exp == EXPECT_HTTP && f->loc == WW_FP_DNS) {
		set_error(c->err, c->errlen, c->name, line,
			  "a dns fingerprint (this file holds only body and "
			  "header rows)");
		return -1;
	}
	return 0;
}

static int
cmp_by_name(const void *a, const void *b)
{
	const struct ww_fingerprint *x =
		*(const struct ww_fingerprint *const *)a;
	const struct ww_fingerprint *y =
		*(const struct ww_fingerprint *const *)b;
	int r = strcmp(x->name, y->name);

	if (r != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Names must be unique across the set: sort every name (old and new) and
 * report the earliest-loaded second occurrence. O(n log n), so a big set
 * stays cheap to extend.
 */
static int
check_duplicates(const struct ww_fingerprints *fp, struct ww_fingerprint **add,
		 size_t n_add, char *err, size_t errlen)
{
	size_t n = fp->n + n_add;
	struct ww_fingerprint **all, *dup = NULL, *first = NULL;

	if (n_add == 0)
		return 0;
	all = xmalloc(n * sizeof(*all));
	if (fp->n > 0)
		memcpy(all, fp->v, fp->n * sizeof(*all));
	memcpy(all + fp->n, add, n_add * sizeof(*all));
	qsort(all, n, sizeof(*all), cmp_by_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(all[i - 1]->name, all[i]->name) == 0 &&
		    (dup == NULL || all[i]->seq < dup->seq)) {
			dup = all[i];
			first = all[i - 1];
		}
	if (dup != NULL && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: duplicate name \"%s\" (also at %s)",
			 dup->origin, dup->name, first->origin);
	free(all);
	return dup != NULL ? -1 : 0;
}

static void
free_list(struct ww_fingerprint **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fp_free_one(v[i]);
	free(v);
}

/* Parse every row after the header into a new list. */
static int
read_rows(struct csv *c, struct ww_fingerprints *fp, enum expect exp,
	  struct ww_fingerprint ***out, size_t *n_out)
{
	struct ww_fingerprint **v = NULL, *f;
	size_t n = 0, cap = 0;
	unsigned long line = 0;
	const char *why;
	int rc;

	while ((rc = read_record(c, &line)) == 0) {
		if (n == WW_FP_MAX_ROWS) {
			set_error(c->err, c->errlen, c->name, line,
				  "more than %d rows", WW_FP_MAX_ROWS);
			goto fail;
		}
		if (c->n_fields != N_COLS) {
			set_error(c->err, c->errlen, c->name, line,
				  "expected %d fields, got %zu", N_COLS,
				  c->n_fields);
			goto fail;
		}
		f = parse_row(c->fields, &why);
		if (f == NULL) {
			set_error(c->err, c->errlen, c->name, line, "%s", why);
			goto fail;
		}
		f->origin = xasprintf("%s:%lu", c->name, line);
		f->seq = fp->next_seq + n;
		*WW_PUSH(v, n, cap) = f;
		if (check_kind(c, f, exp, line) != 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	*out = v;
	*n_out = n;
	return 0;
fail:
	free_list(v, n);
	return -1;
}

static int
load_buf(struct ww_fingerprints *fp, const char *name, const char *buf,
	 size_t len, enum expect exp, char *err, size_t errlen)
{
	struct csv c = {.name = name,
			.p = buf,
			.end = buf + len,
			.line = 1,
			.err = err,
			.errlen = errlen};
	struct ww_fingerprint **v = NULL;
	size_t n = 0;
	int rc = -1;

	if (len > WW_FP_MAX_BYTES) {
		set_error(err, errlen, name, 0, "larger than %u bytes",
			  WW_FP_MAX_BYTES);
		return -1;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
	if (check_lines(&c) != 0 || check_header(&c) != 0 ||
	    read_rows(&c, fp, exp, &v, &n) != 0)
		goto done;
	if (fp->n + n > WW_FP_MAX_TOTAL) {
		set_error(err, errlen, name, 0,
			  "too many fingerprints (more than %d in all)",
			  WW_FP_MAX_TOTAL);
		free_list(v, n);
		goto done;
	}
	if (check_duplicates(fp, v, n, err, errlen) != 0) {
		free_list(v, n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		*WW_PUSH(fp->v, fp->n, fp->cap) = v[i];
	fp->next_seq += n;
	free(v);
	rc = 0;
done:
	csv_clear_fields(&c);
	free(c.buf);
	return rc;
}

int
ww_fingerprints_load_buf(struct ww_fingerprints *fp, const char *name,
			 const char *buf, size_t len, char *err, size_t errlen)
{
	return load_buf(fp, name, buf, len, EXPECT_ANY, err, errlen);
}

/* Read a whole regular file of at most WW_FP_MAX_BYTES. *missing is set
 * when it does not exist (so that load_dir can skip it). */
static char *
read_file(const char *path, size_t *len, bool *missing, char *err,
	  size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		set_error(err, errlen, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_error(err, errlen, path, 0, "not a regular file");
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > WW_FP_MAX_BYTES) {
		set_error(err, errlen, path, 0, "larger than %u bytes",
			  WW_FP_MAX_BYTES);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	       ((r = read(fd, buf + got, (size_t)st.st_size - got)) > 0 ||
		(r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	close(fd);
	if (got != (size_t)st.st_size) {
		set_error(err, errlen, path, 0, "short read");
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

static int
load_file(struct ww_fingerprints *fp, const char *path, enum expect exp,
	  bool optional, char *err, size_t errlen)
{
	size_t len = 0;
	bool missing;
	char *buf = read_file(path, &len, &missing, err, errlen);
	int rc;

	if (buf == NULL)
		return optional && missing ? 0 : -1;
	rc = load_buf(fp, path, buf, len, exp, err, errlen);
	free(buf);
	return rc;
}

int
ww_fingerprints_load_file(struct ww_fingerprints *fp, const char *path,
			  char *err, size_t errlen)
{
	return load_file(fp, path, EXPECT_ANY, false, err, errlen);
}

int
ww_fingerprints_load_dir(struct ww_fingerprints *fp, const char *dir, char *err,
			 size_t errlen)
{
	struct stat st;
	char *path;
	int rc;

	if (stat(dir, &st) != 0) {
		set_error(err, errlen, dir, 0, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_error(err, errlen, dir, 0, "not a directory");
		return -1;
	}
	path = xasprintf("%s/dns.csv", dir);
	rc = load_file(fp, path, EXPECT_DNS, true, err, errlen);
	free(path);
	if (rc != 0)
		return -1;
	path = xasprintf("%s/http.csv", dir);
	rc = load_file(fp, path, EXPECT_HTTP, true, err, errlen);
	free(path);
	return rc;
}

/* --- matching ------------------------------------------------------------- */

/* memmem is a GNU extension; this is the plain loop. */
static bool
contains(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *p = hay, *end = hay + n;

	if (m == 0)
		return true;
	while (m <= (size_t)(end - p) &&
	       (p = memchr(p, needle[0], (size_t)(end - p) - m + 1)) != NULL) {
		if (memcmp(p, needle, m) == 0)
			return true;
		p++;
	}
	return false;
}

static bool
match_text(const struct ww_fingerprint *f, const char *s, size_t n,
	   bool complete)
{
	switch (f->type) {
	case FP_FULL:
		return complete && n == f->pattern_len &&
		       memcmp(s, f->pattern, n) == 0;
	case FP_PREFIX:
		return n >= f->pattern_len &&
		       memcmp(s, f->pattern, f->pattern_len) == 0;
	case FP_CONTAINS:
		return contains(s, n, f->pattern, f->pattern_len);
	}
	return false;
}

size_t
ww_fingerprints_match_dns(const struct ww_fingerprints *fp, const char *answer,
			  const struct ww_fingerprint **out, size_t max)
{
	unsigned char a[16];
	int family = 0;
	char host[HOST_MAX_LEN + 2];
	size_t k = 0;

	if (fp == NULL || answer == NULL)
		return 0;
	if (inet_pton(AF_INET, answer, a) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, answer, a) == 1) {
		family = AF_INET6;
	} else {
		if (strlen(answer) >= sizeof(host))
			return 0;
		memcpy(host, answer, strlen(answer) + 1);
		if (!ww_hostname_normalize(host))
			return 0;
	}
	for (size_t i = 0; i < fp->n && k < max; i++) {
		const struct ww_fingerprint *f = fp->v[i];

		if (f->loc != WW_FP_DNS || f->family != family)
			continue;
		if (family != 0 ? memcmp(a, f->addr,
					 family == AF_INET ? 4 : 16) == 0
				: strcmp(host, f->pattern) == 0)
			out[k++] = f;
	}
	return k;
}

size_t
ww_fingerprints_match_body(const struct ww_fingerprints *fp, const char *body,
			   size_t len, bool complete,
			   const struct ww_fingerprint **out, size_t max)
{
	size_t k = 0;

	if (fp == NULL || body == NULL)
		return 0;
	for (size_t i = 0; i < fp->n && k < max; i++)
		if (fp->v[i]->loc == WW_FP_BODY &&
		    match_text(fp->v[i], body, len, complete))
			out[k++] = fp->v[i];
	return k;
}

size_t
ww_fingerprints_match_header(const struct ww_fingerprints *fp, const char *name,
			     const char *value,
			     const struct ww_fingerprint **out, size_t max)
{
	size_t k = 0;

	if (fp == NULL || name == NULL || value == NULL)
		return 0;
	for (size_t i = 0; i < fp->n && k < max; i++) {
		const struct ww_fingerprint *f = fp->v[i];

		if (f->loc == WW_FP_HEADER &&
		    strcasecmp(name, f->header) == 0 &&
		    match_text(f, value, strlen(value), true))
			out[k++] = f;
	}
	return k;
}

struct ww_fingerprints *
ww_fingerprints_load_default(const char *dir, char *err, size_t errlen)
{
	struct ww_fingerprints *fp = ww_fingerprints_new();
	char *lists = NULL, *path = NULL;
	struct stat st;

	if (dir == NULL) {
		lists = ww_testlist_default_dir();
		if (lists == NULL)
			return fp;
		path = xasprintf("%s/fingerprints", lists);
		free(lists);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
			free(path);
			return fp;
		}
		dir = path;
	}
	if (ww_fingerprints_load_dir(fp, dir, err, errlen) != 0) {
		ww_fingerprints_free(fp);
		fp = NULL;
	}
	free(path);
	return fp;
}
