/*
 * asndb.c - iptoasn.com's TSV table (asndb.h) in two sorted arrays.
 *
 * The file is read in blocks, one line at a time, so that loading the real
 * table (~500k rows, ~30 MB of text) costs only the arrays: 20 bytes per
 * IPv4 range, 48 per IPv6 range. Rows are sorted after loading (the real
 * file is sorted already, the format does not promise it), then each range
 * must end before the next begins.
 */
#include "asndb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

struct row4 {
	uint32_t start, end;
	uint32_t asn;
	uint32_t line; /* for an overlap's message */
	char cc[2];
};

struct u128 {
	uint64_t hi, lo;
};

struct row6 {
	struct u128 start, end;
	uint32_t asn;
	uint32_t line;
	char cc[2];
};

/* An AS's description: its name at off in the pool. */
struct name {
	uint32_t asn;
	uint32_t off;
	uint32_t line; /* while loading: the first line wins */
};

struct ww_asndb {
	struct row4 *v4;
	size_t n4;
	struct row6 *v6;
	size_t n6;
	struct name *names; /* sorted by asn, one each */
	size_t nn;
	char *pool; /* the names, each NUL-terminated */
};

struct loader {
	const char *name;
	char *err;
	size_t errlen;
	uint32_t line;
	struct row4 *v4;
	size_t n4, cap4;
	struct row6 *v6;
	size_t n6, cap6;
	struct name *names;
	size_t nn, capn;
	char *pool;
	size_t npool, cappool;
};

/* The block size for reading a file; more than a line, so that a whole
 * line always fits after what is left of the previous block. */
#define READ_BLOCK (64 * 1024)

static int line_error(struct loader *ld, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* err = "name:line: message"; returns -1. */
static int
line_error(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->errlen == 0)
		return -1;
	n = snprintf(ld->err, ld->errlen, "%s:%lu: ", ld->name,
		     (unsigned long)ld->line);
	if (n >= 0 && (size_t)n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static struct u128
u128_from(const unsigned char b[16])
{
	struct u128 v = {0, 0};

	for (int i = 0; i < 8; i++) {
		v.hi = v.hi << 8 | b[i];
		v.lo = v.lo << 8 | b[8 + i];
	}
	return v;
}

static int
u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* An address as a number: 4 (IPv4, *v4) or 6 (IPv6, *v6), 0 if s[0..n)
 * is not an address. */
static int
parse_addr(const char *s, size_t n, uint32_t *v4, struct u128 *v6)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char b[16];

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(buf, ':', n) == NULL) {
		if (inet_pton(AF_INET, buf, b) != 1)
			return 0;
		*v4 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		      (uint32_t)b[2] << 8 | b[3];
		return 4;
	}
	if (inet_pton(AF_INET6, buf, b) != 1)
		return 0;
	*v6 = u128_from(b);
	return 6;
}

static bool
parse_asn(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Two letters (upper-cased), or a word of 3..16 letters such as "None"
 * or "Unknown" for no country ("ZZ"). */
static bool
parse_cc(const char *s, size_t n, char cc[2])
{
	if (n < 2 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_letter(s[i]))
			return false;
	if (n == 2) {
		cc[0] = (char)(s[0] & ~0x20);
		cc[1] = (char)(s[1] & ~0x20);
	} else {
		cc[0] = 'Z';
		cc[1] = 'Z';
	}
	return true;
}

/* Room for one more element: grows by half (not doubling, and without
 * ww_grow's zeroing, so the unused tail stays untouched, never resident). */
static void *
grow(void *arr, size_t elem, size_t n, size_t *cap)
{
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap < 1024 ? 1024 : *cap + *cap / 2;
	if (ncap > SIZE_MAX / elem)
		ncap = SIZE_MAX / elem; /* xrealloc fails loudly */
	*cap = ncap;
	return xrealloc(arr, ncap * elem);
}

/* A character that is no use in a name and may mislead a reader: C1
 * controls, and the bidirectional overrides and isolates (which would
 * turn the text after them around; Unicode TR9). c[0..n) is one valid
 * UTF-8 sequence of 2 or 3 bytes. */
static bool
is_format_char(const unsigned char *c, size_t n)
{
	if (n == 2)
		return c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f;
	if (n != 3 || c[0] != 0xe2)
		return false;
	return (c[1] == 0x80 && c[2] >= 0xaa && c[2] <= 0xae) ||
	       (c[1] == 0x81 && c[2] >= 0xa6 && c[2] <= 0xa9);
}

/*
 * The description s[0..n) cleaned into out (asndb.h says how): at most
 * WW_ASNDB_MAX_NAME bytes and a NUL. Returns its length (0: nothing left).
 */
static size_t
clean_name(const char *s, size_t n, char out[WW_ASNDB_MAX_NAME + 1])
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, k;
	bool space = false;

	while (i < n) {
		const unsigned char *c = u + i;
		size_t w;

		k = ww_utf8_seq_len(c, n - i);
		if (k == 0 || (k == 1 && c[0] == 0)) {
			k = 1; /* not UTF-8: written as '?' */
			c = (const unsigned char *)"?";
		} else if ((k == 1 && (c[0] <= 0x20 || c[0] == 0x7f)) ||
			   is_format_char(c, k)) {
			space = true;
			i += k;
			continue;
		}
		/* a pending space, then the character, or the end: never a
		 * space last, nor half a character */
		w = (space && o > 0) + k;
		if (o + w > WW_ASNDB_MAX_NAME)
			break;
		if (space && o > 0)
			out[o++] = ' ';
		space = false;
		memcpy(out + o, c, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

/* Keep the description of AS asn (s[0..n), not yet cleaned) from this
 * line, unless the previous line kept one for the same AS (the table
 * lists an AS's ranges together, often: most repeats cost nothing). */
static void
loader_name(struct loader *ld, uint32_t asn, const char *s, size_t n)
{
	char name[WW_ASNDB_MAX_NAME + 1];
	size_t len;
	struct name *e;

	if (asn == 0 || (ld->nn > 0 && ld->names[ld->nn - 1].asn == asn))
		return;
	len = clean_name(s, n, name);
	if (len == 0)
		return;
	ld->names = grow(ld->names, sizeof(*ld->names), ld->nn, &ld->capn);
	e = &ld->names[ld->nn++];
	e->asn = asn;
	e->off = (uint32_t)ld->npool;
	e->line = ld->line;
	while (ld->npool + len + 1 > ld->cappool) {
		/* bounded: a name per line, the lines by the file's limit */
		ld->cappool = ld->cappool < 65536
				      ? 65536
				      : ld->cappool + ld->cappool / 2;
		ld->pool = xrealloc(ld->pool, ld->cappool);
	}
	memcpy(ld->pool + ld->npool, name, len + 1);
	ld->npool += len + 1;
}

/* One line (without its '\n'); ld->line is its number. */
static int
loader_line(struct loader *ld, const char *s, size_t n)
{
	const char *f[4];
	size_t flen[4];
	const char *p = s, *end, *tab;
	uint32_t s4 = 0, e4 = 0, asn;
	struct u128 s6 = {0, 0}, e6 = {0, 0};
	int fam_s, fam_e;
	char cc[2];

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	if (memchr(s, '\0', n) != NULL)
		return line_error(ld, "NUL byte in line");
	end = s + n;
	for (int i = 0; i < 4; i++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL)
			return line_error(ld,
					  "expected 5 tab-separated fields "
					  "(range_start, range_end, AS_number, "
					  "country_code, AS_description), "
					  "found %d",
					  i + 1);
		f[i] = p;
		flen[i] = (size_t)(tab - p);
		p = tab + 1;
	}
	/* the rest is AS_description: kept once the line is good */
	fam_s = parse_addr(f[0], flen[0], &s4, &s6);
	if (fam_s == 0)
		return line_error(ld,
				  "range_start \"%.*s\" is not an IP "
				  "address",
				  (int)(flen[0] > 64 ? 64 : flen[0]), f[0]);
	fam_e = parse_addr(f[1], flen[1], &e4, &e6);
	if (fam_e == 0)
		return line_error(ld, "range_end \"%.*s\" is not an IP address",
				  (int)(flen[1] > 64 ? 64 : flen[1]), f[1]);
	if (fam_s != fam_e)
		return line_error(ld,
				  "range_start is IPv%d but range_end "
				  "IPv%d",
				  fam_s, fam_e);
	if (fam_s == 4 ? s4 > e4 : u128_cmp(s6, e6) > 0)
		return line_error(ld, "range_start is after range_end");
	if (!parse_asn(f[2], flen[2], &asn))
		return line_error(ld,
				  "AS_number \"%.*s\" is not a number "
				  "0..4294967295",
				  (int)(flen[2] > 16 ? 16 : flen[2]), f[2]);
	if (!parse_cc(f[3], flen[3], cc))
		return line_error(ld,
				  "country_code \"%.*s\" is not a "
				  "two-letter code (or a word such as "
				  "None)",
				  (int)(flen[3] > 16 ? 16 : flen[3]), f[3]);
	if (ld->n4 + ld->n6 >= WW_ASNDB_MAX_ROWS)
		return line_error(ld, "more than %u ranges", WW_ASNDB_MAX_ROWS);
	if (fam_s == 4) {
		struct row4 *r;

		ld->v4 = grow(ld->v4, sizeof(*ld->v4), ld->n4, &ld->cap4);
		r = &ld->v4[ld->n4++];

		r->start = s4;
		r->end = e4;
		r->asn = asn;
		r->line = ld->line;
		memcpy(r->cc, cc, 2);
	} else {
		struct row6 *r;

		ld->v6 = grow(ld->v6, sizeof(*ld->v6), ld->n6, &ld->cap6);
		r = &ld->v6[ld->n6++];

		r->start = s6;
		r->end = e6;
		r->asn = asn;
		r->line = ld->line;
		memcpy(r->cc, cc, 2);
	}
	loader_name(ld, asn, p, (size_t)(end - p));
	return 0;
}

static int
cmp4(const void *a, const void *b)
{
	const struct row4 *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
cmp6(const void *a, const void *b)
{
	const struct row6 *x = a, *y = b;
	int c = u128_cmp(x->start, y->start);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
cmp_name(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->asn != y->asn)
		return x->asn < y->asn ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The names sorted by AS, the first line's of each, moved into db with a
 * pool of their own (what the others took is given back). */
static void
names_finish(struct loader *ld, struct ww_asndb *db)
{
	size_t n = 0, used = 0, len;

	if (ld->nn == 0)
		return;
	qsort(ld->names, ld->nn, sizeof(*ld->names), cmp_name);
	for (size_t i = 0; i < ld->nn; i++)
		if (i == 0 || ld->names[i].asn != ld->names[i - 1].asn)
			used += strlen(ld->pool + ld->names[i].off) + 1;
	db->pool = xmalloc(used);
	db->names = xmalloc(ld->nn * sizeof(*db->names));
	used = 0;
	for (size_t i = 0; i < ld->nn; i++) {
		if (i > 0 && ld->names[i].asn == ld->names[i - 1].asn)
			continue;
		len = strlen(ld->pool + ld->names[i].off) + 1;
		memcpy(db->pool + used, ld->pool + ld->names[i].off, len);
		db->names[n].asn = ld->names[i].asn;
		db->names[n].off = (uint32_t)used;
		db->names[n].line = ld->names[i].line;
		used += len;
		n++;
	}
	db->names = xrealloc(db->names, n * sizeof(*db->names));
	db->nn = n;
}

/* Overlap of the ranges on lines a and b: reported on the later line. */
static int
overlap(struct loader *ld, uint32_t a, uint32_t b)
{
	ld->line = a > b ? a : b;
	return line_error(ld, "range overlaps the range on line %lu",
			  (unsigned long)(a > b ? b : a));
}

/* Sort, check, and hand the arrays over to a new table. */
static struct ww_asndb *
loader_finish(struct loader *ld)
{
	struct ww_asndb *db;

	if (ld->n4 + ld->n6 == 0) {
		snprintf(ld->err, ld->errlen, "%s: no ranges", ld->name);
		return NULL;
	}
	if (ld->n4 > 1)
		qsort(ld->v4, ld->n4, sizeof(*ld->v4), cmp4);
	for (size_t i = 1; i < ld->n4; i++)
		if (ld->v4[i].start <= ld->v4[i - 1].end) {
			overlap(ld, ld->v4[i - 1].line, ld->v4[i].line);
			return NULL;
		}
	if (ld->n6 > 1)
		qsort(ld->v6, ld->n6, sizeof(*ld->v6), cmp6);
	for (size_t i = 1; i < ld->n6; i++)
		if (u128_cmp(ld->v6[i].start, ld->v6[i - 1].end) <= 0) {
			overlap(ld, ld->v6[i - 1].line, ld->v6[i].line);
			return NULL;
		}
	db = xcalloc(1, sizeof(*db));
	/* give back what doubling left unused (an empty family keeps NULL) */
	if (ld->n4 > 0)
		db->v4 = xrealloc(ld->v4, ld->n4 * sizeof(*ld->v4));
	else
		free(ld->v4);
	if (ld->n6 > 0)
		db->v6 = xrealloc(ld->v6, ld->n6 * sizeof(*ld->v6));
	else
		free(ld->v6);
	db->n4 = ld->n4;
	db->n6 = ld->n6;
	ld->v4 = NULL;
	ld->v6 = NULL;
	names_finish(ld, db);
	return db;
}

static void
loader_init(struct loader *ld, const char *name, char *err, size_t errlen)
{
	memset(ld, 0, sizeof(*ld));
	ld->name = name;
	ld->err = err;
	ld->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

static void
loader_free(struct loader *ld)
{
	free(ld->v4);
	free(ld->v6);
	free(ld->names);
	free(ld->pool);
}

/* Parse the complete lines of buf[0..len) (and, when last, what is left
 * after the final '\n'); *used gets the bytes consumed. */
static int
loader_lines(struct loader *ld, const char *buf, size_t len, bool last,
	     size_t *used)
{
	size_t pos = 0, n;
	const char *nl;

	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL && !last)
			break;
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		ld->line++;
		if (n > WW_ASNDB_MAX_LINE)
			return line_error(ld, "line longer than %d bytes",
					  WW_ASNDB_MAX_LINE);
		if (loader_line(ld, buf + pos, n) != 0)
			return -1;
		pos += n + (nl != NULL);
	}
	/* an incomplete line already too long */
	if (len - pos > WW_ASNDB_MAX_LINE) {
		ld->line++;
		return line_error(ld, "line longer than %d bytes",
				  WW_ASNDB_MAX_LINE);
	}
	*used = pos;
	return 0;
}

struct ww_asndb *
ww_asndb_load_buf(const char *buf, size_t len, const char *name, char *err,
		  size_t errlen)
{
	struct loader ld;
	struct ww_asndb *db = NULL;
	size_t used;

	loader_init(&ld, name, err, errlen);
	if (len > WW_ASNDB_MAX_BYTES)
		snprintf(err, errlen, "%s: larger than %u MiB", name,
			 WW_ASNDB_MAX_BYTES / (1024 * 1024));
	else if (len == 0 || loader_lines(&ld, buf, len, true, &used) == 0)
		db = loader_finish(&ld);
	loader_free(&ld);
	return db;
}

struct ww_asndb *
ww_asndb_load(const char *path, char *err, size_t errlen)
{
	struct loader ld;
	struct ww_asndb *db = NULL;
	FILE *f;
	char *buf = NULL;
	size_t have = 0, n, used;
	uint64_t total = 0;

	f = ww_open_read(path, NULL, err, errlen);
	if (f == NULL)
		return NULL;
	loader_init(&ld, path, err, errlen);
	buf = xmalloc(READ_BLOCK + WW_ASNDB_MAX_LINE + 1);
	for (;;) {
		n = fread(buf + have, 1,
			  READ_BLOCK + WW_ASNDB_MAX_LINE + 1 - have, f);
		total += n;
		if (total > WW_ASNDB_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %u MiB", path,
				 WW_ASNDB_MAX_BYTES / (1024 * 1024));
			goto done;
		}
		if (n == 0 && ferror(f)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		have += n;
		if (loader_lines(&ld, buf, have, n == 0, &used) != 0)
			goto done;
		memmove(buf, buf + used, have - used);
		have -= used;
		if (n == 0)
			break;
	}
	db = loader_finish(&ld);
done:
	free(buf);
	loader_free(&ld);
	fclose(f);
	return db;
}

/* --- lookups -------------------------------------------------------------- */

static int
found(uint32_t asn, const char rcc[2], uint32_t *out, char cc[3])
{
	if (asn == 0)
		return 1;
	*out = asn;
	cc[0] = rcc[0];
	cc[1] = rcc[1];
	cc[2] = '\0';
	return 0;
}

static int
lookup4(const struct ww_asndb *db, uint32_t a, uint32_t *asn, char cc[3])
{
	size_t lo = 0, hi = db->n4, mid;

	/* the first row starting after a; the one before may hold it */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (db->v4[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || db->v4[lo - 1].end < a)
		return 1;
	return found(db->v4[lo - 1].asn, db->v4[lo - 1].cc, asn, cc);
}

static int
lookup6(const struct ww_asndb *db, struct u128 a, uint32_t *asn, char cc[3])
{
	size_t lo = 0, hi = db->n6, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u128_cmp(db->v6[mid].start, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || u128_cmp(db->v6[lo - 1].end, a) < 0)
		return 1;
	return found(db->v6[lo - 1].asn, db->v6[lo - 1].cc, asn, cc);
}

int
ww_asndb_lookup(const struct ww_asndb *db, const char *ip, uint32_t *asn,
		char cc[3])
{
	uint32_t v4;
	struct u128 v6;
	int fam;

	*asn = 0;
	memcpy(cc, "ZZ", 3);
	if (db == NULL || ip == NULL)
		return 1;
	fam = parse_addr(ip, strlen(ip), &v4, &v6);
	if (fam == 4)
		return lookup4(db, v4, asn, cc);
	if (fam != 6)
		return 1;
	/* ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket */
	if (v6.hi == 0 && (v6.lo >> 32) == 0xffff)
		return lookup4(db, (uint32_t)v6.lo, asn, cc);
	return lookup6(db, v6, asn, cc);
}

const char *
ww_asndb_name(const struct ww_asndb *db, uint32_t asn)
{
	size_t lo = 0, hi, mid;

	if (db == NULL)
		return NULL;
	hi = db->nn;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (db->names[mid].asn == asn)
			return db->pool + db->names[mid].off;
		if (db->names[mid].asn < asn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *
ww_asndb_name_of(const struct ww_asndb *db, const char *asn)
{
	uint32_t v;

	if (asn == NULL || strncmp(asn, "AS", 2) != 0 ||
	    !parse_asn(asn + 2, strlen(asn + 2), &v))
		return NULL;
	return ww_asndb_name(db, v);
}

void
ww_asndb_count(const struct ww_asndb *db, size_t *n_v4, size_t *n_v6)
{
	*n_v4 = db != NULL ? db->n4 : 0;
	*n_v6 = db != NULL ? db->n6 : 0;
}

void
ww_asndb_free(struct ww_asndb *db)
{
	if (db == NULL)
		return;
	free(db->v4);
	free(db->v6);
	free(db->names);
	free(db->pool);
	free(db);
}
