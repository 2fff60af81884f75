/*
 * testlist.c - Citizen Lab test-list loader (see testlist.h).
 *
 * The CSV reader follows RFC 4180: fields may be quoted, a quote inside a
 * quoted field is doubled, quoted fields may hold commas and line breaks,
 * records end in CRLF or LF. Where RFC 4180 is loose we are strict, because
 * a list that half-parses is a list whose rows silently vanish: a quote in
 * an unquoted field, text after a closing quote and a CR without LF are all
 * errors. Empty lines are not records and are skipped wherever they are.
 *
 * A file is parsed into a private list and merged into the caller's only
 * when the whole file is good, so an error leaves the caller's list as it
 * was and no row of a broken file is ever measured.
 */
#include "testlist.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define N_COLUMNS 6
static const char *const columns[N_COLUMNS] = {
	"url",	      "category_code", "category_description",
	"date_added", "source",	       "notes",
};
static const char header_text[] =
	"url,category_code,category_description,date_added,source,notes";

enum { COL_URL, COL_CATEGORY, COL_DESCRIPTION, COL_DATE, COL_SOURCE };

/* How much of a field an error message quotes (the rest becomes "..."). */
#define QUOTE_MAX 100

/*
 * Quote s for an error message: printable, so that a control character or
 * a line break in a bad field cannot garble a log line, and short. Bytes of
 * a string that is not UTF-8 (only --input can be) are escaped too.
 */
static void
quote_field(const char *s, char *out, size_t outlen)
{
	bool utf8 = ww_utf8_valid((const unsigned char *)s, strlen(s));
	size_t o = 0, i, k;

	for (i = 0; s[i] != '\0' && i < QUOTE_MAX && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
					      c);
		} else if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else {
			out[o++] = (char)c;
		}
	}
	if (s[i] != '\0') {
		/* do not cut a UTF-8 sequence in half: find where the last
		 * one starts and drop it if it is short of bytes */
		k = o;
		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && (unsigned char)out[k - 1] >= 0xc0) {
			unsigned char lead = (unsigned char)out[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (o - (k - 1) < need)
				o = k - 1;
		}
		if (o + 4 > outlen)
			o = outlen > 4 ? outlen - 4 : 0;
		if (outlen >= 4) {
			memcpy(out + o, "...", 3);
			o += 3;
		}
	}
	out[o] = '\0';
}

/* --- CSV reader -------------------------------------------------------- */

struct csv {
	const char *name;
	const char *p, *end;
	unsigned long line;  /* physical line p is on, 1-based */
	const char *checked; /* lines before this one passed check_line() */
	char *buf;	     /* the current row's fields, each NUL-ended */
	size_t len, cap;
	size_t *fields; /* start of each field in buf */
	size_t n_fields, cap_fields;
	char *err;
	size_t errlen;
};

static void csv_error(struct csv *c, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
csv_error(struct csv *c, unsigned long line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s:%lu: ", c->name, line);
	if (n < 0 || (size_t)n >= c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * Check the physical line starting at c->p, once, when the reader first
 * reaches it, so that errors come out in file order: no NUL (C strings
 * would cut the field), at most WW_TESTLIST_MAX_LINE bytes without its line
 * ending, valid UTF-8.
 */
static int
check_line(struct csv *c)
{
	const char *nl, *stop;
	size_t n;

	if (c->p < c->checked || c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	stop = nl != NULL ? nl : c->end;
	c->checked = nl != NULL ? nl + 1 : c->end;
	n = (size_t)(stop - c->p);
	if (n > 0 && stop[-1] == '\r')
		n--;
	if (n > WW_TESTLIST_MAX_LINE) {
		csv_error(c, c->line, "line longer than %d bytes",
			  WW_TESTLIST_MAX_LINE);
		return -1;
	}
	if (memchr(c->p, '\0', (size_t)(stop - c->p)) != NULL) {
		csv_error(c, c->line, "NUL byte");
		return -1;
	}
	if (!ww_utf8_valid((const unsigned char *)c->p, n)) {
		csv_error(c, c->line, "invalid UTF-8");
		return -1;
	}
	return 0;
}

/* Step over the '\n' at c->p onto the next line, and check that line. */
static int
next_line(struct csv *c)
{
	c->p++;
	c->line++;
	return check_line(c);
}

static void
put_byte(struct csv *c, char ch)
{
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->buf = xrealloc(c->buf, c->cap);
	}
	c->buf[c->len++] = ch;
}

static void
start_field(struct csv *c)
{
	*WW_PUSH(c->fields, c->n_fields, c->cap_fields) = c->len;
}

/*
 * At a line ending? Consumes it. A CR must come with its LF: a lone CR is a
 * classic-Mac line end that we would otherwise read as part of a field.
 */
static int
at_line_end(struct csv *c, unsigned long row_line, bool *eol)
{
	*eol = false;
	if (*c->p == '\n') {
		*eol = true;
		return next_line(c);
	}
	if (*c->p == '\r') {
		if (c->p + 1 < c->end && c->p[1] == '\n') {
			c->p++;
			*eol = true;
			return next_line(c);
		}
		csv_error(c, row_line,
			  "carriage return not followed by line feed");
		return -1;
	}
	return 0;
}

/* A quoted field; c->p is on the opening quote. */
static int
quoted_field(struct csv *c, unsigned long row_line)
{
	c->p++;
	for (;;) {
		if (c->p == c->end) {
			csv_error(c, row_line, "unterminated quoted field");
			return -1;
		}
		if (*c->p == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				put_byte(c, '"');
				c->p += 2;
				continue;
			}
			c->p++;
			return 0;
		}
		put_byte(c, *c->p);
		if (*c->p == '\n') {
			if (next_line(c) < 0)
				return -1;
		} else {
			c->p++;
		}
	}
}

/*
 * Read the next record into c->buf/c->fields. Returns 1 with *row_line set
 * to the physical line it starts on, 0 at the end of the input, -1 on error.
 */
static int
csv_next_row(struct csv *c, unsigned long *row_line)
{
	bool eol = false;

	c->len = 0;
	c->n_fields = 0;
	/* empty lines are not records */
	for (;;) {
		if (c->p == c->end)
			return 0;
		if (at_line_end(c, c->line, &eol) < 0)
			return -1;
		if (!eol)
			break;
	}
	*row_line = c->line;
	for (;;) {
		start_field(c);
		if (c->p < c->end && *c->p == '"') {
			if (quoted_field(c, *row_line) < 0)
				return -1;
			if (c->p < c->end && *c->p != ',' && *c->p != '\r' &&
			    *c->p != '\n') {
				csv_error(c, *row_line,
					  "text after closing quote");
				return -1;
			}
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\r' &&
			       *c->p != '\n') {
				if (*c->p == '"') {
					csv_error(
						c, *row_line,
						"quote inside unquoted "
						"field (quote the whole "
						"field and double the quote)");
					return -1;
				}
				put_byte(c, *c->p++);
			}
		}
		put_byte(c, '\0');
		if (c->p == c->end)
			return 1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (at_line_end(c, *row_line, &eol) < 0)
			return -1;
		return 1;
	}
}

static const char *
field(const struct csv *c, size_t i)
{
	return c->buf + c->fields[i];
}

/* --- row checks -------------------------------------------------------- */

static bool
valid_category(const char *s, size_t n)
{
	if (n < 2 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static bool
is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* YYYY-MM-DD naming a day of the proleptic Gregorian calendar. */
static bool
valid_date(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, m, d, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !is_digits(s, 4) ||
	    !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
		return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

/* --- duplicates -------------------------------------------------------- */

/*
 * Open-addressing set of the inputs in the caller's list and the file's
 * rows so far, so that a 100000-row file costs no 10^10 comparisons. Slots
 * hold 1 + an index into the caller's targets followed by the new ones.
 */
struct loader {
	const struct ww_testlist *l; /* the caller's; read only until merge */
	struct ww_testlist tmp;	     /* this file's rows */
	size_t *slots;
	size_t mask;
	char **notes; /* duplicate notices, sent only if the file is good */
	size_t n_notes, cap_notes;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

static const struct ww_target *
loader_target(const struct loader *ld, size_t i)
{
	if (i < ld->l->n)
		return &ld->l->targets[i];
	return &ld->tmp.targets[i - ld->l->n];
}

/*
 * Find input in the set. Returns the target holding it, or NULL and the
 * empty slot where it belongs in *slot.
 */
static const struct ww_target *
loader_find(const struct loader *ld, const char *input, size_t *slot)
{
	size_t i = (size_t)hash_str(input) & ld->mask;

	while (ld->slots[i] != 0) {
		const struct ww_target *t = loader_target(ld, ld->slots[i] - 1);

		if (strcmp(t->input, input) == 0)
			return t;
		i = (i + 1) & ld->mask;
	}
	*slot = i;
	return NULL;
}

/* max_new bounds the rows to come, so the set never needs to grow. */
static void
loader_init(struct loader *ld, const struct ww_testlist *l, size_t max_new)
{
	size_t want = 2 * (l->n + max_new) + 1, n = 16, slot = 0;

	memset(ld, 0, sizeof(*ld));
	ld->l = l;
	while (n < want)
		n *= 2;
	ld->slots = xcalloc(n, sizeof(*ld->slots));
	ld->mask = n - 1;
	for (size_t i = 0; i < l->n; i++) {
		/* the caller's list may hold duplicates of its own (filled
		 * by hand); the first one is the one we point at */
		if (loader_find(ld, l->targets[i].input, &slot) == NULL)
			ld->slots[slot] = i + 1;
	}
}

static void
loader_free(struct loader *ld)
{
	ww_testlist_free(&ld->tmp);
	free(ld->slots);
	for (size_t i = 0; i < ld->n_notes; i++)
		free(ld->notes[i]);
	free(ld->notes);
}

/* Move the file's rows into the caller's list and send the notices. */
static void
loader_commit(struct loader *ld, struct ww_testlist *l,
	      void (*notice)(const char *msg))
{
	for (size_t i = 0; i < ld->tmp.n; i++)
		*WW_PUSH(l->targets, l->n, l->cap) = ld->tmp.targets[i];
	l->n_duplicates += ld->tmp.n_duplicates;
	free(ld->tmp.targets);
	memset(&ld->tmp, 0, sizeof(ld->tmp));
	for (size_t i = 0; i < ld->n_notes; i++)
		if (notice != NULL)
			notice(ld->notes[i]);
}

/* --- loading ----------------------------------------------------------- */

static int
check_header(struct csv *c, unsigned long line)
{
	char got[WW_TESTLIST_MAX_LINE + 1];
	char quoted[4 * QUOTE_MAX + 8];
	size_t o = 0;
	bool same = c->n_fields == N_COLUMNS;

	for (size_t i = 0; same && i < N_COLUMNS; i++)
		same = strcmp(field(c, i), columns[i]) == 0;
	if (same)
		return 0;
	for (size_t i = 0; i < c->n_fields && o < sizeof(got) - 1; i++) {
		int n = snprintf(got + o, sizeof(got) - o, "%s%s",
				 i > 0 ? "," : "", field(c, i));

		if (n < 0)
			break;
		o += (size_t)n;
	}
	got[sizeof(got) - 1] = '\0';
	quote_field(got, quoted, sizeof(quoted));
	csv_error(c, line, "header is \"%s\", expected \"%s\"", quoted,
		  header_text);
	return -1;
}

static int
take_row(struct csv *c, struct loader *ld, unsigned long line)
{
	char quoted[4 * QUOTE_MAX + 8];
	char why[256];
	const char *url, *code;
	const struct ww_target *dup;
	struct ww_target t;
	size_t slot = 0;

	if (c->n_fields != N_COLUMNS) {
		csv_error(c, line, "row has %zu field%s, expected %d",
			  c->n_fields, c->n_fields == 1 ? "" : "s", N_COLUMNS);
		return -1;
	}
	url = field(c, COL_URL);
	code = field(c, COL_CATEGORY);
	if (ww_target_parse(url, &t, why, sizeof(why)) < 0) {
		quote_field(url, quoted, sizeof(quoted));
		csv_error(c, line, "bad url \"%s\": %s", quoted, why);
		return -1;
	}
	/* A list comes from elsewhere: it must not make the probe read a
	 * file of its host (and send what it computed from it). */
	if (t.key_file != NULL) {
		quote_field(url, quoted, sizeof(quoted));
		csv_error(c, line,
			  "bad url \"%s\": key= names a file on this machine; "
			  "a test list may not (give the key with --input or "
			  "the probe's key options)",
			  quoted);
		goto fail;
	}
	if (!valid_category(code, strlen(code))) {
		quote_field(code, quoted, sizeof(quoted));
		csv_error(c, line,
			  "bad category_code \"%s\" (want 2-10 upper-case "
			  "letters or digits)",
			  quoted);
		goto fail;
	}
	if (!valid_date(field(c, COL_DATE))) {
		quote_field(field(c, COL_DATE), quoted, sizeof(quoted));
		csv_error(c, line,
			  "bad date_added \"%s\" (want a real date as "
			  "YYYY-MM-DD)",
			  quoted);
		goto fail;
	}
	dup = loader_find(ld, t.input, &slot);
	if (dup != NULL) {
		ld->tmp.n_duplicates++;
		*WW_PUSH(ld->notes, ld->n_notes, ld->cap_notes) =
			xasprintf("%s:%lu: duplicate of %s", c->name, line,
				  dup->source != NULL ? dup->source : "?");
		ww_target_clear(&t);
		return 0;
	}
	t.category_code = xstrdup(code);
	t.source = xasprintf("%s:%lu", c->name, line);
	*WW_PUSH(ld->tmp.targets, ld->tmp.n, ld->tmp.cap) = t;
	ld->slots[slot] = ld->l->n + ld->tmp.n;
	return 0;
fail:
	ww_target_clear(&t);
	return -1;
}

/* An upper bound on the rows in buf: one per line ending, plus one. */
static size_t
max_rows(const char *buf, size_t len)
{
	size_t n = 1;
	const char *p = buf, *end = buf + len, *nl;

	while (n <= WW_TESTLIST_MAX_ROWS &&
	       (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p = nl + 1;
	}
	return n;
}

int
ww_testlist_load_buf(struct ww_testlist *l, const char *name, const char *buf,
		     size_t len, char *err, size_t errlen,
		     void (*notice)(const char *msg))
{
	struct csv c;
	struct loader ld;
	unsigned long line = 0;
	size_t rows = 0;
	int r, ret = -1;

	memset(&c, 0, sizeof(c));
	memset(&ld, 0, sizeof(ld));
	if (len > WW_TESTLIST_MAX_BYTES) {
		snprintf(err, errlen, "%s: file is larger than %u MiB", name,
			 WW_TESTLIST_MAX_BYTES / (1024 * 1024));
		return -1;
	}
	c.name = name;
	c.p = buf;
	c.end = buf + len;
	c.line = 1;
	c.checked = c.p;
	c.err = err;
	c.errlen = errlen;
	/* Excel and Notepad write a UTF-8 byte order mark */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		c.p += 3;
		c.checked = c.p;
	}
	if (check_line(&c) < 0)
		goto done;
	r = csv_next_row(&c, &line);
	if (r < 0)
		goto done;
	if (r == 0) {
		snprintf(err, errlen, "%s: empty file, expected a header",
			 name);
		goto done;
	}
	if (check_header(&c, line) < 0)
		goto done;

	loader_init(&ld, l, max_rows(c.p, (size_t)(c.end - c.p)));
	while ((r = csv_next_row(&c, &line)) == 1) {
		if (++rows > WW_TESTLIST_MAX_ROWS) {
			csv_error(&c, line, "more than %d rows",
				  WW_TESTLIST_MAX_ROWS);
			goto done;
		}
		if (take_row(&c, &ld, line) < 0)
			goto done;
	}
	if (r < 0)
		goto done;
	loader_commit(&ld, l, notice);
	ret = 0;
done:
	loader_free(&ld);
	free(c.buf);
	free(c.fields);
	return ret;
}

int
ww_testlist_load(struct ww_testlist *l, const char *path, char *err,
		 size_t errlen, void (*notice)(const char *msg))
{
	struct stat st;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int ret = -1;

	f = ww_open_read(path, &st, err, errlen);
	if (f == NULL)
		return -1;
	/* Read at most one byte past the limit: enough to know it is over,
	 * whatever the file is (a pipe has no size to stat). */
	cap = 64 * 1024;
	if (S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uintmax_t)st.st_size < WW_TESTLIST_MAX_BYTES)
		cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			if (cap > WW_TESTLIST_MAX_BYTES + 1)
				cap = WW_TESTLIST_MAX_BYTES + 1;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > WW_TESTLIST_MAX_BYTES) {
			snprintf(err, errlen, "%s: file is larger than %u MiB",
				 path, WW_TESTLIST_MAX_BYTES / (1024 * 1024));
			goto done;
		}
		if (n == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: %s", path,
					 strerror(errno));
				goto done;
			}
			break;
		}
	}
	ret = ww_testlist_load_buf(l, path, buf, len, err, errlen, notice);
done:
	free(buf);
	fclose(f);
	return ret;
}

int
ww_testlist_add_input(struct ww_testlist *l, const char *input, char *err,
		      size_t errlen)
{
	char quoted[4 * QUOTE_MAX + 8];
	char why[256];
	struct ww_target t;

	if (ww_target_parse(input, &t, why, sizeof(why)) < 0) {
		quote_field(input != NULL ? input : "", quoted, sizeof(quoted));
		snprintf(err, errlen, "--input: bad url \"%s\": %s", quoted,
			 why);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->targets[i].input, t.input) == 0) {
			l->n_duplicates++;
			ww_target_clear(&t);
			return 0;
		}
	}
	t.source = xstrdup("--input");
	*WW_PUSH(l->targets, l->n, l->cap) = t;
	return 0;
}

/* --- categories -------------------------------------------------------- */

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Next item of a comma-separated list, blanks around it trimmed: *s is
 * moved past it. Returns false at the end of the list.
 */
static bool
next_item(const char **s, const char **item, size_t *n, bool *more)
{
	const char *p = *s, *e;

	if (p == NULL)
		return false;
	e = p + strcspn(p, ",");
	*more = *e == ',';
	*s = *more ? e + 1 : NULL;
	while (p < e && is_blank(*p))
		p++;
	while (e > p && is_blank(e[-1]))
		e--;
	*item = p;
	*n = (size_t)(e - p);
	return true;
}

static bool
in_list(const char *list, const char *code)
{
	const char *s = list, *item;
	size_t n;
	bool more;

	while (next_item(&s, &item, &n, &more))
		if (n == strlen(code) && n > 0 &&
		    strncasecmp(item, code, n) == 0)
			return true;
	return false;
}

size_t
ww_testlist_filter(struct ww_testlist *l, const char *include,
		   const char *exclude)
{
	size_t kept = 0, removed = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct ww_target *t = &l->targets[i];
		bool keep = true;

		if (t->category_code != NULL) {
			if (include != NULL &&
			    !in_list(include, t->category_code))
				keep = false;
			if (exclude != NULL &&
			    in_list(exclude, t->category_code))
				keep = false;
		}
		if (!keep) {
			ww_target_clear(t);
			removed++;
			continue;
		}
		if (kept != i)
			l->targets[kept] = *t;
		kept++;
	}
	/* the tail now holds stale copies of moved targets; forget them */
	if (kept < l->n)
		memset(&l->targets[kept], 0,
		       (l->n - kept) * sizeof(*l->targets));
	l->n = kept;
	return removed;
}

int
ww_testlist_check_categories(const char *list, char *err, size_t errlen)
{
	char quoted[4 * QUOTE_MAX + 8];
	char code[16];
	const char *s = list, *item;
	size_t n;
	bool more;

	if (list == NULL || list[strspn(list, " \t")] == '\0') {
		snprintf(err, errlen, "empty category list");
		return -1;
	}
	while (next_item(&s, &item, &n, &more)) {
		if (n == 0) {
			quote_field(list, quoted, sizeof(quoted));
			snprintf(err, errlen,
				 "empty item in category list "
				 "\"%s\"",
				 quoted);
			return -1;
		}
		snprintf(code, sizeof(code), "%.*s", n > 11 ? 11 : (int)n,
			 item);
		for (char *p = code; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		if (n > 10 || !valid_category(code, n)) {
			char one[64];

			snprintf(one, sizeof(one), "%.*s", n > 40 ? 40 : (int)n,
				 item);
			quote_field(one, quoted, sizeof(quoted));
			snprintf(err, errlen,
				 "bad category code \"%s\" (want 2-10 "
				 "letters or digits)",
				 quoted);
			return -1;
		}
	}
	return 0;
}

void
ww_testlist_free(struct ww_testlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		ww_target_clear(&l->targets[i]);
	free(l->targets);
	memset(l, 0, sizeof(*l));
}

/* --- where the bundled lists are ---------------------------------------- */

/* The first readable directory of a NULL-terminated list; caller frees. */
static char *
first_dir(char **dirs)
{
	char *found = NULL;

	for (size_t i = 0; dirs[i] != NULL; i++) {
		if (found == NULL && access(dirs[i], R_OK) == 0)
			found = dirs[i];
		else
			free(dirs[i]);
	}
	return found;
}

/*
 * Where the bundled lists are: WALLWATCH_TESTLISTS; beside the binary as
 * installed (BINDIR/../share/wallwatch/testlists, whatever PREFIX was);
 * the data directory compiled in; testlists/ of the source tree when run
 * from build/ (make run).
 */
char *
ww_testlist_default_dir(void)
{
	const char *env = getenv("WALLWATCH_TESTLISTS");
	char exe[PATH_MAX], *slash = NULL, *dirs[4];
	ssize_t n;
	size_t k = 0;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
	}
	if (slash != NULL) {
		*slash = '\0';
		dirs[k++] = xasprintf("%s/../share/wallwatch/testlists", exe);
	}
	dirs[k++] = xasprintf("%s/testlists", WW_DATADIR);
	if (slash != NULL)
		dirs[k++] = xasprintf("%s/../testlists", exe);
	dirs[k] = NULL;
	return first_dir(dirs);
}
